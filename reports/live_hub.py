"""Process-local fan-out of live events.

Instead of every websocket joining channel-layer groups itself (one Redis round trip per
socket per join, and one Redis message per socket per event), each process (each event loop)
has one hub. The hub joins a group once, on behalf of all its local sockets that want it,
receives each event once, encodes it once, and hands it to its local sockets. With Redis,
an event costs one message per interested process instead of one per socket; group_add
storms when thousands of sockets connect at once go away (benchmarks/ws_fanout.py).
"""

from __future__ import annotations

import asyncio
import contextlib
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


class Subscriber(Protocol):
    async def deliver(self, event: dict, text: str) -> None: ...


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

    async def update(self, subscriber: Subscriber, old: set[str], new: set[str]) -> None:
        """Move `subscriber` from groups `old` to groups `new`."""
        async with self.lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel("live-hub.")
            for group in new - old:
                self.members[group].add(subscriber)
                if group not in self.joined_at:
                    await self.layer.group_add(group, self.channel)
                    self.joined_at[group] = time.monotonic()
            for group in old - new:
                self.members[group].discard(subscriber)
                if not self.members[group]:
                    del self.members[group]
                    self.joined_at.pop(group, None)
                    await self.layer.group_discard(group, self.channel)
            if self.members and (self.pump is None or self.pump.done()):
                self.pump = asyncio.ensure_future(self._pump())
            elif not self.members and self.pump is not None:
                self.pump.cancel()
                self.pump = None

    async def _pump(self) -> None:
        refresh = asyncio.ensure_future(self._refresh())
        try:
            while True:
                try:
                    message = await self.layer.receive(self.channel)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # Redis hiccups (a read timing out while the loop was busy accepting
                    # thousands of sockets) must not end live updates for this process.
                    log.warning("live hub: receiving failed; retrying", exc_info=True)
                    await asyncio.sleep(0.2)
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
