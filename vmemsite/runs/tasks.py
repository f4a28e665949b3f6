"""Celery tasks: just another interface that loads by id and calls the executor.

``acks_late`` with ``reject_on_worker_lost``: a task is acknowledged when it returns, so a run
whose worker dies before starting it is delivered again (to another worker); a run that had
started is marked interrupted, its windows kept, by the server's sweep once its heartbeat —
stamped by the worker's housekeeping while the task holds it — is stale
(docs/architecture.md, "The live executor"). A redelivered run that is no longer queued is
left as it is."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_shutting_down

from vmemsite.live import workers

from .executor import run_execute, run_pool


@shared_task(name="simulator.execute_run", ignore_result=True, acks_late=True,
             reject_on_worker_lost=True)
def execute_run(run_id: int) -> None:
    with run_pool().hold(run_id):
        run_execute(run_id=run_id)


@worker_shutting_down.connect
def _wind_down(**_: object) -> None:
    """A worker told to stop (SIGTERM) winds its runs down: they are marked interrupted with
    their windows kept, instead of holding the warm shutdown for as long as they run."""
    workers.stop()
