"""Runs left over by a server that stopped (LocalRunner), and "Run again"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from vmemsite.live import workers
from vmemsite.live.publish import LoopRecorder, set_server_loop
from vmemsite.runs.executor import RunKeeper
from vmemsite.runs.models import Run
from vmemsite.runs.services import (
    INTERRUPTED_ERROR,
    run_again,
    run_create,
    run_execute,
    run_heartbeat,
    run_recover_interrupted,
)

from .conftest import classic, sequence


def _run(user, *, runner="local", status=Run.Status.RUNNING, age_s=120.0, beat_s=None, **kw):
    kw.setdefault("config", classic("fifo", 3))
    kw.setdefault("workload", sequence())
    run = run_create(owner=user, submit=False, **kw)
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        runner=runner, status=status,
        created_at=now - timedelta(seconds=age_s),
        heartbeat_at=None if beat_s is None else now - timedelta(seconds=beat_s),
    )
    run.refresh_from_db()
    return run


def test_stale_local_runs_are_interrupted_and_others_left_alone(user, recorder):
    orphans = [_run(user, status=s, beat_s=60) for s in ("queued", "running", "paused")]
    never_beat = _run(user, status="queued")  # created 2 min ago, never picked up
    fresh = _run(user, beat_s=2)  # its server is alive
    young = _run(user, status="queued", age_s=1)  # just created, not heartbeated yet
    celery = _run(user, runner="celery", beat_s=3)  # its worker heartbeats it
    waiting = _run(user, runner="celery", status="queued")  # in the broker: never touched
    lost = _run(user, runner="celery", beat_s=60)  # its worker died
    held = _run(user, beat_s=60)  # this process holds it
    done = _run(user, status="finished", beat_s=600)
    unsubmitted = _run(user, runner="", status="queued")

    marked = run_recover_interrupted(stale_s=30, exclude={held.pk}, publisher=recorder)

    assert sorted(marked) == sorted([r.pk for r in orphans] + [never_beat.pk, lost.pk])
    for run in [*orphans, never_beat]:
        run.refresh_from_db()
        assert run.status == Run.Status.INTERRUPTED and run.is_done
        assert run.error == INTERRUPTED_ERROR and run.finished_at is not None
    lost.refresh_from_db()
    assert lost.status == Run.Status.INTERRUPTED and "worker" in lost.error
    for run, status in ((fresh, "running"), (young, "queued"), (celery, "running"),
                        (waiting, "queued"),
                        (held, "running"), (done, "finished"), (unsubmitted, "queued")):
        run.refresh_from_db()
        assert run.status == status, run
    assert {m["status"] for m in recorder.of("status")} == {"interrupted"}
    assert len(recorder.of("status")) == len(marked)
    # a runner picking an interrupted run up later does nothing
    run_execute(run_id=never_beat.pk, publisher=recorder)
    never_beat.refresh_from_db()
    assert never_beat.status == Run.Status.INTERRUPTED


def test_heartbeats_keep_runs_alive(user):
    run = _run(user, beat_s=60)
    assert run_heartbeat(run_ids={run.pk}) == 1
    assert run_recover_interrupted(stale_s=30, publisher=lambda *a: None) == []
    run.refresh_from_db()
    assert run.status == "running"


def test_the_run_pool_heartbeats_what_it_holds_and_sweeps(user):
    pool = workers.WorkerPool(RunKeeper(), 1, "test-run")
    mine = _run(user, beat_s=60)
    orphan = _run(user, beat_s=60)
    with pool.hold(mine.pk):
        assert pool.housekeeping_once(sweep=False) == []  # a shell: heartbeats only
        assert pool.housekeeping_once() == [orphan.pk]
    mine.refresh_from_db()
    assert mine.status == "running" and mine.heartbeat_at > timezone.now() - timedelta(
        seconds=5)


def _in_a_fresh_loop(coroutine):
    """Run ``coroutine`` in a thread of its own (the test process may already have a running
    loop in this thread: Playwright's, from the browser tests)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=30)


def test_the_asgi_app_starts_the_housekeeping_on_its_first_connection(settings, monkeypatch):
    # what vmemsite.asgi imports to hook them (here too: the test must not depend on another
    # test having imported the server's application first)
    from vmemsite.chat import runners as chat_runners  # noqa: F401
    from vmemsite.runs import runners as run_runners  # noqa: F401
    from vmemsite.sweeps import runners as sweep_runners  # noqa: F401

    settings.VMEM_RUNNER = "local"
    settings.VMEM_RECOVER_RUNS = True
    started = []
    monkeypatch.setattr(workers, "start_housekeeping", lambda: started.append(1))

    async def app(scope, receive, send):
        return scope["type"]

    async def connections(recorder):
        return [await recorder({"type": kind}, None, None) for kind in ("http", "websocket")]

    try:
        assert _in_a_fresh_loop(connections(LoopRecorder(app))) == ["http", "websocket"]
        assert len(started) == 3  # runs, chats and sweeps, once each
        settings.VMEM_RECOVER_RUNS = False  # the test settings: no sweep in the test process
        _in_a_fresh_loop(connections(LoopRecorder(app)))
        assert len(started) == 3
    finally:
        set_server_loop(None)


def test_the_command_marks_orphans(user):
    orphan = _run(user, beat_s=60)
    fresh = _run(user, beat_s=5)
    call_command("recover_runs", stdout=(out := __import__("io").StringIO()))
    assert f"1 run(s) marked interrupted: {orphan.pk}" in out.getvalue()
    call_command("recover_runs", "--stale-seconds", "0", stdout=out)
    fresh.refresh_from_db()
    assert fresh.status == Run.Status.INTERRUPTED


def test_an_interrupted_run_page_says_so_and_offers_run_again(user, settings):
    settings.VMEM_RUNNER = "local"
    run = _run(user, beat_s=60, label="left behind")
    run_recover_interrupted(stale_s=30, publisher=lambda *a: None)
    client = Client()
    client.force_login(user)
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert "status-interrupted" in page and INTERRUPTED_ERROR in page
    assert 'id="again-form"' in page and 'id="again-form" hidden' not in page
    assert client.get(f"/api/runs/{run.pk}/").json()["status"] == "interrupted"

    response = client.post(f"/runs/{run.pk}/again")
    again = Run.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/runs/{again.pk}/"
    assert again.status == "queued" and again.label == "left behind"
    assert again.config == run.config and again.workload == run.workload
    assert again.speed == run.speed and not again.public


def test_run_again_copies_a_comparison(user, recorder):
    run = run_create(owner=user, config=classic("fifo", 3), workload=sequence(),
                     variants=[{"capacity_tokens": 3}, {"policy": "lru", "capacity_tokens": 4,
                                                        "label": "mine"}],
                     with_opt=False, submit=False, speed=50.0)
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    again = run_again(run=run, user=user)
    assert again.kind == "compare" and again.config == run.config
    assert again.workload == run.workload and again.speed == 50.0


def test_run_again_rules(user, other, client):
    run = _run(user, status="running", beat_s=1)
    with pytest.raises(Exception, match="still running"):
        run_again(run=run, user=user)
    Run.objects.filter(pk=run.pk).update(status="finished")
    run.refresh_from_db()
    with pytest.raises(Exception, match="only the owner"):
        run_again(run=run, user=other)
    client.force_login(other)
    assert client.post(f"/runs/{run.pk}/again").status_code == 404  # private: not visible
    Run.objects.filter(pk=run.pk).update(public=True)
    assert client.post(f"/runs/{run.pk}/again").status_code == 403
    assert client.get(f"/runs/{run.pk}/again").status_code == 405
    assert Run.objects.count() == 1
