"""Writes of sweeps (docs/sweeps.md): create a grid of miss-ratio cells, compute them in
parallel, record each exactly once, re-run the failed ones.

A cell is the engine's :class:`~simulator.engine.mrc.Cell` (plain data, a pure function of its
fields): the misses of one policy at one cache size, in pages, on one trace, by the engine's
own simulation. Where the cells run:

* **local** (the embedded default): a process pool of this server, one process per core
  (``VMEM_SWEEP_PROCESSES``; processes, because threads would share one interpreter lock). A
  thread of the server hands the cells to the pool and writes each result as it comes; a
  process that dies (killed, out of memory) breaks the pool: its cells are submitted again to
  a fresh pool, up to :data:`MAX_ATTEMPTS` times each, then marked failed.
  When the server process exits (SIGTERM), the cells under way stop within a fraction of
  a second and every cell not done fails as interrupted (re-run them), instead of the exit
  waiting for them. A server killed outright leaves its sweeps' heartbeat stale: the next
  server's housekeeping fails their cells as interrupted (:class:`SweepKeeper`).
* **celery** (``VMEM_RUNNER=celery``): one task per cell in a Celery group whose chord
  callback closes the sweep. Tasks are acknowledged late and rejected when their worker is
  lost, so a worker killed mid-cell leaves the cell to another worker.

A cell runs for at most ``VMEM_SWEEP_CELL_SECONDS`` (else it fails and says so).

Every write of a result is conditioned on the cell not being done yet, so a cell computed
twice (a retry after a lost acknowledgement) is counted once.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from simulator.engine.errors import ConfigError, Stopped, TimeLimitExceeded, VMemError
from simulator.engine.mrc import (
    UNREFINED_MIN_PAGES,
    Cell,
    log_sizes,
    point_rate,
    sampled_or_exact,
    source_spec,
)
from simulator.engine.policies import make_policy, policy_names, policy_parameters
from vmemsite.errors import Conflict, Invalid, NotFound
from vmemsite.live import workers
from vmemsite.text import has_control_characters
from vmemsite.traces.models import Trace
from vmemsite.traces.selectors import trace_get_visible, trace_source

from .cells import compute_cell, init_worker
from .models import Sweep, SweepCell
from .selectors import sweep_variants

logger = logging.getLogger(__name__)

#: the most cells of one sweep (bounds its rows, its page and its work)
MAX_CELLS = 2000
MAX_TRACES, MAX_POLICIES, MAX_SIZES = 8, 24, 50  # every registered policy fits (18)
MAX_SIZE = 10**9
#: an axis: one policy parameter at 2 to this many values
MAX_AXIS_VALUES = 10
#: a cell is tried at most this many times (a killed process, a lost worker) before it fails
MAX_ATTEMPTS = 3
_DONE = SweepCell.Status.DONE
#: a cell still to compute
_PENDING = (SweepCell.Status.QUEUED, SweepCell.Status.RUNNING)


def _clean_policies(policies: Any) -> list[str]:
    known = policy_names()
    if not isinstance(policies, list) or not policies or len(policies) > MAX_POLICIES:
        raise Invalid(f"choose 1 to {MAX_POLICIES} policies", field="policies")
    out = []
    for name in policies:
        value = str(name).strip().lower() if isinstance(name, str) else ""
        if value not in known:
            raise Invalid(f"unknown policy {str(name)[:40]!r} (known: {', '.join(known)})",
                          field="policies")
        if value not in out:
            out.append(value)
    return out


def clean_sizes(sizes: Any) -> list[int]:
    """Cache sizes in pages: a list of integers, or text such as ``100, 1000 10000``."""
    if isinstance(sizes, str):
        parts = sizes.replace(",", " ").split()
        if not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts):
            raise Invalid("expected whole numbers of pages separated by commas, such as "
                          "100, 1000, 10000", field="sizes")
        sizes = [int(p) for p in parts]
    if (not isinstance(sizes, list) or not sizes or len(sizes) > MAX_SIZES
            or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= MAX_SIZE
                   for s in sizes)):
        raise Invalid(f"give 1 to {MAX_SIZES} cache sizes, each from 1 to {MAX_SIZE:,} pages",
                      field="sizes")
    return sorted(set(sizes))


def _float_of(text: str) -> float | None:
    """A number typed in a form (``0.1``, ``1e-3``) in ASCII digits, as every other number of
    the form is, or None for anything else (``float`` alone would take Arabic-Indic digits
    or "1_0")."""
    if not text.isascii() or "_" in text or len(text) >= 40:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def clean_relative_sizes(spec: Any) -> dict[str, Any]:
    """Sizes relative to each trace's footprint (its distinct pages): ``{"count": N,
    "low_percent": P}``, N sizes log-spaced from P % of the footprint to all of it."""
    if not isinstance(spec, dict) or set(spec) - {"count", "low_percent"}:
        raise Invalid('relative sizes are {"count": N, "low_percent": P}', field="sizes")
    count, low = spec.get("count", 20), spec.get("low_percent", 0.1)
    if isinstance(count, str):
        count = int(count) if count.strip().isdigit() and len(count) < 6 else None
    if isinstance(low, str):
        low = _float_of(low)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_SIZES:
        raise Invalid(f"give 1 to {MAX_SIZES} sizes", field="sizes")
    if (isinstance(low, bool) or not isinstance(low, int | float) or not math.isfinite(low)
            or not 0 < low <= 100):
        raise Invalid("the smallest size is a percentage of the footprint in (0, 100], "
                      "such as 0.1", field="sizes")
    return {"count": count, "low_percent": float(low)}


def _sizes_of(trace: Any, sizes: list[int], relative: dict[str, Any]) -> list[int]:
    """The sizes of a trace's cells: the sizes given, or those relative to its footprint."""
    if not relative:
        return sizes
    return log_sizes(max(1, int(trace.distinct_pages)), relative["count"],
                     relative["low_percent"] / 100)


