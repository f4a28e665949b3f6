"""Local sweeps a dead server left behind (SIGKILL, a crash): their server's heartbeat stops,
and the cells it was computing or had queued fail as interrupted, to be re-run; the sweeps of
live servers, and Celery's (the broker redelivers), are left alone."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from vmemsite.sweeps.models import Sweep, SweepCell
from vmemsite.sweeps.selectors import sweep_state
from vmemsite.sweeps.services import (
    INTERRUPTED,
    SweepKeeper,
    sweep_recover_interrupted,
)

pytestmark = pytest.mark.django_db


def _sweep(user, *, beat_s: float | None, backend: str = "local",
           statuses: tuple[str, ...] = ("done", "running", "queued")) -> Sweep:
    now = timezone.now()
    sweep = Sweep.objects.create(owner=user, name="left", policies=["lru"], sizes=[1, 2, 3],
                                 backend=backend)
    Sweep.objects.filter(pk=sweep.pk).update(
        created_at=now - timedelta(seconds=600),
        heartbeat_at=None if beat_s is None else now - timedelta(seconds=beat_s))
    SweepCell.objects.bulk_create(
        SweepCell(sweep=sweep, trace_ref=1, trace_name="t", policy="lru", size=size,
                  status=status, misses=1 if status == "done" else None)
        for size, status in enumerate(statuses, 1))
    return sweep


def _statuses(sweep: Sweep) -> list[tuple[str, str]]:
    return list(sweep.cells.order_by("size").values_list("status", "error"))


def test_a_stale_local_sweep_has_its_pending_cells_interrupted(user):
    dead = _sweep(user, beat_s=120)
    never = _sweep(user, beat_s=None)  # made before sweeps had heartbeats
    live = _sweep(user, beat_s=2)
    celery = _sweep(user, beat_s=None, backend="celery")
    held = _sweep(user, beat_s=120)  # this process computes it
    assert sorted(sweep_recover_interrupted(stale_s=30, exclude={held.pk})) == sorted(
        [dead.pk, never.pk])
    for sweep in (dead, never):
        assert _statuses(sweep) == [("done", ""), ("failed", INTERRUPTED),
                                    ("failed", INTERRUPTED)]
        state = sweep_state(sweep)
        assert state["status"] == "failed" and state["running"] == []
        sweep.refresh_from_db()
        assert sweep.finished_at is not None
    for sweep in (live, celery, held):
        assert [s for s, _ in _statuses(sweep)] == ["done", "running", "queued"]
    assert sweep_recover_interrupted(stale_s=30, exclude={held.pk}) == []  # once


def test_the_keeper_beats_its_sweeps_and_abandons_them_when_its_process_stops(user):
    sweep = _sweep(user, beat_s=120)
    keeper = SweepKeeper()
    keeper.beat({sweep.pk})
    assert keeper.sweep(set()) == []  # fresh again
    keeper.abandon({sweep.pk})
    assert [s for s, _ in _statuses(sweep)] == ["done", "failed", "failed"]


def test_the_command_run_before_the_server_starts_recovers_them(user):
    dead = _sweep(user, beat_s=120)
    out = io.StringIO()
    call_command("recover_runs", stdout=out)
    assert f"1 sweep(s) with cells left interrupted: {dead.pk}" in out.getvalue()
