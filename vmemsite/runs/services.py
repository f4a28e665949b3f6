"""Services: every write to the lab's state goes through a function here.

Convention (HackSoft Django Styleguide): writes live in ``services.py``, reads in
``selectors.py``, functions are named ``<entity>_<action>`` (``run_create``, ``run_control``),
take keyword arguments, and hold the business logic. Views, forms, consumers and Celery tasks
stay thin and call them; no business logic in ``save()`` or signals.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from simulator.engine.compare import needs_future, series_plan
from simulator.engine.errors import ConfigError
from simulator.engine.params import show
from vmemsite.errors import Conflict, Forbidden, Invalid
from vmemsite.traces.selectors import trace_get_visible, trace_source

from . import runners
from .executor import (  # noqa: F401  (the executor's services, re-exported for callers)
    INTERRUPTED_ERROR,
    MAX_WINDOWS,
    TRACE_DELETED_ERROR,
    interrupt_if_lost,
    publish,
    run_add_regret,
    run_driver,
    run_execute,
    run_fail,
    run_heartbeat,
    run_recover_interrupted,
    status_message,
)
from .models import Run
from .specs import (
    MAX_WINDOW_ACCESSES,
    RUN_PARAMS,
    RunSpec,
    TraceSpec,
    expected_accesses,
    run_spec,
    workload_source,
)

logger = logging.getLogger(__name__)

ACTIONS = ("pause", "resume", "step", "stop", "speed")


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
    total, bound = expected_accesses(stored_workload, source.length, base.page_size,
                                     base.unit_pages, trace.total_tokens if trace else None)
    if bound:  # the page says "about"; the run's end sets the count
        stored_workload["total_is_bound"] = True
    _check_fits(spec, source.finite, total)
    stored_config = spec.stored_config()
    if spec.variants is not None:  # the lines of the comparison, by role (docs/metrics.md)
        stored_config["series"] = [s.to_dict() for s in series_plan(
            spec.variants, with_opt=spec.with_opt and source.finite)]
    run = Run.objects.create(
        owner=owner,
        label=spec.label or spec.default_label(stored_workload)[:200],
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
            if least > MAX_WINDOW_ACCESSES:
                raise Invalid(
                    f"{total:,} accesses is too long to chart even at "
                    f"{MAX_WINDOW_ACCESSES:,} accesses per window: use a larger page size or "
                    f"a shorter workload",
                    field="config.page_size" if spec.config.page_size else "workload")
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
    run = interrupt_if_lost(run)  # a run whose worker died says so, instead of waiting
    if action == "speed":
        try:
            updates["speed"] = RUN_PARAMS["speed"].check(speed, "speed")
        except ConfigError as exc:
            raise Invalid.from_config(exc) from None
    elif run.is_done:
        reason = f" ({run.error})" if run.status == Run.Status.INTERRUPTED else ""
        raise Conflict(f"the run is already {run.status}{reason}", field="action")
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
        publish(run.pk, status_message(run))
    elif action == "speed":
        publish(run.pk, {"type": "status", "status": run.status, "speed": run.speed})
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
    publish(run.pk, {"type": "visibility", "public": run.public},
                    private=not run.public)
    return run


def run_delete(*, run: Run, user) -> None:
    if run.owner_id != getattr(user, "pk", None):
        raise RunPermissionError("only the owner of a run can delete it")
    Run.objects.filter(pk=run.pk).update(desired=Run.Desired.STOPPED)
    run.delete()


