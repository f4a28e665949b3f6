"""Reads of sweeps (services write, selectors read)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from simulator.engine.mrc import UNREFINED_MIN_PAGES
from simulator.engine.policies import policy_names, policy_parameters, refuses_new_pages
from vmemsite.runs.selectors import policy_label

from .models import Sweep, SweepCell

#: how many of the cells under way a sweep's state names (``running``)
RUNNING_SHOWN = 8


def sweep_list_owned(user: Any) -> QuerySet[Sweep]:
    """The owner's sweeps, each with its cells counted: ``cells_total``, ``cells_done``,
    ``cells_failed`` and ``cells_pending`` (queued or running)."""
    cells = SweepCell.Status
    return Sweep.objects.filter(owner=user).annotate(
        cells_total=Count("cells"),
        cells_done=Count("cells", filter=Q(cells__status=cells.DONE)),
        cells_failed=Count("cells", filter=Q(cells__status=cells.FAILED)),
        cells_pending=Count("cells", filter=Q(cells__status__in=[cells.QUEUED,
                                                                  cells.RUNNING])),
    ).order_by("-created_at", "-pk")  # an aggregate drops the model's ordering


def listed_status(sweep: Sweep) -> str:
    """The status of a sweep of :func:`sweep_list_owned` (its cells counted)."""
    return _status(sweep.cells_pending, sweep.cancelled, sweep.cells_failed)


def sweep_summary(sweep: Sweep) -> dict[str, Any]:
    """A sweep of :func:`sweep_list_owned` as the API lists it: no curves, its cells counted."""
    return {
        "id": sweep.pk, "name": sweep.name, "url": reverse("sweeps_api:detail",
                                                           args=[sweep.pk]),
        "status": listed_status(sweep),
        "cells": {"total": sweep.cells_total, "done": sweep.cells_done,
                  "failed": sweep.cells_failed, "pending": sweep.cells_pending},
        "policies": sweep.policies, "sample_rate": sweep.sample_rate,
        "created_at": sweep.created_at.isoformat(),
        "finished_at": sweep.finished_at.isoformat() if sweep.finished_at else None,
    }


def sweep_get_owned(user: Any, sweep_id: int) -> Sweep | None:
    """Sweeps are private: anybody but the owner gets None (a 404, as for no sweep)."""
    if user is None or not user.is_authenticated:
        return None
    return Sweep.objects.filter(owner=user, pk=sweep_id).first()


def sweep_state(sweep: Sweep) -> dict[str, Any]:
    """The sweep as its page, the API and the exports show it: counts of cells by status, and
    one curve per (trace, policy, parameters) — a policy has one curve per value of the
    sweep's axis when the axis is one of its parameters — with its points in size order;
    each point's ``opt_gap`` is its miss ratio minus OPT's at the same size on the same trace
    (when OPT is in the sweep and both are done): how far the policy is from the best
    possible. ``running`` names the cells under way, those running longest first (at most
    :data:`RUNNING_SHOWN`), with the seconds each has run: the page says which are slow."""
    counts = dict(sweep.cells.values_list("status").annotate(n=Count("id")))
    cells = sorted(sweep.cells.all(), key=lambda c: (
        c.trace_ref, sweep.policies.index(c.policy) if c.policy in sweep.policies else 0,
        _axis_place(sweep.axis, c.params), c.size))
    opt = {(c.trace_ref, c.size): c.miss_ratio for c in cells
           if c.policy == "opt" and c.status == SweepCell.Status.DONE}
    curves: dict[tuple[int, str, str], dict[str, Any]] = {}
    running = []
    now = timezone.now()
    for cell in cells:
        shown = params_text(cell.params)
        label = policy_label(cell.policy)
        curve = curves.setdefault((cell.trace_ref, cell.policy, shown), {
            "trace_id": cell.trace_ref, "trace": cell.trace_name, "policy": cell.policy,
            "params": cell.params, "label": f"{label} · {shown}" if shown else label,
            "points": []})
        if cell.status == SweepCell.Status.RUNNING:
            running.append({"trace": cell.trace_name, "policy": cell.policy,
                            "label": curve["label"], "size": cell.size,
                            "seconds": round(max(0.0, (now - cell.updated_at).total_seconds()))})
        done = cell.status == SweepCell.Status.DONE
        best = opt.get((cell.trace_ref, cell.size))
        curve["points"].append({
            "size": cell.size, "status": cell.status, "misses": cell.misses,
            "requests": cell.requests, "miss_ratio": cell.miss_ratio,
            "exact": cell.exact, "sample_rate": cell.sample_rate, "std_error": cell.std_error,
            "opt_gap": cell.miss_ratio - best if done and best is not None else None,
            "attempts": cell.attempts, "error": cell.error or None,
        })
    total = len(cells)
    pending = counts.get("queued", 0) + counts.get("running", 0)
    return {
        "id": sweep.pk, "name": sweep.name, "policies": sweep.policies, "sizes": sweep.sizes,
        "relative_sizes": sweep.relative_sizes or None, "axis": sweep.axis or None,
        "sample_rate": sweep.sample_rate,
        "unit": "pages", "backend": sweep.backend,
        "status": _status(pending, sweep.cancelled, counts.get("failed", 0)),
        "cells": {"total": total, **{s: counts.get(s, 0) for s in SweepCell.Status.values}},
        "created_at": sweep.created_at.isoformat(),
        "finished_at": sweep.finished_at.isoformat() if sweep.finished_at else None,
        "curves": list(curves.values()),
        "running": sorted(running, key=lambda r: -r["seconds"])[:RUNNING_SHOWN],
        "notes": _sampling_notes(sweep) + sweep_notes(
            sweep_variants(sweep.policies, sweep.axis), sweep.sizes),
    }


def _status(pending: int, cancelled: bool, failed: int) -> str:
    """running while a cell is queued or running; then cancelled (by its owner), failed (a
    cell failed) or done."""
    if pending:
        return "running"
    return "cancelled" if cancelled else "failed" if failed else "done"


def sweep_variants(policies: list[str], axis: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(policy, params) of each curve: the axis's values for the policies that have its
    parameter, the defaults (one curve) for the others."""
    variants = []
    for policy in policies:
        if axis and axis["param"] in policy_parameters(policy):
            variants += [(policy, {axis["param"]: value}) for value in axis["values"]]
        else:
            variants.append((policy, {}))
    return variants


