"""Process-local fan-out of live events.

Instead of every websocket joining channel-layer groups itself (one Redis round trip per
socket per join, and one Redis message per socket per event), each process (each event loop)
has one hub. The hub joins a group once, on behalf of all its local sockets that want it,
receives each event once, encodes it once, and hands it to its local sockets. With Redis,
an event costs one message per interested process instead of one per socket; group_add
storms when thousands of sockets connect at once go away (benchmarks/ws_fanout.py).

When the channel layer fails (Redis restarting: measured, an open map socket then heard
nothing ever again while staying open, because its group memberships died with Redis), the
hub keeps trying until Redis answers, joins every group again, and tells each local socket
that it may have missed events (`resync`): clients catch up from the database with
`updated_after` (docs/live.md). Events sent while the layer was down are not queued
anywhere; the catch-up is what makes them reach the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
import weakref
from collections import defaultdict
from typing import Protocol

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

# channels_redis forgets group members after group_expiry (a day); re-join well before.
REFRESH_SECONDS = 1800
# While the layer is down: first and longest pause between attempts to join again.
RETRY_FIRST_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0
# A resync asks for changes since a little before the failure was noticed: an event sent
# just before may have been lost too.
RESYNC_MARGIN_SECONDS = 10


class Subscriber(Protocol):
    async def deliver(self, event: dict, text: str) -> None: ...

    async def resync(self, since: str) -> None: ...


class LiveHub:
    _hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LiveHub] = (
        weakref.WeakKeyDictionary())

    @classmethod
    def current(cls) -> LiveHub:
        loop = asyncio.get_running_loop()
        hub = cls._hubs.get(loop)
        if hub is None:
            hub = cls._hubs[loop] = cls()
        return hub

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.members: dict[str, set[Subscriber]] = defaultdict(set)
        self.joined_at: dict[str, float] = {}
        self.lock = asyncio.Lock()
        self.pump: asyncio.Task | None = None
        # Wall-clock time the layer was first seen failing, until it works again.
        self.lost_since: dt.datetime | None = None
        self.resyncs = 0  # how many times local sockets were told to catch up

    async def update(self, subscriber: Subscriber, old: set[str], new: set[str]) -> None:
        """Move `subscriber` from groups `old` to groups `new`. Never fails because the
        layer is down: the group is then joined when the layer is back."""
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel("live-hub.")
            for group in new - old:
                self.members[group].add(subscriber)
                if group not in self.joined_at:
                    self.joined_at[group] = time.monotonic()
                    if self.lost_since is None:
                        try:
                            await self.layer.group_add(group, self.channel)
                        except Exception:
                            self._lost("joining a group failed")
            for group in old - new:
                self.members[group].discard(subscriber)
                if not self.members[group]:
                    del self.members[group]
                    self.joined_at.pop(group, None)
                    with contextlib.suppress(Exception):  # expires by itself otherwise
                        await self.layer.group_discard(group, self.channel)
            if self.members and (self.pump is None or self.pump.done()):
                self.pump = asyncio.ensure_future(self._pump())
            elif not self.members and self.pump is not None:
                self.pump.cancel()
                self.pump = None

    def _lost(self, what: str) -> None:
        if self.lost_since is None:
            self.lost_since = dt.datetime.now(dt.UTC)
            log.warning("live hub: %s; the channel layer is unavailable, retrying", what,
                        exc_info=True)

    async def _rejoin(self) -> bool:
        """Join every group again (Redis may have restarted empty); True when it worked."""
        async with self.lock:
            try:
                for group in list(self.joined_at):
                    await self.layer.group_add(group, self.channel)
                    self.joined_at[group] = time.monotonic()
            except Exception:
                return False
        return True

    async def _recover(self) -> None:
        """Wait for the layer, join again, and tell every local socket to catch up."""
        pause = RETRY_FIRST_SECONDS
        while not await self._rejoin():
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)
        lost_since, self.lost_since = self.lost_since, None
        assert lost_since is not None
        since = (lost_since - dt.timedelta(seconds=RESYNC_MARGIN_SECONDS)).isoformat()
        subscribers = {s for members in self.members.values() for s in members}
        log.warning("live hub: the channel layer is back after %.1f s; %d sockets catch up",
                    (dt.datetime.now(dt.UTC) - lost_since).total_seconds(), len(subscribers))
        self.resyncs += 1
        for subscriber in subscribers:
            try:
                await subscriber.resync(since)
            except Exception:  # one broken socket must not stop the others
                log.exception("telling a socket to catch up failed")

    async def _pump(self) -> None:
        refresh = asyncio.ensure_future(self._refresh())
        try:
            while True:
                if self.lost_since is not None:
                    await self._recover()
                try:
                    message = await self.layer.receive(self.channel)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._lost("receiving failed")
                    await asyncio.sleep(RETRY_FIRST_SECONDS)
                    continue
                group, event = message.get("group"), message.get("event")
                subscribers = list(self.members.get(group, ()))
                if not subscribers or event is None:
                    continue
                text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                for subscriber in subscribers:
                    try:
                        await subscriber.deliver(event, text)
                    except Exception:  # one broken socket must not stop the others
                        log.exception("delivering a live event failed")
        finally:
            refresh.cancel()

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS / 10)
            now = time.monotonic()
            async with self.lock:
                for group, joined in list(self.joined_at.items()):
                    if now - joined > REFRESH_SECONDS:
                        with contextlib.suppress(Exception):
                            await self.layer.group_add(group, self.channel)
                            self.joined_at[group] = now
