"""Live events: group names and payloads are built here and nowhere else.

Services call `report_changed` inside their transaction. The payloads are built right
there, from the transaction's own view of the report, and sent only after the transaction
commits (`transaction.on_commit(robust=True)`): a rolled-back change sends nothing, and a
committed one needs nothing more from the database to be announced (measured: when the
payload was built after COMMIT, a PostgreSQL restart right after a commit lost the event,
and open maps never heard of that report). Payloads are plain JSON-able dicts built from
public fields (map and report followers) or staff fields (department queues).

Groups:
  map.tile.{z}.{x}.{y}     public map sockets whose viewport covers that web-mercator tile
  map.municipality.{code}  public map sockets whose viewport is too large for tiles
  report.{id}              citizens following one report
  staff.department.{id}    staff sockets of that department
  staff.user.{id}          that user's staff sockets (their login or roles changed)
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from maps.tiles import lonlat_to_tile, tile_count, tiles_covering
from reports import selectors, tiles
from reports.lifecycle import Status
from reports.models import Report

log = logging.getLogger(__name__)

CREATED = "report.created"
UPDATED = "report.updated"
REMOVED = "report.removed"
# Group messages are read by each process's hub (reports.live.hub), not by consumers.
MESSAGE_TYPE = "report.event"


def tile_group(zoom: int, x: int, y: int) -> str:
    return f"map.tile.{zoom}.{x}.{y}"


def municipality_group(code: str) -> str:
    return f"map.municipality.{code}"


def report_group(report_id: int) -> str:
    return f"report.{report_id}"


def department_group(department_id: int) -> str:
    return f"staff.department.{department_id}"


def user_group(user_id: int) -> str:
    return f"staff.user.{user_id}"


# Sent to a staff user's own group: their sockets check their session and scope again at
# once (logged out: closed; roles changed: other departments).
ACCESS_CHANGED = "staff.access_changed"


def staff_access_changed(user_id: int) -> None:
    """Tell a user's open staff sockets, after the current transaction commits, that their
    login or roles changed."""
    transaction.on_commit(partial(_send, [(user_group(user_id), {"type": ACCESS_CHANGED})]),
                          robust=True)


def viewport_groups(bbox: tuple[float, float, float, float]) -> tuple[str, list[str]]:
    """The groups a map socket with this viewport joins: ("tiles", …) or, for a view needing
    more than LIVE_MAX_TILES tiles, ("municipalities", …) of the served ones it overlaps."""
    zoom = settings.LIVE_TILE_ZOOM
    if tile_count(bbox, zoom) <= settings.LIVE_MAX_TILES:
        return "tiles", [tile_group(zoom, x, y) for x, y in tiles_covering(bbox, zoom)]
    codes = selectors.municipality_codes_in_bbox(bbox)
    return "municipalities", [municipality_group(code) for code in codes]


def _map_groups(lon: float, lat: float, municipality_code: str) -> list[str]:
    zoom = settings.LIVE_TILE_ZOOM
    return [tile_group(zoom, *lonlat_to_tile(lon, lat, zoom)),
            municipality_group(municipality_code)]


@dataclass(frozen=True)
class ReportEvents:
    """The payloads of one change: for map sockets, report followers and staff queues, and
    the row they were built from (its location and department choose the groups)."""

    row: dict
    public: dict
    follow: dict
    staff: dict


def build_events(kind: str, report_id: int) -> ReportEvents | None:
    """The payloads for one report: public ones while it is public, `report.removed` ones
    while staff hide it; None if it is gone or waits for its reporter's confirmation."""
    row = selectors.live_report_row(report_id)
    if row is None:
        return None
    if row["feature"] is None:  # hidden or private: off the map and the report's page
        public = {"type": REMOVED, "report_id": report_id, "version": row["version"],
                  "reason": "hidden" if row["hidden"] else "private"}
        follow = public
    else:
        feature = json.loads(row["feature"])
        map_kind = REMOVED if row["status"] == Status.DUPLICATE else kind
        public = {"type": map_kind, "report_id": report_id, "version": row["version"],
                  "feature": feature}
        follow = {**public, "type": kind, "timeline": selectors.public_timeline(report_id)}
    staff = {
        "report_id": report_id, "version": row["version"],
        "feature": public.get("feature"), "type": kind,
        "staff": {
            "reporter": {"name": row["reporter_name"], "email": row["reporter_email"],
                         "phone": row["reporter_phone"]},
            "needs_triage": row["needs_triage"],
            "routing_explanation": row["routing_explanation"],
        },
    }
    return ReportEvents(row=row, public=public, follow=follow, staff=staff)


def _sends(events: ReportEvents, report_id: int, previous_department_id: int | None
           ) -> list[tuple[str, dict]]:
    """Every (group, payload) that should see one change."""
    row = events.row
    sends = [(group, events.public) for group in
             _map_groups(row["lon"], row["lat"], row["municipality_code"])]
    sends.append((report_group(report_id), events.follow))
    departments = {row["department_id"]}
    if previous_department_id is not None:
        departments.add(previous_department_id)
    sends += [(department_group(d), events.staff) for d in departments]
    return sends


# A send that fails is tried again after these pauses: right after Redis comes back, the
# first use of a connection opened before the restart fails, and without a second try that
# event was lost while every hub had already told its sockets they were up to date
# (benchmarks/faults.py, redis-stop). Longer outages are the hubs' to notice (resync).
SEND_RETRY_PAUSES = (0.05, 0.5)


def _send(sends: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for pause in (*SEND_RETRY_PAUSES, None):
        try:
            async_to_sync(_send_all)(layer, sends)
            return
        except Exception:
            if pause is None:
                raise  # on_commit(robust=True) logs it
            time.sleep(pause)


async def _send_all(layer, sends: list[tuple[str, dict]]) -> None:
    await asyncio.gather(*(
        layer.group_send(group, {"type": MESSAGE_TYPE, "group": group, "event": payload})
        for group, payload in sends
    ))


def report_changed(kind: str, report: Report, *, previous_department_id: int | None = None,
                   left_public: bool = False) -> None:
    """Build the live events of a change now and send them once the current transaction
    commits, after the cached tiles that can draw the report are given new versions (a map
    that refetches on the event reads the change). Call it after the change and its
    timeline row are written. A private report's events go to staff only, unless it has
    just `left_public` (then maps and followers are told to drop it)."""
    report_id = report.pk
    tiles.invalidate_around(report.location.x, report.location.y)
    if get_channel_layer() is None:
        return
    events = build_events(kind, report_id)
    if events is None:  # waits for its reporter's confirmation: nothing goes out
        return
    sends = _sends(events, report_id, previous_department_id)
    if events.row["private"] and not left_public:
        staff_groups = {department_group(events.row["department_id"])}
        if previous_department_id is not None:
            staff_groups.add(department_group(previous_department_id))
        sends = [(group, payload) for group, payload in sends if group in staff_groups]
    transaction.on_commit(partial(_send, sends), robust=True)
