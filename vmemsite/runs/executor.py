"""The executor of live runs (docs/architecture.md, "The live executor"): it owns a run's
pacing, controls, persistence and publishing, whoever calls it — a LocalRunner thread or a
Celery task (``runners`` only decide where it runs). It advances the engine in bounded slices
and looks at the run's controls (``desired``, ``speed``, ``step_requests``, in the database, so
a pause from any server process reaches a run on any worker) every tick; it stops, marking the
run interrupted with its windows kept, when its process stops (``vmemsite.live.workers``).

Also here: heartbeats and the sweep for runs whose process died, and the regret vs OPT added
once a single run is finished.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from simulator.engine.compare import Variant, build, needs_future, opt_config
from simulator.engine.errors import ConfigError, VMemError
from vmemsite.live import workers
from vmemsite.live.publish import publish_json
from vmemsite.traces.selectors import trace_source

from .execution import Driver, compare_driver, compare_rows, single_driver
from .frames import frame_points
from .models import Run, RunChunk
from .specs import stored_config, workload_source

logger = logging.getLogger(__name__)

#: a run stores at most this many windows per variant (endless runs stop there)
MAX_WINDOWS = 20_000
#: seconds between frames (at most ~10 a second) and between looks at the controls
TICK = 0.1
#: seconds between two progress messages inside one window (see _Execution.progress_only)
PROGRESS_S = 1.0
#: a run left paused this long is stopped (it holds a runner thread or worker)
PAUSE_LIMIT_S = 30 * 60

Publisher = Callable[[int, dict[str, Any]], None]


def group_name(run_id: int) -> str:
    return f"run.{run_id}"


def publish(run_id: int, message: dict[str, Any], *, private: bool = False) -> None:
    """Send ``message`` to every viewer of run ``run_id``; never blocks on slow viewers.

    ``private``: the run has just been made private, so the consumers close the connections of
    everyone but its owner (``RunConsumer.run_private``)."""
    publish_json(group_name(run_id), "run.private" if private else "run.message", message)


# --- runs whose process stopped -------------------------------------------------------------

TRACE_DELETED_ERROR = ("the trace of this run was deleted from the library; upload it again "
                       "to replay it")
INTERRUPTED_ERROR = "the server stopped while this run was executing; start it again"


WORKER_LOST_ERROR = ("the Celery worker executing this run stopped answering (killed or lost); "
                     "its windows are kept: start it again")


def run_heartbeat(*, run_ids: set[int] | list[int]) -> int:
    """Stamp the heartbeat of the runs this process holds (queued or executing)."""
    if not run_ids:
        return 0
    return Run.objects.filter(pk__in=list(run_ids), status__in=Run.ACTIVE).update(
        heartbeat_at=timezone.now())


def _stale(stale_s: float) -> Q:
    """Runs that no live process holds any more: a local run (queued ones too: the server's
    pool holds them) or a started Celery run whose heartbeat — or, if it never had one, its
    start or creation — is older than ``stale_s``. A queued Celery run waits in the broker,
    which redelivers it if a worker took it and died (``acks_late``)."""
    cutoff = timezone.now() - timedelta(seconds=stale_s)
    old = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, created_at__lt=cutoff)
    local = Q(runner="local", status__in=Run.ACTIVE)
    celery = Q(runner="celery", status__in=(Run.Status.RUNNING, Run.Status.PAUSED))
    return (local | celery) & old


def _mark_interrupted(run_ids, publisher: Publisher | None = None) -> list[int]:
    marked: list[int] = []
    for run_id, runner in Run.objects.filter(pk__in=list(run_ids)).values_list("pk", "runner"):
        # the status filter again: a run that finished in the meantime keeps its result
        changed = Run.objects.filter(pk=run_id, status__in=Run.ACTIVE).update(
            status=Run.Status.INTERRUPTED,
            error=WORKER_LOST_ERROR if runner == "celery" else INTERRUPTED_ERROR,
            finished_at=timezone.now(), updated_at=timezone.now(),
        )
        if changed:
            marked.append(run_id)
    for run in Run.objects.filter(pk__in=marked):
        (publisher or publish)(run.pk, status_message(run))
    return marked


def run_recover_interrupted(*, stale_s: float, exclude: set[int] | None = None,
                            publisher: Publisher | None = None) -> list[int]:
    """Mark as interrupted (their windows kept) the active runs whose process died: see
    :func:`_stale`. ``exclude``: the runs this process holds. Returns the ids marked."""
    stale = Run.objects.filter(_stale(stale_s)).exclude(pk__in=list(exclude or ()))
    marked = _mark_interrupted(stale.values_list("pk", flat=True), publisher)
    if marked:
        logger.warning("marked %d run(s) interrupted (their process stopped): %s",
                       len(marked), ", ".join(map(str, marked)))
    return marked


def interrupt_if_lost(run: Run) -> Run:
    """``run`` as it stands, marked interrupted first if its process is gone (what a control
    on it then answers; the sweep would find it within a few seconds anyway)."""
    if run.status in Run.ACTIVE and Run.objects.filter(_stale(workers.stale_s()), pk=run.pk):
        _mark_interrupted([run.pk])
        run.refresh_from_db()
    return run


class RunKeeper:
    """Heartbeats, sweeps and a stopping process's leftovers for runs (a
    :class:`vmemsite.live.workers.Keeper`)."""

    def beat(self, ids: set[int]) -> None:
        run_heartbeat(run_ids=ids)

    def sweep(self, exclude: set[int]) -> list[int]:
        return run_recover_interrupted(stale_s=workers.stale_s(), exclude=exclude)

    def abandon(self, ids: set[int]) -> None:
        _mark_interrupted(ids)


_pool: workers.WorkerPool | None = None
_pool_lock = threading.Lock()


def run_pool() -> workers.WorkerPool:
    """This process's pool of runs (``VMEM_LOCAL_WORKERS`` threads; a Celery worker uses it
    only to hold its tasks' runs, so they are heartbeated)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = workers.WorkerPool(RunKeeper(), settings.VMEM_LOCAL_WORKERS, "run")
            # Simulations are CPU-bound Python threads sharing the GIL with the server's
            # event loop. At the default 5 ms switch interval every hop of a frame through
            # the loop can wait 5 ms for the GIL; 1 ms keeps websocket delivery prompt at a
            # small cost in engine throughput (bench/stream.py).
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        return _pool