#: sampling rates a sweep takes: below the lowest a sample is a handful of pages' hashes
#: (rates are rounded to 1/2**24), from 1/2 up every cell would be exact anyway
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 0.0001, 0.5


def clean_sample_rate(rate: Any) -> float | None:
    """A sampling rate from MIN_SAMPLE_RATE to below MAX_SAMPLE_RATE (text or a number), or
    None (blank): exact cells."""
    if rate is None or (isinstance(rate, str) and not rate.strip()):
        return None
    if isinstance(rate, str):
        rate = _float_of(rate)
    if (isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate)
            or not MIN_SAMPLE_RATE <= rate < MAX_SAMPLE_RATE):
        raise Invalid(f"a sampling rate is a fraction from {MIN_SAMPLE_RATE:g} to below "
                      f"{MAX_SAMPLE_RATE:g}, such as 0.01 (blank: exact)", field="sample")
    return float(rate)


def _axis_value(text: str) -> bool | int | float:
    """One value of an axis typed as text: true/false, a whole number or a decimal one."""
    word = text.strip().lower()
    if word in ("true", "false"):
        return word == "true"
    if word.lstrip("+-").isascii() and word.lstrip("+-").isdigit() and len(word) < 40:
        return int(word)
    value = _float_of(word)
    if value is None:
        raise Invalid(f"{text[:40]!r} is not a number (nor true or false)", field="axis")
    return value


