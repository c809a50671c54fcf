"""reports.routing.route: a pure function, tested exhaustively and by properties."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.routing import Rule, kle_depth, prefix_matches, route

KLE = "05.01.08"
DEFAULT = (99, "Borgerservice")


def rule(id: int, prefix: str, dept: int, *, area: int | None = None, size: float = 1.0,
         priority: int = 0) -> Rule:
    return Rule(id=id, kle_prefix=prefix, department_id=dept, department_name=f"Dept {dept}",
                priority=priority, area_id=area, area_name=f"Area {area}" if area else "",
                area_size=size if area else float("inf"))


def decide(rules, covering=(), kle=KLE):
    return route(kle_number=kle, rules=rules, covering_area_ids=covering,
                 default_department=DEFAULT)


def test_prefix_matching_is_by_whole_segments():
    assert prefix_matches("", "05.01.08")
    assert prefix_matches("05", "05.01.08")
    assert prefix_matches("05.01", "05.01.08")
    assert prefix_matches("05.01.08", "05.01.08")
    assert not prefix_matches("05.0", "05.01.08")
    assert not prefix_matches("05.01.0", "05.01.08")
    assert not prefix_matches("05.02", "05.01.08")
    assert not prefix_matches("5", "05.01.08")
    assert [kle_depth(p) for p in ("", "05", "05.01", "05.01.08")] == [0, 1, 2, 3]


def test_no_matching_rule_goes_to_default_department_and_needs_triage():
    decision = decide([rule(1, "04", 1)])
    assert (decision.department_id, decision.needs_triage, decision.rule_id) == (99, True, None)
    assert "No rule for KLE 05.01.08" in decision.explanation
    assert "Borgerservice" in decision.explanation


def test_no_rule_and_no_default_department_decides_nothing():
    decision = route(kle_number=KLE, rules=[], covering_area_ids=[], default_department=None)
    assert decision.department_id is None and decision.needs_triage


def test_longer_kle_prefix_wins():
    rules = [rule(1, "", 1), rule(2, "05", 2), rule(3, "05.01", 3), rule(4, "05.01.08", 4)]
    for _ in range(5):
        random.shuffle(rules)
        assert decide(rules).department_id == 4
    assert decide([rule(1, "", 1), rule(2, "05", 2), rule(3, "05.01", 3)]).department_id == 3


def test_longer_prefix_beats_an_area_rule_with_a_shorter_prefix():
    rules = [rule(1, "05", 1, area=7), rule(2, "05.01", 2)]
    assert decide(rules, covering=[7]).department_id == 2


def test_area_rule_beats_rule_without_area_at_same_prefix_only_when_point_is_inside():
    rules = [rule(1, "05", 1), rule(2, "05", 2, area=7)]
    assert decide(rules, covering=[7]).department_id == 2
    assert decide(rules, covering=[8]).department_id == 1
    assert decide(rules, covering=[]).department_id == 1


def test_smaller_area_wins_then_priority_then_lowest_id():
    big, small = rule(1, "05", 1, area=7, size=10.0), rule(2, "05", 2, area=8, size=2.0)
    assert decide([big, small], covering=[7, 8]).department_id == 2
    low, high = rule(3, "05", 3, priority=0), rule(4, "05", 4, priority=5)
    assert decide([low, high]).department_id == 4
    twin_a, twin_b = rule(6, "05", 6), rule(5, "05", 5)
    assert decide([twin_a, twin_b]).department_id == 5
    assert decide([twin_b, twin_a]).department_id == 5


def test_explanation_names_prefix_area_department_and_rule():
    decision = decide([rule(12, "05.01", 3, area=7)], covering=[7])
    assert decision.explanation == "KLE 05.01 + Area 7 → Dept 3, rule #12"
    assert not decision.needs_triage
    assert decide([rule(4, "", 2)]).explanation == "all subjects → Dept 2, rule #4"


# --- properties ------------------------------------------------------------------------

PREFIXES = ["", "05", "05.01", "05.01.08", "04", "05.02", "05.01.09"]
KLE_NUMBERS = ["05.01.08", "05.01.09", "05.02.01", "04.01.20"]


@st.composite
def rule_sets(draw):
    count = draw(st.integers(0, 12))
    rules = []
    for index in range(count):
        area = draw(st.one_of(st.none(), st.integers(1, 4)))
        rules.append(rule(
            index + 1, draw(st.sampled_from(PREFIXES)), draw(st.integers(1, 6)), area=area,
            size=draw(st.sampled_from([1.0, 2.0, 5.0])), priority=draw(st.integers(-2, 2)),
        ))
    return rules


@settings(max_examples=300, deadline=None)
@given(rules=rule_sets(), covering=st.sets(st.integers(1, 4)), kle=st.sampled_from(KLE_NUMBERS),
       seed=st.randoms())
def test_decision_does_not_depend_on_rule_order(rules, covering, kle, seed):
    shuffled = list(rules)
    seed.shuffle(shuffled)
    assert decide(rules, covering, kle) == decide(shuffled, covering, kle)


@settings(max_examples=300, deadline=None)
@given(rules=rule_sets(), covering=st.sets(st.integers(1, 4)), kle=st.sampled_from(KLE_NUMBERS),
       extra_prefix=st.sampled_from(PREFIXES), extra_area=st.one_of(st.none(), st.integers(1, 4)))
def test_adding_a_less_specific_rule_never_changes_a_decision(rules, covering, kle,
                                                               extra_prefix, extra_area):
    before = decide(rules, covering, kle)
    if before.rule_id is None:
        return
    winner = next(r for r in rules if r.id == before.rule_id)
    extra_depth = kle_depth(extra_prefix)
    less_specific = extra_depth < kle_depth(winner.kle_prefix) or (
        extra_depth == kle_depth(winner.kle_prefix)
        and extra_area is None and winner.area_id is not None
    )
    if not less_specific:
        return
    extra = rule(1000, extra_prefix, 42, area=extra_area, size=0.1, priority=100)
    assert decide([*rules, extra], covering, kle) == before


@settings(max_examples=300, deadline=None)
@given(rules=rule_sets(), covering=st.sets(st.integers(1, 4)), kle=st.sampled_from(KLE_NUMBERS))
def test_the_chosen_rule_matches_and_no_matching_rule_is_more_specific(rules, covering, kle):
    decision = decide(rules, covering, kle)
    matching = [r for r in rules if prefix_matches(r.kle_prefix, kle)
                and (r.area_id is None or r.area_id in covering)]
    if not matching:
        assert decision.rule_id is None and decision.department_id == DEFAULT[0]
        return
    winner = next(r for r in rules if r.id == decision.rule_id)
    assert winner in matching
    assert decision.department_id == winner.department_id
    assert kle_depth(winner.kle_prefix) == max(kle_depth(r.kle_prefix) for r in matching)
