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

from simulator.engine.errors import ConfigError
from simulator.engine.mrc import Cell, run_cell, source_spec
from simulator.engine.policies import policy_names
from simulator.engine.sources import TraceSource
from vmemsite.accounts.services import token_create
from vmemsite.errors import Invalid
from vmemsite.sweeps.models import SweepCell
from vmemsite.sweeps.selectors import sweep_state
from vmemsite.sweeps.services import _fail_with, cell_record, sweep_create
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
def test_exact_lru_cells_of_a_trace_come_from_one_pass(alice, data_dir, settings):
    """The exact LRU cells of a trace are computed by one pass of stack distances: one of them
    is handed to a process (an attempt), the others are stored from its curve without one;
    every count is the engine's own simulation's."""
    settings.VMEM_SWEEP_PROCESSES = 2
    text = "".join(f"{(k * 7919) % 3001 if k % 3 else k % 40}\n" for k in range(20_000))
    trace = upload(alice, text, name="mixed")
    sizes = [10, 50, 200, 1000, 2500]
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru", "fifo"],
                         sizes=sizes)
    state = wait_done(sweep)
    assert state["status"] == "done"
    lru = SweepCell.objects.filter(sweep=sweep, policy="lru")
    assert sorted(c.attempts for c in lru) == [0, 0, 0, 0, 1]
    assert sum(c.attempts for c in SweepCell.objects.filter(sweep=sweep, policy="fifo")) == 5
    spec = source_spec(TraceSource(trace_path(trace), unit_pages=True))
    for cell in lru:
        assert cell.misses == run_cell(Cell(spec, "lru", int(cell.size))).misses, cell.size


@pytest.mark.django_db
def test_a_curve_stores_only_cells_still_to_compute(alice, data_dir):
    """A curve's points go to the LRU cells still queued or running: not over a cancelled
    cell, nor over one stored already."""
    trace = upload(alice, BELADY)
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"],
                         sizes=[2, 3, 4])
    by_size = {int(c.size): c for c in SweepCell.objects.filter(sweep=sweep)}
    SweepCell.objects.filter(pk=by_size[2].pk).update(status="failed", error="cancelled")
    point = {"requests": 12, "miss_ratio": 0.5, "seconds": 0.1, "exact": True,
             "std_error": None}
    result = {**point, "misses": 10, "curve": [
        {**point, "size": 2, "misses": 11}, {**point, "size": 3, "misses": 10},
        {**point, "size": 4, "misses": 8}]}
    assert cell_record(by_size[3].pk, result, {2: by_size[2].pk, 3: by_size[3].pk,
                                               4: by_size[4].pk}) is True
    cells = {int(c.size): c for c in SweepCell.objects.filter(sweep=sweep)}
    assert (cells[2].status, cells[2].misses) == ("failed", None)
    assert (cells[3].status, cells[3].misses) == ("done", 10)
    assert (cells[4].status, cells[4].misses) == ("done", 8)


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


@pytest.mark.django_db(transaction=True)
def test_a_cell_error_shows_no_server_path(alice, data_dir, settings):
    """A trace file gone while its sweep runs: the cell's error names no path of the server;
    the trace itself deleted: the error says so."""
    settings.VMEM_SWEEP_PROCESSES = 1
    trace = upload(alice, BELADY, name="gone")
    trace_path(trace).unlink()
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"], sizes=[3])
    wait_done(sweep)
    cell = SweepCell.objects.get(sweep=sweep)
    assert cell.status == SweepCell.Status.FAILED and "no such trace file" in cell.error
    assert str(data_dir) not in cell.error
    trace.delete()
    _fail_with(cell.pk, ConfigError(f"no such trace file: {trace_path(trace)}"))
    cell.refresh_from_db()
    assert cell.error == "the trace was deleted"


#: aging with a clock period longer than the trace: every page was referenced lately, so
#: each eviction compares every resident page (docs/policies.md): at 3,000 pages a cell
#: of this file's 60,000 accesses takes about half a minute
SLOW_AGING = {"param": "period", "values": [1_000_000, 2_000_000]}


