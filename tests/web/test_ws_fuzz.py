"""Malformed websocket messages get an error reply and the connection stays (issue 8.5), on
both consumers (``/ws/runs/<id>/`` and ``/ws/chat/<id>/``) of a real Daphne server
(tests/e2e/servers.LabServer) with a real websocket client: deeply nested JSON, a bounded
Hypothesis fuzz of JSON values, text and bytes. Every message sent is answered with ``ack`` or
``error``; a dropped socket (1011) fails the test."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

from tests.e2e.servers import LabServer, reachable

pytestmark = pytest.mark.slow

PASSWORD = "wsfuzz-pw-12345"
PG = ("127.0.0.1", 5432)
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CHAT = """
from django.contrib.auth import get_user_model
from vmemsite.chat.services import chat_create
chat = chat_create(owner=get_user_model().objects.get(username="wsf"), provider="scripted",
                   context_window=400, page_size=32, max_tokens=32)
print("CHAT", chat.pk)
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def lab(request, tmp_path_factory):
    env, database = {}, None
    if request.param == "postgresql":
        psycopg = pytest.importorskip("psycopg")
        if not reachable(*PG):
            pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
        database = f"vmem_wsfuzz_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{database}"
    server = LabServer(tmp_path_factory.mktemp(f"wsfuzz-{request.param}"), env=env)
    try:
        with server:
            server.token = server.create_user("wsf", PASSWORD, token=True)
            yield server
    finally:
        if database:
            with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _cookie(lab) -> str:
    session = requests.Session()
    session.get(f"{lab.url}/accounts/login/", timeout=10)
    session.post(f"{lab.url}/accounts/login/", timeout=10, data={
        "username": "wsf", "password": PASSWORD,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{lab.url}/accounts/login/"})
    assert "sessionid" in session.cookies
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def _finished_run(lab) -> int:
    headers = {"Authorization": f"Bearer {lab.token}"}
    run = requests.post(f"{lab.url}/api/runs/", headers=headers, timeout=30, json={
        "config": {"tiers": [{"name": "L0", "capacity_tokens": 3, "policy": "lru"}],
                   "unit_pages": True, "window_accesses": 2},
        "workload": {"kind": "sequence", "pages": [1, 2, 3, 4, 1, 2, 5]}}).json()
    deadline = time.monotonic() + 30
    while requests.get(f"{lab.url}/api/runs/{run['id']}/", headers=headers,
                       timeout=10).json()["status"] != "finished":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return run["id"]


def _open(lab, path: str, stack: ExitStack):
    ws = stack.enter_context(connect(lab.url.replace("http://", "ws://") + path, origin=lab.url,
                 additional_headers={"Cookie": _cookie(lab)}, max_size=None, open_timeout=20))
    first = json.loads(ws.recv(timeout=20))
    parts = first.get("parts", 1)
    for _ in range(parts - 1):  # a run's state may come in parts
        ws.recv(timeout=20)
    return ws


@pytest.fixture(scope="module")
def sockets(lab):
    chat_id = int(lab.manage("shell", "-c", CHAT).split("CHAT", 1)[1])
    run_id = _finished_run(lab)
    lab.ids = {"run": run_id, "chat": chat_id}
    lab.acks = {"run": 0, "chat": 0}
    lab.before = _left(lab)
    with ExitStack() as stack:
        yield {"run": _open(lab, f"/ws/runs/{run_id}/", stack),
               "chat": _open(lab, f"/ws/chat/{chat_id}/", stack)}


def _answer(ws, message: str | bytes) -> dict:
    """Send ``message``; the reply to it (``ack`` or ``error``; news of the chat skipped)."""
    ws.send(message)
    while True:
        reply = json.loads(ws.recv(timeout=20))  # ConnectionClosed: the socket was dropped
        if reply["type"] in ("ack", "error"):
            return reply


NESTED = ["[" * 1500, "[" * 15_000, '{"a":' * 1500 + "1" + "}" * 1500,
          '{"action":"pause","deep":' + "[" * 3000 + "]" * 3000 + "}"]


@pytest.mark.parametrize("kind", ["run", "chat"])
def test_deeply_nested_json_gets_an_error_and_the_socket_stays(sockets, kind):
    ws = sockets[kind]
    for text in NESTED:
        reply = _answer(ws, text)
        assert reply["type"] == "error", reply
    # still usable: a well-formed message is answered
    assert _answer(ws, json.dumps({"action": "nonsense"}))["type"] == "error"


def _nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=4),
                     st.dictionaries(st.text(max_size=8), inner, max_size=4))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    _nested, max_leaves=20)
ACTIONS = st.sampled_from(["pause", "resume", "step", "stop", "speed", "send", "", "PAUSE"])
MESSAGES = st.one_of(
    JSON.map(json.dumps),
    st.fixed_dictionaries({"action": ACTIONS}, optional={"speed": JSON, "text": JSON}).map(
        json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
    st.integers(1, 20_000).map(lambda n: "[" * n),
    st.integers(1, 5000).map(lambda n: '{"action":' * n),
    st.integers(16_000, 40_000).map(lambda n: json.dumps({"action": "send", "text": "a" * n})),
)


@pytest.mark.parametrize("kind", ["run", "chat"])
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(message=MESSAGES)
def test_fuzzed_messages_are_answered_and_never_drop_the_socket(lab, sockets, kind, message):
    reply = _answer(sockets[kind], message)
    assert reply["type"] in ("ack", "error")
    if reply["type"] == "error":
        assert isinstance(reply["error"], str) and reply["error"]
    else:
        lab.acks[kind] += 1


LEFT = """
import json
from vmemsite.chat.models import Chat, ChatMessage
from vmemsite.runs.models import Run, RunChunk
run, chat = Run.objects.get(pk={run}), Chat.objects.get(pk={chat})
print("LEFT", json.dumps({{"run": [run.status, run.seq, RunChunk.objects.filter(run=run).count()],
      "users": ChatMessage.objects.filter(chat=chat, role="user").count(),
      "runs": Run.objects.count()}}))
"""


def _left(lab) -> dict:
    return json.loads(lab.manage("shell", "-c", LEFT.format(**lab.ids)).split("LEFT", 1)[1])


def test_nothing_is_left_behind(lab, sockets):
    """After the fuzz: the finished run is as it was (only its speed may change), no run
    was created, and the chat holds one user message per acknowledged send."""
    left = _left(lab)
    assert left["run"] == lab.before["run"] and left["run"][0] == "finished"
    assert left["runs"] == lab.before["runs"] == 1
    assert left["users"] == lab.acks["chat"]
