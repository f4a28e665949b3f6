"""Selectors: every read of the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): reads live in ``selectors.py``, writes in
``services.py``; functions are named ``<entity>_<action>`` (``run_list``, ``run_get``) and
return querysets or plain data. Views and consumers call them instead of querying models.

Visibility: a run is visible to its owner, and to everybody when it is public. Everything that
takes an id answers None for a run that does not exist *and* for one the user may not see, so
no caller can tell the two apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse

from simulator.engine.compare import VARIANT, Series, Variant, series_plan
from simulator.engine.config import SimConfig
from vmemsite.csv_safe import CsvLines

from .frames import csv_header, csv_row
from .models import Run, RunChunk
from .overview import overview_refresh, windows_page
from .specs import policy_label as _policy_label
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


def run_list_owned_filtered(user, *, status: str | None = None, kind: str | None = None
                            ) -> QuerySet[Run]:
    """The user's own runs, newest first, only those of ``status`` and ``kind`` when given
    (``Run.Status`` / ``Run.Kind`` values). For the runs page, which shows them a page at a
    time."""
    runs = run_list_owned(user)
    if status:
        runs = runs.filter(status=status)
    if kind:
        runs = runs.filter(kind=kind)
    return runs


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


def run_plan(run: Run) -> list[Series]:
    """Every line of the run with its role (:func:`simulator.engine.compare.series_plan`): the
    variants, then a comparison's OPT references. Stored with the run when it was created; for
    runs stored before that, worked out from their configuration the same way."""
    if run.kind != Run.Kind.COMPARE:
        l0 = run.config["tiers"][0]
        return [Series(l0["policy"], VARIANT, l0["capacity_tokens"])]
    stored = run.config.get("series")
    if stored:
        return [Series.from_dict(item) for item in stored]
    variants = [Variant(v["label"], SimConfig.from_dict(v["config"]))
                for v in run.config["variants"]]
    return series_plan(variants, with_opt=bool(run.config.get("with_opt", True) and run.total))


def run_variants(run: Run) -> list[str]:
    return [s.label for s in run_plan(run) if s.role == VARIANT]


def run_series(run: Run) -> list[str]:
    """Every line of the run: its variants, then the OPT references of a comparison."""
    return [s.label for s in run_plan(run)]


def run_capacities(run: Run) -> dict[str, int | None]:
    """L0 capacity of every variant of a comparison."""
    if run.kind != Run.Kind.COMPARE:
        return {}
    return {s.label: s.capacity_tokens for s in run_plan(run) if s.role == VARIANT}


#: a literal sequence shows at most this many ids in pages and states (it may hold 100,000)
SHOWN_PAGES = 64


def _workload_brief(spec: dict[str, Any]) -> dict[str, Any]:
    pages = spec.get("pages")
    if not isinstance(pages, list) or len(pages) <= SHOWN_PAGES:
        return spec
    return {**spec, "pages": pages[:SHOWN_PAGES], "pages_total": len(pages)}


def run_meta(run: Run, user=None, *, brief: bool = False) -> dict[str, Any]:
    """What a page or a client needs to know about a run besides its windows. ``brief``: a
    long literal sequence is cut (pages and websocket states stay small)."""
    plan = run_plan(run)
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
        # an upper bound until the run finishes (pages cut from sized accesses), then the count
        "total_is_bound": bool(run.workload.get("total_is_bound"))
        and run.status != Run.Status.FINISHED,
        "error": run.error,
        "workload": _workload_brief(run.workload) if brief else run.workload,
        "workload_text": workload_describe(run.workload),
        "window_accesses": _window_accesses(run),
        "tiers": run_tiers(run),
        "variants": [s.label for s in plan if s.role == VARIANT],
        "series": [s.label for s in plan],
        "roles": [s.to_dict() for s in plan],
        "capacities": run_capacities(run),
        "can_control": run_can_control(run, user),
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "urls": run_urls(run),
    }


def _window_accesses(run: Run) -> int:
    config = run.config["base"] if run.kind == Run.Kind.COMPARE else run.config
    return int(config.get("window_accesses") or 1)


def run_urls(run: Run) -> dict[str, str]:
    return {
        "page": reverse("simulator:run", args=[run.pk]),
        "api": reverse("simulator:api_run", args=[run.pk]),
        "state": reverse("simulator:run_state", args=[run.pk]),
        "control": reverse("simulator:api_run_control", args=[run.pk]),
        "windows_csv": reverse("simulator:run_windows_csv", args=[run.pk]),
        "windows_json": reverse("simulator:api_run_windows", args=[run.pk]),
        "windows_page": reverse("simulator:run_windows_page", args=[run.pk]),
        "export": reverse("simulator:run_export", args=[run.pk]),
        "websocket": f"/ws/runs/{run.pk}/",
    }


def run_chunks(run: Run) -> Iterator[RunChunk]:
    return RunChunk.objects.filter(run=run).order_by("seq").iterator(chunk_size=200)


def run_state(run: Run, user=None) -> dict[str, Any]:
    """The run as one message: meta, an overview of every series (at most
    ``budget`` points each, min and max kept: :mod:`vmemsite.runs.overview`), the last events,
    the counters and the result. ``seq`` is the last chunk it includes: a client applies only
    frames after it. Its cost is the stored overview plus the chunks stored since."""
    series = run_series(run)
    overview = overview_refresh(run, len(series))
    return {
        "type": "state",
        "seq": overview.seq,
        "run": run_meta(run, user, brief=True),
        "points": overview.points(series),
        "events": list(overview.events),
        "counters": run.counters,
        "result": run.result,
        "budget": overview.budget,
    }


def run_windows_page(run: Run, *, after: int = 0, limit: int = 1000,
                     until: int | None = None, series: str | None = None) -> dict[str, Any]:
    """Full-resolution windows in pages (what a chart fetches when someone zooms in): the
    points with ``after < end <= until`` in access order, at most ``limit`` rows; ``next`` is
    the ``after`` of the following page, None at the end of what is stored."""
    overview = overview_refresh(run, len(run_series(run)))
    return windows_page(run, overview, after=after, limit=limit, until=until, series=series)


def run_windows(run: Run) -> dict[str, list]:
    points: dict[str, list] = {label: [] for label in run_series(run)}
    for chunk in run_chunks(run):
        for label, rows in chunk.points.items():
            points.setdefault(label, []).extend(rows)
    return points


def run_windows_csv(run: Run) -> Iterator[str]:
    """The windowed metrics as CSV lines (one row per window and variant), streamed; text
    cells a spreadsheet would run as a formula are neutralised (:mod:`vmemsite.csv_safe`)."""
    names = [t["name"] for t in run_tiers(run)]
    lines = CsvLines()
    yield lines.row(csv_header(names))
    for chunk in run_chunks(run):
        yield lines.rows(csv_row(label, point, len(names))
                         for label, rows in chunk.points.items() for point in rows)


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


def policy_label(name: str) -> str:
    """A policy's name as people read it (``s3fifo`` → ``S3-FIFO``), for other apps' pages:
    the one table of labels is :data:`vmemsite.runs.specs.POLICY_LABELS`."""
    return _policy_label(name)