@pytest.mark.django_db(transaction=True)
def test_the_memory_packages_policies_run_in_the_pools_processes(alice, data_dir, settings):
    """The importance and cache-aware policies are registered by ``simulator.memory``, which
    the spawned processes of the pool must import too (they failed as "unknown policy")."""
    settings.VMEM_SWEEP_PROCESSES = 2
    trace = upload(alice, BELADY * 3, name="belady")
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["importance", "cacheaware"],
                         sizes="3, 4")
    state = wait_done(sweep)
    assert state["status"] == "done", [p["error"] for c in state["curves"] for p in c["points"]]
    spec = source_spec(TraceSource(trace_path(trace), unit_pages=True))
    for curve in state["curves"]:
        assert [p["misses"] for p in curve["points"]] == [
            run_cell(Cell(spec, curve["policy"], size)).misses for size in (3, 4)]


@pytest.mark.django_db(transaction=True)
def test_every_policy_the_lab_has_in_one_sweep(alice, data_dir, settings):
    """A researcher may choose every policy at once: each runs in the pool and gets a curve."""
    settings.VMEM_SWEEP_PROCESSES = 2
    trace = upload(alice, BELADY, name="belady")
    names = policy_names()
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=names, sizes=[3])
    state = wait_done(sweep)
    assert state["status"] == "done", [p["error"] for c in state["curves"] for p in c["points"]]
    assert sorted(c["policy"] for c in state["curves"]) == sorted(names)
    assert len(names) >= 18


@pytest.mark.django_db(transaction=True)
def test_a_cell_past_its_time_limit_fails_and_says_why(alice, data_dir, settings):
    settings.VMEM_SWEEP_PROCESSES = 1
    settings.VMEM_SWEEP_CELL_SECONDS = 0.5
    trace = upload(alice, "".join(f"{(k * 7919) % 20_000}\n" for k in range(60_000)))
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["aging", "fifo"],
                         sizes=[1_000], axis=SLOW_AGING)
    state = wait_done(sweep, seconds=60)
    points = [(c["policy"], c["points"][0]) for c in state["curves"]]
    assert [p["status"] for name, p in points if name == "fifo"] == ["done"]
    aging = [p for name, p in points if name == "aging"]
    assert [p["status"] for p in aging] == ["failed", "failed"]
    assert "aging at 1,000 ran past the time limit of a cell (0.5 s)" in aging[0]["error"]


@pytest.mark.django_db(transaction=True)
def test_cancel_and_the_list_by_api_and_page(alice, alice_client, bob, data_dir, settings):
    """Cancelling fails the cells not started as "cancelled" and stops the one under way
    (an aging cell of half a minute, stopped within a second or two), and the sweep says
    cancelled, in its state, the API's list and the page's; a sweep with nothing left to run
    has nothing to cancel; another user sees none."""
    settings.VMEM_SWEEP_PROCESSES = 1
    settings.VMEM_SWEEP_CELL_SECONDS = 60
    trace = upload(alice, "".join(f"{(k * 7919) % 20_000}\n" for k in range(60_000)))
    # these cells take half a minute each: most are still queued when cancelled
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["aging"],
                         sizes=[3_000, 3_100], axis=SLOW_AGING)
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    deadline = time.monotonic() + 30
    while not sweep_state(sweep)["cells"]["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)  # the cell is under way in its process
    # the state names it, with the seconds it has run
    (under_way,) = sweep_state(sweep)["running"]
    assert under_way["policy"] == "aging" and under_way["size"] in (3_000, 3_100)
    assert under_way["label"].startswith("Aging · period ") and under_way["seconds"] >= 1
    cancelled = api.post(f"/api/sweeps/{sweep.pk}/cancel")
    assert cancelled.status_code == 202, cancelled.content
    started = time.monotonic()
    state = wait_done(sweep, 30)
    assert time.monotonic() - started < 15  # not the half minute of the cell under way
    assert state["status"] == "cancelled" and state["running"] == []
    errors = [p["error"] for c in state["curves"] for p in c["points"]]
    assert errors == ["cancelled"] * 4 and state["cells"]["failed"] == 4
    again = api.post(f"/api/sweeps/{sweep.pk}/cancel")
    assert again.status_code == 409 and "nothing to cancel" in again.json()["error"]
    page = alice_client.post(reverse("sweeps:cancel", args=[sweep.pk]), follow=True)
    assert "nothing to cancel" in page.content.decode()
    listed = api.get("/api/sweeps/").json()
    assert listed["count"] == 1 and listed["sweeps"][0]["status"] == "cancelled"
    assert listed["sweeps"][0]["cells"] == {"total": 4, "done": 0, "failed": 4, "pending": 0}
    assert listed["sweeps"][0]["url"] == f"/api/sweeps/{sweep.pk}/"
    assert api.get("/api/sweeps/?limit=0").json() == {"count": 1, "limit": 0, "offset": 0,
                                                      "sweeps": []}
    assert api.get("/api/sweeps/?limit=-1").status_code in (400, 422)
    assert "cancelled: 0 of 4 cells" in alice_client.get(reverse("sweeps:list")).content.decode()
    _, other = token_create(user=bob, name="t")
    bob_api = Client(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert bob_api.get("/api/sweeps/").json()["count"] == 0
    assert bob_api.post(f"/api/sweeps/{sweep.pk}/cancel").status_code == 404
    assert api.post(f"/api/sweeps/{10**23}/cancel").status_code == 404


@pytest.mark.django_db
def test_every_bad_field_is_named_at_once(alice, data_dir):
    with pytest.raises(Invalid) as info:
        sweep_create(owner=alice, trace_ids=[], policies=["nope"], sizes="abc", sample=7,
                     name="a\x00b")
    assert [e.field for e in info.value.errors] == [
        "traces", "policies", "sizes", "sample", "name"]


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
    worse = alice_client.post(reverse("sweeps:new"), {"sizes": "x"}).content.decode()
    assert all(f'id="error-{field}"' in worse for field in ("traces", "policies", "sizes"))
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
    listed = alice_client.get(reverse("sweeps:list")).content.decode()
    assert "<td data-status>done: 4 cells</td>" in listed
    bad_api = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["nope"],
                                        "sizes": [3]}, content_type="application/json")
    assert bad_api.status_code == 400 and bad_api.json()["field"] == "policies"
    for body in ({"traces": [True], "policies": ["lru"], "sizes": [3]},
                 {"traces": [trace.pk], "policies": ["lru"], "sizes": [True, 3.0]},
                 {"traces": [trace.pk], "policies": ["lru"], "sizes": [3], "name": "a\x00b"}):
        refused = api.post("/api/sweeps/", body, content_type="application/json")
        assert refused.status_code == 400, body
    assert refused.json()["field"] == "name" and "control characters" in refused.json()["error"]
    assert api.post(f"/api/sweeps/{sweep_id}/retry").status_code == 409


