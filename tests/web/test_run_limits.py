"""A run answers pause and stop within a second whatever its parameters (issue 8.1), against
a real Daphne server (tests/e2e/servers.LabServer) with its LocalRunner threads: the largest
window (1,000,000 accesses), an endless workload, eight policies in lockstep. Before issue 8.1
the executor looked at its controls only between windows, here 8,000,000 accesses apart."""

from __future__ import annotations

import time

import pytest
import requests

from tests.e2e.servers import LabServer

pytestmark = pytest.mark.slow

#: generous: the executor answers within a tick (0.1 s) plus one slice of every variant
ANSWER_S = 5.0
POLICIES = ("arc", "lfu", "2q", "s3fifo", "lru", "fifo", "clock", "sieve")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("limits"))
    with server:
        server.token = server.create_user("hera", "hera-pw-12345", token=True)
        yield server


def _api(lab, method: str, path: str, body: dict | None = None) -> dict:
    response = requests.request(method, f"{lab.url}{path}", json=body, timeout=30,
                                headers={"Authorization": f"Bearer {lab.token}"})
    assert response.ok, response.text
    return response.json()


def _endless_run(lab) -> dict:
    return _api(lab, "POST", "/api/runs/", {
        "config": {"tiers": [{"name": "L0", "capacity_tokens": 5000, "policy": "lru"}],
                   "unit_pages": True, "window_accesses": 1_000_000},
        "workload": {"kind": "generator", "name": "zipf",
                     "params": {"n_pages": 100_000, "alpha": 0.7, "seed": 5}},
        "variants": [{"policy": p} for p in POLICIES], "with_opt": False,
        "label": "an endless run of huge windows",
    })


def _until(lab, run_id: int, status: str, timeout: float) -> float:
    """Seconds until the run's status is ``status`` (fails after ``timeout``)."""
    started = time.monotonic()
    while True:
        got = _api(lab, "GET", f"/api/runs/{run_id}/")["status"]
        if got == status:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"still {got}"
        time.sleep(0.05)


def test_an_endless_run_of_huge_windows_pauses_and_stops_at_once(lab):
    run = _endless_run(lab)
    _until(lab, run["id"], "running", 30)
    time.sleep(1.5)  # well inside its first window
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "pause"})
    assert _until(lab, run["id"], "paused", 60) < ANSWER_S
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "resume"})
    _until(lab, run["id"], "running", 60)
    time.sleep(1.0)
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "stop"})
    assert _until(lab, run["id"], "stopped", 60) < ANSWER_S


def test_a_step_of_a_huge_window_can_be_stopped(lab):
    run = _endless_run(lab)
    _until(lab, run["id"], "running", 30)
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "step"})
    _until(lab, run["id"], "paused", 60)
    time.sleep(0.5)  # the step (8,000,000 accesses) is under way
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "stop"})
    assert _until(lab, run["id"], "stopped", 60) < ANSWER_S


def test_progress_shows_inside_a_huge_window(lab):
    """No window closes for many seconds, yet the run's accesses and every variant's totals
    (stored, and published as status messages for the page's progress bar and counter cards)
    keep growing about once a second."""
    run = _endless_run(lab)
    _until(lab, run["id"], "running", 30)
    time.sleep(1.5)
    first = _api(lab, "GET", f"/api/runs/{run['id']}/")
    time.sleep(2.0)
    second = _api(lab, "GET", f"/api/runs/{run['id']}/")
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "stop"})
    assert 0 < first["accesses"] < second["accesses"] < 1_000_000
    # every variant's totals come with it, as of the same access (the counter cards)
    assert len(second["counters"]) == len(POLICIES)
    for totals in second["counters"].values():
        assert totals["accesses"] == second["accesses"]
        assert totals["hits"] + totals["faults"] == totals["requests"] == totals["accesses"]


def test_a_run_stopped_inside_a_window_counts_to_its_last_access(lab):
    """Stopped inside a window, a run's counters (the page's cards) are those of its result,
    as of its last access, not of the last progress report before the stop."""
    run = _endless_run(lab)
    _until(lab, run["id"], "running", 30)
    time.sleep(1.2)
    _api(lab, "POST", f"/api/runs/{run['id']}/control", {"action": "stop"})
    _until(lab, run["id"], "stopped", 60)
    stopped = _api(lab, "GET", f"/api/runs/{run['id']}/")
    assert 0 < stopped["accesses"] < 1_000_000  # inside the first window
    results = stopped["result"]["results"]
    assert set(results) == set(stopped["counters"])
    for label, totals in stopped["counters"].items():
        assert totals["accesses"] == stopped["accesses"] == results[label]["requests"], label
        assert totals["faults"] == results[label]["faults"], label