def _storable(value: Any) -> bool:
    """A JSON scalar every database stores as it is: a boolean, an integer of 64 bits, or a
    finite float."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def clean_axis(axis: Any, policies: list[str]) -> dict[str, Any]:
    """An axis over one parameter of the policies (docs/sweeps.md): ``{"param": name,
    "values": [...]}`` with 2 to MAX_AXIS_VALUES values (a list, or text such as ``0.05,
    0.1, 0.2``), each one a value every policy of ``policies`` with that parameter accepts.
    None or an empty param: no axis ({})."""
    if axis is None or axis == {}:
        return {}
    if not isinstance(axis, dict) or set(axis) - {"param", "values"}:
        raise Invalid('an axis is {"param": name, "values": [...]}', field="axis")
    param = axis.get("param")
    if param is None or (isinstance(param, str) and not param.strip()):
        return {}
    param = param.strip() if isinstance(param, str) else ""
    takers = [p for p in policies if param in policy_parameters(p)]
    if not takers:
        offered = sorted({name for p in policies for name in policy_parameters(p)})
        raise Invalid(f"none of the chosen policies has a parameter {param[:64]!r} "
                      f"(theirs: {', '.join(offered) or 'none'})", field="axis")
    raw = axis.get("values")
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list) or len(raw) > 4 * MAX_AXIS_VALUES:
        raise Invalid(f"give 2 to {MAX_AXIS_VALUES} values of {param}", field="axis")
    raw = [_axis_value(v) if isinstance(v, str) else v for v in raw]
    if not all(_storable(v) for v in raw):
        raise Invalid("the values of an axis are finite numbers (or true and false)",
                      field="axis")
    values = list(dict.fromkeys(raw))
    if not 2 <= len(values) <= MAX_AXIS_VALUES:
        raise Invalid(f"give 2 to {MAX_AXIS_VALUES} different values of {param}",
                      field="axis")
    for policy in takers:
        for value in values:
            try:
                make_policy(policy, 1, **{param: value})
            except ConfigError as exc:
                raise Invalid(f"{param} = {value!r}: {exc.message}", field="axis") from None
    return {"param": param, "values": values}


def _clean_traces(owner: AbstractBaseUser, trace_ids: Any) -> list[Trace]:
    """1 to MAX_TRACES distinct traces the owner can see, by id (integers, not booleans)."""
    ids = list(trace_ids) if not isinstance(trace_ids, str | bytes) else []
    if not ids or len(ids) > MAX_TRACES:
        raise Invalid(f"choose 1 to {MAX_TRACES} traces", field="traces")
    traces = []
    for raw in ids:
        trace = trace_get_visible(owner, raw) if isinstance(raw, int) and not isinstance(
            raw, bool) else None
        if trace is None:
            raise Invalid(f"no such trace: {str(raw)[:40]}", field="traces")
        if trace not in traces:
            traces.append(trace)
    return traces


def _clean_name(name: Any) -> str:
    """The name as typed, spaces collapsed, at most 200 characters ("" for the default)."""
    name = " ".join(str(name or "").split())[:200]
    if has_control_characters(name):
        raise Invalid("the name has control characters (such as NUL): use printable text",
                      field="name")
    return name


def sweep_create(
    *, owner: AbstractBaseUser, trace_ids: Iterable[Any], policies: Any, sizes: Any,
    name: str = "", axis: Any = None, sample: Any = None,
) -> Sweep:
    """Create a sweep over traces the owner can see and start it (bad input: Invalid naming
    ``traces``, ``policies``, ``sizes``, ``axis``, ``sample`` or ``name``). ``sizes`` are
    pages (a list, or text) or, as ``{"count": N, "low_percent": P}``, relative to each
    trace's footprint. ``sample``: a rate to sample pages at (docs/mrc.md §4; a cell's rate
    is raised so that its miniature cache holds UNREFINED_MIN_PAGES pages, and from 1/2 up the
    cell is exact), None for exact cells."""
    problems: list[Invalid] = []

    def checked(clean: Any, *args: Any) -> Any:
        """``clean(*args)``, or None with its problem kept: every field is named at once."""
        try:
            return clean(*args)
        except Invalid as exc:
            problems.append(exc)
            return None

    traces = checked(_clean_traces, owner, trace_ids)
    policies = checked(_clean_policies, policies)
    relative = checked(clean_relative_sizes, sizes) if isinstance(sizes, dict) else {}
    plain = [] if isinstance(sizes, dict) else checked(clean_sizes, sizes)
    axis = checked(clean_axis, axis, policies) if policies is not None else None
    sample = checked(clean_sample_rate, sample)
    name = checked(_clean_name, name)
    if problems:
        raise Invalid.of(problems)
    by_trace = {trace.pk: _sizes_of(trace, plain, relative) for trace in traces}
    sizes = sorted({size for chosen in by_trace.values() for size in chosen})
    variants = sweep_variants(policies, axis)
    cells = len(variants) * sum(len(chosen) for chosen in by_trace.values())
    if cells > MAX_CELLS:
        raise Invalid(f"{cells:,} cells is more than the limit of {MAX_CELLS:,}: fewer sizes, "
                      f"policies{' or values' if axis else ''}", field="sizes")
    name = name or (f"{', '.join(t.name for t in traces)[:150]}, {len(policies)} "
                    f"polic{'y' if len(policies) == 1 else 'ies'}")
    backend = "celery" if getattr(settings, "VMEM_RUNNER", "local") == "celery" else "local"
    with transaction.atomic():
        sweep = Sweep.objects.create(owner=owner, name=name, policies=policies, sizes=sizes,
                                     relative_sizes=relative, axis=axis, sample_rate=sample,
                                     backend=backend, heartbeat_at=timezone.now())
        SweepCell.objects.bulk_create(
            SweepCell(sweep=sweep, trace=trace, trace_ref=trace.pk, trace_name=trace.name,
                      policy=policy, params=params, size=size,
                      sample_rate=_cell_rate(size, sample))
            for trace in traces for policy, params in variants for size in by_trace[trace.pk])
        transaction.on_commit(lambda: _dispatch(sweep))
    return sweep


def _cell_rate(size: int, sample: float | None) -> float | None:
    """A cell's sampling rate (None: exact): the sweep's, raised for small sizes."""
    if sample is None:
        return None
    return sampled_or_exact(point_rate(size, sample, UNREFINED_MIN_PAGES))


def sweep_retry_failed(*, sweep: Sweep, user: AbstractBaseUser) -> int:
    """Queue the failed cells again (their attempts start over); returns how many."""
    if sweep.owner_id != user.pk:
        raise NotFound("no such sweep")
    with transaction.atomic():
        count = sweep.cells.filter(status=SweepCell.Status.FAILED).update(
            status=SweepCell.Status.QUEUED, attempts=0, error="")
        if not count:
            raise Conflict("no failed cell to re-run")
        Sweep.objects.filter(pk=sweep.pk).update(finished_at=None, cancelled=False,
                                                 heartbeat_at=timezone.now())
        transaction.on_commit(lambda: _dispatch(sweep))
    return count


def sweep_cancel(*, sweep: Sweep, user: AbstractBaseUser) -> int:
    """Cancel the sweep: its cells not started yet fail as cancelled (returns how many); on
    the embedded pool the cells under way stop too, within :data:`_CANCEL_POLL_S` (its runner
    watches the flag), while Celery workers finish theirs. A sweep with no cell queued or
    running has nothing to cancel (Conflict)."""
    if sweep.owner_id != user.pk:
        raise NotFound("no such sweep")
    with transaction.atomic():
        if not sweep.cells.filter(status__in=_PENDING).exists():
            raise Conflict("nothing to cancel: every cell has finished")
        count = sweep.cells.filter(status=SweepCell.Status.QUEUED).update(
            status=SweepCell.Status.FAILED, error=CANCELLED)
        Sweep.objects.filter(pk=sweep.pk).update(cancelled=True)
    sweep_close(sweep.pk)
    return count


def sweep_close(sweep_id: int) -> None:
    """Mark the sweep finished once no cell is queued or running (idempotent)."""
    pending = SweepCell.objects.filter(sweep_id=sweep_id, status__in=_PENDING).exists()
    if not pending:
        Sweep.objects.filter(pk=sweep_id, finished_at__isnull=True).update(
            finished_at=timezone.now())


# --- one cell ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellTask:
    """What a process computes for one sweep cell: the engine cell (``spec``), and for an
    exact LRU cell ``curve``, the LRU cells of its sweep and trace still to compute (size ->
    cell id, itself included), whose misses one pass of stack distances gives at once."""

    spec: dict[str, Any]
    curve: dict[int, int] = field(default_factory=dict)

    @property
    def curve_sizes(self) -> list[int] | None:
        return sorted(self.curve) if len(self.curve) > 1 else None


def _is_exact_lru(cell: SweepCell) -> bool:
    """LRU at its defaults, not sampled: a cell one pass of stack distances computes."""
    return cell.policy == "lru" and not cell.params and cell.sample_rate is None


def _exact_lru_among(cells: QuerySet[SweepCell]) -> list[SweepCell]:
    candidates = cells.filter(policy="lru", sample_rate__isnull=True)
    return [c for c in candidates.only("pk", "size", "trace_ref", "params") if _is_exact_lru(c)]


def _lru_curve_cells(cell: SweepCell) -> dict[int, int]:
    """Size -> id of the exact LRU cells of ``cell``'s sweep and trace not computed yet."""
    pending = SweepCell.objects.filter(sweep_id=cell.sweep_id, trace_ref=cell.trace_ref,
                                       status__in=_PENDING)
    curve = {int(s.size): s.pk for s in _exact_lru_among(pending)}
    curve[int(cell.size)] = cell.pk
    return curve


