"""Stored data survives the lab's data migrations (vmemsite/runs/migrations)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLD_POINT = {"seq": 0, "end": 1, "t": 0.0, "acc": 1, "hits": 0, "faults": 1, "ev": 0, "rf": 0,
             "thrash": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "mean": 0.0, "hr": [0.0],
             "used": [1], "pages": [1], "chr": 0.0, "mr": 1.0}
OLD_EVENT = {"v": "lru", "kind": "fault", "i": 0, "t": 0.0, "page": "1", "src": "new",
             "dst": "L0", "ms": 0.0, "refault": False}


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([("simulator", target)])
    executor.loader.build_graph()
    return executor.loader.project_state([("simulator", target)]).apps


@pytest.mark.django_db(transaction=True)
def test_chunks_stored_with_terse_keys_replay_with_readable_ones(user):
    old = _migrate("0002_run_interrupted_heartbeat")
    Run = old.get_model("simulator", "Run")
    run = Run.objects.create(owner_id=user.pk, config={"tiers": [
        {"name": "L0", "capacity_tokens": 3, "policy": "lru"}], "window_accesses": 1},
        workload={"kind": "sequence", "pages": [1]}, status="finished", total=1, seq=0)
    old.get_model("simulator", "RunChunk").objects.create(
        run_id=run.pk, seq=0, points={"lru": [OLD_POINT]}, events=[OLD_EVENT])
    _migrate("0003_run_overview_readable_chunks")

    from vmemsite.runs.frames import EVENT_FIELDS, POINT_FIELDS
    from vmemsite.runs.models import Run as RunNow
    from vmemsite.runs.selectors import run_state

    state = run_state(RunNow.objects.get(pk=run.pk))
    point, event = state["points"]["lru"][0], state["events"][0]
    assert set(point) == {f.name for f in POINT_FIELDS if not f.optional}
    assert point["accesses"] == 1 and point["tier_hit_ratio"] == [0.0]
    assert set(event) == {f.name for f in EVENT_FIELDS} and event["variant"] == "lru"
    # and back
    _migrate("0002_run_interrupted_heartbeat")
    chunk = old.get_model("simulator", "RunChunk").objects.get(run_id=run.pk)
    assert chunk.points == {"lru": [OLD_POINT]} and chunk.events == [OLD_EVENT]
    _migrate("0003_run_overview_readable_chunks")
