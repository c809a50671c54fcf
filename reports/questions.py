"""Per-category questions: validating a citizen's answers against the category's questions.

Answers arrive as strings (Open311 form fields `attribute[code]`) or JSON values (REST).
They are stored normalised: numbers as numbers, datetimes as ISO 8601, multi-value lists as
lists of keys.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from django.utils.dateparse import parse_datetime

from reports.models import CategoryQuestion

Datatype = CategoryQuestion.Datatype
STRING_MAX = 200
TEXT_MAX = 4000


def _one(value: object) -> object:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _clean(question: CategoryQuestion, value: object) -> object:
    keys = {str(v.get("key")) for v in question.values}
    if question.datatype in (Datatype.STRING, Datatype.TEXT):
        value = _one(value)
        if not isinstance(value, str):
            raise ValueError("must be text")
        limit = STRING_MAX if question.datatype == Datatype.STRING else TEXT_MAX
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return value.strip()
    if question.datatype == Datatype.NUMBER:
        value = _one(value)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError("must be a number")
        try:
            number = float(value)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return int(number) if number.is_integer() else number
    if question.datatype == Datatype.DATETIME:
        value = _one(value)
        try:
            parsed = parse_datetime(str(value)) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValueError("must be an ISO 8601 date-time")
        return parsed.isoformat()
    if question.datatype == Datatype.SINGLEVALUELIST:
        value = _one(value)
        if str(value) not in keys:
            raise ValueError(f"must be one of {', '.join(sorted(keys))}")
        return str(value)
    # multivaluelist
    items = value if isinstance(value, list) else [value]
    chosen = [str(item) for item in items]
    unknown = [item for item in chosen if item not in keys]
    if unknown:
        raise ValueError(f"unknown values {', '.join(unknown)}; use {', '.join(sorted(keys))}")
    return sorted(set(chosen))


def validate_answers(questions: Iterable[CategoryQuestion], raw: Mapping[str, object],
                     *, field: str = "answers") -> tuple[dict, dict[str, list[str]]]:
    """(clean answers, errors by field name) for a category's questions."""
    questions = list(questions)
    by_code = {q.code: q for q in questions}
    answers: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    for code in raw:
        if code not in by_code:
            errors[f"{field}.{code}"] = ["This category asks no such question."]
    for question in questions:
        value = raw.get(question.code)
        empty = value is None or value == "" or value == []
        if empty:
            if question.required:
                errors[f"{field}.{question.code}"] = [f"Required: {question.question}"]
            continue
        try:
            answers[question.code] = _clean(question, value)
        except ValueError as exc:
            errors[f"{field}.{question.code}"] = [f"{question.question}: {exc}."]
    return answers, errors
