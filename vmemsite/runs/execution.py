"""The engine side of a live run: observers that collect window points, and drivers that
advance one simulation or a comparison in lockstep. No database, no channels: the executor
(``executor.run_execute``) owns the loop, the persistence and the publishing.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from simulator.engine.compare import Comparison, Variant, build, series_plan
from simulator.engine.config import SimConfig
from simulator.engine.events import RunResult, WindowSnapshot
from simulator.engine.observers import Observer
from simulator.engine.simulation import Simulation
from simulator.engine.sources import Source

from .frames import FRAME_EVENTS, counters_now, counters_of, event_row, window_point

#: the most accesses one call advances a run by: a few milliseconds of engine time, so a run
#: answers its controls within a tick whatever its window size (issue 8.1)
SLICE = 5_000


class Collector(Observer):
    """Keeps the points and events of one variant until the next frame drains them."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.points: list[dict[str, Any]] = []
        self.events: deque[dict[str, Any]] = deque(maxlen=FRAME_EVENTS)
        self.counters: dict[str, Any] | None = None
        self.result: RunResult | None = None
        self.windows = 0
        self.first_at: float | None = None  # wall time of the first window not yet drained
        self.last_at: float | None = None

    def on_window(self, snapshot: WindowSnapshot) -> None:
        now = time.time()
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.points.append(window_point(snapshot))
        self.windows += 1
        label = self.label
        self.events.extend(event_row(e, label) for e in snapshot.events[-FRAME_EVENTS:])
        self.counters = counters_of(snapshot)

    def on_finish(self, result: RunResult) -> None:
        self.result = result

    def drain(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        points, self.points = self.points, []
        events = list(self.events)
        self.events.clear()
        self.first_at = self.last_at = None
        return points, events


class Driver:
    """Advances a run by accesses (and, paced, by simulated time); every variant sees the same
    accesses. ``primary`` is the simulation whose clock paces the run."""

    def __init__(self, sims: dict[str, Simulation], collectors: dict[str, Collector],
                 primary: str, references: dict[str, str] | None = None) -> None:
        self.sims = sims
        self.collectors = collectors
        self.primary_label = primary
        self.primary = sims[primary]
        self.others = [sim for label, sim in sims.items() if label != primary]
        self.references = references or {}
        self.window = self.primary.config.window_accesses
        self.window_times: tuple[float, float] | None = None

    @property
    def index(self) -> int:
        return self.primary.index

    @property
    def clock_ms(self) -> float:
        return self.primary.clock_ms

    @property
    def finished(self) -> bool:
        return all(sim.finished for sim in self.sims.values())

    @property
    def windows(self) -> int:
        return self.collectors[self.primary_label].windows

    def next_boundary(self) -> int:
        return (self.index // self.window + 1) * self.window

    def next_stop(self, limit: int | None = None) -> int:
        """Where the next slice ends: the next window boundary, ``limit``, or :data:`SLICE`
        accesses from here, whichever comes first — so the caller looks at its controls
        at least every slice, however long a window is."""
        stop = min(self.next_boundary(), self.index + SLICE)
        return stop if limit is None else min(stop, limit)

    def advance(self, accesses: int, time_ms: float | None = None) -> None:
        """Run until ``accesses`` in total (or the primary's clock reaches ``time_ms``); the
        other variants follow the primary to the same access."""
        self.primary.run_until(accesses=accesses, time_ms=time_ms, force=True)
        target = None if self.primary.finished else self.primary.index
        for sim in self.others:
            sim.run_until(accesses=target, force=True)

    def counters_now(self) -> dict[str, Any]:
        """Every variant's totals now (counters per label), between two slices."""
        return {label: counters_now(sim) for label, sim in self.sims.items()}

    def drain(self) -> tuple[dict[str, list], list[dict[str, Any]], dict[str, Any]]:
        """(points per label, the last events across variants, counters per label).

        ``window_times`` is then the wall-clock span (epoch seconds) in which those windows
        closed: what the streaming benchmark measures latency from."""
        points: dict[str, list] = {}
        events: list[dict[str, Any]] = []
        counters: dict[str, Any] = {}
        stamps = [c.first_at for c in self.collectors.values() if c.first_at is not None]
        ends = [c.last_at for c in self.collectors.values() if c.last_at is not None]
        self.window_times = (min(stamps), max(ends)) if stamps else None
        for label, collector in self.collectors.items():
            got, evs = collector.drain()
            if got:
                points[label] = got
            events.extend(evs)
            if collector.counters is not None:
                counters[label] = collector.counters
        events.sort(key=lambda e: e["access"])
        return points, events[-FRAME_EVENTS:], counters

    def results(self) -> dict[str, RunResult]:
        return {label: sim.result() for label, sim in self.sims.items()}


def single_driver(config: SimConfig, source: Source, *, concurrent: bool = False) -> Driver:
    label = config.tiers[0].policy
    collector = Collector(label)
    sim = build(config, source, observers=[collector], concurrent=concurrent)
    return Driver({label: sim}, {label: collector}, label)


def compare_driver(variants: Sequence[Variant], source: Source, *, with_opt: bool = True,
                   ) -> Driver:
    plan = series_plan(variants, with_opt=with_opt and source.finite)
    collectors = {series.label: Collector(series.label) for series in plan}
    comparison = Comparison(variants, source, with_opt=with_opt,
                            observers={label: [c] for label, c in collectors.items()})
    # the plan's order (variants first, references after): the order of lines and table rows
    sims = {series.label: comparison.sims[series.label] for series in comparison.plan}
    driver = Driver(sims, collectors, variants[0].label, comparison.reference_for)
    driver.comparison = comparison  # type: ignore[attr-defined]
    return driver


def compare_rows(driver: Driver) -> list[dict[str, Any]]:
    """The comparison's summary table (the engine's rows, in the driver's order)."""
    comparison: Comparison = driver.comparison  # type: ignore[attr-defined]
    by_label = {row["label"]: row for row in comparison.rows()}
    return [by_label[label] for label in driver.sims if label in by_label]
