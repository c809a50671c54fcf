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


def listen(*groups: str):
    """A channel of the (in-memory) layer in `groups`: (layer, channel) for `pending`."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def pending(layer, channel) -> list[dict]:
    """What reached the channel so far, without waiting."""
    from asgiref.sync import async_to_sync

    async def drain():
        messages = []
        while layer.channels.get(channel) and not layer.channels[channel].empty():
            messages.append(await layer.receive(channel))
        return messages
    return async_to_sync(drain)()
