"""The overview of a run (vmemsite/runs/overview.py): the stored cache and the windows
pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vmemsite.runs.models import Run, RunChunk, RunOverview
from vmemsite.runs.overview import series_budget
from vmemsite.runs.selectors import run_state, run_windows, run_windows_page
from vmemsite.runs.services import run_create, run_execute

from .conftest import classic, zipf


def test_series_budget_shares_the_state_between_series():
    assert series_budget(1) == 2000
    assert series_budget(16) == 375


def _executed(user, **kwargs) -> Run:
    run = run_create(owner=user, submit=False, **kwargs)
    run_execute(run_id=run.pk, publisher=lambda *a: None)
    return Run.objects.get(pk=run.pk)


@pytest.mark.django_db
def test_a_long_run_state_is_an_overview_and_the_cache_is_reused(user):
    run = _executed(user, config=classic("lru", 50, window_accesses=2), workload=zipf(n=20_000))
    full = run_windows(run)["lru"]
    assert len(full) == 10_000
    state = run_state(run)
    points = state["points"]["lru"]
    assert 1000 <= len(points) <= 2000 == state["budget"]
    assert max(p["faults"] for p in points) == max(p["faults"] for p in full)
    assert points[0]["end"] == 2 and points[-1]["end"] == 20_000
    assert RunOverview.objects.get(run=run).seq == state["seq"] == run.seq
    # a second viewer reads the stored overview, not the chunks
    with CaptureQueriesContext(connection) as queries:
        again = run_state(run)
    chunks_read = [q for q in queries.captured_queries if "runchunk" in q["sql"].lower()]
    assert again["points"] == state["points"] and len(chunks_read) == 1  # one empty look


@pytest.mark.django_db
def test_new_chunks_fold_into_the_stored_overview(user):
    run = _executed(user, config=classic("lru", 50, window_accesses=2), workload=zipf(n=8_000))
    before = run_state(run)
    last = RunChunk.objects.filter(run=run).order_by("-seq").first()
    extra = [{**p, "seq": p["seq"] + 4000, "end": p["end"] + 8000, "faults": 99}
             for p in run_windows(run)["lru"][:3]]
    RunChunk.objects.create(run=run, seq=last.seq + 1, points={"lru": extra}, events=[])
    after = run_state(run)
    assert after["seq"] == last.seq + 1 and before["seq"] == last.seq
    assert max(p["faults"] for p in after["points"]["lru"]) == 99
    assert after["points"]["lru"][-1]["end"] == 8006


@pytest.mark.django_db
def test_windows_pages_return_every_window_once_in_order(user):
    run = _executed(user, config=classic("lru", 50, window_accesses=3), workload=zipf(n=9_000))
    full = run_windows(run)["lru"]
    got, after, pages = [], 0, 0
    while after is not None:
        page = run_windows_page(run, after=after, limit=700)
        rows = page["points"].get("lru", [])
        assert len(rows) <= 700
        got += rows
        after = page["next"]
        pages += 1
    assert got == full and pages == 5
    # a zoom: only the windows in a range
    zoom = run_windows_page(run, after=3000, until=3300, limit=1000)["points"]["lru"]
    assert [p["end"] for p in zoom] == list(range(3003, 3301, 3))
