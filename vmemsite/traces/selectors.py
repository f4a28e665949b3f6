"""Reads of the trace library (HackSoft style: selectors read, services write)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from simulator.engine.sources import TraceSource
from simulator.engine.traces import TraceStats

from .models import Trace, TraceAnalysis

#: the charts of a trace's analysis that export as CSV (docs/analysis.md defines each)
ANALYSIS_CHARTS = ("stack_distance", "reuse_distance", "popularity", "working_set",
                   "request_rate", "heatmap", "sizes")


def trace_list_visible(user) -> QuerySet[Trace]:
    """Traces ``user`` may read: their own and public ones (public ones only when anonymous)."""
    if user is None or not user.is_authenticated:
        return Trace.objects.filter(public=True)
    return Trace.objects.filter(Q(owner=user) | Q(public=True))


def trace_list_owned(user) -> QuerySet[Trace]:
    return Trace.objects.filter(owner=user)


def trace_get_visible(user, trace_id: int) -> Trace | None:
    return trace_list_visible(user).filter(pk=trace_id).first()


def trace_path(trace: Trace) -> Path:
    return Path(settings.DATA_DIR) / trace.file


def trace_source(trace: Trace, *, unit_pages: bool = False) -> TraceSource:
    """The engine's view of a stored trace (already validated at upload), reading its size
    column as the upload said: tokens, bytes (converted), or ignored (every access 1 token)."""
    source = TraceSource(
        trace_path(trace), trace.fmt, unit_pages=unit_pages or trace.sizes_ignored,
        bytes_per_token=trace.bytes_per_token if trace.sizes_in_bytes else None,
        csv_layout=trace.layout,
    )
    source._length = trace.requests
    return source


def trace_size_summary(trace: Trace) -> dict[str, Any]:
    """What the trace's sizes mean, for every place its numbers appear: ``size_unit``,
    ``bytes_per_token`` and ``total_bytes`` (None unless the sizes are bytes),
    ``total_tokens`` (always tokens, as replays count them) and ``note``, a sentence."""
    if trace.sizes_in_bytes:
        note = (f"sizes are bytes, {trace.bytes_per_token:,} to a token (rounded up per "
                f"access)")
    elif trace.sizes_ignored:
        note = "the size column is ignored: every access is 1 token"
    else:
        note = "sizes are tokens"
    return {
        "size_unit": trace.size_unit,
        "bytes_per_token": trace.bytes_per_token if trace.sizes_in_bytes else None,
        "total_tokens": trace.total_tokens,
        "total_bytes": trace.total_bytes,
        "note": note,
    }


def trace_reuse_histogram(trace: Trace) -> list[tuple[str, int]]:
    """The LRU stack-distance histogram of ``trace`` (stored as ``reuse_*`` for history;
    docs/analysis.md tells the two distances apart) as ``[(label, count), ...]`` in bin order:
    ``cold`` (first accesses), then the log2 bins ``0``, ``1``, ``2-3``, ``4-7``, ... up to
    the last non-empty one (labels as :meth:`TraceStats.bin_label` gives them).

    Rebuilt from ``reuse_bins`` rather than read from the stored ``reuse_histogram`` mapping:
    PostgreSQL's jsonb does not keep the order of an object's keys.
    """
    stats = trace.stats or {}
    bins = [int(count) for count in stats.get("reuse_bins", [])]
    end = len(bins)
    while end > 0 and bins[end - 1] == 0:
        end -= 1
    histogram = [("cold", int(stats.get("reuse_cold", 0)))]
    for k in range(end):
        histogram.append((TraceStats.bin_label(k, last=k == len(bins) - 1), bins[k]))
    return histogram


def trace_analysis_get(trace: Trace) -> TraceAnalysis | None:
    return TraceAnalysis.objects.filter(trace=trace).first()


def trace_analysis_state(trace: Trace) -> dict[str, Any]:
    """The analysis as the page and the API show it: ``status`` (``none`` when it was never
    asked for; ``queued``, ``running``, ``done``, ``failed``), ``progress`` (0 to 1),
    ``error``, ``seconds`` and ``analysis`` (docs/analysis.md; null until done)."""
    analysis = trace_analysis_get(trace)
    if analysis is None:
        return {"status": "none", "progress": 0.0, "error": "", "seconds": None,
                "analysis": None}
    return {"status": analysis.status, "progress": analysis.progress, "error": analysis.error,
            "seconds": analysis.seconds,
            "analysis": analysis.result if analysis.status == TraceAnalysis.Status.DONE
            else None}


def trace_analysis_rows(result: dict[str, Any], chart: str) -> tuple[list[str], list[list[Any]]]:
    """One chart of a finished analysis as a table: (header, rows), for its CSV export."""
    if chart in ("stack_distance", "reuse_distance"):
        part = result[chart]
        return (["distance", "references"],
                [["cold", part["cold"]]] + [[b["bucket"], b["count"]] for b in part["histogram"]])
    if chart == "popularity":
        return (["rank", "frequency"],
                [[p["rank"], p["frequency"]] for p in result["popularity"]["rank_frequency"]])
    if chart == "working_set":
        taus = [str(t) for t in result["working_set"]["taus"]]
        return (["references", "footprint", *(f"W(tau={t})" for t in taus)],
                [[p["references"], p["footprint"], *(p["w"][t] for t in taus)]
                 for p in result["working_set"]["points"]])
    if chart == "request_rate":
        return (["start", "end", "references", "rate"],
                [[r["start"], r["end"], r["requests"], r["rate"]]
                 for r in result["request_rate"]])
    if chart == "heatmap":
        heat = result["heatmap"]
        return (["first_reference", *(f"rank {c}" for c in heat["columns"])],
                [[k * heat["row_references"], *row] for k, row in enumerate(heat["grid"])])
    if chart == "sizes":
        requests = {b["bucket"]: b["count"] for b in result["sizes"]["requests"]}
        pages = {b["bucket"]: b["count"] for b in result["sizes"]["pages"]}
        buckets = list(dict.fromkeys([*requests, *pages]))
        return (["size_tokens", "references", "pages"],
                [[b, requests.get(b, 0), pages.get(b, 0)] for b in buckets])
    raise KeyError(chart)
