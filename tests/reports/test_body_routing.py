"""reports.routing.route_body: which body other than the municipality is responsible for a
report, from the rules of the bodies whose areas cover its point (a pure function; the
overlapping areas of several bodies are tested here by properties)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.routing import BodyRule, body_specificity, kle_depth, prefix_matches, route_body

KLE = "05.01.12"


def body_rule(id: int, prefix: str, body: int, *, m2: float = 1000.0, priority: int = 0,
              action: str = "stop") -> BodyRule:
    return BodyRule(id=id, kle_prefix=prefix, body_id=body, body_name=f"Body {body}",
                    action=action, area_id=body * 10, area_name=f"Area of {body}",
                    area_m2=m2, priority=priority)


def test_no_rule_for_the_subject_leaves_the_report_with_the_municipality():
    assert route_body(kle_number=KLE, rules=[]) is None
    assert route_body(kle_number=KLE, rules=[body_rule(1, "04", 1),
                                             body_rule(2, "05.02", 2)]) is None


def test_the_deeper_subject_wins_over_the_smaller_area():
    state_road = body_rule(1, "05", 1, m2=50_000)          # every road subject on the road
    lights = body_rule(2, "05.01.12", 2, m2=9_000_000, action="forward")  # the lights' owner
    decision = route_body(kle_number=KLE, rules=[state_road, lights])
    assert (decision.body_id, decision.action, decision.rule_id) == (2, "forward", 2)
    assert route_body(kle_number="05.01.08", rules=[state_road, lights]).body_id == 1


def test_among_equal_subjects_the_smaller_area_then_priority_then_the_lower_id_wins():
    utility = body_rule(1, "05", 1, m2=4_000_000)
    private_road = body_rule(2, "05", 2, m2=3_000)
    decision = route_body(kle_number=KLE, rules=[utility, private_road])
    assert decision.body_id == 2
    assert "Area of 2 (3,000 m²)" in decision.explanation
    assert "body rule #2" in decision.explanation
    assert "also here: Body 1 (#1, 4.00 km²)" in decision.explanation
    first, second = body_rule(7, "05", 3, priority=1), body_rule(8, "05", 4, priority=5)
    assert route_body(kle_number=KLE, rules=[first, second]).rule_id == 8
    tie = [body_rule(9, "05", 5), body_rule(4, "05", 6)]
    assert route_body(kle_number=KLE, rules=tie).rule_id == 4


PREFIXES = st.sampled_from(["", "05", "05.01", "05.01.12", "05.01.08", "05.02", "04"])
RULES = st.lists(
    st.builds(body_rule, id=st.integers(1, 10_000), prefix=PREFIXES, body=st.integers(1, 6),
              m2=st.floats(1, 1e8, allow_nan=False), priority=st.integers(-3, 3),
              action=st.sampled_from(["stop", "forward"])),
    max_size=12, unique_by=lambda r: r.id)


@settings(max_examples=300, deadline=None)
@given(rules=RULES, kle=st.sampled_from([KLE, "05.01.08", "04.03.00", "09.13.01"]),
       seed=st.integers(0, 2**32))
def test_the_winner_matches_is_most_specific_and_does_not_depend_on_order(rules, kle, seed):
    decision = route_body(kle_number=kle, rules=rules)
    matching = [r for r in rules if prefix_matches(r.kle_prefix, kle)]
    if not matching:
        assert decision is None
        return
    winner = next(r for r in rules if r.id == decision.rule_id)
    assert winner in matching
    assert (decision.body_id, decision.action) == (winner.body_id, winner.action)
    # Nothing that matches is more specific: no deeper subject, and at the same depth no
    # smaller area, and so on.
    assert all(body_specificity(winner) <= body_specificity(r) for r in matching)
    assert kle_depth(winner.kle_prefix) == max(kle_depth(r.kle_prefix) for r in matching)
    shuffled = list(rules)
    random.Random(seed).shuffle(shuffled)
    assert route_body(kle_number=kle, rules=shuffled) == decision


@settings(max_examples=200, deadline=None)
@given(rules=RULES, extra=RULES)
def test_rules_for_other_subjects_change_nothing(rules, extra):
    others = [BodyRule(**{**r.__dict__, "id": r.id + 20_000, "kle_prefix": "09.13"})
              for r in extra]
    assert route_body(kle_number=KLE, rules=rules + others) == \
        route_body(kle_number=KLE, rules=rules)