# --- executing runs (LocalRunner threads and Celery tasks end here) -------------------------


def _run_source(run: Run):
    spec = run.workload
    trace_src = None
    if spec.get("kind") == "trace":
        if run.trace is None:
            raise ConfigError(TRACE_DELETED_ERROR, field="workload.trace_id")
        trace_src = trace_source(run.trace, unit_pages=bool(spec.get("unit_pages")))
    return workload_source(spec, trace_src)


def run_driver(run: Run) -> Driver:
    """Build the engine objects of a stored run."""
    spec = run.workload
    source = _run_source(run)
    if run.kind == Run.Kind.COMPARE:
        variants = [
            Variant(v["label"], stored_config(v["config"])) for v in run.config["variants"]
        ]
        return compare_driver(variants, source, with_opt=run.config.get("with_opt", True))
    config = stored_config(run.config)
    return single_driver(config, source, concurrent=spec.get("sessions", 1) > 1)


def status_message(run: Run, **extra: Any) -> dict[str, Any]:
    return {
        "type": "status",
        "status": run.status,
        "progress": run.progress,
        "accesses": run.accesses,
        "total": run.total,
        "speed": run.speed,
        "error": run.error,
        "result": run.result if run.is_done else None,
        **extra,
    }


def _set_status(run: Run, status: str, **fields: Any) -> None:
    run.status = status
    for key, value in fields.items():
        setattr(run, key, value)
    Run.objects.filter(pk=run.pk).update(status=status, updated_at=timezone.now(), **fields)


def run_fail(*, run: Run, error: str, publisher: Publisher | None = None) -> None:
    _set_status(run, Run.Status.FAILED, error=error[:2000], finished_at=timezone.now())
    (publisher or publish)(run.pk, status_message(run))


