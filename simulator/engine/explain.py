"""Paging explained one reference at a time, for teaching (docs/teaching.md).

:func:`explain` runs a reference string through the engine's classic mode (one tier of
``frames`` pages, :meth:`SimConfig.classic`), one access per :meth:`Simulation.step`, and keeps
for every reference what a frame table shows: hit or fault, the victim, the page in each frame
and the policy's own state (:meth:`Policy.snapshot`), with one sentence saying why. The hits
and faults are the engine's own counters, so the table cannot disagree with a run.

Everything here is bounded: at most :data:`MAX_REFS` references and :data:`MAX_FRAMES` frames.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .access import Access, Op
from .config import SimConfig
from .errors import ConfigError
from .events import EVICT, Event
from .observers import Observer
from .policies import POLICIES, PolicyState, make_policy
from .simulation import Simulation
from .traces import next_use_indices

MAX_REFS = 200
"""Longest reference string explained (a frame table wider than this teaches nothing)."""
MAX_FRAMES = 16
MAX_PAGES = 100
"""Largest number of distinct pages a random string draws from."""
_PAGE = re.compile(r"^([A-Za-z0-9]{1,8})(\*?)$")
_SEPARATORS = re.compile(r"[\s,;]+")

__all__ = [
    "MAX_FRAMES", "MAX_PAGES", "MAX_REFS", "Explanation", "Ref", "Step", "explain",
    "faults_by_frames", "format_refs", "parse_refs", "random_refs",
]


@dataclass(frozen=True)
class Ref:
    """One reference: a page name (1 to 8 letters or digits) and whether it is a write."""

    page: str
    write: bool = False

    def __str__(self) -> str:
        return self.page + ("*" if self.write else "")


def parse_refs(text: str, *, field: str = "refs") -> list[Ref]:
    """``"1 2 3* 1"`` or ``"1,2,3*,1"`` as references (``*`` marks a write). Raises
    :class:`ConfigError` naming ``field`` for an empty, too long or malformed string."""
    if not isinstance(text, str):
        raise ConfigError("give the reference string as text, e.g. 1,2,3,1", field=field)
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        raise ConfigError("give at least one reference, e.g. 1,2,3,1", field=field)
    if len(tokens) > MAX_REFS:
        raise ConfigError(f"at most {MAX_REFS} references, got {len(tokens)}", field=field)
    refs = []
    for n, token in enumerate(tokens, 1):
        match = _PAGE.match(token)
        if match is None:
            shown = token if len(token) <= 20 else token[:20] + "…"
            raise ConfigError(f"reference {n} ({shown!r}): a page is 1 to 8 letters or digits, "
                              f"with * after it for a write", field=field)
        refs.append(Ref(match.group(1), bool(match.group(2))))
    return refs


def format_refs(refs: Sequence[Ref]) -> str:
    """The string :func:`parse_refs` reads back: ``"1,2,3*,1"``."""
    return ",".join(str(r) for r in refs)


def _bounded_int(value: Any, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"must be an integer from {low} to {high}, got {value!r}", field=field)
    return value


def random_refs(n: int, pages: int, seed: int) -> list[Ref]:
    """``n`` references drawn uniformly from pages ``0 … pages-1`` by ``random.Random(seed)``,
    as OSTEP's ``paging-policy.py`` draws them."""
    _bounded_int(n, 1, MAX_REFS, "random")
    _bounded_int(pages, 1, MAX_PAGES, "pages")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"must be an integer, got {seed!r}", field="seed")
    rng = random.Random(seed)
    return [Ref(str(rng.randrange(pages))) for _ in range(n)]


@dataclass(frozen=True)
class Step:
    """What reference ``index`` (0-based) did. ``frames`` has one entry per frame (``None``:
    free), each page staying in its frame until evicted; ``evicted`` lists the pages that left
    at this reference (a fault's victim; for the working set, pages that left the window)."""

    index: int
    ref: Ref
    hit: bool
    evicted: tuple[str, ...]
    frames: tuple[str | None, ...]
    state: PolicyState
    why: str

    @property
    def victim(self) -> str | None:
        return self.evicted[0] if self.evicted else None

    @property
    def kept(self) -> bool:
        """Whether the page is in memory after the reference: a fault is served without
        keeping the page when an admission rule refuses it (strict 2Q and S3-FIFO)."""
        return self.hit or self.ref.page in self.frames

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref.page, "write": self.ref.write, "hit": self.hit,
            "kept": self.kept, "victim": self.victim, "evicted": list(self.evicted),
            "frames": [p for p in self.frames if p is not None],
            "slots": list(self.frames), "state": self.state.to_dict(), "why": self.why,
        }


