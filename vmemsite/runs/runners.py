"""Where runs execute (docs/architecture.md §4 and "The live executor"); what they do once
there is the executor's business (``executor.run_execute``).

* :class:`LocalRunner` — the embedded default: a worker pool of the server process
  (``vmemsite.live.workers``), heartbeated, swept, wound down when the server stops.
* :class:`CeleryRunner` — at scale (``REDIS_URL``): a Celery task per run, on any worker; the
  task holds its run in the worker's own pool so it is heartbeated there too.

The server process sweeps for runs whose process died, local or Celery, from its first
connection on (``vmemsite.live.workers.keep_from_first_connection``).
"""

from __future__ import annotations

import threading

from django.conf import settings

from vmemsite.live import workers

from .executor import run_execute, run_pool


class LocalRunner:
    """Runs execute in this process's run pool."""

    name = "local"

    def submit(self, run_id: int) -> None:
        run_pool().submit(run_id, lambda: run_execute(run_id=run_id))


class CeleryRunner:
    """Runs execute as Celery tasks (``vmemsite.runs.tasks.execute_run``) on any worker."""

    name = "celery"

    def submit(self, run_id: int) -> None:
        from .tasks import execute_run  # Celery's app loads only where runs go to Celery

        execute_run.delay(run_id)


_runner: LocalRunner | CeleryRunner | None = None
_runner_lock = threading.Lock()


def get_runner() -> LocalRunner | CeleryRunner:
    """The runner chosen by ``settings.VMEM_RUNNER`` (one per process)."""
    global _runner
    with _runner_lock:
        wanted = settings.VMEM_RUNNER
        if _runner is None or _runner.name != wanted:
            _runner = CeleryRunner() if wanted == "celery" else LocalRunner()
        return _runner


# heartbeats of this process's runs, and sweeps for runs whose process died
workers.keep_from_first_connection(run_pool)
