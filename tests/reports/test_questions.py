"""Answers to a category's questions, checked and normalised without HTTP or a database."""

from __future__ import annotations

import pytest

from reports.models import CategoryQuestion
from reports.questions import STRING_MAX, validate_answers

Datatype = CategoryQuestion.Datatype
COLOURS = [{"key": "red", "name": "Rød"}, {"key": "green", "name": "Grøn"}]


def ask(code: str, datatype: str, *, required: bool = False) -> CategoryQuestion:
    values = COLOURS if "valuelist" in datatype else []
    return CategoryQuestion(code=code, question=code.capitalize(), datatype=datatype,
                            required=required, values=values)


@pytest.mark.parametrize("datatype, raw, clean", [
    (Datatype.STRING, "  hul  ", "hul"),
    (Datatype.STRING, ["one"], "one"),                       # Open311 sends one-item lists
    (Datatype.NUMBER, "3", 3),
    (Datatype.NUMBER, "2.5", 2.5),
    (Datatype.NUMBER, 7, 7),
    (Datatype.DATETIME, "2026-11-30T08:15:00+01:00", "2026-11-30T08:15:00+01:00"),
    (Datatype.DATETIME, "2026-11-30 08:15", "2026-11-30T08:15:00"),
    (Datatype.SINGLEVALUELIST, "red", "red"),
    (Datatype.MULTIVALUELIST, ["red", "green", "red"], ["green", "red"]),
    (Datatype.MULTIVALUELIST, "green", ["green"]),
])
def test_answers_are_stored_normalised(datatype, raw, clean):
    answers, errors = validate_answers([ask("q", datatype)], {"q": raw})
    assert errors == {} and answers == {"q": clean}


@pytest.mark.parametrize("datatype, raw, message", [
    (Datatype.STRING, 5, "must be text"),
    (Datatype.STRING, "x" * (STRING_MAX + 1), f"at most {STRING_MAX} characters"),
    (Datatype.NUMBER, "many", "must be a number"),
    (Datatype.NUMBER, True, "must be a number"),
    (Datatype.NUMBER, "nan", "must be a finite number"),
    (Datatype.NUMBER, "1e999", "must be a finite number"),
    (Datatype.DATETIME, "yesterday", "ISO 8601"),
    (Datatype.DATETIME, "2026-13-45T99:00", "ISO 8601"),
    (Datatype.SINGLEVALUELIST, "blue", "must be one of green, red"),
    (Datatype.MULTIVALUELIST, ["red", "blue"], "unknown values blue"),
])
def test_bad_answers_get_a_message_under_their_field(datatype, raw, message):
    answers, errors = validate_answers([ask("q", datatype)], {"q": raw}, field="attribute")
    assert answers == {}
    assert list(errors) == ["attribute.q"] and message in errors["attribute.q"][0]


def test_required_questions_unknown_codes_and_empty_optional_answers():
    questions = [ask("depth", Datatype.NUMBER, required=True), ask("note", Datatype.STRING)]
    answers, errors = validate_answers(questions, {"note": "", "colour": "red"})
    assert answers == {}
    assert errors == {"answers.depth": ["Required: Depth"],
                      "answers.colour": ["This category asks no such question."]}
    answers, errors = validate_answers(questions, {"depth": "12", "note": []})
    assert errors == {} and answers == {"depth": 12}
