"""Routing: which department gets a report. A pure function over data selectors fetched.

Most specific rule wins (DESIGN.md §3):
  1. the longest KLE prefix (emne over gruppe over hovedgruppe over "all subjects");
  2. a rule with an area over one without;
  3. the smaller area;
  4. the higher priority;
  5. the lowest rule id (so ties are deterministic).
No matching rule → the municipality's default department, flagged for triage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: int
    kle_prefix: str
    department_id: int
    department_name: str
    priority: int = 0
    area_id: int | None = None
    area_name: str = ""
    area_size: float = math.inf  # any unit, only compared; smaller is more specific


@dataclass(frozen=True)
class Decision:
    department_id: int | None
    department_name: str
    rule_id: int | None
    needs_triage: bool
    explanation: str


def kle_depth(prefix: str) -> int:
    """0 for "" (all subjects), 1 for NN, 2 for NN.NN, 3 for NN.NN.NN."""
    return 0 if not prefix else prefix.count(".") + 1


def prefix_matches(prefix: str, kle_number: str) -> bool:
    """Segment-wise prefix: "05.01" matches "05.01.08" but "05.0" matches nothing."""
    if not prefix:
        return True
    return kle_number == prefix or kle_number.startswith(prefix + ".")


def specificity(rule: Rule) -> tuple:
    """Sort key: the smallest key is the most specific rule."""
    has_area = rule.area_id is not None
    return (-kle_depth(rule.kle_prefix), not has_area, rule.area_size if has_area else 0.0,
            -rule.priority, rule.id)


def route(
    *,
    kle_number: str,
    rules: Iterable[Rule],
    covering_area_ids: Iterable[int],
    default_department: tuple[int, str] | None,
) -> Decision:
    """Pick the department for a report with `kle_number` at a point inside
    `covering_area_ids`, from the municipality's active `rules`."""
    covering = set(covering_area_ids)
    matching = [
        rule for rule in rules
        if prefix_matches(rule.kle_prefix, kle_number)
        and (rule.area_id is None or rule.area_id in covering)
    ]
    if matching:
        best = min(matching, key=specificity)
        what = f"KLE {best.kle_prefix}" if best.kle_prefix else "all subjects"
        where = f" + {best.area_name}" if best.area_id is not None else ""
        return Decision(
            department_id=best.department_id,
            department_name=best.department_name,
            rule_id=best.id,
            needs_triage=False,
            explanation=f"{what}{where} → {best.department_name}, rule #{best.id}",
        )
    if default_department is None:
        return Decision(None, "", None, True,
                        f"No rule for KLE {kle_number} and no default department")
    dept_id, dept_name = default_department
    return Decision(
        department_id=dept_id,
        department_name=dept_name,
        rule_id=None,
        needs_triage=True,
        explanation=(
            f"No rule for KLE {kle_number} → default department {dept_name}; needs triage"
        ),
    )


# --- responsible bodies other than the municipality --------------------------------------

@dataclass(frozen=True)
class BodyRule:
    """A body rule as it applies at one point: `area_*` is the smallest of the body's areas
    that covers the point."""

    id: int
    kle_prefix: str
    body_id: int
    body_name: str
    action: str  # "forward" or "stop"
    area_id: int
    area_name: str
    area_m2: float
    priority: int = 0


@dataclass(frozen=True)
class BodyDecision:
    body_id: int
    body_name: str
    action: str
    rule_id: int
    explanation: str


def body_specificity(rule: BodyRule) -> tuple:
    """Sort key, smallest most specific: the longest KLE prefix, then the smaller area (a
    private road inside a utility's district), then priority, then the lowest id."""
    return (-kle_depth(rule.kle_prefix), rule.area_m2, -rule.priority, rule.id)


def route_body(*, kle_number: str, rules: Iterable[BodyRule]) -> BodyDecision | None:
    """Which body, if any, is responsible for a report with `kle_number`, from the rules of
    the bodies whose areas cover its point. None: the municipality's own."""
    matching = sorted((rule for rule in rules if prefix_matches(rule.kle_prefix, kle_number)),
                      key=body_specificity)
    if not matching:
        return None
    best, others = matching[0], matching[1:]
    what = f"KLE {best.kle_prefix}" if best.kle_prefix else "all subjects"
    verb = "forwarded to" if best.action == "forward" else "stopped: contact"
    explanation = (f"{what} in {best.area_name} ({_size(best.area_m2)}) → {verb} "
                   f"{best.body_name}, body rule #{best.id}")
    if others:
        explanation += "; also here: " + ", ".join(
            f"{rule.body_name} (#{rule.id}, {_size(rule.area_m2)})" for rule in others[:3])
    return BodyDecision(body_id=best.body_id, body_name=best.body_name, action=best.action,
                        rule_id=best.id, explanation=explanation)


def _size(m2: float) -> str:
    return f"{m2 / 1e6:.2f} km²" if m2 >= 1e5 else f"{m2:,.0f} m²"