def policy_parameter_list() -> list[dict[str, Any]]:
    """Every policy parameter an axis can take, for the form: its name, the policies that
    have it and their defaults (``small_ratio``: S3-FIFO 0.1)."""
    found: dict[str, list[str]] = {}
    for policy in policy_names():
        for name, default in policy_parameters(policy).items():
            found.setdefault(name, []).append(f"{policy_label(policy)} {_value_text(default)}")
    return [{"name": name, "policies": ", ".join(found[name])} for name in sorted(found)]


def params_text(params: dict[str, Any]) -> str:
    """A cell's parameters as its curve's label and the CSV show them: ``small_ratio 0.05``."""
    return ", ".join(f"{name} {_value_text(value)}" for name, value in sorted(params.items()))


def _value_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _axis_place(axis: dict[str, Any], params: dict[str, Any]) -> int:
    """Where a cell's parameters come on the axis (curves in the order of its values)."""
    if not axis or axis.get("param") not in params:
        return -1
    values = axis.get("values", [])
    value = params[axis["param"]]
    return next((k for k, v in enumerate(values) if v == value and type(v) is type(value)),
                len(values))


def _sampling_notes(sweep: Sweep) -> list[str]:
    if sweep.sample_rate is None:
        return []
    return [f"Sampled: pages are sampled at rate {sweep.sample_rate:g}, evenly across their "
            f"popularity (SHARDS for LRU, "
            f"miniature simulations for the others; docs/mrc.md), so a point is an estimate "
            f"with its standard error (± in the chart, std_error in the exports). A small "
            f"size is sampled at a higher rate, so that its miniature cache holds "
            f"{UNREFINED_MIN_PAGES} pages, and from a rate of 1/2 up it is simulated exactly."]


def sweep_notes(curves: list[tuple[str, dict[str, Any]]], sizes: list[int]) -> list[str]:
    """What a reader of the curves should know before comparing them: a policy (with its
    parameters) that caches nothing at some of the sizes (libCacheSim's strict S3-FIFO below
    20 pages, 2Q below 4), whose miss ratio there is about 1 by its rule, not by the trace."""
    notes = []
    for policy, params in curves:
        frozen = tuple(sorted(params.items()))
        refused = [size for size in sizes if _refuses(policy, size, frozen)]
        if refused:
            shown = ", ".join(f"{size:,}" for size in refused)
            label = policy_label(policy) + (f" ({params_text(params)})" if params else "")
            notes.append(
                f"{label} caches no new page at {shown} page"
                f"{'s' if refused[-1] != 1 else ''}: that is libCacheSim's strict rule for "
                "so small a cache (docs/policies.md), so its miss ratio there is about 1 "
                "whatever the trace.")
    return notes


def sweep_rows(sweep: Sweep) -> tuple[list[str], list[list[Any]]]:
    """Every cell as a table row, for the CSV export (``params`` last: columns added later
    go at the end, where scripts reading the older columns by place do not see them)."""
    header = ["trace_id", "trace", "policy", "size_pages", "status", "requests", "misses",
              "miss_ratio", "opt_gap", "attempts", "error", "params", "exact", "sample_rate",
              "std_error"]
    rows = []
    for curve in sweep_state(sweep)["curves"]:
        for p in curve["points"]:
            rows.append([curve["trace_id"], curve["trace"], curve["policy"], p["size"],
                         p["status"], p["requests"], p["misses"], p["miss_ratio"],
                         p["opt_gap"], p["attempts"], p["error"] or "",
                         params_text(curve["params"]), p["exact"], p["sample_rate"],
                         p["std_error"]])
    return header, rows


@lru_cache(maxsize=4096)
def _refuses(policy: str, size: int, params: tuple[tuple[str, Any], ...] = ()) -> bool:
    """:func:`refuses_new_pages`, remembered: the page asks it of every cell once a second."""
    return refuses_new_pages(policy, size, **dict(params))
