"""Reads of the trace library (HackSoft style: selectors read, services write)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db.models import Q, QuerySet

from simulator.engine.sources import TraceSource

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
    """The engine's view of a stored trace (already validated at upload)."""
    source = TraceSource(trace_path(trace), trace.fmt, unit_pages=unit_pages)
    source._length = trace.requests
    return source
