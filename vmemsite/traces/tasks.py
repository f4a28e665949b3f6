"""Celery tasks of the trace library: just another interface that calls a service by id."""

from __future__ import annotations

from celery import shared_task

from .analyses import trace_analysis_execute


@shared_task(name="traces.analyse", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def analyse_trace(analysis_id: int) -> None:
    """Late acknowledgement: a worker killed mid-analysis leaves the task to another one;
    the job only writes its own row, so running it twice is harmless."""
    trace_analysis_execute(analysis_id)
