"""The live-run websocket with the real ASGI stack (origin check, sessions, URL router), the
real in-memory channel layer and the real LocalRunner thread pool."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from vmemsite.asgi import application
from vmemsite.runs.models import Run
from vmemsite.runs.services import run_create, run_execute

from .conftest import classic, sequence, zipf

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def _cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def _connect(run_id: int, user=None) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run_id}/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    return communicator, connected


def _windows(points: list[dict]) -> int:
    """How many windows a frame's points stand for: a frame that did not fit is downsampled
    (vmemsite.runs.frames.frame_points), each bucket of n windows as a low and a high point."""
    return sum(1 if "windows" not in p else p["windows"] / 2 for p in points)


async def _receive(communicator, timeout=10.0) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


@sync_to_async
def _finished_run(owner, public=False):
    run = run_create(owner=owner, config=classic("fifo", 3), workload=sequence(),
                     public=public, submit=False)
    run_execute(run_id=run.pk, publisher=lambda *a: None)
    return run


async def test_private_and_unknown_runs_are_refused_alike(user, other):
    run = await _finished_run(user)
    for run_id, who in ((run.pk, None), (run.pk, other), (run.pk + 1000, user)):
        communicator, connected = await _connect(run_id, who)
        assert not connected
        await communicator.disconnect()


async def test_a_foreign_origin_is_refused(user):
    run = await _finished_run(user, public=True)
    communicator = WebsocketCommunicator(application, f"/ws/runs/{run.pk}/",
                                         headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect(timeout=10)
    assert not connected


async def test_owner_gets_the_state_on_connect_and_bad_messages_get_errors(user):
    run = await _finished_run(user)
    communicator, connected = await _connect(run.pk, user)
    assert connected
    state = await _receive(communicator)
    assert state["type"] == "state" and state["run"]["can_control"] is True
    assert len(state["points"]["fifo"]) == 12 and state["result"]["faults"] == 9
    for text, expected in (("not json{", "not valid JSON"), ("[1, 2]", "expected an object"),
                           ('{"action": "dance"}', "unknown action"),
                           ('{"action": "pause"}', "already finished"),
                           ("x" * 5000, "at most 4 KB")):
        await communicator.send_to(text_data=text)
        reply = await _receive(communicator)
        assert reply["type"] == "error" and expected in reply["error"], reply
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await _receive(communicator))["type"] == "error"
    await communicator.disconnect()


async def test_viewers_of_public_runs_are_read_only(user, other):
    run = await _finished_run(user, public=True)
    for who in (other, None):
        communicator, connected = await _connect(run.pk, who)
        assert connected
        state = await _receive(communicator)
        assert state["run"]["can_control"] is False
        await communicator.send_to(text_data='{"action": "stop"}')
        reply = await _receive(communicator)
        assert reply["type"] == "error" and "read-only" in reply["error"]
        await communicator.disconnect()
    assert (await sync_to_async(Run.objects.get)(pk=run.pk)).desired == "running"


async def test_a_live_run_streams_numbered_frames_through_the_local_runner(user, settings):
    settings.VMEM_RUNNER = "local"
    run = await sync_to_async(run_create)(
        owner=user, config=classic("lru", 50, window_accesses=20),
        workload=zipf(n=200_000), speed=20_000.0)  # paced: ~10 s in all
    communicator, connected = await _connect(run.pk, user)
    assert connected
    state = await _receive(communicator)
    seq = state["seq"]
    frames, statuses = [], []
    points = sum(_windows(v) for v in state["points"].values())
    while len(frames) < 5:
        message = await _receive(communicator)
        if message["type"] == "frame":
            assert message["seq"] == seq + 1 or (not frames and message["seq"] <= seq + 1)
            if message["seq"] > seq:
                seq = message["seq"]
                frames.append(message)
                points += _windows(message["points"].get("lru", []))
        elif message["type"] == "status":
            statuses.append(message["status"])
    assert all(len(f["points"]["lru"]) > 0 for f in frames)

    # controls over the same socket: pause, then see the runner confirm it
    await communicator.send_to(text_data=json.dumps({"action": "pause"}))
    while True:
        message = await _receive(communicator)
        if message["type"] == "status" and message["status"] == "paused":
            break
        assert message["type"] in ("ack", "frame", "status")
        if message["type"] == "frame":
            assert message["seq"] == seq + 1
            seq = message["seq"]
            points += _windows(message["points"].get("lru", []))
    await communicator.send_to(text_data=json.dumps({"action": "speed", "speed": None}))
    await communicator.send_to(text_data=json.dumps({"action": "resume"}))
    final = None
    while final is None:
        message = await _receive(communicator, timeout=30)
        if message["type"] == "frame":
            assert message["seq"] == seq + 1  # no gap: every frame reached this viewer
            seq = message["seq"]
            points += _windows(message["points"].get("lru", []))
        elif message["type"] == "status" and message["status"] == "finished":
            final = message
    assert final["result"]["requests"] == 200_000
    assert points == 200_000 // 20  # every window arrived exactly once
    await communicator.disconnect()


async def test_a_late_viewer_gets_what_it_missed_in_the_state(user, settings):
    settings.VMEM_RUNNER = "local"
    run = await sync_to_async(run_create)(
        owner=user, config=classic("lru", 50, window_accesses=100), workload=zipf(n=50_000))
    for _ in range(200):
        status = (await sync_to_async(Run.objects.get)(pk=run.pk)).status
        if status == "finished":
            break
        await asyncio.sleep(0.05)
    communicator, connected = await _connect(run.pk, user)
    assert connected
    state = await _receive(communicator)
    assert state["run"]["status"] == "finished"
    assert sum(p["accesses"] for p in state["points"]["lru"]) == 50_000
    await communicator.disconnect()


async def test_making_a_run_private_closes_the_other_viewers(user, other):
    from vmemsite.runs.services import run_set_public

    run = await _finished_run(user, public=True)
    owner, ok_owner = await _connect(run.pk, user)
    stranger, ok_stranger = await _connect(run.pk, other)
    anonymous, ok_anonymous = await _connect(run.pk)
    assert ok_owner and ok_stranger and ok_anonymous
    for communicator in (owner, stranger, anonymous):
        assert (await _receive(communicator))["type"] == "state"
    await sync_to_async(run_set_public)(run=run, user=user, public=False)
    assert await _receive(owner) == {"type": "visibility", "public": False}
    for communicator in (stranger, anonymous):
        closed = await communicator.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}
    # and a reconnect is refused like any private run
    _, connected = await _connect(run.pk, other)
    assert not connected
    await owner.disconnect()
