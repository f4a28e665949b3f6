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
from .simulation import Simulation
from .sources import Source, future_of


def opt_config(config: SimConfig) -> SimConfig:
    """The same run with OPT in L0: the reference for regret."""
    reference = copy.deepcopy(config)
    reference.tiers[0].policy = "opt"
    reference.tiers[0].policy_params = {}
    return reference.validate()


def needs_future(config: SimConfig) -> bool:
    return config.tiers[0].policy == "opt"


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
    """Run ``config`` to the end; with ``regret``, also run OPT and report the difference."""
    result = build(config, source, observers=observers, concurrent=concurrent).run()
    if regret:
        reference = build(opt_config(config), source, max_events=0).run()
        result.opt_faults = reference.faults
        result.regret = result.faults - reference.faults
    return result


@dataclass
class Variant:
    label: str
    config: SimConfig


class Comparison:
    """Several variants on the same accesses, advanced together window by window.

    Each variant reads its own pass of the source, so they see identical accesses. With
    ``with_opt`` and a finite source, an OPT run per distinct L0 capacity is added as the
    reference line, and each row reports its regret against it.
    """

    def __init__(
        self, variants: Sequence[Variant], source: Source, *, with_opt: bool = True,
        observers: dict[str, Sequence[Observer]] | None = None, concurrent: bool = False,
    ) -> None:
        self.source = source
        self.variants = list(variants)
        observers = observers or {}
        future: array | None = None
        self.sims: dict[str, Simulation] = {}
        self.reference_for: dict[str, str] = {}
        if with_opt and source.finite:
            for variant in self.variants:
                config = variant.config
                label = f"OPT @ {config.tiers[0].capacity_tokens}"
                self.reference_for[variant.label] = label
                if label in self.sims or needs_future(config):
                    continue
                if future is None:
                    future = future_of(source, None if config.unit_pages else config.page_size)
                self.sims[label] = build(
                    opt_config(config), source, future=future,
                    observers=observers.get(label, ()), max_events=0,
                )
        for variant in self.variants:
            if needs_future(variant.config) and future is None:
                future = future_of(source, variant.config.page_size)
            self.sims[variant.label] = build(
                variant.config, source, observers=observers.get(variant.label, ()),
                future=future if needs_future(variant.config) else None, concurrent=concurrent,
            )

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
        """One summary row per variant (and per OPT reference), as plain data."""
        results = {label: sim.result() for label, sim in self.sims.items()}
        rows = []
        for label, result in results.items():
            reference = results.get(self.reference_for.get(label, ""))
            l0 = result.tiers[0]
            is_reference = label.startswith("OPT @")
            rows.append({
                "label": label,
                "policy": result.policy,
                "capacity_tokens": l0.capacity_tokens,
                "requests": result.requests,
                "hits": result.hits,
                "misses": result.misses,
                "faults": result.faults,
                "miss_ratio": result.miss_ratio,
                "regret": None if reference is None or is_reference
                else result.faults - reference.faults,
                "latency_p95_ms": result.latency_ms.p95,
                "thrash_index": result.thrash_index,
                "reference": is_reference,
            })
        return rows