def cell_spec(cell_id: int) -> CellTask | None:
    """The task of a queued or running sweep cell, marked running (an attempt more); None
    when it is done already, gone, or its trace was deleted (then it is failed)."""
    with transaction.atomic():
        cell = (SweepCell.objects.select_for_update(of=("self",)).select_related("trace")
                .filter(pk=cell_id).first())
        if cell is None or cell.status == _DONE:
            return None
        if cell.trace is None:
            _fail(cell_id, "the trace was deleted")
            return None
        # update() leaves auto_now alone: the time it started is set here, for the page's
        # "running now" (sweep_state)
        SweepCell.objects.filter(pk=cell_id).update(status=SweepCell.Status.RUNNING,
                                                    attempts=F("attempts") + 1,
                                                    updated_at=timezone.now())
        source = trace_source(cell.trace, unit_pages=True)
        curve = _lru_curve_cells(cell) if _is_exact_lru(cell) else {}
    spec = Cell(source_spec(source), cell.policy, int(cell.size), unit_pages=True,
                params=dict(cell.params), rate=cell.sample_rate).to_dict()
    return CellTask(spec, curve)


def cell_record(cell_id: int, result: dict[str, Any], curve: dict[int, int] | None = None
                ) -> bool:
    """Store a cell's result unless it is stored already; True if this call stored it. The
    points of an LRU ``curve`` in the result (``compute_cell``) are stored for the cells
    ``curve`` names (size -> id) that are still queued or running."""
    result = dict(result)
    points = result.pop("curve", None) or []
    stored = bool(SweepCell.objects.filter(pk=cell_id).exclude(status=_DONE).update(
        status=_DONE, error="", **result))
    for point in points:
        other = (curve or {}).get(point["size"])
        if other is not None and other != cell_id:
            fields = {key: value for key, value in point.items() if key != "size"}
            SweepCell.objects.filter(pk=other, status__in=_PENDING).update(
                status=_DONE, error="", **fields)
    return stored