@dataclass(frozen=True)
class Explanation:
    """A reference string explained under one policy with ``frames`` frames."""

    policy: str
    frames: int
    refs: tuple[Ref, ...]
    steps: tuple[Step, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def hits(self) -> int:
        return sum(step.hit for step in self.steps)

    @property
    def misses(self) -> int:
        return len(self.steps) - self.hits

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "frames": self.frames, "params": dict(self.params),
                "seed": self.seed,
                "refs": format_refs(self.refs), "hits": self.hits, "misses": self.misses,
                "steps": [step.to_dict() for step in self.steps]}


class _Evictions(Observer):
    """Collects the pages that leave L0, with the access they left at."""

    wants_events = True

    def __init__(self) -> None:
        self.left: list[Event] = []

    def on_event(self, event: Event) -> None:
        if event.kind == EVICT:
            self.left.append(event)


def _classic_run(refs: Sequence[Ref], policy: str, frames: int, seed: int,
                 params: Mapping[str, Any], observers: Sequence[Observer] = ()) -> Simulation:
    """The engine in classic mode over ``refs`` (ready to step)."""
    config = SimConfig.classic(policy, frames, params=dict(params), seed=seed)
    accesses = [Access(float(i), r.page, 1, Op.WRITE if r.write else Op.READ)
                for i, r in enumerate(refs)]
    needs_future = POLICIES[config.tiers[0].policy].needs_future
    future = next_use_indices([r.page for r in refs]) if needs_future else None
    return Simulation(config, accesses, observers=observers, future=future, max_events=0)


def _check(refs: Sequence[Ref], policy: str, frames: int, params: Mapping[str, Any]) -> str:
    """Validate the arguments of :func:`explain`; returns the policy's registry name."""
    if not refs:
        raise ConfigError("give at least one reference", field="refs")
    if len(refs) > MAX_REFS:
        raise ConfigError(f"at most {MAX_REFS} references, got {len(refs)}", field="refs")
    _bounded_int(frames, 1, MAX_FRAMES, "frames")
    return make_policy(policy, frames, **params).name


def explain(refs: Sequence[Ref], policy: str, frames: int, *, seed: int = 0,
            params: Mapping[str, Any] | None = None) -> Explanation:
    """Run ``refs`` under ``policy`` with ``frames`` frames, one reference at a time.

    ``seed`` seeds the random policy; ``params`` are the policy's own (``tau`` for ``ws``,
    ``period`` for ``nru``…). Bad arguments raise :class:`ConfigError` naming the field
    (``refs``, ``frames``, ``policy``).
    """
    params = dict(params or {})
    name = _check(refs, policy, frames, params)
    left = _Evictions()
    sim = _classic_run(refs, name, frames, seed, params, [left])
    policy_obj = sim.tiers[0].policy
    context = _Context(name, seed, params)
    slots: list[str | None] = [None] * frames
    steps = []
    before = policy_obj.snapshot()
    for i, ref in enumerate(refs):
        hits = sim.hits
        sim.step(1)
        hit = sim.hits > hits
        evicted = tuple(str(e.page_id) for e in left.left)
        left.left.clear()
        freed = []
        for page in evicted:
            k = slots.index(page)
            slots[k] = None
            freed.append(k)
        if not hit and sim.tier_of(ref.page) == 0:
            slots[freed[0] if freed else slots.index(None)] = ref.page
        state = policy_obj.snapshot()
        step = Step(i, ref, hit, evicted, tuple(slots), state, "")
        steps.append(replace(step, why=context.why(i, ref, hit, evicted, before,
                                                   kept=step.kept)))
        context.record(i, ref, hit)
        before = state
    return Explanation(name, frames, tuple(refs), tuple(steps), params, seed)


def faults_by_frames(refs: Sequence[Ref], policy: str, max_frames: int, *, seed: int = 0,
                     params: Mapping[str, Any] | None = None) -> list[int]:
    """Faults (misses) of ``policy`` on ``refs`` with 1, 2, … ``max_frames`` frames: the curve
    of Belady's anomaly. Each point is one classic-mode run of the engine."""
    params = dict(params or {})
    name = _check(refs, policy, max_frames, params)
    out = []
    for frames in range(1, max_frames + 1):
        result = _classic_run(refs, name, frames, seed, params).run()
        out.append(result.requests - result.hits)
    return out


# --- one sentence per reference ------------------------------------------------------------

class _Context:
    """What the sentences need besides the policy's state: when each page was loaded and last
    used (1-based reference numbers, as a class counts them)."""

    def __init__(self, policy: str, seed: int, params: Mapping[str, Any]) -> None:
        self.policy = policy
        self.seed = seed
        self.params = params
        self.loaded: dict[str, int] = {}
        self.last_use: dict[str, int] = {}

    def record(self, i: int, ref: Ref, hit: bool) -> None:
        if not hit:
            self.loaded[ref.page] = i + 1
        self.last_use[ref.page] = i + 1

    def why(self, i: int, ref: Ref, hit: bool, evicted: tuple[str, ...],
            before: PolicyState, kept: bool = True) -> str:
        if hit:
            return f"{ref.page} is in memory: a hit."
        if not kept:  # an admission rule (strict 2Q, S3-FIFO) refused it: served, not kept
            return (f"{ref.page} is not in memory: a fault, and "
                    f"{_LABELS.get(self.policy, self.policy)} does not keep it: its admission "
                    "rule refuses the page at this size.")
        if not evicted:
            return f"{ref.page} is not in memory: a fault, and a free frame takes it."
        reason = _REASONS.get(self.policy)
        victim = evicted[0]
        because = reason(self, victim, before) if reason else ""
        return (f"{ref.page} is not in memory: a fault. {_LABELS.get(self.policy, self.policy)} "
                f"evicts {victim}{': ' + because if because else ''}.")


