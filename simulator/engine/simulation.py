"""The hierarchy model: accesses in, metrics and events out through observers.

Two ways to advance simulated time, both on one SimPy ``Environment``:

* **fast mode** (the default): one closed-loop stream. An L0 hit costs no event at all; a fault
  adds its latency to the run's clock, and the environment is advanced once per window. No
  SimPy event is created per access.
* **concurrent sessions** (``concurrent=True``): every distinct ``session`` of the workload is a
  SimPy process that issues its next access when the previous one is served. A fault holds the
  serving tier's ``simpy.Resource`` (its ``concurrency``) for the transfer, so faults of
  different sessions queue. L0 hits still create no event.

The run is controlled from outside with :meth:`Simulation.run_until`, :meth:`step`,
:meth:`pause` and :meth:`run`; the dashboard drives play/pause/step/speed with these. Code that
manages memory on top of the engine (``simulator.memory``) also asks where a page is
(:meth:`~Simulation.locate`), how full a tier is (:meth:`~Simulation.usage`), compacts a tier
(:meth:`~Simulation.compact`), forgets a page (:meth:`~Simulation.forget`) and tells the
policies what a page is (:meth:`~Simulation.annotate`): docs/architecture.md §8.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import simpy

from .access import Access, Op, PageReads
from .config import SimConfig
from .errors import ConfigError
from .events import (
    DEMOTE,
    EVICT,
    FAULT,
    PROMOTE,
    WRITEBACK,
    Event,
    RunResult,
    TierStats,
    WindowSnapshot,
)
from .hooks import SizeHook
from .metrics import LatencyHistogram, ThrashMeter, ratio
from .observers import Observer
from .tiers import Tier

READ, WRITE, PIN, UNPIN = Op.READ, Op.WRITE, Op.PIN, Op.UNPIN
PINNED = -1  # location code of a page pinned in L0
NEW = "new"  # serving "tier" of a first touch
STORE = "store"  # event source of a page read back after it had left every tier
_CHUNK_ID = re.compile(r"^(.*)#(\d+)$")
_INF = float("inf")


@dataclass(frozen=True)
class Placement:
    """Where a page is (:meth:`Simulation.locate`): the tier holding it, that tier's name, the
    page's stored size there in tokens (after any compression) and whether it is pinned."""

    tier: int
    tier_name: str
    size: int
    pinned: bool


@dataclass(frozen=True)
class TierUsage:
    """How full a tier is (:meth:`Simulation.usage`); ``used`` counts pinned tokens too."""

    name: str
    capacity: int | None
    used: int
    pinned: int
    pages: int


def split_pages(accesses: Iterable[Access], page_size: int) -> Iterator[Access]:
    """Cut every access larger than ``page_size`` tokens into pages ``<id>#0``, ``<id>#1``…"""
    for acc in accesses:
        tokens = acc.tokens
        if tokens <= page_size:
            yield acc
            continue
        full, rest = divmod(tokens, page_size)
        for k in range(full + (1 if rest else 0)):
            size = page_size if k < full else rest
            yield acc._replace(page_id=f"{acc.page_id}#{k}", tokens=size)


