"""Websocket consumers: check permissions in connect, join and leave groups, translate group
messages into frames. They read (through selectors) but never write. See docs/live.md."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from geoservice.errors import InvalidInput, error_frame
from reports import selectors
from reports.lifecycle import Status
from reports.live import events
from reports.live.hub import LiveHub

MAX_FRAME_BYTES = 4096
RESYNC = "resync"
# Frames a client may send: a burst of FRAME_BURST, then FRAME_RATE per second (a map that
# pans sends a subscribe per move; a flood of them would make the server look up groups
# for every one). Frames over the limit are dropped with one error frame a second.
FRAME_BURST = 20
FRAME_RATE = 5.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class _JsonConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: set[str]
    # Sockets never read the channel layer themselves (an alias that names no layer gives
    # them none): their process's hub receives group messages once and hands them over.
    channel_layer_alias = "sockets-use-the-live-hub"

    _tokens: float = FRAME_BURST
    _refilled: float = 0.0
    _warned: float = 0.0

    def _allow_frame(self) -> bool:
        now = time.monotonic()
        self._tokens = min(FRAME_BURST, self._tokens + (now - (self._refilled or now))
                           * FRAME_RATE)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self._allow_frame():
            if time.monotonic() - self._warned >= 1:
                self._warned = time.monotonic()
                await self.send_error(f"Too many frames: at most {FRAME_RATE:g} a second.")
            return
        if text_data is None:
            return await self.send_error("Send JSON text frames, not binary.")
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            return await self.send_error(f"Frames are limited to {MAX_FRAME_BYTES} bytes.")
        try:
            content = json.loads(text_data)
        except ValueError:
            return await self.send_error("The frame is not valid JSON.")
        if not isinstance(content, dict):
            return await self.send_error('Send a JSON object with a "type".')
        try:
            await self.handle(content)
        except InvalidInput as exc:  # a frame we cannot act on: an error frame, no close
            await self.send_json(error_frame(exc))

    async def handle(self, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        raise InvalidInput(f"Unknown message type {kind!r}.")

    async def send_error(self, message: str) -> None:
        await self.send_json(error_frame(InvalidInput(message)))

    async def join(self, groups: set[str]) -> None:
        """Follow exactly these groups (through this process's hub, see reports.live.hub)."""
        await LiveHub.current().update(self, self.groups_joined, set(groups))
        self.groups_joined = set(groups)

    async def deliver(self, event: dict, text: str) -> None:
        await self.send(text_data=text)

    async def resync(self, since: str) -> None:
        """Live events may have been lost (the channel layer was down): the client catches
        up with `updated_after` (docs/live.md)."""
        await self.send_json({"type": RESYNC, "since": since})

    async def disconnect(self, code):
        await self.join(set())


def _parse_bbox(value: Any) -> tuple[float, float, float, float]:
    if not isinstance(value, list) or len(value) != 4:
        raise InvalidInput('"bbox" must be [minlon, minlat, maxlon, maxlat].')
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise InvalidInput('"bbox" values must be numbers.')
    min_lon, min_lat, max_lon, max_lat = (float(v) for v in value)
    if not all(math.isfinite(v) for v in (min_lon, min_lat, max_lon, max_lat)):
        raise InvalidInput('"bbox" values must be finite.')
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InvalidInput('"bbox" must lie in [-180, 180] x [-90, 90] with min < max.')
    return min_lon, min_lat, max_lon, max_lat


def _parse_filters(value: Any) -> dict[str, set[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput('"filters" must be an object.')
    unknown = set(value) - {"status", "category"}
    if unknown:
        raise InvalidInput(f"Unknown filters: {', '.join(sorted(unknown))}.")
    filters = {}
    for key, items in value.items():
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidInput(f'Filter "{key}" must be a list of strings.')
        if key == "status" and set(items) - set(Status.values):
            raise InvalidInput(f"Unknown status; use {', '.join(Status.values)}.")
        if items:
            filters[key] = set(items)
    return filters


def _matches(feature: dict, filters: dict[str, set[str]]) -> bool:
    props = feature.get("properties", {})
    values = {"status": props.get("status"), "category": props.get("category", {}).get("code")}
    return all(values[key] in allowed for key, allowed in filters.items())


class MapConsumer(_JsonConsumer):
    """/ws/map/: public; follows the reports inside the client's viewport."""

    async def connect(self):
        self.groups_joined = set()
        self.filters: dict[str, set[str]] = {}
        await self.accept()

    async def handle(self, content):
        kind = content.get("type")
        if kind == "subscribe":
            bbox = _parse_bbox(content.get("bbox"))
            filters = _parse_filters(content.get("filters"))
            mode, groups = await database_sync_to_async(events.viewport_groups)(bbox)
            self.filters = filters
            await self.join(set(groups))
            await self.send_json({"type": "subscribed", "mode": mode, "groups": len(groups)})
        elif kind == "unsubscribe":
            await self.join(set())
            await self.send_json({"type": "unsubscribed"})
        else:
            await super().handle(content)

    async def deliver(self, event: dict, text: str) -> None:
        if event["type"] == events.REMOVED or _matches(event["feature"], self.filters):
            await self.send(text_data=text)
        elif event["type"] == events.UPDATED:
            # It no longer matches this client's filters: tell it to drop the report.
            await self.send_json({"type": events.REMOVED, "report_id": event["report_id"],
                                  "version": event["version"], "reason": "filtered"})


class ReportConsumer(_JsonConsumer):
    """/ws/reports/{id}/: public; follows one report's status and public timeline."""

    async def connect(self):
        self.groups_joined = set()
        self.report_id = int(self.scope["url_route"]["kwargs"]["report_id"])
        snapshot = await database_sync_to_async(events.build_events)(
            "report.snapshot", self.report_id)
        await self.accept()
        if snapshot is None or "feature" not in snapshot.follow:  # unknown, or hidden
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.join({events.report_group(self.report_id)})
        await self.send_json(snapshot.follow)

    async def resync(self, since: str) -> None:
        """Catching up on one report is its current snapshot."""
        snapshot = await database_sync_to_async(events.build_events)(
            "report.snapshot", self.report_id)
        if snapshot is not None:
            await self.send_json(snapshot.follow)


class StaffConsumer(_JsonConsumer):
    """/ws/staff/: session-authenticated; the queues of the departments the user may see.

    The login and the roles are checked again every STAFF_SOCKET_RECHECK_SECONDS, and at
    once when the user logs out or their roles change (events.staff_access_changed): a
    logged-out session's socket is closed (4401), one whose user lost every department too
    (4403), and one whose departments changed follows the new ones."""

    async def connect(self):
        self.groups_joined = set()
        self.departments: list[int] = []
        self.recheck: asyncio.Task | None = None
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        departments = await database_sync_to_async(selectors.staff_department_ids)(user)
        if not departments:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._follow(departments)
        self.recheck = asyncio.ensure_future(self._recheck_now_and_then())
        await self.send_json({"type": "subscribed", "departments": departments})

    async def _follow(self, departments: list[int]) -> None:
        self.departments = departments
        await self.join({events.department_group(d) for d in departments}
                        | {events.user_group(self.scope["user"].pk)})

    async def _recheck_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(settings.STAFF_SOCKET_RECHECK_SECONDS)
            await self.check_access()

    async def check_access(self) -> None:
        departments = await database_sync_to_async(_still_allowed)(self.scope)
        if departments is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
        elif not departments:
            await self.close(code=CLOSE_FORBIDDEN)
        elif departments != self.departments:
            await self._follow(departments)
            await self.send_json({"type": "subscribed", "departments": departments})

    async def deliver(self, event: dict, text: str) -> None:
        if event.get("type") == events.ACCESS_CHANGED:
            await self.check_access()
        else:
            await self.send(text_data=text)

    async def disconnect(self, code):
        if (recheck := getattr(self, "recheck", None)) is not None:
            recheck.cancel()
        await super().disconnect(code)


def _still_allowed(scope) -> list[int] | None:
    """The user's departments if the socket's session still logs them in (not logged out,
    not expired, password unchanged, user active); None otherwise."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.utils.crypto import constant_time_compare

    session = scope.get("session")
    user = scope.get("user")
    if session is None or user is None or not session.session_key:
        return None
    data = session.__class__(session_key=session.session_key).load()
    fresh = get_user_model().objects.filter(pk=user.pk, is_active=True).first()
    if fresh is None or data.get(SESSION_KEY) != str(user.pk) or not constant_time_compare(
            data.get(HASH_SESSION_KEY, ""), fresh.get_session_auth_hash()):
        return None
    return selectors.staff_department_ids(fresh)
