"""Creating, executing and controlling runs (vmemsite/runs/services.py), with the real engine and
database. The executor's publisher is a recorder here; the channel layer path is tested in
test_consumers.py."""

import threading
import time

import pytest

from vmemsite.errors import Conflict, Invalid
from vmemsite.runs.models import Run, RunChunk
from vmemsite.runs.presets import PRESETS
from vmemsite.runs.selectors import run_state
from vmemsite.runs.services import (
    RunPermissionError,
    run_control,
    run_create,
    run_execute,
)

from .conftest import classic, sequence, zipf


def _create(user, **kwargs):
    kwargs.setdefault("config", classic())
    kwargs.setdefault("workload", sequence())
    return run_create(owner=user, submit=False, **kwargs)


def test_create_stores_a_queued_single_run(user):
    run = _create(user)
    assert run.status == Run.Status.QUEUED
    assert run.kind == Run.Kind.SINGLE
    assert run.total == 12
    assert run.label == "LRU on sequence 1,2,3,4,1,2,5,1,2,3,4,5"
    assert run.config["tiers"][0]["capacity_tokens"] == 3


@pytest.mark.parametrize(("config", "field"), [
    ({"tiers": [{"name": "L0", "capacity_tokens": 100}], "page_size": 512},
     "config.tiers[0].capacity_tokens"),
    ({"tiers": [{"name": "L0", "capacity_tokens": 100},
                {"name": "L1", "capacity_tokens": None, "latency": {"ms": -5}}]},
     "config.tiers[1].latency.ms"),
    ({"tiers": [{"name": "L0", "capacity_tokens": 10, "policy": "belady-ish"}]},
     "config.tiers[0].policy"),
    ({"tiers": []}, "config.tiers"),
    ("not a config", "config"),
])
def test_impossible_configs_are_refused_with_the_field(user, config, field):
    with pytest.raises(Invalid) as err:
        _create(user, config=config)
    assert err.value.field == field
    assert Run.objects.count() == 0


def test_l0_smaller_than_a_page_says_so(user):
    with pytest.raises(Invalid, match="smaller than one page"):
        _create(user, config={"tiers": [{"name": "L0", "capacity_tokens": 100}],
                              "page_size": 512})


def test_opt_needs_a_finite_workload(user):
    endless = {"kind": "generator", "name": "uniform", "params": {"n_pages": 10}}
    with pytest.raises(Invalid) as err:
        _create(user, config=classic("opt"), workload=endless)
    assert err.value.field == "config.tiers[0].policy"


def test_too_many_windows_is_refused(user):
    with pytest.raises(Invalid) as err:
        _create(user, config=classic(window_accesses=1), workload=zipf(n=100_000))
    assert err.value.field == "config.window_accesses"
    assert "at least 5" in err.value.message


def test_a_workload_too_long_for_any_window_is_refused_for_its_pages(user):
    """10^6 accesses of 10^5 tokens cut into 1-token pages: 10^11 accesses, past 20,000
    windows of the widest window; the error says what to change (it was accepted on its
    10^6 accesses and charted 20,000 windows of a run that could not end)."""
    config = {"tiers": [{"name": "L0", "capacity_tokens": 640, "policy": "lru"}],
              "page_size": 1, "window_accesses": 1_000_000}
    with pytest.raises(Invalid) as err:
        _create(user, config=config, workload=zipf(n=1_000_000, tokens=100_000))
    assert err.value.field == "config.page_size"
    assert "larger page size" in err.value.message


def test_a_trace_must_be_visible(user):
    with pytest.raises(Invalid) as err:
        _create(user, workload={"kind": "trace", "trace_id": 12345})
    assert err.value.field == "workload.trace_id"


def test_executing_a_run_stores_windows_and_the_result(user, recorder):
    run = _create(user, config=classic("lru", 3))
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert run.result["faults"] == 10  # LRU, 3 frames, on Belady's string
    assert run.progress == 1.0 and run.accesses == 12
    state = run_state(run)
    assert len(state["points"]["lru"]) == 12  # one window per access
    assert [p["end"] for p in state["points"]["lru"]] == list(range(1, 13))
    assert state["counters"]["lru"]["faults"] == 10
    statuses = [m["status"] for m in recorder.of("status")]
    assert statuses[0] == "running" and statuses[-1] == "finished"
    assert recorder.of("status")[-1]["result"]["faults"] == 10