def test_notes_name_the_sizes_where_a_policy_caches_nothing():
    from vmemsite.sweeps.selectors import sweep_notes

    notes = sweep_notes([("lru", {}), ("s3fifo", {}), ("2q", {})], [3, 10, 100])
    assert len(notes) == 2
    assert notes[0].startswith("S3-FIFO caches no new page at 3, 10 pages")
    assert notes[1].startswith("2Q caches no new page at 3 pages")
    assert sweep_notes([("lru", {}), ("s3fifo", {})], [20, 1000]) == []


def test_the_page_shows_the_notes(alice, alice_client):
    from vmemsite.sweeps.models import Sweep

    sweep = Sweep.objects.create(owner=alice, name="tiny", policies=["s3fifo"], sizes=[10])
    html = alice_client.get(f"/sweeps/{sweep.pk}/").content.decode()
    assert "data-note>S3-FIFO caches no new page at 10 pages" in html
    state = alice_client.get(f"/sweeps/{sweep.pk}/state.json").json()
    assert state["notes"]


@pytest.mark.django_db(transaction=True)
def test_an_axis_gives_a_curve_per_value_hand_worked(alice, alice_client, data_dir, settings):
    """The working set keeps the pages of the last tau references: with tau 1 no page of
    the Belady string is still there when it comes back (12 misses), with tau 100 every
    page stays (5 misses, its distinct pages); LRU has no tau and gets one curve."""
    settings.VMEM_SWEEP_PROCESSES = 2
    trace = upload(alice, BELADY, name="belady")
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["ws", "lru"],
                         sizes=[10], axis={"param": "tau", "values": "1, 100"})
    state = wait_done(sweep)
    assert state["axis"] == {"param": "tau", "values": [1, 100]}
    curves = [(c["label"], c["params"], [p["misses"] for p in c["points"]])
              for c in state["curves"]]
    assert curves == [("Working set · tau 1", {"tau": 1}, [12]),
                      ("Working set · tau 100", {"tau": 100}, [5]),
                      ("LRU", {}, [5])]
    table = list(csv.reader(io.StringIO(
        alice_client.get(reverse("sweeps:csv", args=[sweep.pk])).content.decode())))
    column = table[0].index("params")
    assert [(row[2], row[6], row[column]) for row in table[1:]] == [
        ("ws", "12", "tau 1"), ("ws", "5", "tau 100"), ("lru", "5", "")]