def split_count(tokens: int, page_size: int) -> int:
    """How many pages :func:`split_pages` cuts an access of ``tokens`` tokens into."""
    return max(1, -(-tokens // page_size))


def split_bounds(accesses: int, tokens: int, page_size: int) -> tuple[int, int]:
    """The fewest and the most pages :func:`split_pages` cuts ``accesses`` accesses of
    ``tokens`` tokens in all into (each access at least 1 token): an access of s tokens makes
    ceil(s / page_size) pages, at least s / page_size and at most 1 + (s - 1) / page_size."""
    return (max(accesses, split_count(tokens, page_size)),
            accesses + (tokens - accesses) // page_size)


def next_pages(page_id: Hashable, depth: int) -> list[Hashable]:
    """The ``depth`` pages that follow ``page_id`` in its sequence (for prefetch)."""
    if isinstance(page_id, int):
        return [page_id + k for k in range(1, depth + 1)]
    match = _CHUNK_ID.match(str(page_id))
    if not match:
        return []
    base, k = match.group(1), int(match.group(2))
    return [f"{base}#{k + j}" for j in range(1, depth + 1)]


class Simulation:
    """One run of a :class:`SimConfig` over a stream of :class:`Access`.

    ``future`` gives, for OPT, the index of the next access of the same page for every access
    (see ``traces.next_use_indices``); it is required when a tier uses ``opt``. ``total`` (the
    number of accesses, when known) only feeds the progress figure of snapshots.

    ``track_refaults=False`` is for callers that only count misses (the cells of a miss-ratio
    curve or a sweep): no page's eviction is stamped, so no fault is judged a refault —
    ``refaults`` and the thrash index stay 0, ``mean_eviction_distance`` None, and a fault
    event names its source ``new`` — while every hit, miss, eviction and placement is the
    same. The refault test is about a fifth of the classic loop's time (bench/README.md).
    """

    def __init__(
        self,
        config: SimConfig,
        accesses: Iterable[Access],
        *,
        observers: Sequence[Observer] = (),
        future: Sequence[int] | None = None,
        total: int | None = None,
        concurrent: bool = False,
        max_events: int = 20,
        compression: SizeHook | None = None,
        track_refaults: bool = True,
    ) -> None:
        self.config = config.checked()  # validated once, however many runs use it
        #: compression on demotion (None: pages keep their size in every tier)
        self.compression = compression
        self.env = simpy.Environment()
        self.tiers = [Tier(i, t, config.seed) for i, t in enumerate(config.tiers)]
        for tier in self.tiers[1:]:
            if tier.policy.needs_future:
                raise ConfigError(
                    "OPT needs the future of the accesses that reach a tier; it is offered "
                    "for L0 only", field=f"tiers[{tier.index}].policy",
                )
        if self.tiers[0].policy.needs_future and future is None:
            raise ConfigError(
                "OPT (Belady) needs the whole future: run it on a trace or a finite workload",
                field="tiers[0].policy",
            )
        self.future = future
        self.total = total
        self.concurrent = concurrent
        self.observers = list(observers)
        self._event_observers = [o for o in self.observers if o.wants_events]
        if config.page_size is not None and not config.unit_pages:
            accesses = split_pages(accesses, config.page_size)
        self._stream: Iterator[Any] = iter(accesses)

        self.location: dict[Hashable, int] = {}
        self.sizes: dict[Hashable, int] = {}
        self.dirty: set[Hashable] = set()
        self.prefetched: set[Hashable] = set()
        # no more pages than L0's capacity can be resident: no farther eviction can refault
        self.thrash = ThrashMeter(config.thrash_window, horizon=self.tiers[0].capacity,
                                  remember=track_refaults)
        self._track_refaults = track_refaults
        self.n_tiers = len(self.tiers)
        self.tokens_moved = [[0] * self.n_tiers for _ in range(self.n_tiers)]
        self.faults_by_tier: dict[str, int] = {t.name: 0 for t in self.tiers[1:]}

        self.index = 0  # accesses processed (pin/unpin included)
        self.clock_ms = 0.0
        self.reads = self.writes = self.hits = self.faults = 0
        self.writebacks = self.prefetches = self.prefetch_hits = self.dropped = 0
        self.pin_fetches = 0
        self.first_touches = 0  # reads of pages no tier held (they miss every tier)
        self._concurrent_cost = 0.0
        self._last_src = 0
        # non-zero access latencies of the whole run and of the open window, as histograms:
        # bounded memory however long the run or the window (docs/metrics.md)
        self.costs = LatencyHistogram()
        self._window_costs = LatencyHistogram()
        self._recent: deque[tuple] = deque(maxlen=max_events)
        self._record_events = max_events > 0 or bool(self._event_observers)
        # Events are kept as raw tuples (cheap to make on the fault path) and become Event
        # records only when a window closes or an observer wants each one.
        self._emit = self._emit_each if self._event_observers else self._recent.append
        if self._event_observers and all(o.raw_events for o in self._event_observers):
            self._emit = self._emit_raw
        self._unit = config.unit_pages
        self._anti_thrash = config.anti_thrash
        self._prefetch_depth = config.prefetch
        self._tier_names = [t.name for t in self.tiers]
        #: working-set tiers: after every access, pages that left the window leave the tier
        self._expiring = [t for t in self.tiers if t.releases_expired]
        l0 = self.tiers[0]
        self._single_tier_fast = (
            len(self.tiers) == 1 and not concurrent and not config.anti_thrash
            and not config.prefetch and l0.capacity is not None and l0.on_miss is None
            and l0.admits is None and not l0.releases_expired
            and not (l0.policy.needs_clock or l0.policy.needs_future)
        )
        #: the stream is bare page ids (reads of ``_id_tokens`` each), taken from a
        #: :class:`PageReads` by the classic loop, which alone reads them
        self._read_ids = self._single_tier_fast and isinstance(self._stream, PageReads)
        if self._read_ids:
            self._id_tokens = self._stream.tokens
            self._stream = self._stream.page_ids()
        #: the lean fault path (:meth:`_fault_lean`) applies: no tier has a hook, a clock, a
        #: future or an expiry, and nothing protects, prefetches or queues
        self._lean_faults = (
            not concurrent and not config.anti_thrash and not config.prefetch
            and all(
                t.on_miss is None and t.admits is None and not t.releases_expired
                and not (t.policy.needs_clock or t.policy.needs_future)
                for t in self.tiers
            )
        )
        self.exhausted = False
        self._pause = threading.Event()
        self._seq = 0
        self._window_start = 0
        self._last = self._counters()
        self._next_window_ms = config.window_ms if config.window_ms else _INF
        self._finished_sent = False
        self._processes_started = False
        if concurrent:
            for tier in self.tiers:
                if tier.concurrency is not None:
                    tier.resource = simpy.Resource(self.env, capacity=tier.concurrency)

    # --- control --------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.exhausted

    def pause(self) -> None:
        """Ask a running :meth:`run_until` (possibly in another thread) to stop at the end of
        the current window. :meth:`resume` or a new ``run_until`` call clears it."""
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def run(self) -> RunResult:
        """Run to the end of the workload and return the final result."""
        self.resume()
        self.run_until()
        return self.result()

    def step(self, n: int = 1) -> int:
        """Process exactly ``n`` more accesses (fewer at the end); returns how many."""
        before = self.index
        self.run_until(accesses=self.index + n, force=True)
        return self.index - before

    def run_until(
        self, accesses: int | None = None, time_ms: float | None = None, *, force: bool = False
    ) -> bool:
        """Advance until ``accesses`` have been processed, the clock reaches ``time_ms``, the
        workload ends, or :meth:`pause` is called. Returns True while there is more to do."""
        if force:
            self.resume()
        stop_index = accesses if accesses is not None else 1 << 62
        stop_time = time_ms if time_ms is not None else _INF
        if self.concurrent:
            self._run_concurrent(stop_index, stop_time)
        else:
            self._run_fast(stop_index, stop_time)
        if self.exhausted and not self._finished_sent:
            self._close_window(final=True)
            self._finished_sent = True
            result = self.result()
            for observer in self.observers:
                observer.on_finish(result)
        return not self.exhausted

    # --- the public interface for code outside the engine (docs/architecture.md §8) -------

    def locate(self, page_id: Hashable) -> Placement | None:
        """Where ``page_id`` is: its tier, stored size and pin, or None when no tier holds it."""
        loc = self.location.get(page_id)
        if loc is None:
            return None
        tier = 0 if loc == PINNED else loc
        return Placement(tier, self.tiers[tier].name, self.sizes.get(page_id, 0), loc == PINNED)

    def tier_of(self, page_id: Hashable) -> int | None:
        """0 for L0 (pinned included), k for tier k, None when no tier holds the page."""
        loc = self.location.get(page_id)
        return 0 if loc == PINNED else loc

    def residents(self, tier: int = 0) -> list[Hashable]:
        """The pages ``tier`` holds now, pinned ones first (cost: the tier's pages, not all
        the pages ever seen)."""
        t = self.tiers[tier]
        return [*t.pinned, *t.policy.keys()]

    def usage(self, tier: int = 0) -> TierUsage:
        """How full ``tier`` is now (cheap: no result is computed)."""
        t = self.tiers[tier]
        return TierUsage(t.name, t.capacity, t.used, t.pinned_tokens, t.pages)

    def compact(self, target_tokens: int, tier: int = 0) -> list[Hashable]:
        """Evict from ``tier`` with its own policy (pins kept, anti-thrash honoured) until at
        most ``target_tokens`` are used; victims demote as on any eviction. Returns them.

        Not an access: a manager outside the engine compacts ahead of need with it (Letta at
        90 %, MemGPT's flush); a replay of the recorded trace only sees capacity pressure."""
        t = self.tiers[tier]
        if t.capacity is None or t.used <= target_tokens:
            return []
        i = self.index
        room = t.capacity - max(target_tokens, t.pinned_tokens)
        victims = t.make_room(room, i, self.sizes)
        cost = 0.0
        for victim in victims:
            if tier == 0:
                self.thrash.evicted(victim)
            cost += self._demote(victim, tier, i)
        self._charge(cost)
        return victims

    def forget(self, page_id: Hashable) -> bool:
        """Drop a page wherever it is (say, a superseded summary): not an eviction, no event.
        False when no tier held it."""
        loc = self.location.pop(page_id, None)
        if loc is None:
            return False
        self.sizes.pop(page_id, None)
        if loc == PINNED:
            l0 = self.tiers[0]
            l0.pinned_tokens -= l0.pinned.pop(page_id)
        else:
            tier = self.tiers[loc]
            tier.policy.remove(page_id)
            tier.protected_until.pop(page_id, None)
        self.dirty.discard(page_id)
        self.prefetched.discard(page_id)
        if self.compression is not None:
            self.compression.forget(page_id)
        return True

    def annotate(self, page_id: Hashable, **meta: Any) -> None:
        """Tell every tier's policy what ``page_id`` is (kind, importance…). A policy that
        weighs such facts defines ``set_meta(key, **meta)``; the others never hear of it."""
        for tier in self.tiers:
            set_meta = getattr(tier.policy, "set_meta", None)
            if set_meta is not None:
                set_meta(page_id, **meta)

    # --- fast mode ------------------------------------------------------------------------

    def _run_fast(self, stop_index: int, stop_time: float) -> None:
        window = self.config.window_accesses
        while not self.exhausted and self.index < stop_index and self.clock_ms < stop_time:
            if self._pause.is_set():
                return
            window_end = self._window_start + window
            n = min(window_end, stop_index) - self.index
            time_limit = min(stop_time, self._next_window_ms)
            consumed, timed_out = self._process(islice(self._stream, n), time_limit)
            self.index += consumed
            if consumed < n and not timed_out:
                self.exhausted = True
            if self.env.now < self.clock_ms:
                self.env.run(until=self.clock_ms)
            if self.index >= window_end or self.exhausted or self.clock_ms >= self._next_window_ms:
                self._close_window()

    def _process(self, accesses: Iterable[Access], time_limit: float) -> tuple[int, bool]:
        """The hot loop over one window's accesses. Returns (accesses consumed, stopped because
        the clock reached ``time_limit``). Hits touch the policy and a local counter, nothing
        else; everything that costs more lives in :meth:`_fault` and :meth:`_other`."""
        if self._single_tier_fast:
            return self._process_classic(accesses, time_limit)
        policy = self.tiers[0].policy
        touch = policy.touch
        location_get = self.location.get
        fault = self._fault_lean if self._lean_faults else self._fault
        other = self._other
        start = self.index
        hits = 0  # L0 read hits in this call
        others = 0  # every other access; start + hits + others is the current index
        timed_out = False
        plain = not (policy.needs_clock or policy.needs_future or self._prefetch_depth)
        if self._expiring:
            accesses = self._releasing_after_each(accesses, start)
        for acc in accesses:
            if acc[3] is READ:
                page_id = acc[1]
                loc = location_get(page_id)
                if loc == 0:
                    if plain:
                        touch(page_id)
                    else:
                        self._hit(page_id, start + hits + others, loc)
                    hits += 1
                    continue
                if loc == PINNED:
                    if not plain:
                        self._hit(page_id, start + hits + others, loc)
                    hits += 1
                    continue
                fault(acc, start + hits + others, loc)
            else:
                other(acc, start + hits + others)
            others += 1
            if self.clock_ms >= time_limit:
                timed_out = True
                break
        self.hits += hits
        self.reads += hits
        if timed_out and self._expiring:  # the loop left before asking for the next access
            self._release_all_expired(start + hits + others - 1)
        return hits + others, timed_out

    def _hit(self, page_id: Hashable, i: int, loc: int) -> None:
        """An L0 hit for policies that need the clock or the future, or with prefetch on."""
        if loc == 0:
            policy = self.tiers[0].policy
            policy.now = i
            if policy.needs_future:
                policy.set_next_use(self.future[i])
            policy.touch(page_id)
        if self.prefetched and page_id in self.prefetched:
            self.prefetched.discard(page_id)
            self.prefetch_hits += 1

    # --- the fault path -------------------------------------------------------------------

    def _fault(self, acc: Access, i: int, loc: int | None) -> float:
        """A read of a page absent from L0: serve it, bring it in, make room. Returns the
        access's latency (also added to the clock in fast mode)."""
        page_id = acc[1]
        size = 1 if self._unit else acc[2]
        self.reads += 1
        self.faults += 1
        tiers = self.tiers
        l0 = tiers[0]
        thrash = self.thrash
        refault = False
        stamp = thrash.stamp_of(page_id)
        if stamp is not None:
            refault = thrash.judge(stamp, i, len(l0.policy) + len(l0.pinned))
        if loc is None:
            src = self.n_tiers - 1  # a first touch reads from the backing store
            self.first_touches += 1
            src_name = NEW if stamp is None else STORE
        else:
            src = loc
            l0.misses += 1
            if loc > 1:
                for k in range(1, loc):
                    tiers[k].misses += 1
            tiers[loc].hits += 1
            src_name = tiers[loc].name
            self.faults_by_tier[src_name] += 1
        if self.compression is not None and loc is not None:
            size, src = self.compression.on_fault(page_id, size, src, self.n_tiers - 1)
        self._last_src = src
        cost = tiers[src].latency(size) if src else 0.0
        self.sizes[page_id] = size
        cost += self._place(page_id, size, loc, i)
        if self._anti_thrash and self.location.get(page_id) == 0:
            l0.protected_until[page_id] = i + self._anti_thrash
        if self._prefetch_depth:
            self._prefetch(page_id, i)
        if cost:
            self._charge(cost)
        if self._record_events:
            self._emit((FAULT, i, self.clock_ms, page_id, src_name, l0.name, cost, refault))
        return cost

    def _fault_lean(self, acc: Access, i: int, loc: int | None) -> float:
        """:meth:`_fault` when ``_lean_faults`` holds and no page is dirty and nothing
        compresses: the placement and the demotion cascade are written in (one call per tier
        a victim sinks through, :meth:`_sink`, instead of four), with the same draws, counts
        and events in the same order (a Hypothesis test runs both). Any other case takes
        the general path."""
        if self.dirty or self.compression is not None:
            return self._fault(acc, i, loc)
        page_id = acc[1]
        size = 1 if self._unit else acc[2]
        tiers = self.tiers
        l0 = tiers[0]
        capacity = l0.capacity
        if capacity is not None and size + l0.pinned_tokens > capacity:
            return self._fault(acc, i, loc)  # larger than the context: served, not admitted
        self.reads += 1
        self.faults += 1
        thrash = self.thrash
        refault = False
        stamp = thrash.stamp_of(page_id)
        if stamp is not None:
            refault = thrash.judge(stamp, i, len(l0.policy) + len(l0.pinned))
        if loc is None:
            src = self.n_tiers - 1  # a first touch reads from the backing store
            self.first_touches += 1
            src_name = NEW if stamp is None else STORE
        else:
            src = loc
            l0.misses += 1
            for k in range(1, loc):
                tiers[k].misses += 1
            source = tiers[loc]
            source.hits += 1
            src_name = source.name
            self.faults_by_tier[src_name] += 1
            source.policy.remove(page_id)  # leave first: room below must not evict the page
            self.tokens_moved[loc][0] += size
        self._last_src = src
        cost = tiers[src].latency(size) if src else 0.0
        self.sizes[page_id] = size
        policy = l0.policy
        if capacity is not None:
            limit = capacity - l0.pinned_tokens - size
            if policy.used > limit:
                victims = []  # all chosen before any sinks, as Tier.make_room does
                while policy.used > limit:
                    victims.append(policy.victim())
                l0.evictions += len(victims)
                evicted, sink = thrash.evicted, self._sink
                for victim in victims:
                    evicted(victim)
                    sink(victim, 0, i)
        policy.insert(page_id, size)
        self.location[page_id] = 0
        if cost:
            self.clock_ms += cost
            self.costs.add(cost)
            self._window_costs.add(cost)
        if self._record_events:
            self._emit((FAULT, i, self.clock_ms, page_id, src_name, l0.name, cost, refault))
        return cost

    def _sink(self, page_id: Hashable, src: int, i: int) -> None:
        """:meth:`_demote` of a clean, uncompressed page evicted from tier ``src`` when
        ``_lean_faults`` holds: it lands in the first tier below that can hold it, whose own
        victims sink first (so their events come first, as on the general path)."""
        names = self._tier_names
        kind = EVICT if src == 0 else DEMOTE
        landed = ""
        for k in range(src + 1, self.n_tiers):
            tier = self.tiers[k]
            size = self.sizes[page_id]
            capacity = tier.capacity
            policy = tier.policy
            if capacity is not None:
                limit = capacity - tier.pinned_tokens - size
                if limit < 0:
                    continue
                if policy.used > limit:
                    victims = []
                    while policy.used > limit:
                        victims.append(policy.victim())
                    tier.evictions += len(victims)
                    for victim in victims:
                        self._sink(victim, k, i)
            policy.insert(page_id, size)
            self.location[page_id] = k
            tier.demotions_in += 1
            self.tokens_moved[src][k] += size
            landed = names[k]
            break
        else:
            self._drop(page_id)
        if self._record_events:
            self._emit((kind, i, self.clock_ms, page_id, names[src], landed))

    def _process_classic(self, accesses: Iterable[Access], time_limit: float
                         ) -> tuple[int, bool]:
        """:meth:`_process` for the classic shape — L0 alone, no protection, prefetch or
        policy hooks — where a page absent from L0 is nowhere and costs nothing to fetch.

        The fault path is written into the loop: no call but the policy's own ``victim`` and
        ``insert`` (and the refault test when the page was evicted before). Counters stay
        local until the slice ends or a write or a pin needs them current; a hit counts
        nothing (hits are what is left of the slice). An evicted page leaves ``sizes`` too:
        alone, L0's page table holds its resident pages only, which keeps it small (and in the
        processor's cache) however many pages the trace has. Same counts and events as the general
        path (a Hypothesis test runs both); it exists because this is the path
        libCacheSim-style comparisons hammer (bench/README.md, "Where the time goes")."""
        l0 = self.tiers[0]
        policy = l0.policy
        touch, insert, victim_of = policy.touch, policy.insert, policy.victim
        location = self.location
        location_get = location.get
        sizes, dirty, thrash = self.sizes, self.dirty, self.thrash
        sizes_pop = sizes.pop
        # the eviction stamps' two generations (ThrashMeter), renewed here as evictions go
        recent, older = thrash.recent, thrash.older
        renew_at, horizon = thrash.renew_at, thrash.horizon
        stamps = self._track_refaults
        record = self._emit if self._record_events else None
        name, unit, capacity = l0.name, self._unit, l0.capacity
        read, pinned = READ, PINNED
        ids = self._read_ids  # the stream holds bare page ids, every one a read
        id_size = 1 if unit or not ids else self._id_tokens
        room = capacity - l0.pinned_tokens
        clock = self.clock_ms  # faults here cost nothing: only a write or a pin moves it
        start = counted = self.index  # accesses before ``counted`` are in self's counters
        i = start - 1  # the current access
        faults = 0  # since ``counted``
        evictions = thrash.evictions  # the eviction stamp, kept local
        victims = 0  # L0 evictions since ``counted`` (each also a drop: nothing is below L0)
        # the refault test (ThrashMeter.judge) written into the loop too, its sums kept local
        judged = distance_sum = refaults = 0
        refault_at = thrash.positions.append
        timed_out = False
        for i, acc in enumerate(accesses, start):
            if ids:
                page_id = acc
            elif acc[3] is read:
                page_id = acc[1]
            else:
                # a write, a pin or an unpin: the general code, with the counters made current
                self._count_classic(i - counted - faults, faults, evictions, victims,
                                    judged, distance_sum, refaults)
                counted, faults, victims = i + 1, 0, 0
                judged = distance_sum = refaults = 0
                self._other(acc, i)
                evictions = thrash.evictions
                recent, older, renew_at = thrash.recent, thrash.older, thrash.renew_at
                room = capacity - l0.pinned_tokens
                clock = self.clock_ms
                if clock >= time_limit:
                    timed_out = True
                    break
                continue
            loc = location_get(page_id)
            if loc == 0:
                touch(page_id)
                continue
            if loc == pinned:
                continue
            faults += 1
            size = id_size if ids or unit else acc[2]
            stamp = None
            if stamps:
                stamp = recent.pop(page_id, None)
                if stamp is None:
                    stamp = older.pop(page_id, None)
                    if stamp is not None and evictions - stamp > horizon:
                        stamp = None  # beyond the horizon: forgotten (ThrashMeter.stamp_of)
            refault = False
            if stamp is not None:
                distance = evictions - stamp
                judged += 1
                distance_sum += distance
                # alone, L0's pages are exactly the pages with a location
                if distance <= len(location):
                    refaults += 1
                    refault_at(i)
                    refault = True
            if size > room:
                self.dropped += 1  # larger than the context can ever hold: served, not kept
            else:
                limit = room - size
                while policy.used > limit:
                    victim = victim_of()
                    evictions += 1
                    victims += 1
                    if stamps:
                        recent[victim] = evictions
                        if evictions >= renew_at:
                            recent, older = thrash.renew(evictions)
                            renew_at = thrash.renew_at
                    del location[victim]
                    sizes_pop(victim, None)  # alone, a page leaving L0 is gone
                    if dirty:
                        dirty.discard(victim)
                    if record is not None:
                        record((EVICT, i, clock, victim, name, ""))
                insert(page_id, size)
                location[page_id] = 0
                sizes[page_id] = size
            if record is not None:
                record((FAULT, i, clock, page_id, NEW if stamp is None else STORE, name,
                        0.0, refault))
        self._count_classic(i + 1 - counted - faults, faults, evictions, victims,
                            judged, distance_sum, refaults)
        return i + 1 - start, timed_out

    def _count_classic(self, hits: int, faults: int, evictions: int, victims: int,
                       judged: int, distance_sum: int, refaults: int) -> None:
        """Add what :meth:`_process_classic` counted locally (``hits`` read hits): every fault
        there is a read of a page no tier holds, every L0 eviction a page dropped;
        ``evictions`` is the new eviction stamp; ``judged`` faults of evicted pages, their
        eviction distances summing to ``distance_sum``, ``refaults`` of them refaults."""
        self.hits += hits
        self.reads += hits + faults
        self.faults += faults
        self.first_touches += faults
        thrash = self.thrash
        thrash.evictions = evictions
        thrash.distance_count += judged
        thrash.distance_sum += distance_sum
        thrash.refaults += refaults
        self.tiers[0].evictions += victims
        self.dropped += victims

    def _place(self, page_id: Hashable, size: int, loc: int | None, i: int) -> float:
        """Move ``page_id`` (now at tier ``loc``, or nowhere) into L0, demoting victims.
        Returns the write-back time the move had to wait for."""
        l0 = self.tiers[0]
        policy = l0.policy
        capacity = l0.capacity
        cost = 0.0
        if capacity is not None and size + l0.pinned_tokens > capacity:
            # Larger than the context can ever hold: served, not admitted.
            return self._admit_below(page_id, size, 1, i) if loc is None else 0.0
        if policy.needs_clock:
            policy.now = i
        if policy.needs_future:
            policy.set_next_use(self.future[i])
        if l0.on_miss is not None:
            l0.on_miss(page_id, size)
        if l0.admits is not None and not l0.admits(page_id, size):
            return self._admit_below(page_id, size, 1, i) if loc is None else 0.0
        if loc:
            # leave the source tier first: making room below must not evict the page itself
            self.tiers[loc].policy.remove(page_id)
            self.tokens_moved[loc][0] += size
        if l0.releases_expired:
            self._release_expired(l0, i)
        if capacity is not None and policy.used + l0.pinned_tokens + size > capacity:
            evicted = self.thrash.evicted
            demote = self._demote
            for victim in l0.make_room(size, i, self.sizes):
                evicted(victim)
                cost += demote(victim, 0, i)
        policy.insert(page_id, size)
        self.location[page_id] = 0
        return cost

    def _releasing_after_each(self, accesses: Iterable[Access], start: int
                              ) -> Iterator[Access]:
        """``accesses`` again; when the hot loop asks for the next one, the previous one is
        done and the working-set tiers release what left their window with it. Between two
        releases nothing is looked at: the oldest page's expiry only moves later."""
        i = start
        due = start
        for acc in accesses:
            yield acc
            if i >= due:
                due = self._release_all_expired(i)
            i += 1

    def _release_all_expired(self, i: int) -> int:
        """After access ``i``: every working-set tier releases its pages whose last reference
        is ``tau`` or more accesses old (Denning's W(i, tau); docs/policies.md). Returns the
        first access after which one may have a page to release again."""
        dues = []
        for tier in self._expiring:
            policy = tier.policy
            expires = policy.next_expiry()
            if expires is not None and expires <= i:
                self._release_expired(tier, i)
                expires = policy.next_expiry()
            dues.append(i + 1 if expires is None else expires)  # empty: look again next time
        return min(dues)

    def _release_expired(self, tier: Tier, i: int) -> None:
        """Working set: pages not referenced in the last tau accesses (up to access ``i``)
        leave the tier and demote like victims. The demotion (a dirty page's write-back
        included) happens in the background: it is counted, but no access waits for it."""
        policy = tier.policy
        policy.now = i
        for key in list(policy.expired()):
            policy.remove(key)
            tier.evictions += 1
            if tier.index == 0:
                self.thrash.evicted(key)
            self._demote(key, tier.index, i)

    def _admit_below(self, page_id: Hashable, size: int, start: int, i: int) -> float:
        """Place a page in the first tier from ``start`` down that can hold it."""
        for k in range(start, self.n_tiers):
            tier = self.tiers[k]
            capacity = tier.capacity
            if capacity is not None and size + tier.pinned_tokens > capacity:
                continue
            policy = tier.policy
            if policy.needs_clock:
                policy.now = i
            if tier.on_miss is not None:
                tier.on_miss(page_id, size)
            if tier.admits is not None and not tier.admits(page_id, size):
                continue
            cost = 0.0
            if tier.releases_expired:
                self._release_expired(tier, i)
            if capacity is not None and policy.used + tier.pinned_tokens + size > capacity:
                for victim in tier.make_room(size, i, self.sizes):
                    cost += self._demote(victim, k, i)
            policy.insert(page_id, size)
            self.location[page_id] = k
            return cost
        self._drop(page_id)
        return 0.0

    def _drop(self, page_id: Hashable) -> None:
        """``page_id`` left every tier: the run forgets it (its size too, so that a trace of
        many distinct pages does not grow the tables), and counts a drop."""
        self.location.pop(page_id, None)
        self.sizes.pop(page_id, None)
        if self.compression is not None:
            self.compression.forget(page_id)
        self.dropped += 1

    def _demote(self, page_id: Hashable, src: int, i: int) -> float:
        """``page_id`` was just evicted from tier ``src``: move it down (exclusive hierarchy).
        A dirty page under write-back is written back, and the eviction waits for it."""
        dst = src + 1
        dirty = page_id in self.dirty
        kind = EVICT if src == 0 else DEMOTE
        names = self._tier_names
        if dst >= self.n_tiers and not dirty:
            # the common case of a single tier: the page simply leaves
            self._drop(page_id)
            if self._record_events:
                self._emit((kind, i, self.clock_ms, page_id, names[src], ""))
            return 0.0
        size = self.sizes[page_id]
        if self.compression is not None and dst < self.n_tiers:
            size = self.sizes[page_id] = self.compression.on_demote(page_id, size, dst)
        cost = 0.0
        if dirty:
            self.dirty.discard(page_id)
            if dst < self.n_tiers:
                self.writebacks += 1
                cost = self.tiers[dst].latency(size)
                if self._record_events:
                    self._emit((WRITEBACK, i, self.clock_ms, page_id, names[src], names[dst],
                                cost))
        if dst >= self.n_tiers:
            self._drop(page_id)
            if self._record_events:
                self._emit((kind, i, self.clock_ms, page_id, names[src], ""))
            return cost
        cost += self._admit_below(page_id, size, dst, i)
        landed = self.location.get(page_id)
        if landed is not None:
            self.tiers[landed].demotions_in += 1
            self.tokens_moved[src][landed] += size
        if self._record_events:
            self._emit((kind, i, self.clock_ms, page_id, names[src],
                        "" if landed is None else names[landed]))
        return cost

    def _prefetch(self, page_id: Hashable, i: int) -> None:
        """Sequential prefetch: bring the next pages of the same sequence up from lower tiers
        (asynchronously: they cost tokens moved, not the current access's time)."""
        location = self.location
        l0 = self.tiers[0]
        for nxt in next_pages(page_id, self.config.prefetch):
            loc = location.get(nxt)
            if loc is None or loc <= 0:
                continue
            size = self.sizes[nxt]
            if not l0.fits(size):
                continue
            self._place(nxt, size, loc, i)
            self.prefetches += 1
            self.prefetched.add(nxt)
            if self._record_events:
                self._emit((PROMOTE, i, self.clock_ms, nxt, self.tiers[loc].name, l0.name))

    # --- writes, pins ---------------------------------------------------------------------

    def _other(self, acc: Access, i: int) -> float:
        op = acc[3]
        page_id = acc[1]
        if op == WRITE:
            return self._write(acc, i)
        if not self.config.pinning:
            return 0.0
        l0 = self.tiers[0]
        loc = self.location.get(page_id)
        if op == PIN:
            if loc == PINNED:
                return 0.0
            cost = 0.0
            if loc != 0:
                # pinning pulls the page into the context first
                self.pin_fetches += 1
                size = 1 if self.config.unit_pages else acc[2]
                self.sizes[page_id] = size
                src = loc if loc is not None else self.n_tiers - 1
                cost = self.tiers[src].latency(size) if src > 0 else 0.0
                cost += self._place(page_id, size, loc, i)
                self._charge(cost)
            if self.location.get(page_id) == 0:
                size = self.sizes[page_id]
                if size + l0.pinned_tokens <= (l0.capacity or size + l0.pinned_tokens):
                    l0.policy.remove(page_id)
                    l0.protected_until.pop(page_id, None)
                    l0.pinned[page_id] = size
                    l0.pinned_tokens += size
                    self.location[page_id] = PINNED
            return cost
        if op == UNPIN and loc == PINNED:
            size = l0.pinned.pop(page_id)
            l0.pinned_tokens -= size
            l0.policy.insert(page_id, size)
            self.location[page_id] = 0
        return 0.0

    def _write(self, acc: Access, i: int) -> float:
        """A write: allocate in L0 if absent (the whole page is written, nothing is fetched),
        then mark dirty (write-back) or pay the write to the next tier (write-through)."""
        page_id = acc[1]
        self.writes += 1
        l0 = self.tiers[0]
        loc = self.location.get(page_id)
        size = 1 if self.config.unit_pages else acc[2]
        cost = 0.0
        if self.compression is not None:
            self.compression.on_write(page_id)
        if loc == 0 or loc == PINNED:
            self.hits += 1
            if loc == 0:
                policy = l0.policy
                policy.now = i
                if policy.needs_future:
                    policy.set_next_use(self.future[i])
                policy.touch(page_id)
        else:
            l0.misses += 1
            self.sizes[page_id] = size
            cost += self._place(page_id, size, loc, i)
        if self.config.write_policy == "write-through" and self.n_tiers > 1:
            cost += self.tiers[1].latency(size)
            self.tokens_moved[0][1] += size
        elif self.location.get(page_id) in (0, PINNED):
            self.dirty.add(page_id)
        if l0.on_write is not None and self.location.get(page_id) == 0:
            l0.on_write(page_id)  # the policy's own dirty bit (NRU, enhanced CLOCK)
        self._charge(cost)
        return cost

    # --- time and events ------------------------------------------------------------------

    def _charge(self, cost: float) -> None:
        if self.concurrent:
            # the session process holds the tier and measures queueing + service itself
            self._concurrent_cost += cost
            return
        if cost:
            self.clock_ms += cost
            self.costs.add(cost)
            self._window_costs.add(cost)

    def _emit_each(self, raw: tuple) -> None:
        self._recent.append(raw)
        event = Event(*raw)
        for observer in self._event_observers:
            if observer.raw_events:
                observer.on_raw_event(raw)
            else:
                observer.on_event(event)

    def _emit_raw(self, raw: tuple) -> None:
        self._recent.append(raw)
        for observer in self._event_observers:
            observer.on_raw_event(raw)

    # --- concurrent sessions --------------------------------------------------------------

    def _run_concurrent(self, stop_index: int, stop_time: float) -> None:
        if self.exhausted or self._pause.is_set():
            return
        env = self.env
        self._stop_index = stop_index
        self._stop = env.event()
        if not self._processes_started:
            self._processes_started = True
            self._queues: dict[str, deque[Access]] = {}
            self._live = 0
            self._gate = env.event()
            self._spawn_from_stream()
        else:
            gate, self._gate = self._gate, env.event()
            if not gate.triggered:
                gate.succeed()
        if self.index >= stop_index:
            return
        waits = [self._stop]
        if stop_time != _INF:
            waits.append(env.timeout(max(0.0, stop_time - env.now)))
        with contextlib.suppress(RuntimeError):  # no events left: every session finished
            env.run(until=env.any_of(waits))
        self.clock_ms = max(self.clock_ms, env.now)
        if self._live == 0:
            self.exhausted = True

    def _spawn_from_stream(self) -> Access | None:
        """Read the shared stream until an access arrives; start a process for a new session."""
        acc = next(self._stream, None)
        if acc is None:
            return None
        queue = self._queues.get(acc.session)
        if queue is None:
            queue = self._queues[acc.session] = deque()
            self._live += 1
            self.env.process(self._session(acc.session, queue))
        queue.append(acc)
        return acc

    def _look_ahead(self, session: str, limit: int = 1024) -> None:
        """Before ``session`` blocks on a transfer, read on until another session has work, so
        sessions whose first access lies behind this one's start now, concurrently."""
        for _ in range(limit):
            if any(q for s, q in self._queues.items() if s != session):
                return
            if self._spawn_from_stream() is None:
                return

    def _next_for(self, session: str, queue: deque[Access]) -> Access | None:
        while not queue:
            if self._spawn_from_stream() is None:
                return None
        return queue.popleft()

    def _session(self, session: str, queue: deque[Access]):
        env = self.env
        window = self.config.window_accesses
        while True:
            while self.index >= self._stop_index or self._pause.is_set():
                if not self._stop.triggered:
                    self._stop.succeed()
                yield self._gate
            acc = self._next_for(session, queue)
            if acc is None:
                self._live -= 1
                if self._live == 0 and not self._stop.triggered:
                    self._stop.succeed()
                return
            i = self.index
            self.index += 1
            self.clock_ms = env.now
            if self._expiring:  # sessions interleave: whatever came before i is done
                self._release_all_expired(i - 1)
            page_id = acc[1]
            loc = self.location.get(page_id)
            if acc[3] is READ and (loc == 0 or loc == PINNED):
                self._hit(page_id, i, loc)
                self.hits += 1
                self.reads += 1
            else:
                self._concurrent_cost = 0.0
                self._last_src = 0
                if acc[3] is READ:
                    self._fault(acc, i, loc)
                else:
                    self._other(acc, i)
                cost = self._concurrent_cost
                if cost:
                    self._look_ahead(session)
                    start = env.now
                    resource = self.tiers[self._last_src].resource
                    if resource is None:
                        yield env.timeout(cost)
                    else:
                        with resource.request() as request:
                            yield request
                            yield env.timeout(cost)
                    waited = env.now - start
                    self.costs.add(waited)
                    self._window_costs.add(waited)
                    self.clock_ms = env.now
            if self._expiring:
                self._release_all_expired(i)
            if self.index >= self._window_start + window or self.clock_ms >= self._next_window_ms:
                self._close_window()

    # --- windows and results --------------------------------------------------------------

    def _counters(self) -> dict[str, Any]:
        return {
            "reads": self.reads,
            "writes": self.writes,
            "hits": self.hits,
            "faults": self.faults,
            "refaults": self.thrash.refaults,
            "evictions": self.tiers[0].evictions,
            "tier_hits": [t.hits for t in self.tiers],
            "tier_misses": [t.misses + self.first_touches for t in self.tiers],
            "tier_evictions": [t.evictions for t in self.tiers],
        }

    def totals(self) -> dict[str, Any]:
        """The run's totals so far (what a window's ``cumulative`` holds), current between
        two slices of a run as at the end of a window: for progress inside a long window."""
        return {
            "requests": self.reads + self.writes,
            "hits": self.hits,
            "faults": self.faults,
            "miss_ratio": ratio(self.faults, self.reads),
            "hit_ratio": ratio(self.hits, self.reads + self.writes),
            "refaults": self.thrash.refaults,
            "evictions": self.tiers[0].evictions,
        }

    def _close_window(self, final: bool = False) -> None:
        if self.index == self._window_start and not final:
            return
        if final and self.index == self._window_start and self._seq > 0:
            return
        now = self._counters()
        last = self._last
        accesses = self.index - self._window_start
        requests = (now["reads"] - last["reads"]) + (now["writes"] - last["writes"])
        tiers = []
        for k, tier in enumerate(self.tiers):
            hits = now["tier_hits"][k] - last["tier_hits"][k]
            misses = now["tier_misses"][k] - last["tier_misses"][k]
            if k == 0:
                hits = now["hits"] - last["hits"]
            tiers.append(TierStats(
                tier.name, tier.capacity, tier.config.policy, hits, misses,
                ratio(hits, hits + misses),
                now["tier_evictions"][k] - last["tier_evictions"][k], tier.demotions_in,
                tier.used, tier.pages, tier.spared,
            ))
        snapshot = WindowSnapshot(
            seq=self._seq,
            start=self._window_start,
            end=self.index,
            time_ms=self.clock_ms,
            accesses=accesses,
            hits=now["hits"] - last["hits"],
            faults=now["faults"] - last["faults"],
            evictions=now["evictions"] - last["evictions"],
            refaults=now["refaults"] - last["refaults"],
            thrash_index=self.thrash.index_at(self.index),
            latency_ms=self._window_costs.summary(requests),
            tiers=tiers,
            cumulative=self.totals(),
            events=[Event(*raw) for raw in self._recent],
            progress=min(1.0, self.index / self.total) if self.total else None,
        )
        self._recent.clear()
        self._window_costs = LatencyHistogram()
        self._last = now
        self._seq += 1
        self._window_start = self.index
        if self.config.window_ms:
            step = self.config.window_ms
            behind = self.clock_ms - self._next_window_ms
            if behind >= step:  # one long transfer spanned many windows: skip them at once
                self._next_window_ms += (behind // step) * step
            while self._next_window_ms <= self.clock_ms:
                self._next_window_ms += step
        for observer in self.observers:
            observer.on_window(snapshot)

    def result(self) -> RunResult:
        """The run's measurements so far (final once the workload is exhausted)."""
        requests = self.reads + self.writes
        l0 = self.tiers[0]
        tiers = []
        for k, tier in enumerate(self.tiers):
            hits = self.hits if k == 0 else tier.hits
            misses = requests - self.hits if k == 0 else tier.misses + self.first_touches
            tiers.append(TierStats(
                tier.name, tier.capacity, tier.config.policy, hits, misses,
                ratio(hits, hits + misses), tier.evictions, tier.demotions_in, tier.used,
                tier.pages, tier.spared,
            ))
        moved = [
            {"from": self.tiers[a].name, "to": self.tiers[b].name, "tokens": n}
            for a, row in enumerate(self.tokens_moved) for b, n in enumerate(row) if n
        ]
        return RunResult(
            policy=l0.config.policy,
            requests=requests,
            reads=self.reads,
            writes=self.writes,
            hits=self.hits,
            misses=self.faults,
            allocations=requests - self.hits - self.faults,
            miss_ratio=ratio(self.faults, self.reads),
            faults=self.faults,
            faults_by_tier={**self.faults_by_tier, NEW: self.first_touches},
            refaults=self.thrash.refaults,
            thrash_index=self.thrash.index_at(self.index),
            latency_ms=self.costs.summary(requests),
            sim_time_ms=self.clock_ms,
            tiers=tiers,
            tokens_moved=moved,
            writebacks=self.writebacks,
            prefetches=self.prefetches,
            prefetch_hits=self.prefetch_hits,
            dropped=self.dropped,
            mean_eviction_distance=self.thrash.mean_distance,
            finished=self.exhausted,
        )
