import pytest

from geoservice.errors import InvalidInput, InvalidTransition, StaleVersion
from reports import services
from reports.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, TRANSITIONS, Status, open311_status
from reports.models import Report, ReportEvent
from tests.reports.factories import (
    CategoryFactory,
    RoutingRuleFactory,
    file_report,
    served_municipality,
)


def test_every_status_has_a_row_and_closed_reports_only_reopen():
    assert set(TRANSITIONS) == set(Status)
    for status in CLOSED_STATUSES:
        assert TRANSITIONS[status] == {Status.ACKNOWLEDGED}
    for status in OPEN_STATUSES:
        assert {Status.REJECTED, Status.DUPLICATE, Status.REFERRED} <= TRANSITIONS[status]
        assert Status.SUBMITTED not in TRANSITIONS[status]
    assert Status.ACKNOWLEDGED not in TRANSITIONS[Status.IN_PROGRESS]


def test_open311_status_mapping():
    assert {s: open311_status(s) for s in Status} == {
        "submitted": "open", "acknowledged": "open", "in_progress": "open",
        "resolved": "closed", "rejected": "closed", "duplicate": "closed", "referred": "closed",
    }


@pytest.fixture
def report(db) -> Report:
    municipality = served_municipality()
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05")
    return file_report()


def test_transition_writes_status_version_and_one_timeline_row(report):
    events_before = report.events.count()
    updated = services.report_transition(
        report_id=report.pk, to_status="acknowledged", public_text="Tak, vi kigger på det.",
        internal_text="Send Jens ud",
    )
    report.refresh_from_db()
    assert (report.status, report.version) == ("acknowledged", 2)
    assert updated.updated_at == report.updated_at
    assert report.events.count() == events_before + 1
    event = report.events.last()
    assert (event.kind, event.from_status, event.to_status) == (
        ReportEvent.Kind.STATUS, "submitted", "acknowledged")
    assert (event.public_text, event.internal_text) == ("Tak, vi kigger på det.", "Send Jens ud")


@pytest.mark.parametrize("path", [
    ["acknowledged", "in_progress", "resolved", "acknowledged", "resolved"],
    ["in_progress", "rejected", "acknowledged"],
    ["resolved"],
])
def test_allowed_paths(report, path):
    for status in path:
        services.report_transition(report_id=report.pk, to_status=status, public_text="Tekst")
    report.refresh_from_db()
    assert report.status == path[-1]
    assert report.version == 1 + len(path)


@pytest.mark.parametrize("path,illegal", [
    ([], "submitted"),
    (["in_progress"], "acknowledged"),
    (["resolved"], "in_progress"),
    (["resolved"], "rejected"),
    (["acknowledged"], "submitted"),
])
def test_illegal_transition_raises_and_changes_nothing(report, path, illegal):
    for status in path:
        services.report_transition(report_id=report.pk, to_status=status)
    report.refresh_from_db()
    before = (report.status, report.version, report.events.count(), report.updated_at)
    with pytest.raises(InvalidTransition):
        services.report_transition(report_id=report.pk, to_status=illegal, public_text="x")
    report.refresh_from_db()
    assert (report.status, report.version, report.events.count(), report.updated_at) == before


def test_reject_and_refer_need_a_public_reason(report):
    for status in ("rejected", "referred"):
        with pytest.raises(InvalidInput) as caught:
            services.report_transition(report_id=report.pk, to_status=status)
        assert "public_text" in caught.value.errors
    report.refresh_from_db()
    assert report.status == "submitted"


def test_duplicate_needs_another_report_of_the_same_municipality(report):
    with pytest.raises(InvalidInput):
        services.report_transition(report_id=report.pk, to_status="duplicate")
    with pytest.raises(InvalidInput):
        services.report_transition(report_id=report.pk, to_status="duplicate",
                                   duplicate_of_id=report.pk)
    original = file_report(description="Samme hul")
    services.report_transition(report_id=report.pk, to_status="duplicate",
                               duplicate_of_id=original.pk)
    report.refresh_from_db()
    assert (report.status, report.duplicate_of_id) == ("duplicate", original.pk)
    services.report_transition(report_id=report.pk, to_status="acknowledged")
    report.refresh_from_db()
    assert report.duplicate_of_id is None


def test_stale_version_is_refused(report):
    services.report_transition(report_id=report.pk, to_status="acknowledged", expected_version=1)
    with pytest.raises(StaleVersion) as caught:
        services.report_transition(report_id=report.pk, to_status="in_progress",
                                   expected_version=1)
    assert "version" in caught.value.errors
    report.refresh_from_db()
    assert report.status == "acknowledged"


def test_unknown_status_is_invalid_input(report):
    with pytest.raises(InvalidInput):
        services.report_transition(report_id=report.pk, to_status="fixed")
