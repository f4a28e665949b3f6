"""Selectors: every read of the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): reads live in ``selectors.py``, writes in
``services.py``; functions are named ``<entity>_<action>`` (``run_list``, ``run_get``) and
return querysets or plain data. Views and consumers call them instead of querying models.

Visibility: a run is visible to its owner, and to everybody when it is public. Everything that
takes an id answers None for a run that does not exist *and* for one the user may not see, so
no caller can tell the two apart.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from .frames import STATE_EVENTS, csv_header, csv_row
from .models import Run, RunChunk
from .specs import workload_describe


def run_list_visible(user) -> QuerySet[Run]:
    if user is None or not user.is_authenticated:
        return Run.objects.filter(public=True)
    return Run.objects.filter(Q(owner=user) | Q(public=True))


def run_get_visible(user, run_id: int | str) -> Run | None:
    try:
        run_id = int(run_id)
    except (TypeError, ValueError):
        return None
    return run_list_visible(user).select_related("owner", "trace").filter(pk=run_id).first()


def run_list_owned(user, limit: int | None = None) -> QuerySet[Run]:
    if user is None or not user.is_authenticated:
        return Run.objects.none()
    runs = Run.objects.filter(owner=user).defer("result", "counters")
    return runs[:limit] if limit else runs


def run_list_public(limit: int = 10, exclude_user=None) -> QuerySet[Run]:
    runs = Run.objects.filter(public=True).select_related("owner").defer("result", "counters")
    if exclude_user is not None and exclude_user.is_authenticated:
        runs = runs.exclude(owner=exclude_user)
    return runs[:limit]


def run_can_control(run: Run, user) -> bool:
    return bool(user is not None and user.is_authenticated and run.owner_id == user.pk)


def run_tiers(run: Run) -> list[dict[str, Any]]:
    """Name, capacity and policy of each tier (of the first variant for a comparison)."""
    config = run.config["variants"][0]["config"] if run.kind == Run.Kind.COMPARE else run.config
    return [
        {"name": t["name"], "capacity_tokens": t["capacity_tokens"], "policy": t["policy"]}
        for t in config["tiers"]
    ]


def run_variants(run: Run) -> list[str]:
    if run.kind == Run.Kind.COMPARE:
        return [v["label"] for v in run.config["variants"]]
    return [run.config["tiers"][0]["policy"]]


def run_series(run: Run) -> list[str]:
    """Every line of the run: its variants, then the OPT references of a comparison."""
    labels = run_variants(run)
    if run.kind == Run.Kind.COMPARE and run.config.get("with_opt", True) and run.total:
        for variant in run.config["variants"]:
            ref = f"OPT @ {variant['config']['tiers'][0]['capacity_tokens']}"
            if ref not in labels:
                labels.append(ref)
    return labels


def run_capacities(run: Run) -> dict[str, int | None]:
    """L0 capacity of every variant of a comparison (to match it with its OPT line)."""
    if run.kind != Run.Kind.COMPARE:
        return {}
    return {v["label"]: v["config"]["tiers"][0]["capacity_tokens"]
            for v in run.config["variants"]}


def run_meta(run: Run, user=None) -> dict[str, Any]:
    """What a page or a client needs to know about a run besides its windows."""
    return {
        "id": run.pk,
        "label": run.label,
        "kind": run.kind,
        "owner": run.owner.get_username(),
        "public": run.public,
        "status": run.status,
        "desired": run.desired,
        "speed": run.speed,
        "progress": run.progress,
        "accesses": run.accesses,
        "total": run.total,
        "error": run.error,
        "workload": run.workload,
        "workload_text": workload_describe(run.workload),
        "tiers": run_tiers(run),
        "variants": run_variants(run),
        "series": run_series(run),
        "capacities": run_capacities(run),
        "can_control": run_can_control(run, user),
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "urls": run_urls(run),
    }


def run_urls(run: Run) -> dict[str, str]:
    return {
        "page": reverse("simulator:run", args=[run.pk]),
        "api": reverse("simulator:api_run", args=[run.pk]),
        "state": reverse("simulator:run_state", args=[run.pk]),
        "control": reverse("simulator:api_run_control", args=[run.pk]),
        "windows_csv": reverse("simulator:run_windows_csv", args=[run.pk]),
        "windows_json": reverse("simulator:api_run_windows", args=[run.pk]),
        "export": reverse("simulator:run_export", args=[run.pk]),
        "websocket": f"/ws/runs/{run.pk}/",
    }


def run_chunks(run: Run) -> Iterator[RunChunk]:
    return RunChunk.objects.filter(run=run).order_by("seq").iterator(chunk_size=200)


def run_state(run: Run, user=None) -> dict[str, Any]:
    """The whole run as one message: meta, every stored window per variant, the last events,
    the counters and the result. ``seq`` is the last chunk it includes: a client applies only
    frames after it."""
    points: dict[str, list] = {label: [] for label in run_series(run)}
    events: deque[dict[str, Any]] = deque(maxlen=STATE_EVENTS)
    seq = -1
    for chunk in run_chunks(run):
        for label, rows in chunk.points.items():
            points.setdefault(label, []).extend(rows)
        events.extend(chunk.events)
        seq = chunk.seq
    return {
        "type": "state",
        "seq": seq,
        "run": run_meta(run, user),
        "points": points,
        "events": list(events),
        "counters": run.counters,
        "result": run.result,
    }


def run_windows(run: Run) -> dict[str, list]:
    points: dict[str, list] = {label: [] for label in run_series(run)}
    for chunk in run_chunks(run):
        for label, rows in chunk.points.items():
            points.setdefault(label, []).extend(rows)
    return points


def run_windows_csv(run: Run) -> Iterator[str]:
    """The windowed metrics as CSV lines (one row per window and variant), streamed."""
    names = [t["name"] for t in run_tiers(run)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(csv_header(names))
    yield flush()
    for chunk in run_chunks(run):
        for label, rows in chunk.points.items():
            for point in rows:
                writer.writerow(csv_row(label, point, len(names)))
        yield flush()


def run_export(run: Run) -> dict[str, Any]:
    """Config and results as one JSON document."""
    return {
        "id": run.pk,
        "label": run.label,
        "kind": run.kind,
        "status": run.status,
        "error": run.error,
        "config": run.config,
        "workload": run.workload,
        "total": run.total,
        "accesses": run.accesses,
        "counters": run.counters,
        "result": run.result,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