@pytest.mark.django_db(transaction=True)
def test_an_axis_cell_is_the_engine_with_those_parameters(alice, data_dir, settings):
    """Each value of S3-FIFO's small queue gives the engine's own count for that value
    (and the values do not all give the same count: the axis reaches the policy); notes
    name the value whose strict rule caches nothing."""
    settings.VMEM_SWEEP_PROCESSES = 1
    text = "".join(f"{(k * 7919) % 97 if k % 3 else k % 11}\n" for k in range(3000))
    trace = upload(alice, text, name="mixed")
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["s3fifo"],
                         sizes=[10, 40], axis={"param": "small_ratio", "values": [0.1, 0.5]})
    state = wait_done(sweep)
    spec = source_spec(TraceSource(trace_path(trace), unit_pages=True))
    got = {(c["params"]["small_ratio"], p["size"]): p["misses"]
           for c in state["curves"] for p in c["points"]}
    want = {(r, size): run_cell(Cell(spec, "s3fifo", size, params={"small_ratio": r})).misses
            for r in (0.1, 0.5) for size in (10, 40)}
    assert got == want
    assert got[0.1, 40] != got[0.5, 40]
    assert any(note.startswith("S3-FIFO (small_ratio 0.1) caches no new page at 10 pages")
               for note in state["notes"])


@pytest.mark.django_db
@pytest.mark.parametrize("axis, says", [
    ({"param": "tau", "values": [1, 2]}, "none of the chosen policies has a parameter 'tau'"),
    ({"param": "small_ratio", "values": [0.1]}, "give 2 to 10"),
    ({"param": "small_ratio", "values": [0.1, 0.1]}, "give 2 to 10"),
    ({"param": "small_ratio", "values": [i / 100 for i in range(1, 13)]}, "give 2 to 10"),
    ({"param": "small_ratio", "values": "0.1, lots"}, "'lots' is not a number"),
    ({"param": "small_ratio", "values": "0.1, nan"}, "finite numbers"),
    ({"param": "small_ratio", "values": "0.1, 1e999"}, "finite numbers"),
    ({"param": "small_ratio", "values": "0.1, " + "9" * 5000}, "is not a number"),
    ({"param": "small_ratio", "values": [0.1, 10**30]}, "finite numbers"),
    ({"param": "small_ratio", "values": [0.1, 1.5]}, "small_ratio = 1.5"),
    ({"param": "small_ratio", "values": [0.1, "x"]}, "'x' is not a number"),
    ({"param": "small_ratio", "values": "0.\u0661, 0.2"}, "is not a number"),  # Arabic-Indic
    ({"param": "small_ratio", "values": "0.1_0, 0.2"}, "'0.1_0' is not a number"),
    ({"param": "small_ratio", "values": {"a": 1}}, "give 2 to 10"),
    ({"param": "small_ratio", "values": ",".join(["0.1"] * 100)}, "give 2 to 10"),
    ({"param": "small_ratio", "extra": 1}, "an axis is"),
    ("small_ratio", "an axis is"),
])
def test_bad_axes_name_the_axis(alice, data_dir, axis, says):
    trace = upload(alice, BELADY)
    with pytest.raises(Invalid) as info:
        sweep_create(owner=alice, trace_ids=[trace.pk], policies=["s3fifo", "lru"],
                     sizes=[3], axis=axis)
    assert info.value.field == "axis"
    assert says in info.value.message


@pytest.mark.django_db
def test_an_axis_counts_toward_the_cell_limit_and_none_is_no_axis(alice, data_dir):
    traces = [upload(alice, BELADY, name=f"t{k}") for k in range(4)]
    axis = {"param": "small_ratio", "values": [r / 100 for r in range(5, 100, 10)]}
    with pytest.raises(Invalid) as info:  # 4 traces x (10 values + LRU) x 50 sizes
        sweep_create(owner=alice, trace_ids=[t.pk for t in traces], policies=["s3fifo", "lru"],
                     sizes=list(range(1, 51)), axis=axis)
    assert info.value.message.startswith("2,200 cells is more than the limit of 2,000")
    assert "or values" in info.value.message
    trace = traces[0]
    for empty in (None, {}, {"param": "", "values": ""}):
        sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"], sizes=[3],
                             axis=empty)
        assert sweep.axis == {} and sweep.cells.get().params == {}


