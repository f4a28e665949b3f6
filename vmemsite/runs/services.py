"""Services: every write to the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): writes live in ``services.py``, reads in
``selectors.py``, functions are named ``<entity>_<action>`` (``run_create``, ``run_control``),
take keyword arguments, and hold the business logic. Views, forms, consumers and Celery tasks
stay thin and call them; no business logic in ``save()`` or signals.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from simulator.engine.compare import Variant, build, needs_future, opt_config, series_plan
from simulator.engine.errors import ConfigError, VMemError
from simulator.engine.params import show
from vmemsite.errors import Conflict, Forbidden, Invalid
from vmemsite.traces.selectors import trace_get_visible, trace_source

from . import runners
from .execution import Driver, compare_driver, compare_rows, single_driver
from .frames import frame_points
from .models import Run, RunChunk
from .specs import RUN_PARAMS, RunSpec, TraceSpec, run_spec, stored_config, workload_source

logger = logging.getLogger(__name__)

#: a run stores at most this many windows per variant (endless runs stop there)
MAX_WINDOWS = 20_000
#: seconds between frames (at most ~10 a second) and between looks at the controls
TICK = 0.1
#: a run left paused this long is stopped (it holds a runner thread or worker)
PAUSE_LIMIT_S = 30 * 60
ACTIONS = ("pause", "resume", "step", "stop", "speed")

Publisher = Callable[[int, dict[str, Any]], None]


class RunPermissionError(Forbidden):
    """The user may see the run but not control it (a public run of someone else)."""


# --- creating runs ------------------------------------------------------------------------


@transaction.atomic
def run_create(*, owner, spec: RunSpec | None = None, submit: bool = True,
               **data: Any) -> Run:
    """Store a run, then hand it to the runner once the transaction commits.

    Give a :class:`RunSpec` (the form and the API build one), or its plain data as keywords
    (``config``, ``workload``, ``label``, ``public``, ``speed``, and ``variants`` (2 to 8
    overrides of L0's policy and/or capacity) with ``with_opt`` for a comparison), which is
    validated here. What needs the database is checked here too: the trace must be visible
    to ``owner``, OPT needs a finite workload, the run must fit :data:`MAX_WINDOWS` windows.
    Raises :class:`Invalid` naming every bad field (``config.…``, ``workload.…``,
    ``variants[i].…``, ``label``, ``speed``); nothing is stored then.
    """
    if spec is None:
        spec = run_spec(data)
    elif data:
        raise TypeError(f"give a spec or its data, not both: {sorted(data)}")
    base = spec.config
    stored_workload = spec.stored_workload()
    trace = None
    trace_src = None
    if isinstance(spec.workload, TraceSpec):
        trace = trace_get_visible(owner, spec.workload.trace_id)
        if trace is None:
            raise Invalid("no such trace in your library", field="workload.trace_id")
        stored_workload.update(name=trace.name, unit_pages=base.unit_pages)
        trace_src = trace_source(trace, unit_pages=base.unit_pages)
    source = workload_source(stored_workload, trace_src)
    total = source.length
    _check_fits(spec, source.finite, total)
    stored_config = spec.stored_config()
    if spec.variants is not None:  # the lines of the comparison, by role (docs/metrics.md)
        stored_config["series"] = [s.to_dict() for s in series_plan(
            spec.variants, with_opt=spec.with_opt and source.finite)]
    run = Run.objects.create(
        owner=owner,
        label=spec.label or spec.default_label()[:200],
        public=spec.public,
        kind=Run.Kind.COMPARE if spec.is_compare else Run.Kind.SINGLE,
        config=stored_config,
        workload=stored_workload,
        trace=trace,
        total=total,
        progress=0.0 if total else None,
        speed=spec.speed,
        runner=runners.get_runner().name if submit else "",
    )
    if submit:
        run_id = run.pk
        transaction.on_commit(lambda: runners.get_runner().submit(run_id))
    return run


def _check_fits(spec: RunSpec, finite: bool, total: int | None) -> None:
    """What depends on the workload's length: OPT needs the future, and a run charts at most
    :data:`MAX_WINDOWS` windows."""
    if not finite:
        if spec.variants is None and needs_future(spec.config):
            raise Invalid("OPT (Belady) needs the whole future: give the workload a length",
                          field="config.tiers[0].policy")
        for i, variant in enumerate(spec.variants or ()):
            if needs_future(variant.config):
                raise Invalid("OPT needs a finite workload", field=f"variants[{i}].policy")
    if total:
        windows = math.ceil(total / spec.config.window_accesses)
        if windows > MAX_WINDOWS:
            least = math.ceil(total / MAX_WINDOWS)
            raise Invalid(
                f"{windows:,} windows is too many to chart; use at least {least:,} accesses "
                f"per window for {total:,} accesses", field="config.window_accesses",
            )


# --- controlling runs ---------------------------------------------------------------------


def run_control(*, run: Run, user, action: Any, speed: Any = None) -> Run:
    """Ask a run to pause, resume, take one step (one window, pausing first), stop, or change
    speed. Only the owner may (:class:`Forbidden` otherwise); a run that is over answers
    :class:`Conflict`. The executor carries it out within a tick."""
    if run.owner_id != getattr(user, "pk", None):
        raise RunPermissionError("only the owner of a run can control it")
    if action not in ACTIONS:
        raise Invalid(f"unknown action {show(action)}; use one of {', '.join(ACTIONS)}",
                      field="action")
    updates: dict[str, Any] = {}
    if action == "speed":
        try:
            updates["speed"] = RUN_PARAMS["speed"].check(speed, "speed")
        except ConfigError as exc:
            raise Invalid.from_config(exc) from None
    elif run.is_done:
        raise Conflict(f"the run is already {run.status}", field="action")
    elif action == "pause":
        updates["desired"] = Run.Desired.PAUSED
    elif action == "resume":
        updates["desired"] = Run.Desired.RUNNING
    elif action == "step":
        updates["desired"] = Run.Desired.PAUSED
        updates["step_requests"] = F("step_requests") + 1
    elif action == "stop":
        updates["desired"] = Run.Desired.STOPPED
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(**updates, updated_at=timezone.now())
        if action == "stop":
            # a run no runner has picked up yet stops at once
            stopped = Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
                status=Run.Status.STOPPED, finished_at=timezone.now()
            )
        else:
            stopped = 0
    run.refresh_from_db()
    if stopped:
        runners.publish(run.pk, _status_message(run))
    elif action == "speed":
        runners.publish(run.pk, {"type": "status", "status": run.status, "speed": run.speed})
    return run


def run_again(*, run: Run, user) -> Run:
    """A new run of ``user``'s run ``run`` with the same configuration, workload, label and
    speed (a finished, stopped, failed or interrupted one). Validated like any new run: a
    deleted trace gives :class:`Invalid` on ``workload.trace_id``."""
    if run.owner_id != getattr(user, "pk", None):
        raise RunPermissionError("only the owner of a run can start it again")
    if not run.is_done:
        raise Conflict(f"the run is still {run.status}", field="action")
    workload = {key: value for key, value in run.workload.items()
                if key in ("kind", "name", "params", "trace_id", "unit_pages", "pages",
                           "tokens", "sessions")}
    if run.kind == Run.Kind.COMPARE:
        base = run.config["base"]
        base_l0 = base["tiers"][0]
        variants = []
        for variant in run.config["variants"]:
            l0 = variant["config"]["tiers"][0]
            item: dict[str, Any] = {"label": variant["label"],
                                    "capacity_tokens": l0["capacity_tokens"]}
            if l0["policy"] != base_l0["policy"]:
                item["policy"] = l0["policy"]
            variants.append(item)
        return run_create(owner=user, config=base, workload=workload, label=run.label,
                          variants=variants, with_opt=run.config.get("with_opt", True),
                          speed=run.speed)
    return run_create(owner=user, config=run.config, workload=workload, label=run.label,
                      speed=run.speed)


def run_set_public(*, run: Run, user, public: bool) -> Run:
    if run.owner_id != getattr(user, "pk", None):
        raise RunPermissionError("only the owner of a run can share it")
    Run.objects.filter(pk=run.pk).update(public=bool(public))
    run.public = bool(public)
    # viewers who are not the owner lose the live view of a run made private
    runners.publish(run.pk, {"type": "visibility", "public": run.public},
                    private=not run.public)
    return run


def run_delete(*, run: Run, user) -> None:
    if run.owner_id != getattr(user, "pk", None):
        raise RunPermissionError("only the owner of a run can delete it")
    Run.objects.filter(pk=run.pk).update(desired=Run.Desired.STOPPED)
    run.delete()


# --- runs whose server stopped (LocalRunner) ------------------------------------------------

TRACE_DELETED_ERROR = ("the trace of this run was deleted from the library; upload it again "
                       "to replay it")
INTERRUPTED_ERROR = "the server stopped while this run was executing; start it again"


def run_heartbeat(*, run_ids: set[int] | list[int]) -> int:
    """Stamp the heartbeat of the local runs this process holds (queued or executing)."""
    if not run_ids:
        return 0
    return Run.objects.filter(pk__in=list(run_ids), status__in=Run.ACTIVE).update(
        heartbeat_at=timezone.now())


def run_recover_interrupted(*, stale_s: float, exclude: set[int] | None = None,
                            publisher: Publisher | None = None) -> list[int]:
    """Mark as interrupted the runs of the embedded runner (``runner == "local"``) still
    queued, running or paused whose heartbeat (or creation, if they never had one) is older
    than ``stale_s`` seconds: no live server process holds them any more. ``exclude``: the
    runs this process holds. Runs of Celery workers are never touched (a worker may be alive
    and its runs are not heartbeated). Returns the ids marked."""
    cutoff = timezone.now() - timedelta(seconds=stale_s)
    stale = (Run.objects.filter(runner="local", status__in=Run.ACTIVE)
             .filter(Q(heartbeat_at__lt=cutoff)
                     | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
             .exclude(pk__in=list(exclude or ())))
    marked: list[int] = []
    for run_id in stale.values_list("pk", flat=True):
        # the status filter again: a run that finished in the meantime keeps its result
        changed = Run.objects.filter(pk=run_id, status__in=Run.ACTIVE).update(
            status=Run.Status.INTERRUPTED, error=INTERRUPTED_ERROR,
            finished_at=timezone.now(), updated_at=timezone.now(),
        )
        if changed:
            marked.append(run_id)
    if marked:
        logger.warning("marked %d run(s) interrupted (their server stopped): %s",
                       len(marked), ", ".join(map(str, marked)))
        for run in Run.objects.filter(pk__in=marked):
            (publisher or runners.publish)(run.pk, _status_message(run))
    return marked


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


def _status_message(run: Run, **extra: Any) -> dict[str, Any]:
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
    (publisher or runners.publish)(run.pk, _status_message(run))


class _Execution:
    """The state of one executing run: frames, pacing and controls (see run_execute)."""

    def __init__(self, run: Run, driver: Driver, publisher: Publisher) -> None:
        self.run = run
        self.driver = driver
        self.publish = publisher
        self.seq = run.seq
        self.last_frame = 0.0
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

    def finish(self, status: str, error: str = "") -> None:
        self.frame()
        driver = self.driver
        results = {label: r.to_dict() for label, r in driver.results().items()}
        if self.run.kind == Run.Kind.COMPARE:
            result: dict[str, Any] = {"rows": compare_rows(driver), "results": results}
        else:
            result = next(iter(results.values()))
        regret = status == Run.Status.FINISHED and self.run.kind == Run.Kind.SINGLE
        if regret:
            result["regret_pending"] = True  # for the viewers: the final figures follow
        _set_status(
            self.run, status, result=result, error=error, finished_at=timezone.now(),
            progress=self.progress(), accesses=driver.index,
        )
        self.publish(self.run.pk, _status_message(self.run))
        if regret:
            try:
                run_add_regret(run=self.run, publisher=self.publish)
            except Exception:  # the run itself is finished and stored: keep it so
                logger.exception("could not compute the regret of run %s", self.run.pk)

    def set_status(self, status: str) -> None:
        if self.run.status != status:
            _set_status(self.run, status)
            self.publish(self.run.pk, _status_message(self.run, eta_s=self.eta_s()))

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
    (publisher or runners.publish)(run.pk, _status_message(run))
    return result


def run_execute(*, run_id: int, publisher: Publisher | None = None) -> None:
    """Execute a queued run to its end (finished, stopped or failed), storing its windows and
    publishing frames. Called by the LocalRunner's threads and by the Celery task."""
    publisher = publisher or runners.publish
    run = Run.objects.select_related("trace").filter(pk=run_id).first()
    if run is None or run.status != Run.Status.QUEUED:
        return
    if run.desired == Run.Desired.STOPPED:
        _set_status(run, Run.Status.STOPPED, finished_at=timezone.now())
        publisher(run.pk, _status_message(run))
        return
    try:
        driver = run_driver(run)
    except (VMemError, OSError) as exc:
        run_fail(run=run, error=str(exc), publisher=publisher)
        return
    _set_status(run, Run.Status.RUNNING, started_at=timezone.now())
    publisher(run.pk, _status_message(run))
    execution = _Execution(run, driver, publisher)
    try:
        execution.loop()
    except VMemError as exc:
        run_fail(run=run, error=str(exc), publisher=publisher)
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        run_fail(run=run, error=f"internal error: {type(exc).__name__}: {exc}",
                 publisher=publisher)
