"""The report status lifecycle: the one table of allowed transitions (DESIGN.md §4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")
    REFERRED = "referred", _("Referred")


OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS})
CLOSED_STATUSES = frozenset(set(Status) - OPEN_STATUSES)

# Forward moves may skip steps (a crew can fix a pothole the day it is reported); any open
# report can be closed as rejected, duplicate or referred; a closed report reopens to
# acknowledged. Nothing else is allowed.
_CLOSE_ANY_OPEN = {Status.REJECTED, Status.DUPLICATE, Status.REFERRED}
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset(
        {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, *_CLOSE_ANY_OPEN}
    ),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, *_CLOSE_ANY_OPEN}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, *_CLOSE_ANY_OPEN}),
    Status.RESOLVED: frozenset({Status.ACKNOWLEDGED}),
    Status.REJECTED: frozenset({Status.ACKNOWLEDGED}),
    Status.DUPLICATE: frozenset({Status.ACKNOWLEDGED}),
    Status.REFERRED: frozenset({Status.ACKNOWLEDGED}),
}

# Transitions that must say why, in text the public can read.
NEEDS_PUBLIC_TEXT = frozenset({Status.REJECTED, Status.REFERRED})


def can_transition(current: str, target: str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def open311_status(status: str) -> str:
    """GeoReport v2 knows only `open` and `closed`."""
    return "open" if status in OPEN_STATUSES else "closed"