def _fail(cell_id: int, message: str) -> None:
    SweepCell.objects.filter(pk=cell_id).exclude(status=_DONE).update(
        status=SweepCell.Status.FAILED, error=message[:1000])


def _fail_with(cell_id: int, exc: BaseException) -> None:
    """Fail a cell with the engine's error as its owner may read it: a trace deleted while
    the cell ran says so, and no path of this server shows."""
    if not SweepCell.objects.filter(pk=cell_id, trace__isnull=False).exists():
        _fail(cell_id, "the trace was deleted")
    else:
        _fail(cell_id, str(exc).replace(str(Path(settings.DATA_DIR)), "…"))


def cell_execute(cell_id: int) -> None:
    """Compute and store one cell in this process (a Celery task's body)."""
    task = cell_spec(cell_id)
    if task is None:
        return
    try:
        cell_record(cell_id, compute_cell(task.spec, cell_seconds(), task.curve_sizes),
                    task.curve)
    except (VMemError, OSError) as exc:
        _fail_with(cell_id, exc)
    except Exception as exc:  # a bug in one cell must not leave it running forever
        logger.exception("sweep cell %s failed", cell_id)
        _fail(cell_id, f"internal error: {type(exc).__name__}")


# --- where cells run ---------------------------------------------------------------------


