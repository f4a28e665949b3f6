"""The live chat websocket with the real ASGI stack, the in-memory channel layer and the real
chat thread pool (scripted provider: the turn runs in a worker thread, never on the loop)."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from vmemsite.asgi import application
from vmemsite.chat.services import chat_create

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def _connect(chat_id: int, user=None):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/chat/{chat_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    return communicator, connected


async def _receive(communicator, timeout=20.0) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


@sync_to_async
def _chat(owner):
    return chat_create(owner=owner, provider="scripted", context_window=400, page_size=32,
                       max_tokens=32)


async def test_only_the_owner_connects(user, other):
    chat = await _chat(user)
    for chat_id, who in ((chat.pk, None), (chat.pk, other), (chat.pk + 1000, user)):
        communicator, connected = await _connect(chat_id, who)
        assert not connected
        await communicator.disconnect()


async def test_state_on_connect_then_a_turn_streams_live(user):
    chat = await _chat(user)
    communicator, connected = await _connect(chat.pk, user)
    assert connected
    state = await _receive(communicator)
    assert state["type"] == "state" and state["status"] == "idle" and state["count"] == 0
    assert [p["id"] for p in state["snapshot"]["l0"]] == ["system:prompt"]
    await communicator.send_to(text_data=json.dumps({"action": "send",
                                                     "text": "My cat is called Miso."}))
    seen = []
    while True:
        frame = await _receive(communicator)
        seen.append(frame["type"])
        if frame["type"] == "turn":
            break
    assert "message" in seen and "ack" in seen
    assert frame["status"] == "idle" and frame["count"] == 2
    assert frame["messages"][0]["role"] == "assistant"
    ids = [p["id"] for p in frame["snapshot"]["l0"]]
    assert "message:t001-user" in ids
    # a late viewer gets the same state
    late, ok = await _connect(chat.pk, user)
    assert ok
    again = await _receive(late)
    assert again["count"] == 2 and again["snapshot"]["l0"] == frame["snapshot"]["l0"]
    await late.disconnect()
    await communicator.send_to(text_data="not json{")
    assert "not valid JSON" in (await _receive(communicator))["error"]
    await communicator.send_to(text_data=json.dumps({"action": "send", "text": ""}))
    assert "write a message" in (await _receive(communicator))["error"]
    await communicator.disconnect()
    await asyncio.sleep(0)
