"""Running one configuration, or several side by side in lockstep on the same accesses."""

from __future__ import annotations

import copy
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .config import SimConfig
from .events import RunResult
from .observers import Observer
from .policies import POLICIES
from .simulation import Simulation
from .sources import Source, future_of


def opt_config(config: SimConfig) -> SimConfig:
    """The same run with OPT in L0: the reference for regret."""
    reference = copy.deepcopy(config)
    reference.tiers[0].policy = "opt"
    reference.tiers[0].policy_params = {}
    return reference.validate()


def needs_future(config: SimConfig) -> bool:
    """Whether L0's policy reads the future (OPT, the worst policy): a finite source only."""
    policy = POLICIES.get(config.tiers[0].policy)
    return policy is not None and policy.needs_future


def build(
    config: SimConfig, source: Source, *, observers: Sequence[Observer] = (),
    future: array | None = None, concurrent: bool = False, max_events: int = 20,
) -> Simulation:
    """A ready-to-run :class:`Simulation` of ``config`` over a fresh pass of ``source``."""
    config = config.checked()
    if needs_future(config) and future is None:
        future = future_of(source, None if config.unit_pages else config.page_size)
    return Simulation(
        config, source.open(), observers=observers, future=future, total=source.length,
        concurrent=concurrent, max_events=max_events,
    )


def simulate(
    config: SimConfig, source: Source, *, observers: Sequence[Observer] = (),
    regret: bool = False, concurrent: bool = False,
) -> RunResult:
    """Run ``config`` to the end; with ``regret``, also run OPT and report the difference.

    Window snapshots carry no recent events here: a result has none, and keeping them is
    about a tenth of the classic loop's time. An observer that wants events still gets each
    one (``Observer.wants_events``)."""
    result = build(config, source, observers=observers, concurrent=concurrent,
                   max_events=0).run()
    if regret:
        reference = build(opt_config(config), source, max_events=0).run()
        result.opt_faults = reference.faults
        result.regret = result.faults - reference.faults
    return result


@dataclass
class Variant:
    label: str
    config: SimConfig


#: the roles of a comparison's series: a configuration under test, or OPT as its yardstick
VARIANT, REFERENCE = "variant", "reference"


@dataclass(frozen=True)
class Series:
    """One line of a comparison, by role: a variant, or the OPT reference of an L0 capacity.
    ``reference`` names the series a variant's regret is measured against (None: none)."""

    label: str
    role: str
    capacity_tokens: int | None
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "role": self.role, "capacity_tokens": self.capacity_tokens,
                "reference": self.reference}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Series:
        return cls(data["label"], data["role"], data.get("capacity_tokens"),
                   data.get("reference"))


#: how the name of every OPT reference line starts (see :func:`reference_label`)
REFERENCE_PREFIX = "OPT @"


def is_reference_label(label: str) -> bool:
    """Whether ``label`` is spelled like a reference line's (users may not name a line so)."""
    return label.startswith(REFERENCE_PREFIX)


def reference_label(capacity: int | None, taken: set[str]) -> str:
    """The name of the OPT line at ``capacity``, unlike any label in ``taken``. Only a name:
    what makes a line a reference is its role (:class:`Series`), never its spelling."""
    label = f"{REFERENCE_PREFIX} {capacity}"
    while label in taken:
        label += " (reference)"
    return label


def series_plan(variants: Sequence[Variant], *, with_opt: bool) -> list[Series]:
    """The lines of a comparison in order: the variants, then (``with_opt``: the source is
    finite and OPT was asked for) one OPT reference per distinct L0 capacity that a variant
    other than OPT itself has. Each variant at such a capacity is measured against it."""
    labels = {v.label for v in variants}
    references: dict[int | None, str] = {}
    if with_opt:
        for variant in variants:
            capacity = variant.config.tiers[0].capacity_tokens
            if capacity not in references and not needs_future(variant.config):
                references[capacity] = reference_label(capacity, labels)
                labels.add(references[capacity])
    plan = [Series(v.label, VARIANT, v.config.tiers[0].capacity_tokens,
                   references.get(v.config.tiers[0].capacity_tokens)) for v in variants]
    plan += [Series(label, REFERENCE, capacity) for capacity, label in references.items()]
    return plan


class Comparison:
    """Several variants on the same accesses, advanced together window by window.

    Each variant reads its own pass of the source, so they see identical accesses. With
    ``with_opt`` and a finite source, an OPT run per distinct L0 capacity is added as the
    reference line (:func:`series_plan`), and each row reports its regret against it.
    """

    def __init__(
        self, variants: Sequence[Variant], source: Source, *, with_opt: bool = True,
        observers: dict[str, Sequence[Observer]] | None = None, concurrent: bool = False,
    ) -> None:
        self.source = source
        self.variants = list(variants)
        self.plan = series_plan(self.variants, with_opt=with_opt and source.finite)
        observers = observers or {}
        by_capacity: dict[int | None, SimConfig] = {}
        for variant in self.variants:
            if not needs_future(variant.config):
                by_capacity.setdefault(variant.config.tiers[0].capacity_tokens, variant.config)
        future: array | None = None
        self.sims: dict[str, Simulation] = {}
        for series in self.plan:
            if series.role == REFERENCE:
                config = by_capacity[series.capacity_tokens]
                if future is None:
                    future = future_of(source, None if config.unit_pages else config.page_size)
                self.sims[series.label] = build(
                    opt_config(config), source, future=future,
                    observers=observers.get(series.label, ()), max_events=0,
                )
        for variant in self.variants:
            if needs_future(variant.config) and future is None:
                future = future_of(source, variant.config.page_size)
            self.sims[variant.label] = build(
                variant.config, source, observers=observers.get(variant.label, ()),
                future=future if needs_future(variant.config) else None, concurrent=concurrent,
            )

    @property
    def reference_for(self) -> dict[str, str]:
        """Variant label -> the label of its OPT reference."""
        return {s.label: s.reference for s in self.plan if s.reference}

    @property
    def finished(self) -> bool:
        return all(sim.finished for sim in self.sims.values())

    def run_until(self, accesses: int) -> bool:
        for sim in self.sims.values():
            sim.run_until(accesses=accesses, force=True)
        return not self.finished

    def run(self, step: int = 100_000) -> list[dict[str, Any]]:
        target = 0
        while not self.finished:
            target += step
            self.run_until(target)
        return self.rows()

    def rows(self) -> list[dict[str, Any]]:
        """One summary row per series, references first (as plain data). Every row uses the
        same definitions (docs/metrics.md): misses = faults, the reads L0 did not serve;
        allocations, the writes of pages L0 did not hold."""
        results = {label: sim.result() for label, sim in self.sims.items()}
        roles = {s.label: s for s in self.plan}
        rows = []
        for label, result in results.items():
            series = roles[label]
            reference = results.get(series.reference or "")
            l0 = result.tiers[0]
            rows.append({
                "label": label,
                "role": series.role,
                "policy": result.policy,
                "capacity_tokens": l0.capacity_tokens,
                "requests": result.requests,
                "hits": result.hits,
                "misses": result.misses,
                "faults": result.faults,
                "allocations": result.allocations,
                "miss_ratio": result.miss_ratio,
                "regret": None if reference is None else result.faults - reference.faults,
                "latency_p95_ms": result.latency_ms.p95,
                "refaults": result.refaults,
                "thrash_index": result.thrash_index,
                "reference": series.role == REFERENCE,
                "reference_label": series.reference,
            })
        return rows