def _dispatch(sweep: Sweep) -> None:
    cells = list(sweep.cells.filter(status=SweepCell.Status.QUEUED).values_list("pk",
                                                                               flat=True))
    if sweep.backend == Sweep.Backend.CELERY:
        _send_to_celery(sweep.pk, cells)
        return
    sweep_pool().submit(sweep.pk, lambda: _run_locally(sweep.pk, cells))


#: local sweeps computing at once in one server process (each on a process pool of its own);
#: the others wait their turn, their cells queued
RUNNERS = 4
_pool: workers.WorkerPool | None = None
_pool_lock = threading.Lock()


def sweep_pool() -> workers.WorkerPool:
    """This process's runners of local sweeps: they hold their sweeps, which the server's
    housekeeping heartbeats (:class:`SweepKeeper`)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = workers.WorkerPool(SweepKeeper(), RUNNERS, "sweep")
        return _pool


class SweepKeeper:
    """Heartbeats of the local sweeps a server process computes, and the sweeps a process
    that died left behind (SIGKILL, a crash, out of memory): their cells queued or running
    fail as interrupted, to be re-run (a :class:`vmemsite.live.workers.Keeper`). Celery cells
    need none of this: the broker redelivers a lost worker's cells."""

    def beat(self, ids: set[int]) -> None:
        Sweep.objects.filter(pk__in=list(ids)).update(heartbeat_at=timezone.now())

    def sweep(self, exclude: set[int]) -> list[int]:
        return sweep_recover_interrupted(stale_s=workers.stale_s(), exclude=exclude)

    def abandon(self, ids: set[int]) -> None:
        _interrupt(list(ids))


def sweep_recover_interrupted(*, stale_s: float, exclude: set[int] | None = None) -> list[int]:
    """Fail as interrupted the queued and running cells of the local sweeps whose heartbeat
    (or, without one, creation) is older than ``stale_s`` seconds — no live process computes
    them — except ``exclude`` (the sweeps this process holds). Returns the sweeps' ids."""
    cutoff = timezone.now() - timedelta(seconds=stale_s)
    stale = (Sweep.objects.filter(backend=Sweep.Backend.LOCAL, cells__status__in=_PENDING)
             .filter(Q(heartbeat_at__lt=cutoff)
                     | Q(heartbeat_at__isnull=True, created_at__lt=cutoff))
             .exclude(pk__in=list(exclude or ())).values_list("pk", flat=True).distinct())
    marked = _interrupt(list(stale))
    if marked:
        logger.warning("sweep(s) %s: their server stopped; cells left failed as interrupted",
                       ", ".join(map(str, marked)))
    return marked


def _interrupt(sweep_ids: list[int]) -> list[int]:
    """Fail the queued and running cells of these sweeps as interrupted and close them."""
    marked = []
    for sweep_id in sweep_ids:
        if SweepCell.objects.filter(sweep_id=sweep_id, status__in=_PENDING).update(
                status=SweepCell.Status.FAILED, error=INTERRUPTED):
            marked.append(sweep_id)
        sweep_close(sweep_id)
    return marked