@pytest.mark.django_db
def test_the_form_and_the_api_take_an_axis(alice, alice_client, data_dir):
    trace = upload(alice, BELADY, name="belady")
    form = alice_client.get(reverse("sweeps:new")).content.decode()
    assert 'name="axis_param"' in form and "small_ratio — S3-FIFO 0.1" in form
    bad = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["lru"], "sizes": "3",
        "axis_param": "small_ratio", "axis_values": "0.1, 0.2"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'id="error-axis"' in page and "none of the chosen policies" in page
    assert 'value="0.1, 0.2"' in page  # what was typed is kept
    good = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["s3fifo", "lru"], "sizes": "30",
        "axis_param": "small_ratio", "axis_values": "0.1, 0.2"})
    assert good.status_code == 302
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/api/sweeps/", {
        "traces": [trace.pk], "policies": ["2q"], "sizes": [4],
        "axis": {"param": "kin_ratio", "values": [0.25, 0.5]}}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert [c["label"] for c in created.json()["curves"]] == [
        "2Q · kin_ratio 0.25", "2Q · kin_ratio 0.5"]
    for payload in ({"param": "kin_ratio", "values": [{"x": 1}, 2]},
                    {"param": "kin_ratio"}, {"param": "x" * 65, "values": [1, 2]},
                    {"param": "kin_ratio", "values": [0.25, 7]}):
        bad_api = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["2q"],
                                            "sizes": [4], "axis": payload},
                           content_type="application/json")
        assert bad_api.status_code == 400, (payload, bad_api.content)
        assert "axis" in json.dumps(bad_api.json())


@pytest.mark.django_db(transaction=True)
def test_sizes_relative_to_each_traces_footprint(alice, alice_client, data_dir, settings):
    """Each trace gets its own sizes, log-spaced from a percentage of its distinct pages to
    all of them: the Belady string has 5 pages, a longer trace 40."""
    settings.VMEM_SWEEP_PROCESSES = 1
    small = upload(alice, BELADY, name="belady")
    large = upload(alice, "".join(f"{k % 40}\n" for k in range(400)), name="forty")
    sweep = sweep_create(owner=alice, trace_ids=[small.pk, large.pk], policies=["lru", "opt"],
                         sizes={"count": 3, "low_percent": 20})
    state = wait_done(sweep)
    by_trace = {(c["trace"], c["policy"]): [p["size"] for p in c["points"]]
                for c in state["curves"]}
    assert by_trace[("belady", "lru")] == [1, 2, 5]  # 20 % of 5, the geometric middle, 5
    assert by_trace[("forty", "opt")] == [8, 18, 40]
    assert state["sizes"] == [1, 2, 5, 8, 18, 40]
    assert state["relative_sizes"] == {"count": 3, "low_percent": 20.0}
    lru = {c["trace"]: [p["misses"] for p in c["points"]] for c in state["curves"]
           if c["policy"] == "lru"}
    assert lru["forty"][-1] == 40  # the whole footprint: only first references miss
    page = alice_client.get(reverse("sweeps:detail", args=[sweep.pk])).content.decode()
    assert "each trace&#x27;s own 3" in page or "each trace's own 3" in page


@pytest.mark.django_db
@pytest.mark.parametrize("sizes", [
    {"count": 0}, {"count": 51}, {"count": "many"}, {"low_percent": 0}, {"low_percent": 101},
    {"low_percent": "nan"}, {"low_percent": "1e999"}, {"low_percent": True}, {"other": 1},
    {"low_percent": "\u0661"}, {"low_percent": "1_0"},
])
def test_bad_relative_sizes_name_the_sizes(alice, data_dir, sizes):
    trace = upload(alice, BELADY)
    with pytest.raises(Invalid) as info:
        sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"], sizes=sizes)
    assert info.value.field == "sizes"


