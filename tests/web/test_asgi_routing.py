"""Websocket paths nobody serves are refused cleanly, not with a router error."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from vmemsite.asgi import application


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/runs/abc/", "/ws/nothing/", "/ws/chat/x/"])
async def test_unknown_websocket_paths_are_refused(path):
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    )
    connected, code = await communicator.connect()
    assert connected is False
    assert code == 4404
    await communicator.disconnect()
