"""Reads of sweeps (services write, selectors read)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.models import Count, QuerySet

from simulator.engine.policies import refuses_new_pages
from vmemsite.runs.selectors import policy_label

from .models import Sweep, SweepCell


def sweep_list_owned(user: Any) -> QuerySet[Sweep]:
    return Sweep.objects.filter(owner=user)


def sweep_get_owned(user: Any, sweep_id: int) -> Sweep | None:
    """Sweeps are private: anybody but the owner gets None (a 404, as for no sweep)."""
    if user is None or not user.is_authenticated:
        return None
    return Sweep.objects.filter(owner=user, pk=sweep_id).first()


def sweep_state(sweep: Sweep) -> dict[str, Any]:
    """The sweep as its page, the API and the exports show it: counts of cells by status, and
    one curve per (trace, policy) with its points in size order; each point's ``opt_gap`` is
    its miss ratio minus OPT's at the same size on the same trace (when OPT is in the sweep
    and both are done): how far the policy is from the best possible."""
    counts = dict(sweep.cells.values_list("status").annotate(n=Count("id")))
    cells = list(sweep.cells.order_by("trace_ref", "policy", "size"))
    opt = {(c.trace_ref, c.size): c.miss_ratio for c in cells
           if c.policy == "opt" and c.status == SweepCell.Status.DONE}
    curves: dict[tuple[int, str], dict[str, Any]] = {}
    for cell in cells:
        curve = curves.setdefault((cell.trace_ref, cell.policy), {
            "trace_id": cell.trace_ref, "trace": cell.trace_name, "policy": cell.policy,
            "label": policy_label(cell.policy), "points": []})
        done = cell.status == SweepCell.Status.DONE
        best = opt.get((cell.trace_ref, cell.size))
        curve["points"].append({
            "size": cell.size, "status": cell.status, "misses": cell.misses,
            "requests": cell.requests, "miss_ratio": cell.miss_ratio,
            "opt_gap": cell.miss_ratio - best if done and best is not None else None,
            "attempts": cell.attempts, "error": cell.error or None,
        })
    total = len(cells)
    pending = counts.get("queued", 0) + counts.get("running", 0)
    return {
        "id": sweep.pk, "name": sweep.name, "policies": sweep.policies, "sizes": sweep.sizes,
        "unit": "pages", "backend": sweep.backend,
        "status": "running" if pending else ("failed" if counts.get("failed") else "done"),
        "cells": {"total": total, **{s: counts.get(s, 0) for s in SweepCell.Status.values}},
        "created_at": sweep.created_at.isoformat(),
        "finished_at": sweep.finished_at.isoformat() if sweep.finished_at else None,
        "curves": list(curves.values()),
        "notes": sweep_notes(sweep.policies, sweep.sizes),
    }


def sweep_notes(policies: list[str], sizes: list[int]) -> list[str]:
    """What a reader of the curves should know before comparing them: a policy that caches
    nothing at some of the sizes (libCacheSim's strict S3-FIFO below 20 pages, 2Q below 4),
    whose miss ratio there is about 1 by its rule, not by the trace."""
    notes = []
    for policy in policies:
        refused = [size for size in sizes if _refuses(policy, size)]
        if refused:
            shown = ", ".join(f"{size:,}" for size in refused)
            notes.append(
                f"{policy_label(policy)} caches no new page at {shown} page"
                f"{'s' if refused[-1] != 1 else ''}: that is libCacheSim's strict rule for "
                "so small a cache (docs/policies.md), so its miss ratio there is about 1 "
                "whatever the trace.")
    return notes


def sweep_rows(sweep: Sweep) -> tuple[list[str], list[list[Any]]]:
    """Every cell as a table row, for the CSV export."""
    header = ["trace_id", "trace", "policy", "size_pages", "status", "requests", "misses",
              "miss_ratio", "opt_gap", "attempts", "error"]
    rows = []
    for curve in sweep_state(sweep)["curves"]:
        for p in curve["points"]:
            rows.append([curve["trace_id"], curve["trace"], curve["policy"], p["size"],
                         p["status"], p["requests"], p["misses"], p["miss_ratio"],
                         p["opt_gap"], p["attempts"], p["error"] or ""])
    return header, rows


@lru_cache(maxsize=4096)
def _refuses(policy: str, size: int) -> bool:
    """:func:`refuses_new_pages`, remembered: the page asks it of every cell once a second."""
    return refuses_new_pages(policy, size)