@pytest.mark.django_db
def test_the_form_and_the_api_take_relative_sizes(alice, alice_client, data_dir):
    trace = upload(alice, BELADY, name="belady")
    form = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["lru"], "sizes": "ignored, since relative",
        "sizes_mode": "relative", "log_count": "2", "low_percent": "40"})
    assert form.status_code == 302
    bad = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["lru"], "sizes_mode": "relative",
        "log_count": "2", "low_percent": "0"})
    assert bad.status_code == 400 and 'id="error-sizes"' in bad.content.decode()
    assert 'value="relative" checked' in bad.content.decode()
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["fifo"],
                                        "sizes": {"count": 2, "low_percent": 60}},
                       content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["sizes"] == [3, 5]
    bad_api = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["fifo"],
                                        "sizes": {"count": 2, "low": 60}},
                       content_type="application/json")
    assert bad_api.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_a_sampled_sweep_says_its_points_are_estimates(alice, alice_client, data_dir, settings):
    """Sampled cells are the engine's sampled cells (same rate, same estimate), small sizes
    are raised to an exact simulation, and every estimate carries its standard error in the
    state, the CSV and a note."""
    settings.VMEM_SWEEP_PROCESSES = 2
    text = "".join(f"{(k * 7919) % 4001 if k % 4 else k % 50}\n" for k in range(30_000))
    trace = upload(alice, text, name="wide")
    sweep = sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru", "fifo"],
                         sizes=[50, 1000, 2000], sample=0.05)
    state = wait_done(sweep)
    assert state["sample_rate"] == 0.05 and state["notes"][0].startswith("Sampled: pages")
    spec = source_spec(TraceSource(trace_path(trace), unit_pages=True))
    for curve in state["curves"]:
        small, *large = curve["points"]
        assert small["exact"] and small["sample_rate"] is None  # 200 pages at 50: rate 4
        for point in large:
            assert point["exact"] is False and point["std_error"] > 0
            want = run_cell(Cell(spec, curve["policy"], point["size"],
                                 rate=point["sample_rate"]))
            assert (point["misses"], point["miss_ratio"]) == (want.misses, want.miss_ratio)
            assert point["std_error"] == pytest.approx(want.error)
        exact = run_cell(Cell(spec, curve["policy"], 2000))
        assert abs(large[-1]["miss_ratio"] - exact.miss_ratio) < 5 * large[-1]["std_error"]
    assert [p["sample_rate"] for p in state["curves"][0]["points"]] == [None, 0.2, 0.1]
    table = list(csv.reader(io.StringIO(
        alice_client.get(reverse("sweeps:csv", args=[sweep.pk])).content.decode())))
    assert table[0][-3:] == ["exact", "sample_rate", "std_error"]
    assert [row[-3] for row in table[1:4]] == ["True", "False", "False"]
    page = alice_client.get(reverse("sweeps:detail", args=[sweep.pk])).content.decode()
    assert "sampled at rate 0.05" in page


@pytest.mark.django_db
@pytest.mark.parametrize("sample", [0, 1, 0.5, 1.5, -0.1, 1e-300, 0.00009, "x", "nan", "inf",
                                    True, "0.1" * 20])
def test_bad_sampling_rates_name_the_sample(alice, data_dir, sample):
    trace = upload(alice, BELADY)
    with pytest.raises(Invalid) as info:
        sweep_create(owner=alice, trace_ids=[trace.pk], policies=["lru"], sizes=[3],
                     sample=sample)
    assert info.value.field == "sample"


@pytest.mark.django_db
def test_the_form_and_the_api_take_a_sampling_rate(alice, alice_client, data_dir):
    trace = upload(alice, BELADY, name="belady")
    bad = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["lru"], "sizes": "3", "sample": "often"})
    assert bad.status_code == 400 and 'id="error-sample"' in bad.content.decode()
    assert 'value="often"' in bad.content.decode()
    good = alice_client.post(reverse("sweeps:new"), {
        "traces": [trace.pk], "policies": ["lru"], "sizes": "3", "sample": "0.01"})
    assert good.status_code == 302
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["fifo"],
                                        "sizes": [3], "sample": 0.01},
                       content_type="application/json")
    assert created.status_code == 201 and created.json()["sample_rate"] == 0.01
    bad_api = api.post("/api/sweeps/", {"traces": [trace.pk], "policies": ["fifo"],
                                        "sizes": [3], "sample": 2},
                       content_type="application/json")
    assert bad_api.status_code == 400 and bad_api.json()["field"] == "sample"


@pytest.mark.django_db
def test_a_trace_page_leads_to_its_curves(alice, alice_client, data_dir):
    trace = upload(alice, BELADY, name="belady")
    page = alice_client.get(reverse("traces:detail", args=[trace.pk])).content.decode()
    link = f'/sweeps/new/?trace={trace.pk}&amp;sizes_mode=relative'
    assert link in page
    form = alice_client.get(link.replace("&amp;", "&")).content.decode()
    assert f'value="{trace.pk}" checked' in form
    assert 'value="relative" checked' in form
