"""The at-scale path for real: PostgreSQL (DATABASE_URL), Redis (REDIS_URL) as the Celery
broker and the channels-redis layer, a Celery worker in a subprocess, Daphne in another. A run
created over the API executes on the worker; its frames reach a websocket viewer through Redis;
a pause sent to the web server reaches the worker through the database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

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
