"""Writes of trace analyses: a trace's analysis (``simulator.engine.analysis``,
docs/analysis.md) is computed once and stored (docs/traces.md, "Analysis").

A trace of at most ``VMEM_TRACE_ANALYSIS_INLINE`` requests is analysed right after its upload
is validated, in the same request (a second streaming pass over the stored file: a fraction
of the validation's time). A bigger one is a background job: on a Celery worker when the lab
runs them (``VMEM_RUNNER=celery``), else in a small thread pool of the server
(``VMEM_TRACE_ANALYSES_AT_ONCE``, default 1). The job records its progress about once a
second; one whose row has not moved for :data:`STALE_SECONDS` was lost with its process, and
asking for the analysis again starts it over. Every job is bounded in time
(``VMEM_TRACE_ANALYSIS_SECONDS``) and in memory (by the trace's distinct pages, which the
upload bounded); its result has a bounded size whatever the trace's length.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from simulator.engine.access import Access
from simulator.engine.analysis import analyse
from simulator.engine.errors import VMemError

from .models import Trace, TraceAnalysis
from .selectors import trace_source

logger = logging.getLogger(__name__)

#: a running job writes its progress at least this often (seconds)
PROGRESS_SECONDS = 1.0
#: a queued or running job whose row is older than this was lost with its process
STALE_SECONDS = 60.0

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class AnalysisStopped(Exception):
    """The job ran past its time bound, or its trace was deleted."""


def trace_analysis_request(trace: Trace, *, restart: bool = False) -> TraceAnalysis:
    """The trace's analysis, started if there is none (or it failed, or it was lost, or
    ``restart``): inline for a small trace (done when this returns), else queued."""
    with transaction.atomic():
        analysis, created = TraceAnalysis.objects.select_for_update().get_or_create(
            trace=trace)
        if not (created or restart or _needs_rerun(analysis)):
            return analysis
        analysis.status, analysis.progress, analysis.error = TraceAnalysis.Status.QUEUED, 0.0, ""
        analysis.result = None
        analysis.save()
    if trace.requests <= int(getattr(settings, "VMEM_TRACE_ANALYSIS_INLINE", 200_000)):
        trace_analysis_execute(analysis.pk)
        analysis.refresh_from_db()
    else:
        transaction.on_commit(lambda: _dispatch(analysis.pk))
    return analysis


def _needs_rerun(analysis: TraceAnalysis) -> bool:
    if analysis.status == TraceAnalysis.Status.FAILED:
        return True
    if analysis.status == TraceAnalysis.Status.DONE:
        return False
    return analysis.updated_at < timezone.now() - timedelta(seconds=STALE_SECONDS)


def _dispatch(analysis_id: int) -> None:
    if getattr(settings, "VMEM_RUNNER", "local") == "celery":
        from vmemsite.celery import app  # by the task's name: tasks.py imports this module

        app.send_task("traces.analyse", args=[analysis_id])
        return
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = max(1, int(getattr(settings, "VMEM_TRACE_ANALYSES_AT_ONCE", 1)))
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vmem-analysis")
        _pool.submit(_in_thread, analysis_id)


def _in_thread(analysis_id: int) -> None:
    close_old_connections()
    try:
        trace_analysis_execute(analysis_id)
    except Exception:  # the service records its own errors; this is the last resort
        logger.exception("trace analysis %s failed", analysis_id)
    finally:
        connection.close()


def trace_analysis_execute(analysis_id: int) -> None:
    """Run one analysis job (from the thread pool, a Celery task or inline): stream the
    trace through the engine's analysis, recording progress; store the result or the error."""
    analysis = TraceAnalysis.objects.select_related("trace").filter(pk=analysis_id).first()
    if analysis is None or analysis.status == TraceAnalysis.Status.DONE:
        return
    trace = analysis.trace
    started = time.monotonic()
    _update(analysis_id, status=TraceAnalysis.Status.RUNNING, progress=0.0)
    try:
        progress = _Progress(analysis_id, trace.requests, started)
        result = analyse(progress.watch(trace_source(trace).open()),
                         unit_pages=trace.sizes_ignored).to_dict()
    except (VMemError, AnalysisStopped, OSError) as exc:
        _update(analysis_id, status=TraceAnalysis.Status.FAILED, error=str(exc)[:1000],
                seconds=time.monotonic() - started)
        return
    _update(analysis_id, status=TraceAnalysis.Status.DONE, progress=1.0, result=result,
            seconds=time.monotonic() - started)


def _update(analysis_id: int, **fields: object) -> int:
    return TraceAnalysis.objects.filter(pk=analysis_id).update(updated_at=timezone.now(),
                                                               **fields)


class _Progress:
    """Passes the accesses on, writing the share read about once a second; stops the job
    past its time bound or when its row is gone (the trace was deleted)."""

    def __init__(self, analysis_id: int, total: int, started: float) -> None:
        self._id = analysis_id
        self._total = max(1, total)
        self._bound = float(getattr(settings, "VMEM_TRACE_ANALYSIS_SECONDS", 600))
        self._deadline = started + self._bound
        self._next = started + PROGRESS_SECONDS

    def watch(self, accesses: Iterable[Access]) -> Iterator[Access]:
        for done, access in enumerate(accesses, 1):
            if done % 4096 == 0:
                self._tick(done)
            yield access

    def _tick(self, done: int) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + PROGRESS_SECONDS
        if now > self._deadline:
            raise AnalysisStopped(f"the analysis took longer than its bound of "
                                  f"{self._bound:g} s (VMEM_TRACE_ANALYSIS_SECONDS)")
        if not _update(self._id, progress=min(0.99, done / self._total)):
            raise AnalysisStopped("the trace was deleted")
