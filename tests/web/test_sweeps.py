"""Sweeps for real: cells on a process pool of spawned processes (one of them killed), every
cell exactly once, OPT gaps, exports; bad input named; private to their owner."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time

import pytest
from django.test import Client
from django.urls import reverse

from simulator.engine.mrc import Cell, run_cell
from simulator.engine.sources import TraceSource
from vmemsite.accounts.services import token_create
from vmemsite.errors import Invalid
from vmemsite.sweeps.models import SweepCell
from vmemsite.sweeps.selectors import sweep_state
from vmemsite.sweeps.services import cell_record, sweep_create
from vmemsite.traces.selectors import trace_path

from .library_data import upload

# Belady's anomaly string: FIFO 9 faults at 3 frames, 10 at 4; OPT 7 and 6 (hand-worked)
BELADY = "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"


def wait_done(sweep, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sweep.refresh_from_db()
        state = sweep_state(sweep)
        if state["status"] != "running" and sweep.finished_at is not None:
            return state
        time.sleep(0.1)
    raise AssertionError(f"the sweep did not finish: {sweep_state(sweep)['cells']}")


@pytest.mark.django_db(transaction=True)
def test_a_local_sweep_on_a_process_pool_hand_worked(alice, data_dir, settings):
    settings.VMEM_SWEEP_PROCESSES = 2
    trace = upload(alice, BELADY, name="belady")
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["fifo", "opt", "lru"],
                         sizes="3, 4")
    state = wait_done(sweep)
    assert state["status"] == "done" and state["cells"]["done"] == 6
    curves = {c["policy"]: c["points"] for c in state["curves"]}
    assert {c["policy"]: c["label"] for c in state["curves"]} == {
        "fifo": "FIFO", "opt": "OPT (Belady)", "lru": "LRU"}
    assert [p["misses"] for p in curves["fifo"]] == [9, 10]
    assert [p["misses"] for p in curves["opt"]] == [7, 6]
    assert [p["misses"] for p in curves["lru"]] == [10, 8]
    assert [p["opt_gap"] for p in curves["fifo"]] == pytest.approx([2 / 12, 4 / 12])
    assert SweepCell.objects.filter(sweep=sweep).count() == 6
    sweep.refresh_from_db()
    assert sweep.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_killed_process_loses_no_cell(alice, data_dir, settings, cloudphysics_csv):
    """A pool process is killed mid-cell: its cells run again on a fresh pool, and every cell
    ends done exactly once with the engine's own count."""
    settings.VMEM_SWEEP_PROCESSES = 2
    trace = upload(alice, cloudphysics_csv.read_bytes(), name="cp")
    sizes = [100, 1000, 5000, 20000]
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["arc", "lru"],
                         sizes=sizes)
    killed = kill_a_pool_process()
    state = wait_done(sweep, 300)
    assert killed, "no pool process was found to kill"
    assert state["status"] == "done" and state["cells"]["done"] == 8
    source = TraceSource(trace_path(trace), unit_pages=True)
    from simulator.engine.mrc import source_spec
    for curve in state["curves"]:
        for point in curve["points"]:
            cell = Cell(source_spec(source), curve["policy"], point["size"])
            assert point["misses"] == run_cell(cell).misses
    assert max(c.attempts for c in SweepCell.objects.filter(sweep=sweep)) >= 2


