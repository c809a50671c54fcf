"""Live updates: groups, event payloads, commit-only sending, and the three sockets."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.db import transaction

from reports import services
from reports.live import events
from reports.models import StaffMembership
from tests.reports.factories import (
    BALLERUP_TOWN,
    COPENHAGEN_CITY,
    MAALOEV,
    DepartmentFactory,
    UserFactory,
    file_report,
    member,
)
from tests.reports.live.helpers import committed, connect, listen, pending, subscribe
from tests.reports.worlds import two_municipalities

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_test_connection(monkeypatch):
    """database_sync_to_async closes "old" connections around each call, which would close
    the test's own connection and its uncommitted transaction; here they are all current."""
    monkeypatch.setattr("channels.db.close_old_connections", lambda: None)

BALLERUP_VIEW = [12.34, 55.72, 12.38, 55.74]
COPENHAGEN_VIEW = [12.55, 55.67, 12.59, 55.69]
WHOLE_DENMARK = [8.0, 54.5, 15.2, 57.8]


@pytest.fixture
def world():
    return two_municipalities()


def test_viewport_groups_are_tiles_or_municipalities(world):
    mode, groups = events.viewport_groups(tuple(BALLERUP_VIEW))
    assert mode == "tiles" and 1 <= len(groups) <= 4
    assert all(g.startswith("map.tile.12.") for g in groups)
    mode, groups = events.viewport_groups(tuple(WHOLE_DENMARK))
    assert mode == "municipalities"
    assert groups == ["map.municipality.0101", "map.municipality.0151"]


def _listen(group: str):
    return listen(group)


_pending = pending