class _Execution:
    """The state of one executing run: frames, pacing and controls (see run_execute)."""

    def __init__(self, run: Run, driver: Driver, publisher: Publisher) -> None:
        self.run = run
        self.driver = driver
        self.publish = publisher
        self.seq = run.seq
        self.last_frame = 0.0
        self.last_progress = 0.0
        self.rate_index = driver.index
        self.rate_wall = time.monotonic()
        self.speed = run.speed
        self.steps_done = run.step_requests
        self.step_target: int | None = None  # a step in progress ends at this access
        self.uses_trace = run.workload.get("kind") == "trace"
        self._anchor()

    def _anchor(self) -> None:
        self.anchor_wall = time.monotonic()
        self.anchor_clock = self.driver.clock_ms
        self.anchor_index = self.driver.index

    def eta_s(self) -> float | None:
        total = self.run.total
        done = self.driver.index - self.rate_index
        elapsed = time.monotonic() - self.rate_wall
        if not total or done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (total - self.driver.index) * elapsed / done)

    def progress(self) -> float | None:
        total = self.run.total
        if self.driver.finished:
            return 1.0 if total else None
        return min(1.0, self.driver.index / total) if total else None

    def frame(self, force: bool = False) -> None:
        """Store and publish everything collected since the last frame."""
        points, events, counters = self.driver.drain()
        self.last_frame = time.monotonic()
        if not points and not force:
            self.progress_only()
            return
        run = self.run
        self.seq += 1
        run.seq = self.seq
        run.accesses = self.driver.index
        run.progress = self.progress()
        if counters:
            run.counters = {**run.counters, **counters}
        with transaction.atomic():
            RunChunk.objects.create(run=run, seq=self.seq, points=points, events=events)
            Run.objects.filter(pk=run.pk).update(
                seq=self.seq, accesses=run.accesses, progress=run.progress,
                counters=run.counters, updated_at=timezone.now(),
            )
        self.publish(run.pk, {
            "type": "frame",
            "seq": self.seq,
            "status": run.status,
            "progress": run.progress,
            "accesses": run.accesses,
            "total": run.total,
            "eta_s": self.eta_s(),
            "speed": self.speed,
            "points": frame_points(points),  # bounded: the chunk above keeps every window
            "events": events,
            "counters": counters,
            # wall-clock span in which these windows closed (epoch s), for latency figures
            "windows_at": self.driver.window_times,
        })

    def progress_only(self, force: bool = False) -> None:
        """Inside a long window no frame has a window to carry: every :data:`PROGRESS_S`,
        store and publish how far the run is (a ``progress`` message: the progress, the ETA
        and every variant's totals now, for the page's bar and counter cards), so that a run
        of huge windows does not look stuck; with ``force``, now (a run ending inside a
        window)."""
        run = self.run
        index = self.driver.index
        now = time.monotonic()
        if index == run.accesses or (not force and now - self.last_progress < PROGRESS_S):
            return
        self.last_progress = now
        counters = self.driver.counters_now()
        run.accesses, run.progress = index, self.progress()
        run.counters = {**run.counters, **counters}
        Run.objects.filter(pk=run.pk).update(accesses=run.accesses, progress=run.progress,
                                             counters=run.counters, updated_at=timezone.now())
        self.publish(run.pk, {"type": "progress", "progress": run.progress,
                              "accesses": run.accesses, "total": run.total,
                              "eta_s": self.eta_s(), "counters": counters})

    def finish(self, status: str, error: str = "") -> None:
        self.frame()
        # a run stopped inside a window: its counters as of its last access, like its result
        self.progress_only(force=True)
        driver = self.driver
        results = {label: r.to_dict() for label, r in driver.results().items()}
        if self.run.kind == Run.Kind.COMPARE:
            result: dict[str, Any] = {"rows": compare_rows(driver), "results": results}
        else:
            result = next(iter(results.values()))
        regret = status == Run.Status.FINISHED and self.run.kind == Run.Kind.SINGLE
        if regret:
            result["regret_pending"] = True  # for the viewers: the final figures follow
        counted = {}
        if status == Run.Status.FINISHED and self.run.total:
            counted["total"] = driver.index  # the count, where the run began with a bound
        _set_status(
            self.run, status, result=result, error=error, finished_at=timezone.now(),
            progress=self.progress(), accesses=driver.index, **counted,
        )
        self.publish(self.run.pk, status_message(self.run))
        if regret:
            try:
                run_add_regret(run=self.run, publisher=self.publish)
            except Exception:  # the run itself is finished and stored: keep it so
                logger.exception("could not compute the regret of run %s", self.run.pk)

    def set_status(self, status: str) -> None:
        if self.run.status != status:
            _set_status(self.run, status)
            self.publish(self.run.pk, status_message(self.run, eta_s=self.eta_s()))

    def work_max(self) -> None:
        """As fast as possible for one tick, a window at a time."""
        driver = self.driver
        until = time.monotonic() + TICK
        while not driver.finished and time.monotonic() < until:
            driver.advance(driver.next_stop())

    def work_paced(self) -> None:
        """``speed`` simulated ms per wall second (an access counts as at least 1 ms, so runs
        whose accesses cost no time advance ``speed`` accesses a second)."""
        driver = self.driver
        now = time.monotonic()
        until = now + TICK
        budget = self.speed * (now - self.anchor_wall)
        target_time = self.anchor_clock + budget
        target_index = self.anchor_index + int(budget)
        if driver.index >= target_index or driver.clock_ms >= target_time:
            time.sleep(TICK / 2)
            return
        while (not driver.finished and time.monotonic() < until
               and driver.index < target_index and driver.clock_ms < target_time):
            driver.advance(driver.next_stop(target_index), target_time)

    def work_step(self) -> None:
        """One tick of a step (one window, taken a slice at a time like any other work)."""
        driver = self.driver
        until = time.monotonic() + TICK
        while (not driver.finished and time.monotonic() < until
               and driver.index < self.step_target):
            driver.advance(driver.next_stop(self.step_target))
        if driver.finished or driver.index >= self.step_target:
            self.step_target = None
            self.frame(force=True)

    def loop(self) -> None:
        run = self.run
        driver = self.driver
        paused_at = 0.0
        while True:
            if workers.stopping():  # the process exits: keep what is done, say so
                self.finish(Run.Status.INTERRUPTED, INTERRUPTED_ERROR)
                return
            control = Run.objects.filter(pk=run.pk).values(
                "desired", "speed", "step_requests", "trace_id").first()
            if control is None:
                return  # deleted while running
            if self.uses_trace and control["trace_id"] is None:
                self.finish(Run.Status.FAILED, TRACE_DELETED_ERROR)
                return
            if control["desired"] == Run.Desired.STOPPED:
                self.finish(Run.Status.STOPPED)
                return
            if control["speed"] != self.speed:
                self.speed = control["speed"]
                run.speed = self.speed
                self._anchor()
            if control["desired"] == Run.Desired.PAUSED:
                if run.status != Run.Status.PAUSED:
                    self.frame()
                    self.set_status(Run.Status.PAUSED)
                    paused_at = time.monotonic()
                if self.step_target is None and control["step_requests"] > self.steps_done:
                    self.steps_done = control["step_requests"]
                    self.step_target = driver.next_boundary()
                if self.step_target is not None:
                    self.work_step()
                    paused_at = time.monotonic()
                elif time.monotonic() - paused_at > PAUSE_LIMIT_S:
                    self.finish(Run.Status.STOPPED, "stopped after 30 minutes paused")
                    return
                else:
                    time.sleep(TICK)
                    continue
            else:
                if run.status != Run.Status.RUNNING:
                    self.steps_done = control["step_requests"]
                    self.step_target = None
                    self._anchor()
                    self.set_status(Run.Status.RUNNING)
                if self.speed is None:
                    self.work_max()
                else:
                    self.work_paced()
            if driver.finished:
                self.finish(Run.Status.FINISHED)
                return
            if driver.windows >= MAX_WINDOWS:
                self.finish(Run.Status.STOPPED,
                            f"stopped at {MAX_WINDOWS:,} windows (use larger windows)")
                return
            if time.monotonic() - self.last_frame >= TICK:
                self.frame()


