"""The at-scale path for real: PostgreSQL (DATABASE_URL), Redis (REDIS_URL) as the Celery
broker and the channels-redis layer, a Celery worker in a subprocess, Daphne in another. A run
created over the API executes on the worker; its frames reach a websocket viewer through Redis;
a pause sent to the web server reaches the worker through the database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.servers import BIN, REPO, LabServer, reachable

PG = ("127.0.0.1", 5432)
REDIS = ("127.0.0.1", 6379)

pytestmark = pytest.mark.slow


def _postgres_db():
    psycopg = pytest.importorskip("psycopg")
    if not reachable(*PG):
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"vmem_celery_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.skip(f"cannot create a throwaway PostgreSQL database: {exc}")
    return psycopg, name


@pytest.fixture
def scale_env(tmp_path):
    if not reachable(*REDIS):
        pytest.skip("Redis is not listening on 127.0.0.1:6379")
    psycopg, name = _postgres_db()
    tag = uuid.uuid4().hex[:8]
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
        "REDIS_URL": "redis://127.0.0.1:6379/5",
        "VMEM_CELERY_QUEUE": f"vmem-test-{tag}",
        "VMEM_REDIS_PREFIX": f"vmem-test-{tag}",
    }
    yield env
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _watch(url: str, on_frames) -> list[dict]:
    import websockets

    messages = []
    async with websockets.connect(url, origin="http://127.0.0.1", open_timeout=20,
                                  max_size=None) as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            messages.append(message)
            on_frames(messages)
            if message["type"] == "status" and message["status"] in ("finished", "failed",
                                                                      "stopped"):
                return messages


def test_a_run_executes_on_a_celery_worker_and_streams_through_redis(tmp_path, scale_env):
    lab = LabServer(tmp_path / "lab", env=scale_env)
    with lab:
        token = lab.create_user("carol", "carol-pw-123", token=True)
        worker_log = (tmp_path / "worker.log").open("w")
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "vmemsite", "worker", "-l", "info", "--pool=threads",
             "-c", "2", "-Q", scale_env["VMEM_CELERY_QUEUE"], "--without-heartbeat",
             "--without-mingle", "--without-gossip"],
            cwd=REPO, env=lab.env, stdout=worker_log, stderr=subprocess.STDOUT,
        )
        try:
            headers = {"Authorization": f"Bearer {token}"}
            body = {
                "config": {"tiers": [{"name": "L0", "capacity_tokens": 50, "policy": "lru"}],
                           "unit_pages": True, "window_accesses": 100},
                "workload": {"kind": "generator", "name": "zipf",
                             "params": {"n_pages": 500, "alpha": 0.8, "n": 100_000}},
                "speed": 20_000, "public": True, "label": "celery path",
            }
            created = requests.post(f"{lab.url}/api/runs/", json=body, headers=headers,
                                    timeout=30)
            assert created.status_code == 201, created.text
            run = created.json()
            control = f"{lab.url}{run['urls']['control']}"
            sent = {"pause": False, "resume": False}

            def steer(messages):
                frames = [m for m in messages if m["type"] == "frame"]
                if len(frames) >= 3 and not sent["pause"]:
                    sent["pause"] = True
                    r = requests.post(control, json={"action": "pause"}, headers=headers,
                                      timeout=10)
                    assert r.status_code == 200, r.text
                if (not sent["resume"] and any(m["type"] == "status"
                                               and m["status"] == "paused" for m in messages)):
                    sent["resume"] = True
                    for payload in ({"action": "speed", "speed": None}, {"action": "resume"}):
                        r = requests.post(control, json=payload, headers=headers, timeout=10)
                        assert r.status_code == 200, r.text

            ws_url = lab.url.replace("http://", "ws://") + run["urls"]["websocket"]
            # in a thread of its own: a browser test earlier in the session may have left an
            # event loop marked as running in this one
            with ThreadPoolExecutor(1) as pool:
                messages = pool.submit(asyncio.run, _watch(ws_url, steer)).result(timeout=120)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            worker_log.close()
        log = (tmp_path / "worker.log").read_text()
        assert "simulator.execute_run" in log, log[-3000:]

        state, frames = messages[0], [m for m in messages if m["type"] == "frame"]
        assert state["type"] == "state"
        seqs = [state["seq"]] + [f["seq"] for f in frames if f["seq"] > state["seq"]]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no gaps through Redis
        statuses = [m["status"] for m in messages if m["type"] == "status"]
        assert "paused" in statuses and statuses[-1] == "finished"
        final = requests.get(f"{lab.url}/api/runs/{run['id']}/", headers=headers,
                             timeout=10).json()
        assert final["status"] == "finished" and final["result"]["requests"] == 100_000
        windows = requests.get(f"{lab.url}/api/runs/{run['id']}/windows", timeout=10).json()
        assert sum(p["accesses"] for p in windows["points"]["lru"]) == 100_000


def _worker(lab, tmp_path, queue: str, name: str) -> subprocess.Popen:
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [str(BIN / "celery"), "-A", "vmemsite", "worker", "-l", "info", "--pool=threads",
         "-c", "2", "-Q", queue, "-n", f"{name}@%h", "--without-heartbeat", "--without-mingle",
         "--without-gossip"],
        cwd=REPO, env=lab.env, stdout=log, stderr=subprocess.STDOUT,
    )


def _login(lab, username: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{lab.url}/accounts/login/", timeout=10)
    session.post(f"{lab.url}/accounts/login/", timeout=10, data={
        "username": username, "password": password,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{lab.url}/accounts/login/"})
    assert "sessionid" in session.cookies
    return session


def _wait(get, until, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        got = get()
        if until(got):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.2)


#: heartbeats every second, stale after 4: the sweep finds a dead worker's run in seconds
FAST_BEATS = {"VMEM_HEARTBEAT_S": "1", "VMEM_STALE_S": "4"}


def test_a_run_whose_worker_is_killed_is_interrupted_and_can_run_again(tmp_path, scale_env):
    """Issue 8.3: SIGKILL the worker executing a run. The server's sweep marks the run
    interrupted (its windows kept) within a bounded time, its viewer hears it through Redis
    on a socket left idle longer than the layer's blocking pop, a control says what happened,
    and "Run again" executes on another worker."""
    lab = LabServer(tmp_path / "lab", env={**scale_env, **FAST_BEATS})
    queue = scale_env["VMEM_CELERY_QUEUE"]
    with lab:
        token = lab.create_user("kim", "kim-pw-123456", token=True)
        headers = {"Authorization": f"Bearer {token}"}
        first = _worker(lab, tmp_path, queue, "first")
        second = None
        try:
            run = requests.post(f"{lab.url}/api/runs/", headers=headers, timeout=30, json={
                "config": {"tiers": [{"name": "L0", "capacity_tokens": 50, "policy": "lru"}],
                           "unit_pages": True, "window_accesses": 1000},
                "workload": {"kind": "generator", "name": "zipf",
                             "params": {"n_pages": 500, "alpha": 0.8, "seed": 4}},
                "speed": 20_000, "label": "killed mid-run"}).json()

            def detail(run_id=run["id"]):
                return requests.get(f"{lab.url}/api/runs/{run_id}/", headers=headers,
                                    timeout=10).json()

            _wait(detail, lambda r: r["status"] == "running" and r["accesses"] >= 5000, 60)
            session = _login(lab, "kim", "kim-pw-123456")
            cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
            ws_url = lab.url.replace("http://", "ws://") + run["urls"]["websocket"]
            with connect(ws_url, origin=lab.url, additional_headers={"Cookie": cookie},
                         max_size=None, open_timeout=20) as ws:
                ws.recv(timeout=20)  # the state
                first.kill()  # SIGKILL: no shutdown, no acknowledgement
                first.wait(timeout=30)
                killed = time.monotonic()
                status = None
                while status != "interrupted":  # idle between frames: > 5 s, no 1011
                    message = json.loads(ws.recv(timeout=60))
                    status = message.get("status") if message["type"] == "status" else None
                heard = time.monotonic() - killed
            assert heard < 30, heard
            lost = detail()
            assert lost["status"] == "interrupted" and "worker" in lost["error"]
            windows = requests.get(f"{lab.url}/api/runs/{run['id']}/windows", headers=headers,
                                   timeout=10).json()
            assert sum(p["accesses"] for p in windows["points"]["lru"]) >= 5000  # kept
            control = requests.post(f"{lab.url}{run['urls']['control']}", headers=headers,
                                    json={"action": "pause"}, timeout=10)
            assert control.status_code == 409 and "interrupted" in control.text
            assert "worker" in control.text

            second = _worker(lab, tmp_path, queue, "second")
            again = session.post(f"{lab.url}/runs/{run['id']}/again", timeout=10,
                                 headers={"X-CSRFToken": session.cookies["csrftoken"],
                                          "Referer": lab.url + "/"}, allow_redirects=False)
            assert again.status_code == 302, again.text
            new_id = int(again.headers["Location"].rstrip("/").split("/")[-1])
            assert new_id != run["id"]
            _wait(lambda: detail(new_id),
                  lambda r: r["status"] == "running" and r["accesses"] > 0, 60)
            requests.post(f"{lab.url}/api/runs/{new_id}/control", headers=headers,
                          json={"action": "stop"}, timeout=10)
            _wait(lambda: detail(new_id), lambda r: r["status"] == "stopped", 30)
        finally:
            for worker in (first, second):
                if worker is not None and worker.poll() is None:
                    worker.terminate()
                    worker.wait(timeout=30)


def test_the_redis_layer_outlasts_its_blocking_pop(scale_env):
    """A consumer waiting on an empty channel for several blocking pops gets no TimeoutError
    (what closed idle websockets with 1011 through Redis)."""
    from channels_redis.core import RedisChannelLayer

    from vmemsite.settings.base import CHANNELS_REDIS_BLOCKING_POP_S, redis_channel_layer

    config = redis_channel_layer(scale_env["REDIS_URL"], scale_env["VMEM_REDIS_PREFIX"])
    layer = RedisChannelLayer(**config["CONFIG"])
    assert layer.brpop_timeout == CHANNELS_REDIS_BLOCKING_POP_S

    async def idle_then_receive():
        channel = await layer.new_channel()
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(3 * CHANNELS_REDIS_BLOCKING_POP_S - 2)  # three blocking pops
        assert not waiting.done(), waiting  # a TimeoutError would have ended it
        await layer.send(channel, {"type": "hello"})
        message = await asyncio.wait_for(waiting, timeout=10)
        await layer.flush()
        return message

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, idle_then_receive()).result(timeout=60) == {
            "type": "hello"}
