"""Ready-made experiments shown on the home page. Presets are data: a configuration, a
workload spec (see ``specs.py``) and, for comparisons, the variants. Each one can be started
as is, or opened in the run / compare form to change it first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.engine.config import LatencyModel, SimConfig, TierConfig


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    summary: str
    config: dict[str, Any]
    workload: dict[str, Any]
    variants: list[dict[str, Any]] | None = None
    speed: float | None = None  # simulated ms per wall second; None = as fast as possible
    with_opt: bool = True
    teaches: list[str] = field(default_factory=list)

    @property
    def is_compare(self) -> bool:
        return self.variants is not None

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``services.run_create``."""
        kwargs: dict[str, Any] = {
            "config": self.config,
            "workload": self.workload,
            "label": self.title,
            "speed": self.speed,
        }
        if self.variants is not None:
            kwargs["variants"] = self.variants
            kwargs["with_opt"] = self.with_opt
        return kwargs


def _llm_chat() -> Preset:
    config = SimConfig.hierarchy(l0_tokens=8192, policy="lru", page_size=512,
                                 window_accesses=200, thrash_window=1000, seed=1)
    return Preset(
        key="llm-chat-8k",
        title="LLM chat, 8k context",
        summary="A chat that drifts between overlapping topics; messages of 40 to 400 tokens are "
                "paged through an 8,192-token context window backed by the full five-tier "
                "hierarchy (hot cache, session store, disk, archive).",
        config=config.to_dict(),
        workload={
            "kind": "generator",
            "name": "phased",
            "params": {
                "phases": [[300, 20_000, 0.9], [300, 20_000, 0.9], [400, 20_000, 1.0]],
                "shift": 150,
                "tokens": [40, 400],
                "seed": 1,
            },
        },
        teaches=["tiers", "latency", "sized pages"],
    )


def _belady() -> Preset:
    config = SimConfig.classic("fifo", 3, window_accesses=1, thrash_window=12)
    return Preset(
        key="belady",
        title="Belady's anomaly (FIFO, 3 vs 4 frames)",
        summary="The reference string 1,2,3,4,1,2,5,1,2,3,4,5 under FIFO: four frames fault "
                "more often (10) than three (9). OPT is drawn for both sizes. Paced at two "
                "accesses a second so you can follow it; press → to step.",
        config=config.to_dict(),
        workload={"kind": "sequence", "pages": [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]},
        variants=[
            {"label": "FIFO, 3 frames", "policy": "fifo", "capacity_tokens": 3},
            {"label": "FIFO, 4 frames", "policy": "fifo", "capacity_tokens": 4},
        ],
        speed=2.0,
        teaches=["FIFO", "Belady's anomaly", "OPT"],
    )


def _scan_vs_lru() -> Preset:
    config = SimConfig.classic("lru", 400, window_accesses=1000, thrash_window=1000, seed=3)
    return Preset(
        key="scan-vs-lru",
        title="Scan vs LRU",
        summary="A hot set of 200 pages interleaved with a long scan over 5,000 pages. LRU "
                "lets the scan flush the hot set; scan-resistant policies (ARC, 2Q, S3-FIFO) "
                "keep it.",
        config=config.to_dict(),
        workload={
            "kind": "generator",
            "name": "scan_hotset",
            "params": {"hot_pages": 200, "scan_pages": 5000, "n": 200_000,
                       "hot_fraction": 0.5, "seed": 3},
        },
        variants=[
            {"policy": "lru"}, {"policy": "arc"}, {"policy": "2q"}, {"policy": "s3fifo"},
        ],
        teaches=["scan resistance", "ARC", "2Q", "S3-FIFO"],
    )


def _thrashing() -> Preset:
    tiers = [
        TierConfig("L0", 1000, "lru", LatencyModel("constant", 0.0)),
        TierConfig("L1", None, "lru", LatencyModel("constant", 5.0)),
    ]
    config = SimConfig(tiers=tiers, unit_pages=True, window_accesses=500,
                       thrash_window=1000).validate()
    return Preset(
        key="thrashing",
        title="Thrashing: working set larger than L0",
        summary="A loop over 1,100 pages through an L0 of 1,000 pages under LRU: every access "
                "evicts the page needed soonest, so every access faults and the thrash index "
                "climbs to 1.",
        config=config.to_dict(),
        workload={"kind": "generator", "name": "loop", "params": {"n_pages": 1100, "n": 100_000}},
        teaches=["thrashing", "refaults", "LRU's worst case"],
    )


PRESETS: dict[str, Preset] = {
    p.key: p for p in (_llm_chat(), _belady(), _scan_vs_lru(), _thrashing())
}


def preset_get(key: str | None) -> Preset | None:
    return PRESETS.get(key or "")