def _send_to_celery(sweep_id: int, cell_ids: list[int]) -> None:
    """The cells as a Celery group with the chord that closes the sweep when all are back
    (tasks named, not imported: tasks.py imports this module)."""
    from celery import chord

    from vmemsite.celery import app

    if not cell_ids:
        sweep_close(sweep_id)
        return
    chord(app.signature("sweeps.cell", args=[cell_id]) for cell_id in cell_ids)(
        app.signature("sweeps.close", args=[sweep_id]))


def processes() -> int:
    return max(1, int(getattr(settings, "VMEM_SWEEP_PROCESSES", 0) or os.cpu_count() or 1))


def cell_seconds() -> float:
    """A cell's time bound: the setting, whose default lives in settings/base.py alone."""
    return float(settings.VMEM_SWEEP_CELL_SECONDS)


#: what a cell that a stopping server did not finish says
INTERRUPTED = "interrupted: the server stopped before this cell was done (re-run it)"
#: what a cancelled cell says
CANCELLED = "cancelled"
#: how often a pool's runner looks whether its sweep was cancelled, while cells run (s)
_CANCEL_POLL_S = 0.5
_exiting = threading.Event()  # this process is shutting down
_stop_events: set[Any] = set()  # one per live pool: its worker processes watch it
_runners: set[threading.Thread] = set()  # the threads handing cells to pools
_runners_lock = threading.Lock()
_EXIT_GRACE_S = 5.0


def _on_exit() -> None:
    """Before the interpreter joins its threads (and the process pools their running work):
    ask every running cell to stop, and give the runner threads a moment to mark what is
    left as interrupted."""
    _exiting.set()
    with _runners_lock:
        stops, runners = list(_stop_events), list(_runners)
    for stop in stops:
        stop.set()
    deadline = time.monotonic() + _EXIT_GRACE_S
    for runner in runners:
        runner.join(max(0.0, deadline - time.monotonic()))


# ``threading._register_atexit`` (what ``concurrent.futures`` itself uses) runs hooks before
# the interpreter joins its threads and the process pools wait for the cells under way; an
# ``atexit`` hook would run only after that wait. Hooks run last registered first, so this
# one comes before the pools' own.
threading._register_atexit(_on_exit)  # type: ignore[attr-defined]


def _run_locally(sweep_id: int, cell_ids: list[int]) -> None:
    with _runners_lock:
        _runners.add(threading.current_thread())
    try:
        pending = list(cell_ids)
        while pending and not _exiting.is_set():
            pending = _one_pool(sweep_id, pending)
        if _exiting.is_set():
            for cell_id in pending:
                _fail(cell_id, INTERRUPTED)
        sweep_close(sweep_id)
    except Exception:
        logger.exception("sweep %s failed", sweep_id)
    finally:
        with _runners_lock:
            _runners.discard(threading.current_thread())


def _one_pool(sweep_id: int, cell_ids: list[int]) -> list[int]:
    """Run cells on a fresh process pool; returns those to run again (their process died)."""
    # spawn: a fork of a server with threads and database connections is not safe
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    with _runners_lock:
        _stop_events.add(stop)
    try:
        with ProcessPoolExecutor(max_workers=processes(), mp_context=context,
                                 initializer=init_worker, initargs=(stop, os.getpid())
                                 ) as pool:
            return _feed(pool, stop, sweep_id, cell_ids)
    finally:
        with _runners_lock:
            _stop_events.discard(stop)