def _pool_children() -> dict[int, int]:
    """{pid: CPU ticks so far} of this process's spawned children (the pool's processes)."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"multiprocessing" in cmdline:
            out[int(entry)] = int(stat[11]) + int(stat[12])  # utime + stime
    return out


def kill_a_pool_process(seconds: float = 60) -> bool:
    """SIGKILL one spawned child of this process (a pool worker) once one is busy."""
    deadline = time.monotonic() + seconds
    before = _pool_children()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = _pool_children()
        busy = [pid for pid, ticks in now.items() if ticks - before.get(pid, ticks) > 5]
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            return True
        before = now
    return False


@pytest.fixture
def cloudphysics_csv():
    from tests.engine.conftest import shared_trace_candidates

    path = next((p for p in shared_trace_candidates("cloudPhysicsIO.plain.csv")
                 if p.is_file()), None)
    if path is None:
        pytest.skip("the shared trace is not here")
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("kwargs, field", [
    ({"trace_ids": [], "policies": ["lru"], "sizes": [3]}, "traces"),
    ({"trace_ids": [999_999], "policies": ["lru"], "sizes": [3]}, "traces"),
    ({"policies": ["lru", "belady?"], "sizes": [3]}, "policies"),
    ({"policies": ["lru"], "sizes": "3, x"}, "sizes"),
    ({"policies": ["lru"], "sizes": [0]}, "sizes"),
    ({"policies": ["lru"], "sizes": list(range(1, 60))}, "sizes"),
])
def test_bad_sweeps_name_the_field(alice, data_dir, kwargs, field):
    trace = upload(alice, BELADY)
    kwargs.setdefault("trace_ids", [trace.pk])
    with pytest.raises(Invalid) as info:
        sweep_create(owner=alice, **kwargs)
    assert info.value.field == field


@pytest.mark.django_db
def test_a_result_is_recorded_once(alice, data_dir):
    trace = upload(alice, BELADY)
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"], sizes=[3])
    cell = SweepCell.objects.get(sweep=sweep)
    result = {"requests": 12, "misses": 10, "miss_ratio": 10 / 12, "seconds": 0.1}
    assert cell_record(cell.pk, result) is True
    assert cell_record(cell.pk, {**result, "misses": 99}) is False
    cell.refresh_from_db()
    assert cell.misses == 10


@pytest.mark.django_db(transaction=True)
def test_page_api_and_exports(alice, alice_client, bob_client, data_dir, settings):
    settings.VMEM_SWEEP_PROCESSES = 1
    trace = upload(alice, BELADY, name="belady")
    form = alice_client.get(reverse("sweeps:new"))
    assert form.status_code == 200 and "belady" in form.content.decode()
    bad = alice_client.post(reverse("sweeps:new"), {"traces": [trace.pk], "policies": ["lru"],
                                                    "sizes": "3, many"})
    assert bad.status_code == 400 and "whole numbers of pages" in bad.content.decode()
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["fifo", "opt"],
                                        "sizes": [3, 4]}, content_type="application/json")
    assert created.status_code == 201, created.content
    sweep_id = created.json()["id"]
    from vmemsite.sweeps.models import Sweep

    state = wait_done(Sweep.objects.get(pk=sweep_id))
    assert api.get(f"/api/sweeps/{sweep_id}/").json()["cells"]["done"] == 4 == \
        state["cells"]["done"]
    table = list(csv.reader(io.StringIO(
        alice_client.get(reverse("sweeps:csv", args=[sweep_id])).content.decode())))
    assert table[0][:4] == ["trace_id", "trace", "policy", "size_pages"]
    fifo = [row for row in table[1:] if row[2] == "fifo"]
    assert [row[6] for row in fifo] == ["9", "10"]
    exported = json.loads(alice_client.get(reverse("sweeps:json", args=[sweep_id])
                                           + "?download=1").content)
    assert exported["curves"][0]["points"][0]["misses"] in (9, 7)
    page = alice_client.get(reverse("sweeps:detail", args=[sweep_id])).content.decode()
    assert "sweep-curves" in page and "Gap to OPT" in page
    assert bob_client.get(reverse("sweeps:detail", args=[sweep_id])).status_code == 404
    bad_api = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["nope"],
                                        "sizes": [3]}, content_type="application/json")
    assert bad_api.status_code == 400 and bad_api.json()["field"] == "policies"
    assert api.post(f"/api/sweeps/{sweep_id}/retry").status_code == 409


def test_notes_name_the_sizes_where_a_policy_caches_nothing():
    from vmemsite.sweeps.selectors import sweep_notes

    notes = sweep_notes(["lru", "s3fifo", "2q"], [3, 10, 100])
    assert len(notes) == 2
    assert notes[0].startswith("S3-FIFO caches no new page at 3, 10 pages")
    assert notes[1].startswith("2Q caches no new page at 3 pages")
    assert sweep_notes(["lru", "s3fifo"], [20, 1000]) == []


def test_the_page_shows_the_notes(alice, alice_client):
    from vmemsite.sweeps.models import Sweep

    sweep = Sweep.objects.create(owner=alice, name="tiny", policies=["s3fifo"], sizes=[10])
    html = alice_client.get(f"/sweeps/{sweep.pk}/").content.decode()
    assert "data-note>S3-FIFO caches no new page at 10 pages" in html
    state = alice_client.get(f"/sweeps/{sweep.pk}/state.json").json()
    assert state["notes"]
