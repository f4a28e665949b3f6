"""A sweep at scale for real: PostgreSQL, Redis, a Celery worker in a subprocess (prefork, two
children), the cells sent as a group whose chord closes the sweep. One child is killed with
SIGKILL mid-cell: its cell is redelivered (late acknowledgement, rejected on worker loss) and
the sweep completes with every cell exactly once and the engine's own counts."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from simulator.engine.mrc import Cell, run_cell
from tests.e2e.servers import BIN, REPO, LabServer
from tests.engine.conftest import shared_trace_candidates

from .test_celery import scale_env  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def _children(pid: int) -> dict[int, int]:
    """{child pid: CPU ticks} of a process (the worker's pool children)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat[1]) == pid:
            out[int(entry)] = int(stat[11]) + int(stat[12])
    return out


def _kill_a_busy_child(pid: int, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    before = _children(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _children(pid)
        busy = [child for child, ticks in now.items() if ticks - before.get(child, ticks) > 5]
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            return True
        before = now
    return False


def test_a_sweep_on_celery_survives_a_killed_worker(tmp_path, scale_env):  # noqa: F811
    trace_file = next((p for p in shared_trace_candidates("cloudPhysicsIO.plain.csv")
                       if p.is_file()), None)
    if trace_file is None:
        pytest.skip("the shared trace is not here")
    lab = LabServer(tmp_path / "lab", env=scale_env)
    with lab:
        token = lab.create_user("dora", "dora-pw-123", token=True)
        headers = {"Authorization": f"Bearer {token}"}
        uploaded = requests.post(f"{lab.url}/api/traces/?name=cp",
                                 data=trace_file.read_bytes(), headers=headers, timeout=120)
        assert uploaded.status_code == 201, uploaded.text
        log_path = tmp_path / "worker.log"
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                [str(BIN / "celery"), "-A", "vmemsite", "worker", "-l", "info",
                 "--pool=prefork", "-c", "2", "-Q", scale_env["VMEM_CELERY_QUEUE"],
                 "--without-heartbeat", "--without-mingle", "--without-gossip"],
                cwd=REPO, env=lab.env, stdout=log, stderr=subprocess.STDOUT)
            try:
                sizes = [100, 1000, 5000, 20000]
                created = requests.post(f"{lab.url}/api/sweeps/", json={
                    "traces": [uploaded.json()["id"]], "policies": ["arc", "lru", "opt"],
                    "sizes": sizes}, headers=headers, timeout=30)
                assert created.status_code == 201, created.text
                sweep_id = created.json()["id"]
                assert created.json()["backend"] == "celery"
                killed = _kill_a_busy_child(worker.pid)
                state = _wait(lab.url, sweep_id, headers)
            finally:
                worker.terminate()
                worker.wait(timeout=60)
        text = log_path.read_text()
        assert killed, text[-3000:]
        assert "sweeps.cell" in text and "sweeps.close" in text, text[-3000:]
        assert state["status"] == "done", state["cells"]
        assert state["cells"]["done"] == 12 and state["finished_at"] is not None
        path = Path(lab.data_dir) / "traces"
        stored = next(path.glob("*.csv"))
        spec = {"kind": "trace", "path": str(stored), "format": "csv"}
        for curve in state["curves"]:  # LRU's cells come from one pass of stack distances
            if curve["policy"] in ("arc", "lru"):
                for point in curve["points"]:
                    want = run_cell(Cell(spec, curve["policy"], point["size"])).misses
                    assert point["misses"] == want, (curve["policy"], point)
        attempts = [p["attempts"] for c in state["curves"] for p in c["points"]]
        assert max(attempts) >= 2  # the killed cell ran again
        assert all(p["opt_gap"] >= 0 for c in state["curves"] for p in c["points"])


def _wait(url: str, sweep_id: int, headers: dict, seconds: float = 400) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = requests.get(f"{url}/api/sweeps/{sweep_id}/", headers=headers,
                             timeout=10).json()
        if state["status"] != "running" and state["finished_at"]:
            return state
        time.sleep(0.5)
    raise AssertionError(f"the sweep did not finish: {state['cells']}")
