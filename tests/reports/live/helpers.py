"""Helpers for websocket tests with Channels' communicators in the test's transaction.

Tests are sync functions that run an async scenario through async_to_sync: database work
wrapped in database_sync_to_async then runs in the test's own thread and connection, so it
sees the test's uncommitted rows. `committed` runs a service and then its on_commit
callbacks, as a real commit would.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import TestCase

from geoservice.asgi import application


async def committed(fn: Callable, *args, **kwargs):
    def run():
        with TestCase.captureOnCommitCallbacks(execute=True):
            return fn(*args, **kwargs)

    return await database_sync_to_async(run)()


async def connect(path: str, headers: list | None = None) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def subscribe(communicator, bbox, filters=None) -> dict:
    message = {"type": "subscribe", "bbox": bbox}
    if filters is not None:
        message["filters"] = filters
    await communicator.send_json_to(message)
    reply = await communicator.receive_json_from()
    assert reply["type"] == "subscribed", reply
    return reply