def run_add_regret(*, run: Run, publisher: Publisher | None = None) -> dict[str, Any] | None:
    """Add regret vs OPT to a finished single run: ``result.opt_faults`` = the faults of OPT
    (Belady) with the same L0 capacity on the same accesses, ``result.regret`` = faults -
    opt_faults (docs/metrics.md). Called by the executor once the run's final status is out, so the
    OPT pass never slows the live stream; viewers get the new result as a status message.
    When it cannot be computed, ``regret`` stays None and ``regret_note`` says why (concurrent
    sessions interleave differently per policy; a trace deleted meanwhile)."""
    result = dict(run.result or {})
    result.pop("regret_pending", None)
    config = stored_config(run.config)
    note = None
    if run.workload.get("sessions", 1) > 1:
        note = "not defined for concurrent sessions (their interleaving depends on the policy)"
    elif needs_future(config):
        result["opt_faults"], result["regret"] = result.get("faults"), 0
    else:
        try:
            source = _run_source(run)
            reference = build(opt_config(config), source, max_events=0).run()
        except (VMemError, OSError) as exc:
            note = f"could not run OPT: {exc}"
        else:
            result["opt_faults"] = reference.faults
            result["regret"] = result.get("faults", 0) - reference.faults
    if note:
        result["regret_note"] = note
    updated = Run.objects.filter(pk=run.pk, status=Run.Status.FINISHED).update(result=result)
    if not updated:
        return None  # deleted meanwhile
    run.result = result
    (publisher or publish)(run.pk, status_message(run))
    return result


def run_execute(*, run_id: int, publisher: Publisher | None = None) -> None:
    """Execute a queued run to its end (finished, stopped or failed), storing its windows and
    publishing frames. Called by the LocalRunner's threads and by the Celery task."""
    publisher = publisher or publish
    run = Run.objects.select_related("trace").filter(pk=run_id).first()
    if run is None or run.status != Run.Status.QUEUED:
        return
    if workers.stopping():
        _mark_interrupted([run.pk], publisher)
        return
    if run.desired == Run.Desired.STOPPED:
        _set_status(run, Run.Status.STOPPED, finished_at=timezone.now())
        publisher(run.pk, status_message(run))
        return
    try:
        driver = run_driver(run)
    except (VMemError, OSError) as exc:
        run_fail(run=run, error=str(exc), publisher=publisher)
        return
    _set_status(run, Run.Status.RUNNING, started_at=timezone.now())
    publisher(run.pk, status_message(run))
    execution = _Execution(run, driver, publisher)
    try:
        execution.loop()
    except VMemError as exc:
        run_fail(run=run, error=str(exc), publisher=publisher)
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        run_fail(run=run, error=f"internal error: {type(exc).__name__}: {exc}",
                 publisher=publisher)