def test_frames_aggregate_windows_and_number_themselves(user, recorder):
    run = _create(user, config=classic("lru", 50, window_accesses=10), workload=zipf(n=20_000))
    run_execute(run_id=run.pk, publisher=recorder)
    frames = recorder.of("frame")
    assert [f["seq"] for f in frames] == list(range(len(frames)))
    # every window is stored; a frame carries them all unless they would not fit a message
    # (then an overview of them: frames.frame_points, issue 7.1)
    chunks = {c.seq: c for c in RunChunk.objects.filter(run=run)}
    windows = sum(len(c.points["lru"]) for c in chunks.values())
    assert windows == 2000
    assert all(len(f["points"]["lru"]) <= len(chunks[f["seq"]].points["lru"]) for f in frames)
    assert len(frames) < windows / 10  # at most ~10 frames a second, not one per window
    assert RunChunk.objects.filter(run=run).count() == len(frames)
    assert all(len(f["events"]) <= 12 for f in frames)


def test_belady_preset_shows_the_anomaly(user, recorder):
    preset = PRESETS["belady"]
    kwargs = preset.run_kwargs() | {"speed": None}
    run = run_create(owner=user, submit=False, **kwargs)
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    rows = {row["label"]: row for row in run.result["rows"]}
    assert rows["FIFO, 3 frames"]["faults"] == 9
    assert rows["FIFO, 4 frames"]["faults"] == 10
    assert rows["OPT @ 3"]["faults"] == 7 and rows["OPT @ 4"]["faults"] == 6
    assert rows["FIFO, 4 frames"]["regret"] == 4
    state = run_state(run)
    assert set(state["points"]) == {"FIFO, 3 frames", "FIFO, 4 frames", "OPT @ 3", "OPT @ 4"}
    assert all(len(points) == 12 for points in state["points"].values())


def test_every_preset_is_valid(user):
    for preset in PRESETS.values():
        run = run_create(owner=user, submit=False, **preset.run_kwargs())
        assert run.kind == ("compare" if preset.is_compare else "single")


def test_a_run_whose_trace_vanished_fails_cleanly(user, recorder):
    run = _create(user)
    Run.objects.filter(pk=run.pk).update(workload={"kind": "trace", "trace_id": 1,
                                                   "sessions": 1})
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED
    assert "trace" in run.error
    assert recorder.of("status")[-1]["status"] == "failed"


def test_only_the_owner_controls(user, other):
    run = _create(user)
    with pytest.raises(RunPermissionError):
        run_control(run=run, user=other, action="pause")
    with pytest.raises(Invalid) as err:
        run_control(run=run, user=user, action="explode")
    assert err.value.field == "action"
    with pytest.raises(Invalid):
        run_control(run=run, user=user, action="speed", speed=-1)


def test_stopping_a_queued_run_stops_it_at_once(user, recorder):
    run = _create(user)
    run = run_control(run=run, user=user, action="stop")
    assert run.status == Run.Status.STOPPED
    run_execute(run_id=run.pk, publisher=recorder)  # a runner that picks it up later
    assert recorder.messages == []
    with pytest.raises(Conflict, match="already stopped"):
        run_control(run=run, user=user, action="resume")


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