def _next_use(before: PolicyState, victim: str) -> str:
    nxt = before.marks.get(victim)
    return "it is never used again" if nxt is None else f"its next use, at reference {nxt + 1}"


_LABELS = {"fifo": "FIFO", "lru": "LRU", "mru": "MRU", "opt": "OPT", "worst": "The worst policy",
           "lfu": "LFU", "clock": "CLOCK", "eclock": "Enhanced CLOCK", "nru": "NRU",
           "aging": "Aging", "random": "Random", "ws": "The working set", "arc": "ARC",
           "2q": "2Q", "sieve": "SIEVE", "s3fifo": "S3-FIFO"}

_REASONS: dict[str, Callable[[_Context, str, PolicyState], str]] = {
    "fifo": lambda c, v, s: f"it was loaded first, at reference {c.loaded[v]}",
    "lru": lambda c, v, s: f"its last use, at reference {c.last_use[v]}, is the oldest",
    "mru": lambda c, v, s: f"its last use, at reference {c.last_use[v]}, is the most recent",
    "opt": lambda c, v, s: (f"{_next_use(s, v)}, is the farthest"
                            if s.marks.get(v) is not None else _next_use(s, v)),
    "worst": lambda c, v, s: (f"{_next_use(s, v)}, is the nearest"
                              if s.marks.get(v) is not None
                              else "no page in memory is used again; it was used least recently"),
    "lfu": lambda c, v, s: (f"{s.marks.get(v, 1)} use(s) since it was loaded, the fewest "
                            f"(ties: the least recently used)"),
    "clock": lambda c, v, s: ("the hand found its reference bit clear (pages with the bit set "
                              "were passed over and lost it)"),
    "eclock": lambda c, v, s: ("the first page from the hand with its use bit clear, clean pages "
                               "before dirty ones"),
    "nru": lambda c, v, s: "it is in the lowest class 2·R + M, loaded first of that class",
    "aging": lambda c, v, s: "its counter is the smallest",
    "random": lambda c, v, s: f"drawn at random (seed {c.seed})",
    "ws": lambda c, v, s: (f"it was not referenced in the last "
                          f"τ = {c.params.get('tau', 1000)} references"),
}


# --- Denning's thrashing ---------------------------------------------------------------------

MAX_SESSIONS = 16


def thrashing_curve(max_sessions: int = 10, *, frames: int = 24, pages_each: int = 5,
                    accesses_each: int = 200, fetch_ms: float = 10.0, channels: int = 4,
                    policy: str = "lru") -> list[dict[str, float]]:
    """Throughput against the number of concurrent sessions sharing one memory, as Denning
    drew it (docs/teaching.md, "Thrashing"). Each point is one run of the engine with
    ``concurrent=True``: ``n`` sessions, each looping over ``pages_each`` pages of its own,
    share an L0 of ``frames`` pages; a fault waits ``fetch_ms`` for L1, which serves at most
    ``channels`` faults at once (the paging device: faults queue for it). Hits cost nothing.

    While every session's loop fits, more sessions overlap more faults and throughput (reads
    per simulated second) rises; once their loops together exceed the frames, nearly every
    read faults, the paging device saturates and throughput collapses.
    """
    from .config import LatencyModel, TierConfig

    _bounded_int(max_sessions, 1, MAX_SESSIONS, "sessions")
    _bounded_int(frames, 1, 10_000, "frames")
    tiers = [TierConfig("L0", frames, policy, LatencyModel("constant", 0.0)),
             TierConfig("L1", None, "lru", LatencyModel("constant", fetch_ms),
                        concurrency=channels)]
    config = SimConfig(tiers=tiers, unit_pages=True).validate()
    points = []
    for n in range(1, max_sessions + 1):
        accesses = [Access(float(t * n + s), f"s{s}p{t % pages_each}", 1, Op.READ, f"s{s}")
                    for t in range(accesses_each) for s in range(n)]
        result = Simulation(config, accesses, concurrent=True, max_events=0).run()
        seconds = result.sim_time_ms / 1000
        points.append({"sessions": n, "reads": result.requests, "faults": result.faults,
                       "miss_ratio": result.faults / result.requests,
                       "throughput": result.requests / seconds if seconds else 0.0})
    return points