def _feed(pool: ProcessPoolExecutor, stop: Any, sweep_id: int, cell_ids: list[int]
          ) -> list[int]:
    """Keep ``pool`` busy with the cells, storing each result as it comes; returns the cells
    to run again on a fresh pool (this one broke). A cell is marked running when it is handed
    over, so only as many as there are processes are: a cell said running is computing. While
    cells run, the sweep is looked at every :data:`_CANCEL_POLL_S`: once it is cancelled,
    ``stop`` (the event the pool's processes watch) stops the cells under way.

    An exact LRU cell computes its trace's whole LRU curve in one pass: while that pass runs,
    the other exact LRU cells of the trace wait (``deferred``) rather than start the same
    pass again; once it is done they are too, and are skipped."""
    running: dict[Future, tuple[int, CellTask]] = {}
    again: list[int] = []
    queue = list(reversed(cell_ids))
    lru_trace = _exact_lru_traces(cell_ids)  # cell id -> trace, for exact LRU cells
    in_flight: set[int] = set()  # traces whose LRU curve is being computed
    deferred: list[int] = []
    seconds = cell_seconds()
    while queue or running or deferred:
        waiting = [c for c in deferred if lru_trace[c] in in_flight]
        queue += [c for c in deferred if lru_trace[c] not in in_flight]
        deferred = waiting
        while queue and len(running) < processes():
            if _exiting.is_set():
                for cell_id in queue:
                    _fail(cell_id, INTERRUPTED)
                queue.clear()
                break
            if Sweep.objects.filter(pk=sweep_id, cancelled=True).exists():
                queue.clear()
                break
            cell_id = queue.pop()
            if lru_trace.get(cell_id) in in_flight:
                deferred.append(cell_id)
                continue
            task = cell_spec(cell_id)
            if task is not None:
                if task.curve_sizes:
                    in_flight.add(lru_trace[cell_id])
                future = pool.submit(compute_cell, task.spec, seconds, task.curve_sizes)
                running[future] = (cell_id, task)
        if not running:
            if deferred:
                continue
            break
        done, _ = wait(running, timeout=_CANCEL_POLL_S, return_when=FIRST_COMPLETED)
        if not done and not stop.is_set() and Sweep.objects.filter(
                pk=sweep_id, cancelled=True).exists():
            stop.set()
        for future in done:
            cell_id, task = running.pop(future)
            if task.curve_sizes:
                in_flight.discard(lru_trace[cell_id])
            if _settle(cell_id, task, future):
                again.append(cell_id)
        if again:  # the pool is broken: what is left goes to the next one
            again += [running.pop(f)[0] for f in list(running)] + list(reversed(queue))
            again += deferred
            _requeue(again)
            return [c for c in again if _attempts_left(c)]
    return []


def _exact_lru_traces(cell_ids: list[int]) -> dict[int, int]:
    """Cell id -> trace of the exact LRU cells among ``cell_ids``."""
    return {c.pk: c.trace_ref for c in _exact_lru_among(SweepCell.objects.filter(
        pk__in=cell_ids))}


def _settle(cell_id: int, task: CellTask, future: Future) -> bool:
    """Store a finished future's result; True if its process died (run it again)."""
    try:
        cell_record(cell_id, future.result(), task.curve)
    except BrokenProcessPool:
        return True
    except Stopped as exc:
        if isinstance(exc, TimeLimitExceeded):
            _fail_with(cell_id, exc)
        else:  # the server is stopping, or the sweep was cancelled
            _fail(cell_id, INTERRUPTED if _exiting.is_set() else CANCELLED)
    except (VMemError, ConfigError, OSError) as exc:
        _fail_with(cell_id, exc)
    except Exception as exc:  # a bug in one cell must not stop the others
        logger.exception("sweep cell %s failed", cell_id)
        _fail(cell_id, f"internal error: {type(exc).__name__}")
    return False


def _requeue(cell_ids: list[int]) -> None:
    SweepCell.objects.filter(pk__in=cell_ids).exclude(status=_DONE).update(
        status=SweepCell.Status.QUEUED)
    time.sleep(0.2)  # let the dead pool's processes go


def _attempts_left(cell_id: int) -> bool:
    cell = SweepCell.objects.filter(pk=cell_id).first()
    if cell is None or cell.status == _DONE:
        return False
    if cell.attempts >= MAX_ATTEMPTS:
        _fail(cell_id, f"its process died {cell.attempts} times")
        return False
    return True
