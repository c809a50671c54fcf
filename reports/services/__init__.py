"""Every write to reports that is not a staff action (those are reports.staff.triage):
filing and confirming (filing), the status lifecycle's one writer (transitions), and
following by mail (following). Existing reports change through reports.changes."""

from reports.services.filing import (  # noqa: F401 (the services, by their names)
    CITIZEN,
    ClientInfo,
    Confirmation,
    Reporter,
    announce,
    expected_at,
    forward_to_body,
    municipality_serving,
    photo_add,
    report_confirm,
    report_create,
    reports_expire_unconfirmed,
    route_report,
    sent_to,
)
from reports.services.following import (  # noqa: F401
    alert_confirm,
    alert_subscribe,
    alert_unsubscribe,
    alerts_send_digests,
    report_follow,
    subscription_confirm,
    subscription_unsubscribe,
)
from reports.services.transitions import (  # noqa: F401
    duplicate_target,
    report_transition,
    transition_locked,
)
from reports.services.updates import (  # noqa: F401
    CitizenUpdate,
    report_citizen_update,
)
