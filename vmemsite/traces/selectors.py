"""Reads of the trace library (HackSoft style: selectors read, services write)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from simulator.engine.sources import TraceSource
from simulator.engine.traces import TraceStats

from .models import Trace


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
    """The reuse-distance histogram of ``trace`` as ``[(label, count), ...]`` in bin order:
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
