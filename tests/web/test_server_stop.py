"""SIGTERM to the server while runs execute (issue 8.6): a real Daphne subprocess
(tests/e2e/servers.LabServer, LocalRunner) pauses its runs, marks them interrupted with their
windows kept, and exits within a few seconds; a run still queued behind them is marked too."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.servers import LabServer
from vmemsite.sweeps.services import INTERRUPTED as INTERRUPTED_CELL

pytestmark = pytest.mark.slow

#: generous: the runs wind down within a tick, the process waits at most 3 s for them
EXIT_S = 10.0
STATE = """
import json
from vmemsite.runs.models import Run, RunChunk
print("STATE", json.dumps([
    {"id": r.pk, "status": r.status, "error": r.error, "accesses": r.accesses,
     "chunks": RunChunk.objects.filter(run=r).count()} for r in Run.objects.order_by("pk")]))
"""


def test_sigterm_interrupts_the_runs_keeps_their_windows_and_exits(tmp_path):
    lab = LabServer(tmp_path / "lab", env={"VMEM_LOCAL_WORKERS": "2"})
    with lab:
        token = lab.create_user("stan", "stan-pw-123456", token=True)
        headers = {"Authorization": f"Bearer {token}"}
        body = {"config": {"tiers": [{"name": "L0", "capacity_tokens": 500, "policy": "arc"}],
                           "unit_pages": True, "window_accesses": 2000},
                "workload": {"kind": "generator", "name": "zipf",
                             "params": {"n_pages": 20_000, "alpha": 0.8, "seed": 2}}}
        ids = [requests.post(f"{lab.url}/api/runs/", json=body, headers=headers,
                             timeout=30).json()["id"] for _ in range(3)]  # the third waits
        deadline = time.monotonic() + 60
        while True:
            runs = [requests.get(f"{lab.url}/api/runs/{i}/", headers=headers, timeout=10).json()
                    for i in ids[:2]]
            if all(r["status"] == "running" and r["accesses"] > 10_000 for r in runs):
                break
            assert time.monotonic() < deadline, runs
            time.sleep(0.2)
        started = time.monotonic()
        lab.proc.terminate()  # SIGTERM
        lab.proc.wait(timeout=60)
        took = time.monotonic() - started
        assert took < EXIT_S, f"the server took {took:.1f} s to exit"
        state = json.loads(lab.manage("shell", "-c", STATE).split("STATE", 1)[1])
    by_id = {r["id"]: r for r in state}
    for run_id in ids:
        run = by_id[run_id]
        assert run["status"] == "interrupted", run
        assert "server stopped" in run["error"]
    for run_id in ids[:2]:  # their windows are kept
        assert by_id[run_id]["chunks"] > 0 and by_id[run_id]["accesses"] > 10_000


SWEEP_STATE = """
import json
from vmemsite.sweeps.models import Sweep, SweepCell
print("STATE", json.dumps({
    "finished": Sweep.objects.get().finished_at is not None,
    "cells": [{"status": c.status, "error": c.error} for c in SweepCell.objects.all()]}))
"""


def test_sigterm_stops_the_sweep_cells_under_way_and_exits(tmp_path):
    """A sweep whose cells take half a minute (aging with a clock period longer than the
    trace: each eviction compares every resident page): SIGTERM ends the server within
    seconds; every cell not done is failed as interrupted (re-run them), none left running."""
    lab = LabServer(tmp_path / "lab", env={"VMEM_SWEEP_PROCESSES": "1"})
    with lab:
        _slow_sweep_under_way(lab)
        time.sleep(1.0)  # well into the cell
        started = time.monotonic()
        lab.proc.terminate()  # SIGTERM
        lab.proc.wait(timeout=120)
        took = time.monotonic() - started
        assert took < EXIT_S, f"the server took {took:.1f} s to exit"
        state = json.loads(lab.manage("shell", "-c", SWEEP_STATE).split("STATE", 1)[1])
    assert state["finished"]
    assert [c["status"] for c in state["cells"]] == ["failed", "failed"]
    assert all(c["error"].startswith("interrupted: the server stopped") for c in state["cells"])


def test_a_server_killed_mid_sweep_leaves_cells_the_next_one_fails_as_interrupted(tmp_path):
    """SIGKILL: no exit hook runs, the cells stay "running" and "queued" with nobody behind
    them. The next server's housekeeping finds the sweep's heartbeat stale and fails them as
    interrupted, so the sweep ends and its cells can be re-run."""
    env = {"VMEM_SWEEP_PROCESSES": "1", "VMEM_STALE_S": "2", "VMEM_HEARTBEAT_S": "0.5",
           # the killed server's pool process is orphaned: its cell stops at this limit
           "VMEM_SWEEP_CELL_SECONDS": "10"}
    with LabServer(tmp_path / "lab", env=env) as lab:
        headers, path = _slow_sweep_under_way(lab)
        pool = _children(lab.proc.pid)  # the sweep's pool process (and its tracker)
        assert pool
        lab.proc.kill()  # SIGKILL
        lab.proc.wait(timeout=30)
        # orphaned, the pool's process leaves too (it would have waited forever)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in pool):
            assert time.monotonic() < deadline, f"left behind: {pool}"
            time.sleep(0.2)
    with LabServer(tmp_path / "lab", env=env) as again:
        deadline = time.monotonic() + 30
        while True:
            state = requests.get(again.url + path, headers=headers, timeout=10).json()
            if state["status"] != "running":
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.3)
    assert state["status"] == "failed" and state["running"] == []
    errors = [p["error"] for c in state["curves"] for p in c["points"]]
    assert errors == [INTERRUPTED_CELL] * 2


def _children(pid: int) -> list[int]:
    """The ids of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _slow_sweep_under_way(lab: LabServer) -> tuple[dict[str, str], str]:
    """A sweep whose cells take half a minute (aging with a clock period longer than the
    trace: each eviction compares every resident page), once a cell is under way: the API's
    headers of its owner, and the sweep's API path."""
    token = lab.create_user("sue", "sue-pw-123456", token=True)
    headers = {"Authorization": f"Bearer {token}"}
    ids = "".join(f"{(k * 7919) % 20_000}\n" for k in range(60_000))
    trace = requests.post(f"{lab.url}/api/traces/?name=wide&format=plain", data=ids,
                          headers=headers, timeout=60).json()
    sweep = requests.post(f"{lab.url}/api/sweeps/", json={
        "traces": [trace["id"]], "policies": ["aging"], "sizes": [3_000],
        "axis": {"param": "period", "values": [1_000_000, 2_000_000]}},
        headers=headers, timeout=30)
    assert sweep.status_code == 201, sweep.text
    path = f"/api/sweeps/{sweep.json()['id']}/"
    deadline = time.monotonic() + 60
    while requests.get(lab.url + path, headers=headers, timeout=10).json()[
            "cells"]["running"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return headers, path