@pytest.mark.django_db(transaction=True)
def test_pause_step_resume_and_stop_a_live_run(user, recorder):
    # paced at 20 accesses a second: slow enough to catch it in the act
    run = _create(user, config=classic("lru", 100, window_accesses=5),
                  workload=zipf(n=100_000), speed=20.0)
    thread = threading.Thread(target=run_execute, kwargs={"run_id": run.pk,
                                                          "publisher": recorder})
    thread.start()
    try:
        _wait_for(lambda: Run.objects.get(pk=run.pk).accesses >= 5)
        run_control(run=run, user=user, action="pause")
        _wait_for(lambda: Run.objects.get(pk=run.pk).status == "paused")
        held = Run.objects.get(pk=run.pk).accesses
        time.sleep(0.4)
        assert Run.objects.get(pk=run.pk).accesses == held  # paused means paused
        run_control(run=run, user=user, action="step")
        _wait_for(lambda: Run.objects.get(pk=run.pk).accesses > held)
        stepped = Run.objects.get(pk=run.pk).accesses
        assert stepped % 5 == 0 and stepped - held <= 5  # one window
        run_control(run=run, user=user, action="speed", speed=None)
        run_control(run=run, user=user, action="resume")
        _wait_for(lambda: Run.objects.get(pk=run.pk).accesses > stepped + 1000)
        run_control(run=run, user=user, action="stop")
        thread.join(timeout=20)
    finally:
        Run.objects.filter(pk=run.pk).update(desired="stopped")
        thread.join(timeout=20)
    run.refresh_from_db()
    assert run.status == Run.Status.STOPPED
    assert run.result is not None and not run.result["finished"]
    seqs = [f["seq"] for f in recorder.of("frame")]
    assert seqs == list(range(len(seqs)))
    assert [m["status"] for m in recorder.of("status")][:2] == ["running", "paused"]


def test_a_finished_single_run_gets_its_regret_vs_opt(user, recorder):
    # LRU with 3 frames on Belady's string: 10 faults; OPT: 7
    run = _create(user, config=classic("lru", 3))
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert (run.result["faults"], run.result["opt_faults"], run.result["regret"]) == (10, 7, 3)
    assert "regret_pending" not in run.result
    statuses = recorder.of("status")
    # the final status goes out first (regret pending), then the result with the regret
    assert statuses[-2]["status"] == "finished" and statuses[-2]["result"]["regret_pending"]
    assert statuses[-1]["result"]["regret"] == 3
    from vmemsite.runs.selectors import run_export

    assert run_export(run)["result"]["regret"] == 3


def test_regret_of_opt_itself_and_of_concurrent_sessions(user, recorder):
    run = _create(user, config=classic("opt", 3))
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.result["regret"] == 0 and run.result["opt_faults"] == 7
    run = _create(user, workload={**sequence(), "sessions": 2})
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.result["regret"] is None and "concurrent" in run.result["regret_note"]


def test_a_stopped_run_gets_no_regret(user, recorder):
    run = _create(user)
    run_control(run=run, user=user, action="pause")
    Run.objects.filter(pk=run.pk).update(desired="stopped")
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.status == "stopped" and (run.result or {}).get("regret") is None


def test_a_sized_trace_cut_into_pages_sizes_its_windows_by_its_pages(user, recorder, data_dir):
    """Each access of a sized trace is cut into pages: the run's total and its windows count
    those pages (at most requests + (tokens - requests) // page_size), not the requests — a
    replay of the shared block-I/O trace at 512 tokens made 75 times more accesses than its
    requests and stopped at the 20,000-window limit half way. The end sets the count."""
    from vmemsite.runs.selectors import run_meta

    from .library_data import upload

    rows = "".join(f"{i},{i % 7},{100 + 37 * (i % 11)}\n" for i in range(300))
    trace = upload(user, "time,page_id,tokens\n" + rows, name="sized")
    pages = sum(-(-(100 + 37 * (i % 11)) // 64) for i in range(300))
    bound = 300 + (trace.total_tokens - 300) // 64
    assert pages < bound < 2 * pages
    config = {"tiers": [{"name": "L0", "capacity_tokens": 640, "policy": "lru"}],
              "page_size": 64, "window_accesses": 10}
    run = _create(user, config=config, workload={"kind": "trace", "trace_id": trace.pk})
    assert run.total == bound and run.workload["total_is_bound"] is True
    assert run.label == "LRU on trace “sized”"  # its name, not its number
    assert run_meta(run, user)["total_is_bound"] is True
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED
    assert run.accesses == run.total == pages and run.progress == 1.0
    assert run_meta(run, user)["total_is_bound"] is False
    assert recorder.of("status")[-1]["total"] == pages
