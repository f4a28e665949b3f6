"""Memory presets for LLM sessions that mirror known systems (see ``docs/sessions.md``).

A preset is plain data: which L0 policy, when the context is compacted and down to what, whether
evicted messages are folded into a recursive summary, how many recent turns are pinned, how many
pages may be faulted in per turn, and whether pages come back by demand paging (BM25 against the
new user turn) and/or by tool calls.

* ``vmem`` — our default: LRU, evict only what the next page needs, demand paging, tools.
* ``letta`` — Letta (ex-MemGPT server): when the context reaches 90 % of the window, compact
  down to 70 %, the evicted messages folded into a summary; recall by tool calls only.
* ``memgpt`` — the MemGPT paper's queue manager: a memory-pressure warning in the prompt at
  70 %, a flush at 100 % that evicts the oldest messages down to half the window into a
  recursive summary (the previous summary included); recall by function calls only; a full copy
  of every message stays in recall storage.
* ``chuk`` — chuk-ai-session-manager's AI virtual memory: evict on overflow down to 70 %
  (importance-weighted LRU), the last 3 turns pinned, at most 3 faults per turn, anti-thrash
  protection, compression on demotion (L1 reduced, L2 abstract, L3 reference), demand paging
  and the ``page_fault``/``search_pages`` tools.

Cache-aware presets (docs/sessions.md, "Cache-aware memory"), for providers' prompt caches:

* ``stable`` — ``vmem`` with stable packing (old pages first, new ones appended).
* ``batch`` — stable packing, compaction at 90 % down to 60 % (high/low-water marks): one cache
  break per batch instead of one per page.
* ``cacheaware`` — ``batch`` whose victims weigh recall value against the cache they break
  (:class:`~simulator.memory.cache_aware.CacheAwareLRU`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from simulator.engine import ConfigError

__all__ = ["PACKINGS", "PRESETS", "MemoryPreset", "get_preset", "preset_names"]

PACKINGS = ("kinds", "stable")


@dataclass
class MemoryPreset:
    name: str
    title: str = ""
    description: str = ""
    policy: str = "lru"
    policy_params: dict[str, Any] = field(default_factory=dict)
    #: compact when L0 use reaches this share of the budget (None: only evict to fit)
    compact_at: float | None = None
    #: ...down to this share
    compact_to: float = 0.7
    #: put a memory-pressure warning in the prompt from this share on (None: never)
    warn_at: float | None = None
    #: fold evicted messages into a recursive summary page (pinned in L0)
    summarize: bool = False
    #: the summary's size, as a share of the budget
    summary_share: float = 0.1
    #: pin the pages of the last N turns (0: none)
    pin_last_turns: int = 0
    #: pages faulted in per turn, demand paging and tool calls together
    max_faults_per_turn: int = 4
    demand_paging: bool = True
    tools: bool = True
    #: a page faulted into L0 is protected from eviction for this many accesses
    anti_thrash: int = 0
    #: compression level of pages landing in L1, L2, L3, L4 (0 full … 3 reference)
    compression_levels: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    #: a full copy of every page is kept in the last tier (faults can bring the full page back)
    full_copy: bool = False
    #: turns whose messages are read every turn (conversation continuity)
    recent_turns: int = 2
    #: prompt order: ``kinds`` (system, summary, documents, tools, messages, each by creation)
    #: or ``stable`` (system, then pages in the order they came into L0; the manifest and
    #: notes after the conversation), which keeps the previous prompt as a cacheable prefix
    packing: str = "kinds"

    def validate(self) -> MemoryPreset:
        for name in ("compact_at", "warn_at"):
            value = getattr(self, name)
            if value is not None and not (0 < value <= 1):
                raise ConfigError(f"must be in (0, 1], got {value!r}", field=name)
        if not (0 < self.compact_to <= 1) or not (0 < self.summary_share < 1):
            raise ConfigError("compact_to and summary_share must be shares of the budget",
                              field="compact_to")
        if self.compact_at is not None and self.compact_to > self.compact_at:
            raise ConfigError("compact_to must not exceed compact_at", field="compact_to")
        for name in ("pin_last_turns", "max_faults_per_turn", "anti_thrash", "recent_turns"):
            if int(getattr(self, name)) < 0:
                raise ConfigError("must be >= 0", field=name)
        if self.packing not in PACKINGS:
            raise ConfigError(f"unknown packing {self.packing!r}; use {' or '.join(PACKINGS)}",
                              field="packing")
        if len(self.compression_levels) != 4 or any(
                lv not in (0, 1, 2, 3) for lv in self.compression_levels):
            raise ConfigError("four levels 0-3 (for L1-L4)", field="compression_levels")
        from simulator.engine.policies import make_policy

        make_policy(self.policy, 100, **self.policy_params)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryPreset:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown preset setting(s): {', '.join(unknown)}")
        return cls(**data).validate()


PRESETS: dict[str, MemoryPreset] = {
    p.name: p.validate() for p in (
        MemoryPreset(
            "vmem", "VMem default",
            "LRU; evict only what the next page needs; demand paging (BM25) and tools, "
            "4 faults per turn.",
            policy="lru", max_faults_per_turn=4,
        ),
        MemoryPreset(
            "letta", "Letta",
            "Compact at 90 % of the window down to 70 %, evicted messages folded into a "
            "summary; recall only through tool calls.",
            policy="fifo", compact_at=0.9, compact_to=0.7, summarize=True,
            demand_paging=False, tools=True, full_copy=True,
        ),
        MemoryPreset(
            "memgpt", "MemGPT (paper)",
            "Memory-pressure warning at 70 %; flush at 100 % evicting the oldest messages down "
            "to half the window into a recursive summary; recall through function calls.",
            policy="fifo", warn_at=0.7, compact_at=1.0, compact_to=0.5, summarize=True,
            demand_paging=False, tools=True, full_copy=True,
        ),
        MemoryPreset(
            "chuk", "chuk-ai-session-manager",
            "Evict on overflow down to 70 % (importance-weighted LRU), last 3 turns pinned, at "
            "most 3 faults per turn, anti-thrash, compression on demotion, demand paging and "
            "tools.",
            policy="importance", compact_at=1.0, compact_to=0.7, pin_last_turns=3,
            max_faults_per_turn=3, anti_thrash=8, compression_levels=[1, 2, 3, 3],
        ),
        MemoryPreset(
            "stable", "Stable prefix",
            "The default's LRU, evicting a page at a time, with stable packing: system pages, "
            "then pages in the order they came into L0, the manifest after the conversation.",
            policy="lru", max_faults_per_turn=4, packing="stable",
        ),
        MemoryPreset(
            "batch", "Batch compaction",
            "Stable packing; at 90 % of the budget compact down to 60 % in one go (LRU "
            "victims), so the cached prefix breaks once per batch, not every turn.",
            policy="lru", compact_at=0.9, compact_to=0.6, max_faults_per_turn=4,
            packing="stable",
        ),
        MemoryPreset(
            "cacheaware", "Cache-aware",
            "Stable packing; compaction at 90 % down to 60 % whose victims weigh recall value "
            "(importance-weighted LRU) against the cached tokens after them.",
            policy="cacheaware", compact_at=0.9, compact_to=0.6, max_faults_per_turn=4,
            packing="stable",
        ),
    )
}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(name: str) -> MemoryPreset:
    """A copy of the named preset (``ConfigError`` listing the names when unknown)."""
    key = (name or "").strip().lower().replace("-", "").replace("_", "")
    key = {"chukaisessionmanager": "chuk", "default": "vmem", "stableprefix": "stable",
           "batchcompaction": "batch"}.get(key, key)
    if key not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}",
                          field="preset")
    return MemoryPreset.from_dict(PRESETS[key].to_dict())