def test_events_are_sent_after_commit_only(world, django_capture_on_commit_callbacks):
    layer, channel = _listen(events.municipality_group("0151"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            file_report()
            raise RuntimeError("rolled back")
    assert callbacks == []
    assert _pending(layer, channel) == []
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = file_report()
    assert len(callbacks) == 1
    assert _pending(layer, channel) == []  # nothing before the commit
    callbacks[0]()
    (message,) = _pending(layer, channel)
    event = message["event"]
    assert (event["type"], event["report_id"], event["version"]) == (
        "report.created", report.pk, 1)


def test_public_payload_has_no_contact_data_and_staff_payload_has(world,
                                                                   django_capture_on_commit_callbacks):
    public_layer, public = _listen(events.municipality_group("0151"))
    staff_layer, staff = _listen(events.department_group(world["roads"].pk))
    with django_capture_on_commit_callbacks(execute=True):
        file_report(reporter=services.Reporter(name="Mette Hansen", email="mette@example.dk",
                                               phone="+45 20 11 22 33"))
    public_event = _pending(public_layer, public)[0]["event"]
    staff_event = _pending(staff_layer, staff)[0]["event"]
    assert "mette" not in str(public_event).lower() and "20 11 22 33" not in str(public_event)
    assert staff_event["staff"]["reporter"] == {"name": "Mette Hansen",
                                                "email": "mette@example.dk",
                                                "phone": "+45 20 11 22 33"}
    assert staff_event["feature"] == public_event["feature"]


def test_map_socket_gets_events_only_for_its_viewport_and_follows_pans(world):
    async def scenario():
        ballerup = await connect("/ws/map/")
        copenhagen = await connect("/ws/map/")
        reply = await subscribe(ballerup, BALLERUP_VIEW)
        assert reply["mode"] == "tiles"
        await subscribe(copenhagen, COPENHAGEN_VIEW)

        report = await committed(file_report, lon_lat=BALLERUP_TOWN)
        event = await ballerup.receive_json_from()
        assert event["type"] == "report.created" and event["report_id"] == report.pk
        assert event["feature"]["geometry"]["coordinates"] == list(BALLERUP_TOWN)
        assert event["feature"]["properties"]["status"] == "submitted"
        assert await copenhagen.receive_nothing(timeout=0.2)

        # Copenhagen's client pans to Ballerup; Ballerup's client pans away.
        await subscribe(copenhagen, BALLERUP_VIEW)
        await subscribe(ballerup, COPENHAGEN_VIEW)
        await committed(services.report_transition, report_id=report.pk,
                        to_status="acknowledged")
        event = await copenhagen.receive_json_from()
        assert (event["type"], event["version"]) == ("report.updated", 2)
        assert event["feature"]["properties"]["status"] == "acknowledged"
        assert await ballerup.receive_nothing(timeout=0.2)
        await ballerup.disconnect()
        await copenhagen.disconnect()

    async_to_sync(scenario)()


def test_large_viewport_falls_back_to_municipality_groups(world):
    async def scenario():
        country = await connect("/ws/map/")
        assert (await subscribe(country, WHOLE_DENMARK))["mode"] == "municipalities"
        await committed(file_report, lon_lat=COPENHAGEN_CITY)
        assert (await country.receive_json_from())["type"] == "report.created"
        await country.disconnect()

    async_to_sync(scenario)()


def test_filters_select_events_and_drop_reports_that_stop_matching(world):
    async def scenario():
        client = await connect("/ws/map/")
        await subscribe(client, BALLERUP_VIEW, {"status": ["submitted", "acknowledged"],
                                                "category": ["pothole"]})
        await committed(file_report, category="litter")
        assert await client.receive_nothing(timeout=0.2)
        report = await committed(file_report)
        assert (await client.receive_json_from())["report_id"] == report.pk
        await committed(services.report_transition, report_id=report.pk,
                        to_status="acknowledged")
        assert (await client.receive_json_from())["type"] == "report.updated"
        await committed(services.report_transition, report_id=report.pk, to_status="resolved")
        event = await client.receive_json_from()
        assert event == {"type": "report.removed", "report_id": report.pk, "version": 3,
                         "reason": "filtered"}
        await client.disconnect()

    async_to_sync(scenario)()


def test_merged_duplicate_is_removed_from_the_map(world):
    async def scenario():
        client = await connect("/ws/map/")
        await subscribe(client, BALLERUP_VIEW)
        original = await committed(file_report)
        copy = await committed(file_report)
        await client.receive_json_from()
        await client.receive_json_from()
        await committed(services.report_transition, report_id=copy.pk, to_status="duplicate",
                        duplicate_of_id=original.pk)
        event = await client.receive_json_from()
        assert (event["type"], event["report_id"]) == ("report.removed", copy.pk)
        await client.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize("frame,expected", [
    ("not json", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"type": "dance"}', "Unknown message type"),
    ('{"type": "subscribe"}', "bbox"),
    ('{"type": "subscribe", "bbox": [12, 55, 11, 56]}', "min < max"),
    ('{"type": "subscribe", "bbox": [12, 55, 13, "x"]}', "numbers"),
    ('{"type": "subscribe", "bbox": [12, 55, 13, 56], "filters": {"colour": []}}', "Unknown"),
    ('{"type": "subscribe", "bbox": [12, 55, 13, 56], "filters": {"status": ["open"]}}',
     "Unknown status"),
    ('{"type": "subscribe", "bbox": [12, 55, 13, 56], "filters": {"status": "submitted"}}',
     "list of strings"),
    ('{"type": "ping", "pad": "' + "x" * 5000 + '"}', "limited to 4096 bytes"),
])
def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(world, frame, expected):
    async def scenario():
        client = await connect("/ws/map/")
        await client.send_to(text_data=frame)
        reply = await client.receive_json_from()
        assert reply["type"] == "error" and expected in reply["message"], reply
        await client.send_json_to({"type": "ping"})
        assert await client.receive_json_from() == {"type": "pong"}
        await client.disconnect()

    async_to_sync(scenario)()


def test_binary_frame_gets_an_error(world):
    async def scenario():
        client = await connect("/ws/map/")
        await client.send_to(bytes_data=b"\x00\x01")
        assert (await client.receive_json_from())["type"] == "error"
        await client.disconnect()

    async_to_sync(scenario)()


def test_report_follower_gets_snapshot_then_updates_with_timeline(world):
    report = file_report()

    async def scenario():
        follower = await connect(f"/ws/reports/{report.pk}/")
        snapshot = await follower.receive_json_from()
        assert snapshot["type"] == "report.snapshot" and snapshot["version"] == 1
        assert [e["kind"] for e in snapshot["timeline"]] == ["created", "routed"]
        await committed(services.report_transition, report_id=report.pk,
                        to_status="in_progress", public_text="Holdet er på vej",
                        internal_text="Hemmeligt")
        event = await follower.receive_json_from()
        assert event["type"] == "report.updated" and event["version"] == 2
        assert event["timeline"][-1]["text"] == "Holdet er på vej"
        assert "Hemmeligt" not in str(event)
        other = await committed(file_report)
        assert other.pk != report.pk
        assert await follower.receive_nothing(timeout=0.2)
        await follower.disconnect()

    async_to_sync(scenario)()


def test_following_an_unknown_report_closes_with_4404(world):
    async def scenario():
        follower = await connect("/ws/reports/999999/")
        assert await follower.receive_output() == {"type": "websocket.close", "code": 4404}

    async_to_sync(scenario)()


def _session_headers(client, user) -> list:
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return [(b"cookie", cookie), (b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]


def test_staff_socket_needs_login_and_a_membership(world, client):
    user = UserFactory(username="nobody")
    headers = _session_headers(client, user)

    async def scenario():
        anonymous = await connect("/ws/staff/", headers=[(b"origin", b"http://127.0.0.1")])
        assert await anonymous.receive_output() == {"type": "websocket.close", "code": 4401}
        outsider = await connect("/ws/staff/", headers=headers)
        assert await outsider.receive_output() == {"type": "websocket.close", "code": 4403}

    async_to_sync(scenario)()


def test_staff_socket_rejects_foreign_origins(world, client):
    from channels.testing import WebsocketCommunicator

    from geoservice.asgi import application

    user = member("vej", "caseworker", world["roads"])
    headers = _session_headers(client, user)
    headers = [(k, b"http://evil.example") if k == b"origin" else (k, v) for k, v in headers]

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/staff/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected

    async_to_sync(scenario)()


def test_staff_socket_gets_its_departments_events_with_contact_data(world, client):
    user = member("vej", "caseworker", world["roads"])
    headers = _session_headers(client, user)

    async def scenario():
        staff = await connect("/ws/staff/", headers=headers)
        hello = await staff.receive_json_from()
        assert hello == {"type": "subscribed", "departments": [world["roads"].pk]}
        await committed(file_report, lon_lat=BALLERUP_TOWN,
                        reporter=services.Reporter(email="borger@example.dk"))
        event = await staff.receive_json_from()
        assert event["staff"]["reporter"]["email"] == "borger@example.dk"
        await committed(file_report, lon_lat=COPENHAGEN_CITY)  # another municipality
        assert await staff.receive_nothing(timeout=0.2)
        await staff.disconnect()

    async_to_sync(scenario)()


def test_municipality_admin_sees_every_department_of_the_municipality(world):
    from reports.selectors import staff_department_ids

    user = member("admin1", "municipality_admin", municipality=world["ballerup"])
    ids = staff_department_ids(user)
    assert world["roads"].pk in ids and world["cph"].pk not in ids
    assert world["ballerup"].default_department_id in ids


# --- findings of the security review (each failed on db7da57) ------------------------------

def _caseworker(world, username="vej"):
    user = get_user_model().objects.create_user(username, password="x")
    membership = StaffMembership.objects.create(
        user=user, municipality=world["ballerup"], department=world["roads"],
        role="caseworker")
    return user, membership


def test_a_staff_socket_is_closed_when_its_user_logs_out(world, client):
    user, _ = _caseworker(world)
    headers = _session_headers(client, user)

    async def scenario():
        staff = await connect("/ws/staff/", headers=headers)
        assert (await staff.receive_json_from())["type"] == "subscribed"
        await committed(client.post, "/staff/logout/")
        assert await staff.receive_output(timeout=5) == {"type": "websocket.close",
                                                         "code": 4401}

    async_to_sync(scenario)()


def test_a_staff_socket_follows_role_changes_and_closes_when_none_are_left(world, client,
                                                                       settings):
    from reports.live.consumers import StaffConsumer

    user, membership = _caseworker(world)
    headers = _session_headers(client, user)
    nature = DepartmentFactory(municipality=world["ballerup"], name="Natur")

    async def scenario():
        staff = await connect("/ws/staff/", headers=headers)
        assert (await staff.receive_json_from())["departments"] == [world["roads"].pk]

        def move():
            StaffMembership.objects.filter(pk=membership.pk).update(department=nature)
            events.staff_access_changed(user.pk)  # what the admin does on save

        await committed(move)
        assert (await staff.receive_json_from(timeout=5))["departments"] == [nature.pk]
        await committed(file_report, lon_lat=MAALOEV)  # a roads report: no longer theirs
        assert await staff.receive_nothing(timeout=0.3)
        await committed(lambda: (StaffMembership.objects.filter(pk=membership.pk).delete(),
                                 events.staff_access_changed(user.pk)))
        assert await staff.receive_output(timeout=5) == {"type": "websocket.close",
                                                         "code": 4403}

    assert StaffConsumer  # the recheck runs in the consumer itself
    async_to_sync(scenario)()


def test_a_flood_of_frames_is_dropped_with_an_error_and_the_socket_stays_usable(world):
    async def scenario():
        socket = await connect("/ws/map/")
        for _ in range(60):
            await socket.send_json_to({"type": "ping"})
        answers = []
        while not await socket.receive_nothing(timeout=0.3):
            answers.append(await socket.receive_json_from())
        pongs = [a for a in answers if a["type"] == "pong"]
        errors = [a for a in answers if a["type"] == "error"]
        assert 20 <= len(pongs) < 30 and len(errors) == 1
        assert "Too many frames" in errors[0]["message"]
        await socket.disconnect()

    async_to_sync(scenario)()
