"""Miss-ratio curves: the miss ratio of a policy at many cache sizes (docs/mrc.md).

Three ways to a curve, each result saying which one it took:

* **exact LRU in one pass** (:func:`lru_curve`): LRU stack distances (Mattson et al. 1970,
  :mod:`simulator.engine.stackdist`) give the misses at every size from one pass;
* **exact, any policy** (:class:`Cell`, :func:`run_cell`): the engine's own simulation, one
  independent cell ``(source, policy, size) -> misses`` per point, so that one source of truth
  (the engine's policies) decides every miss and cells can run anywhere;
* **sampled, any policy** (``rate=...``): spatial sampling by a key of each page (a page is
  always in or always out), the keys spread evenly over the pages ranked by popularity; then
  SHARDS for LRU (Waldspurger et al., FAST'15: distances on the sample scaled by 1/R) and
  miniature simulation for the others (ATC'17: the engine on the sample at capacity · R).
  A sampled point says ``exact: false``, its rate and an error estimate; it is never
  presented as exact.

A curve is computed on the trace's **reference string**: every read and every write is a
reference to its page (as in the cache literature and libCacheSim), ``pin``/``unpin`` are
control operations and are left out. The miss ratio of a point is misses / references.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import threading
import time
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from itertools import islice, repeat
from pathlib import Path
from typing import Any

import numpy as np

from .access import Access, Op, PageReads, reads
from .config import SIM_PARAMS, TIER_PARAMS, SimConfig, TierConfig
from .errors import ConfigError, Stopped, TimeLimitExceeded
from .events import FAULT
from .observers import Observer
from .policies import make_policy
from .simulation import Simulation
from .sources import SequenceSource, SessionSource, Source, TraceSource, WorkloadSource
from .stackdist import FIRST, TokenStack, UnitStack
from .traces import CsvLayout, next_use_indices
from .workloads import Workload

__all__ = [
    "DEFAULT_MAX_ERROR",
    "DEFAULT_MIN_PAGES",
    "HASH_SPACE",
    "UNREFINED_MIN_PAGES",
    "Cell",
    "CellResult",
    "Curve",
    "MrcResult",
    "ReferenceSource",
    "footprint",
    "log_sizes",
    "lru_curve",
    "miss_ratio_curves",
    "open_source",
    "page_keys",
    "point_rate",
    "run_cell",
    "sampled_or_exact",
    "source_spec",
]

_READ, _WRITE = Op.READ, Op.WRITE
#: a page's sampling key takes values 0 .. HASH_SPACE-1; a rate R keeps the keys below
#: R·HASH_SPACE
HASH_SPACE = 1 << 24
#: a miniature cache holds at least this many pages: the rate of a small size is raised
#: so that size · rate reaches it (docs/mrc.md §4)
DEFAULT_MIN_PAGES = 100
#: the floor of a point that is not refined when its error is large (a sweep's cells)
UNREFINED_MIN_PAGES = 200
#: the standard error a sampled point aims at by default: raising its rate until it does
DEFAULT_MAX_ERROR = 0.0025
#: a point whose rate would reach this is simulated exactly instead (it costs at most twice)
_EXACT_FROM = 0.5
#: rounds of a sampled curve: the first at the starting rates, then refinements
_ROUNDS = 3
#: references handled per numpy batch when turning distances into misses
_BATCH = 1 << 16
#: a simulation cell closes as few windows as the engine allows: observers are not what a cell
#: is for
_ONE_WINDOW = int(next(p.maximum for p in SIM_PARAMS if p.name == "window_accesses"))


# --------------------------------------------------------------------------------------------
# the reference string and the sources a cell can name


@dataclass
class ReferenceSource:
    """Another source's reference string: its reads and writes as reads (each of one token
    with ``unit_pages``), ``pin``/``unpin`` left out. What every curve is computed on."""

    inner: Source
    unit_pages: bool = True

    @property
    def label(self) -> str:
        return self.inner.label

    def open(self) -> Iterator[Access]:
        stream = self.inner.open()
        if isinstance(stream, PageReads):  # reads only: the engine can take the ids bare
            return PageReads(stream.page_ids(), 1 if self.unit_pages else stream.tokens)
        return self._references(stream)

    def _references(self, stream: Iterator[Access]) -> Iterator[Access]:
        unit = self.unit_pages
        for access in stream:
            op = access[3]
            if op is _READ or op is _WRITE:
                yield Access(access[0], access[1], 1 if unit else access[2])

    @property
    def finite(self) -> bool:
        return self.inner.finite

    @property
    def length(self) -> int | None:
        return None


def _references(source: Source, unit_pages: bool) -> Iterator[tuple[Hashable, int]]:
    """``(page, tokens)`` per reference (tokens 1 with unit pages)."""
    stream = source.open()
    if isinstance(stream, PageReads):  # bare ids: no access is made
        return zip(stream.page_ids(), repeat(1 if unit_pages else stream.tokens))
    return ((access[1], 1 if unit_pages else access[2]) for access in stream
            if access[3] is _READ or access[3] is _WRITE)


def _pages(source: Source) -> Iterator[Hashable]:
    stream = source.open()
    if isinstance(stream, PageReads):
        return stream.page_ids()
    return (access[1] for access in stream if access[3] is _READ or access[3] is _WRITE)


def source_spec(source: Source) -> dict[str, Any]:
    """A source as plain JSON data, from which :func:`open_source` builds it again."""
    if isinstance(source, ReferenceSource | SessionSource):
        return source_spec(source.inner)  # neither sessions nor ops change a reference string
    if isinstance(source, TraceSource):
        spec = {"kind": "trace", "path": str(source.path), "format": source.fmt}
        if source.csv_layout is not None:  # a CSV of another shape reads only with it
            spec["csv_layout"] = source.csv_layout.to_dict()
        return spec
    if isinstance(source, WorkloadSource):
        return {"kind": "workload", "workload": source.workload.to_dict()}
    if isinstance(source, SequenceSource):
        return {"kind": "sequence", "pages": list(source.pages), "tokens": source.tokens}
    raise ConfigError(f"a {type(source).__name__} cannot be described as data; use a trace "
                      f"file, a workload or a sequence", field="source")


def open_source(spec: Mapping[str, Any]) -> Source:
    """The inverse of :func:`source_spec` (validated: a bad spec raises ConfigError)."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f"expected an object, got {type(spec).__name__}", field="source")
    kind = spec.get("kind")
    if kind == "trace":
        path, fmt = spec.get("path"), spec.get("format")
        if not isinstance(path, str) or not path:
            raise ConfigError("expected a file path", field="source.path")
        if fmt is not None and not isinstance(fmt, str):
            raise ConfigError("expected a format name or null", field="source.format")
        layout = spec.get("csv_layout")
        if layout is not None and not isinstance(layout, Mapping):
            raise ConfigError("expected an object or null", field="source.csv_layout")
        try:
            csv_layout = CsvLayout.from_dict(dict(layout)) if layout is not None else None
        except ConfigError as exc:
            raise exc.within("source.csv_layout") from None
        return TraceSource(Path(path), fmt, csv_layout=csv_layout)
    if kind == "workload":
        return WorkloadSource(Workload.from_dict(spec.get("workload")))
    if kind == "sequence":
        pages, tokens = spec.get("pages"), spec.get("tokens", 1)
        if not isinstance(pages, list) or not all(isinstance(p, int | str) for p in pages):
            raise ConfigError("expected a list of page ids", field="source.pages")
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
            raise ConfigError("expected a positive integer", field="source.tokens")
        return SequenceSource(list(pages), tokens)
    raise ConfigError(f"unknown source kind {kind!r}; use trace, workload or sequence",
                      field="source.kind")


def _spec_key(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# sizes


@dataclass(frozen=True)
class Footprint:
    """What a reference string touches: ``references``, distinct ``pages`` and their
    ``tokens`` (each page counted once, at its latest size)."""

    references: int
    pages: int
    tokens: int

    def of(self, unit_pages: bool) -> int:
        return self.pages if unit_pages else self.tokens


def footprint(source: Source, unit_pages: bool = True) -> Footprint:
    """One pass over ``source``: its :class:`Footprint`."""
    sizes: dict[Hashable, int] = {}
    references = 0
    for page, tokens in _references(source, unit_pages):
        sizes[page] = tokens
        references += 1
    return Footprint(references, len(sizes), sum(sizes.values()))


def log_sizes(footprint: int, count: int = 20, low: float = 0.001) -> list[int]:
    """``count`` cache sizes log-spaced from ``low`` · ``footprint`` to ``footprint``, rounded
    to integers of at least 1. Sizes that round to the same integer appear once, so a tiny
    footprint can give fewer than ``count`` sizes."""
    if isinstance(footprint, bool) or not isinstance(footprint, int) or footprint < 1:
        raise ConfigError(f"expected a positive integer, got {footprint!r}", field="footprint")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise ConfigError(f"expected an integer from 1 to 1000, got {count!r}", field="count")
    if not isinstance(low, int | float) or isinstance(low, bool) or not 0 < low <= 1:
        raise ConfigError(f"expected a fraction in (0, 1], got {low!r}", field="low")
    if count == 1:
        return [footprint]
    points = np.geomspace(low * footprint, footprint, count)
    return sorted({max(1, round(float(p))) for p in points})


#: the largest cache size of a point: the largest capacity a tier takes (config.py)
MAX_SIZE = next(p.maximum for p in TIER_PARAMS if p.name == "capacity_tokens")


def _check_sizes(sizes: Iterable[int]) -> list[int]:
    checked = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
            raise ConfigError(f"a cache size must be an integer from 1 to {MAX_SIZE:,}, got "
                              f"{size!r}", field="sizes")
        checked.append(size)
    if not checked:
        raise ConfigError("give at least one cache size", field="sizes")
    return sorted(set(checked))


# --------------------------------------------------------------------------------------------
# results


@dataclass
class CellResult:
    """One point of a curve. ``misses`` is exact when ``exact`` is true; a sampled point
    gives the estimate (rounded) and its ``miss_ratio`` unrounded, its ``rate`` and ``error``,
    the estimated standard error of its miss ratio (docs/mrc.md §4)."""

    policy: str
    size: int
    requests: int
    misses: int
    miss_ratio: float
    exact: bool
    method: str
    rate: float = 1.0
    error: float | None = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": self.size, "misses": self.misses, "miss_ratio": self.miss_ratio,
            "exact": self.exact, "method": self.method, "rate": self.rate, "error": self.error,
        }


@dataclass
class Curve:
    policy: str
    points: list[CellResult]

    @property
    def exact(self) -> bool:
        return all(point.exact for point in self.points)

    @property
    def max_error(self) -> float | None:
        """The largest error estimate of its points (0 when every point is exact)."""
        errors = [p.error for p in self.points]
        return None if None in errors else max(errors, default=0.0)


@dataclass
class MrcResult:
    """Curves of several policies on one reference string."""

    requests: int
    unit_pages: bool
    sizes: list[int]
    curves: dict[str, Curve]
    rate: float | None = None
    min_pages: int = DEFAULT_MIN_PAGES
    seconds: float = 0.0
    max_error: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "curves": {name: [p.to_dict() for p in c.points] for name, c in self.curves.items()},
            "unit": "pages" if self.unit_pages else "tokens",
            "sizes": self.sizes,
            "exact": all(c.exact for c in self.curves.values()),
            "rate": self.rate,
            "min_pages": self.min_pages if self.rate is not None else None,
            "max_error": self.max_error,
            "seconds": round(self.seconds, 3),
        }


# --------------------------------------------------------------------------------------------
# exact LRU in one pass


@dataclass
class _StackCounts:
    """Misses of an LRU stack at given sizes, from (possibly scaled) stack depths."""

    requests: int = 0
    misses: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    largest_page: int = 0
    resized: int = 0


def _stack_misses(
    references: Iterator[tuple[Hashable, int]] | Iterator[Hashable], sizes: Sequence[int],
    unit_pages: bool, watch: _Watch | None = None,
) -> _StackCounts:
    """Misses at each of ``sizes`` (ascending) of an LRU cache on ``references`` (page ids
    with unit pages, else (page, tokens) pairs).

    A reference misses at capacity C when it is a first reference or when its **depth**,
    distance + own size, exceeds C (docs/mrc.md §2). Distances go to numpy ``_BATCH`` at a
    time: each reference falls in the bucket of the number of sizes below its depth. ``watch``
    is checked after each batch.
    """
    bounds = np.asarray(sizes, dtype=np.int64)
    buckets = np.zeros(len(sizes) + 1, dtype=np.int64)
    counts = _StackCounts()
    stack = UnitStack() if unit_pages else TokenStack()
    first = 0
    while batch := list(islice(references, _BATCH)):
        found = np.frombuffer(array("q", stack.distances(batch)), dtype=np.int64)
        if unit_pages:
            own: Any = 1
        else:
            own = np.fromiter((tokens for _, tokens in batch), dtype=np.int64, count=len(batch))
            counts.largest_page = max(counts.largest_page, int(own.max()))
        again = found != FIRST
        first += len(batch) - int(np.count_nonzero(again))
        counts.requests += len(batch)
        depth = (found + own)[again]
        buckets += np.bincount(np.searchsorted(bounds, depth), minlength=len(buckets))
        if watch is not None:
            watch.check()
    if unit_pages:
        counts.largest_page = 1 if counts.requests else 0
    else:
        counts.resized = stack.resized
    # a reference in bucket b misses at the b smallest sizes; first references at all
    counts.misses = first + np.cumsum(buckets[::-1])[::-1][1:]
    return counts


def lru_curve(
    source: Source, sizes: Iterable[int], *, unit_pages: bool = True,
    on_point: Callable[[CellResult], None] | None = None, seconds: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> Curve:
    """The exact LRU curve at ``sizes`` from one pass of stack distances.

    With sized pages the stack rule is exact for pages that keep one size and fit the cache;
    a size smaller than the largest page, or every size when some page changes size, is
    simulated instead (method ``simulation``), so every point stays exact. ``seconds`` and
    ``stop`` bound the pass as they bound a cell (:func:`run_cell`).
    """
    sizes = _check_sizes(sizes)
    started = time.perf_counter()
    watch = None
    if seconds is not None or stop is not None:
        curve = Cell(source_spec(source), "lru", sizes[-1], unit_pages)
        watch = _Watch(curve, started, seconds, stop)
    refs = _pages(source) if unit_pages else _references(source, unit_pages)
    counts = _stack_misses(refs, sizes, unit_pages, watch)
    took = time.perf_counter() - started
    points = []
    for size, misses in zip(sizes, counts.misses.tolist(), strict=True):
        if counts.resized or size < counts.largest_page:
            left = None if seconds is None else seconds - (time.perf_counter() - started)
            point = run_cell(Cell(source_spec(source), "lru", size, unit_pages), source,
                             seconds=left, stop=stop)
        else:
            point = CellResult("lru", size, counts.requests, misses,
                               _ratio(misses, counts.requests), True, "stack",
                               seconds=took / len(sizes))
        if on_point is not None:
            on_point(point)
        points.append(point)
    return Curve("lru", points)


def _ratio(misses: float, requests: int) -> float:
    return misses / requests if requests else 0.0


# --------------------------------------------------------------------------------------------
# cells


def _canonical_policy(policy: str, params: Mapping[str, Any]) -> str:
    """The registry name of ``policy`` (aliases resolved); bad names or params raise."""
    if not isinstance(policy, str):
        raise ConfigError(f"expected a policy name, got {policy!r}", field="policy")
    return make_policy(policy, 1, **params).name


@dataclass(frozen=True)
class Cell:
    """One point to compute: the misses of ``policy`` (with ``params``) at ``size`` on the
    reference string of ``source`` (a :func:`source_spec`), in pages (``unit_pages``) or
    tokens. ``rate`` None is the exact simulation of the whole trace; a rate in (0, 1) is a
    miniature simulation (SHARDS for LRU) on the pages whose key (salted by ``salt``) falls
    below ``rate · HASH_SPACE``.

    A cell is plain data (:meth:`to_dict`/:meth:`from_dict`, picklable) and a pure function of
    its fields, as long as the trace file it names does not change: running it twice, in any
    process, gives the same result, and :attr:`key` names it for idempotent storage.
    """

    source: Mapping[str, Any]
    policy: str
    size: int
    unit_pages: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)
    rate: float | None = None
    salt: int = 0

    def validate(self) -> Cell:
        open_source(self.source)
        policy = _canonical_policy(self.policy, self.params)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise ConfigError(f"a cache size must be a positive integer, got {self.size!r}",
                              field="size")
        if not isinstance(self.unit_pages, bool):
            raise ConfigError("expected true or false", field="unit_pages")
        if self.rate is not None:
            _threshold(self.rate)
        if isinstance(self.salt, bool) or not isinstance(self.salt, int):
            raise ConfigError("expected an integer", field="salt")
        if policy != self.policy:
            return Cell(self.source, policy, self.size, self.unit_pages, dict(self.params),
                        self.rate, self.salt)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"source": dict(self.source), "policy": self.policy, "size": self.size,
                "unit_pages": self.unit_pages, "params": dict(self.params), "rate": self.rate,
                "salt": self.salt}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        if not isinstance(data, Mapping):
            raise ConfigError(f"expected an object, got {type(data).__name__}", field="cell")
        known = {"source", "policy", "size", "unit_pages", "params", "rate", "salt"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(unknown)}", field="cell")
        for name in ("source", "policy", "size"):
            if name not in data:
                raise ConfigError("is required", field=name)
        params = data.get("params", {})
        if not isinstance(params, Mapping):
            raise ConfigError("expected an object", field="params")
        return cls(data["source"], data["policy"], data["size"], data.get("unit_pages", True),
                   dict(params), data.get("rate"), data.get("salt", 0)).validate()

    @property
    def key(self) -> str:
        """A stable name of the cell: the SHA-256 of its canonical JSON."""
        return hashlib.sha256(_spec_key(self.to_dict()).encode()).hexdigest()


def run_cell(cell: Cell, source: Source | None = None, *, seconds: float | None = None,
             stop: Callable[[], bool] | None = None) -> CellResult:
    """Compute one cell. ``source``, when given, is the live source the cell's spec describes
    (saves building it again); a sampled cell reuses this process's memo of samples.

    A simulation checks, about every :data:`CHECK_SECONDS`, that it has run for at most
    ``seconds`` (else :class:`TimeLimitExceeded`: a policy such as aging costs time per
    resident page, which a large size makes long) and that ``stop()`` is false (else
    :class:`Stopped`)."""
    cell = cell.validate()
    started = time.perf_counter()
    watch = _Watch(cell, started, seconds, stop)
    source = source if source is not None else open_source(cell.source)
    if cell.rate is None:
        reference = ReferenceSource(source, cell.unit_pages)
        requests, misses = _simulate(cell, reference.open(), None if not _needs_future(
            cell) else next_use_indices(reference.open()), watch=watch)
        return CellResult(cell.policy, cell.size, requests, misses, _ratio(misses, requests),
                          True, "simulation", seconds=time.perf_counter() - started)
    threshold = _threshold(cell.rate)
    sample = _sample_of(cell, source, threshold)
    result = _sampled_point(cell, sample, threshold, watch)
    result.seconds = time.perf_counter() - started
    return result


def _needs_future(cell: Cell) -> bool:
    return make_policy(cell.policy, 1, **cell.params).needs_future


#: how often a cell's simulation looks at its time limit and stop flag (seconds, roughly:
#: the accesses between two looks adapt to how long each access takes)
CHECK_SECONDS = 0.2


@dataclass
class _Watch:
    """When a cell's simulation must stop: after ``seconds`` from ``started``
    (``time.perf_counter``), or when ``stop()`` says so."""

    cell: Cell
    started: float
    seconds: float | None = None
    stop: Callable[[], bool] | None = None

    def check(self) -> None:
        if self.stop is not None and self.stop():
            raise Stopped("stopped before its end: its caller asked it to stop")
        if self.seconds is not None and time.perf_counter() - self.started > self.seconds:
            raise TimeLimitExceeded(
                f"{self.cell.policy} at {self.cell.size:,} ran past the time limit of a "
                f"cell ({self.seconds:g} s): some policies compare every resident page at "
                f"each eviction (cache-aware, aging or NRU with a long period); "
                f"try smaller sizes")


def _simulate(cell: Cell, accesses: Iterable[Access], future: Sequence[int] | None,
              capacity: int | None = None, observers: Sequence[Observer] = (),
              watch: _Watch | None = None) -> tuple[int, int]:
    """(requests, misses) of the engine with one tier of the cell's policy."""
    tier = TierConfig("L0", capacity or cell.size, cell.policy, policy_params=dict(cell.params))
    config = SimConfig(tiers=[tier], unit_pages=cell.unit_pages,
                       window_accesses=_ONE_WINDOW).validate()
    simulation = Simulation(config, accesses, future=future, max_events=0,
                            observers=observers, track_refaults=False)
    if watch is None:
        result = simulation.run()
    else:
        chunk = 1024
        while True:
            began = time.perf_counter()
            more = simulation.run_until(accesses=simulation.index + chunk)
            if not more:
                break
            watch.check()
            took = time.perf_counter() - began
            chunk = max(1, min(2 * chunk, int(chunk * CHECK_SECONDS / max(took, 1e-6))))
        result = simulation.result()
    return result.requests, result.misses


# --------------------------------------------------------------------------------------------
# spatial sampling


def _threshold(rate: float) -> int:
    """Keys below the threshold are in the sample; the rate is rounded to 1/HASH_SPACE."""
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise ConfigError(f"a sampling rate is a fraction in (0, 1], got {rate!r}",
                          field="rate")
    return max(1, min(HASH_SPACE, round(rate * HASH_SPACE)))


@dataclass
class _Sample:
    """The references of the pages whose key is below ``threshold``: each as the dense id of
    its page (0, 1, … in order of first sampled reference) and, with sized pages, its tokens.
    8 bytes per sampled reference (16 with tokens) and 16 per sampled page."""

    threshold: int
    requests: int  # references in the whole trace
    pages: int  # distinct pages in the whole trace
    ids: np.ndarray
    tokens: np.ndarray | None
    page_key: np.ndarray  # dense id -> sampling key
    page_rank: np.ndarray  # dense id -> rank by popularity (0 the most referenced)
    #: threshold -> (pages, stack distances, own sizes) of its SHARDS pass, shared by sizes
    shards: dict[int, tuple[np.ndarray, np.ndarray, Any]] = field(default_factory=dict)

    def select(self, low: int, high: int) -> tuple[list[int], list[int] | None]:
        """The references (dense ids, and tokens) of the pages whose key is in [low, high).
        Renaming pages one-to-one changes no policy's decisions."""
        keys = self.page_key[self.ids]
        keep = (keys >= low) & (keys < high)
        tokens = None if self.tokens is None else self.tokens[keep].tolist()
        return self.ids[keep].tolist(), tokens


#: 2^64 / the golden ratio (odd): rank k's key is the top bits of k · _WEYL + offset mod 2^64
_WEYL = 0x9E3779B97F4A7C15
_KEY_SHIFT = 64 - (HASH_SPACE.bit_length() - 1)  # a key is the top 24 of 64 bits
_RANK_BITS = 40  # a page's rank is packed below its key: up to 2^40 distinct pages


def _offset(salt: int) -> int:
    """Where the salt starts the sequence of keys: BLAKE2b of the salt, the same everywhere."""
    digest = hashlib.blake2b(salt.to_bytes(8, "little", signed=True), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _packed_keys(source: Source, salt: int) -> dict[Hashable, int]:
    """Every page's sampling key and popularity rank, packed as key << 40 | rank.

    Pages are ranked by their number of references (most first; pages referenced equally
    often keep the order of their first reference) and rank k gets the key
    (k · 2^64/φ + offset mod 2^64) >> 40, a Weyl sequence: among any run of ranks, the keys
    below R · 2^24 come about once every 1/R ranks, so the sample at every rate has the
    trace's popularity profile (docs/mrc.md §4). Counting is one more pass over the trace;
    the dictionary holds one integer per distinct page."""
    keys = Counter(_pages(source))
    ranked = sorted(keys, key=keys.__getitem__, reverse=True)  # stable: ties keep order
    step, mask = _offset(salt), (1 << 64) - 1
    for rank, page in enumerate(ranked):
        keys[page] = (step >> _KEY_SHIFT) << _RANK_BITS | rank
        step = (step + _WEYL) & mask
    return keys


def page_keys(source: Source, salt: int = 0) -> dict[Hashable, int]:
    """Each page's sampling key (0 .. HASH_SPACE-1): at rate R a page is in the sample when
    its key is below R · HASH_SPACE (docs/mrc.md §4)."""
    return {page: packed >> _RANK_BITS
            for page, packed in _packed_keys(source, salt).items()}


def _take_sample(source: Source, unit_pages: bool, salt: int, threshold: int) -> _Sample:
    """One pass ranking the pages (:func:`_packed_keys`), one keeping the references of the
    sampled pages."""
    keys = _packed_keys(source, salt)
    below, rank_mask = threshold << _RANK_BITS, (1 << _RANK_BITS) - 1
    dense: dict[Hashable, int] = {}
    ids, tokens_kept, page_key, page_rank = array("q"), array("q"), array("q"), array("q")
    keep_id, keep_tokens = ids.append, tokens_kept.append
    requests = 0
    for page, tokens in _references(source, unit_pages):
        requests += 1
        packed = keys[page]
        if packed < below:
            k = dense.get(page)
            if k is None:
                k = dense[page] = len(dense)
                page_key.append(packed >> _RANK_BITS)
                page_rank.append(packed & rank_mask)
            keep_id(k)
            keep_tokens(tokens)
    return _Sample(threshold, requests, len(keys), _numpy(ids),
                   None if unit_pages else _numpy(tokens_kept), _numpy(page_key),
                   _numpy(page_rank))


def _numpy(values: array) -> np.ndarray:
    return np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, np.int64)


#: samples kept by this process, newest last: a sweep's cells on one trace share one pass
_SAMPLES: OrderedDict[str, _Sample] = OrderedDict()
_SAMPLES_KEPT = 4
_SAMPLES_LOCK = threading.Lock()  # cells may run in threads of one process


def _sample_of(cell: Cell, source: Source, threshold: int) -> _Sample:
    key = _spec_key({"source": cell.source, "unit": cell.unit_pages, "salt": cell.salt})
    with _SAMPLES_LOCK:
        sample = _SAMPLES.get(key)
    if sample is None or sample.threshold < threshold:
        sample = _take_sample(source, cell.unit_pages, cell.salt, threshold)
    with _SAMPLES_LOCK:
        kept = _SAMPLES.get(key)
        if kept is None or kept.threshold < sample.threshold:
            _SAMPLES[key] = sample
        _SAMPLES.move_to_end(key)
        while len(_SAMPLES) > _SAMPLES_KEPT:
            _SAMPLES.popitem(last=False)
    return sample


def _estimate(cell: Cell, sample: _Sample, threshold: int, watch: _Watch | None = None
              ) -> tuple[float, float]:
    """Estimated misses on the whole trace, and the estimated variance of that estimate, from
    the sampled pages (key below ``threshold``, rate R = threshold / HASH_SPACE).

    The sample's misses at size · R scaled to the whole trace by :func:`_total`.
    """
    rate = threshold / HASH_SPACE
    if cell.policy == "lru":
        pages, found, own = _shards_distances(sample, threshold)
        miss = (found == FIRST) | (found / rate + own > cell.size)
        per_page = np.bincount(pages[miss], minlength=len(sample.page_key)).astype(np.float64)
    else:
        pages, tokens = sample.select(0, threshold)
        capacity = max(1, round(cell.size * rate))
        accesses = reads(pages, 1 if tokens is None else tokens)
        future = next_use_indices(pages) if _needs_future(cell) else None
        counter = _FaultsByPage(len(sample.page_key))
        _simulate(cell, accesses, future, capacity, observers=[counter], watch=watch)
        per_page = counter.counts
    return _total(per_page, sample, threshold)


def _total(per_page: np.ndarray, sample: _Sample, threshold: int) -> tuple[float, float]:
    """The estimated misses of the whole trace from the misses ``y`` of each of the n sampled
    pages (of N pages in the trace): N · mean(y), and its variance as that of a systematic
    sample, with the successive-difference estimate of the spread of y over the pages in
    order of popularity: N² (1 - n/N) / n · Σ (y[k+1] - y[k])² / (2 (n - 1))
    (docs/mrc.md §4). N is known from the ranking pass; dividing by n rather than by R takes
    out the noise of how many pages the sample happened to hold."""
    inside = sample.page_key < threshold
    misses = per_page[inside][np.argsort(sample.page_rank[inside], kind="stable")]
    n, pages = len(misses), sample.pages
    if n == 0:  # no page sampled: nothing known, say so in the error
        return 0.0, float(sample.requests) ** 2
    steps = np.diff(misses)
    spread = float(np.dot(steps, steps)) / (2 * (n - 1)) if n > 1 else float(misses[0]) ** 2
    return pages * float(misses.mean()), pages * pages * (1 - n / pages) / n * spread


class _FaultsByPage(Observer):
    """Counts the faults of each page (dense ids) of a miniature simulation. Raw events and a
    list: building an ``Event`` and indexing NumPy per fault cost twice the simulation."""

    wants_events = True
    raw_events = True

    def __init__(self, pages: int) -> None:
        self._counts = [0] * pages

    def on_raw_event(self, raw: tuple) -> None:
        if raw[0] == FAULT:  # Event: kind, index, time_ms, page_id, ...
            self._counts[raw[3]] += 1

    @property
    def counts(self) -> np.ndarray:
        return np.asarray(self._counts, dtype=np.float64)


def _shards_distances(sample: _Sample, threshold: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """SHARDS's one pass on the sample below ``threshold``: the pages, their stack distances
    and own sizes (1 with unit pages). A reference at rate R misses at size C when it is a
    first reference or distance / R + own size > C (docs/mrc.md §4)."""
    if threshold not in sample.shards:
        pages, tokens = sample.select(0, threshold)
        if tokens is None:
            found = np.fromiter(UnitStack().distances(pages), dtype=np.int64, count=len(pages))
            own: Any = 1.0
        else:
            found = np.fromiter(TokenStack().distances(zip(pages, tokens, strict=True)),
                                dtype=np.int64, count=len(pages))
            own = np.asarray(tokens, dtype=np.float64)
        sample.shards[threshold] = (np.asarray(pages, dtype=np.int64), found, own)
    return sample.shards[threshold]


def _sampled_point(cell: Cell, sample: _Sample, threshold: int,
                   watch: _Watch | None = None) -> CellResult:
    method = "shards" if cell.policy == "lru" else "miniature"
    requests = sample.requests
    estimate, variance = _estimate(cell, sample, threshold, watch)
    return CellResult(cell.policy, cell.size, requests, round(estimate),
                      _ratio(estimate, requests), threshold == HASH_SPACE, method,
                      threshold / HASH_SPACE, _ratio(math.sqrt(variance), requests))


# --------------------------------------------------------------------------------------------
# the front door


def miss_ratio_curves(
    source: Source, policies: Sequence[str], sizes: Iterable[int], *, unit_pages: bool = True,
    rate: float | None = None, min_pages: int = DEFAULT_MIN_PAGES,
    max_error: float | None = DEFAULT_MAX_ERROR, salt: int = 0,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    on_point: Callable[[CellResult], None] | None = None, processes: int = 1,
) -> MrcResult:
    """The curves of ``policies`` at ``sizes`` on ``source``'s reference string.

    ``rate`` None: exact (LRU by stack distances, the others by one simulation per size).
    A rate: sampled (docs/mrc.md §4). Each size starts at ``point_rate(size, rate,
    min_pages)``; a point whose estimated standard error is above ``max_error`` (None: no
    limit) is computed again at the rate that error calls for, up to twice; a point whose
    rate reaches 1/2 is simulated exactly instead. ``params`` maps a policy name to its
    parameters; ``on_point`` is called each time a point is computed (a point computed again
    replaces the earlier one of the same policy and size).

    ``processes`` above 1 computes an exact curve's points on a pool of that many processes
    (the LRU curve's one pass is one task, every other point one cell; docs/mrc.md §5): the
    same numbers, ``on_point`` called in this process as each arrives. Sampled curves are
    computed in this process (their points share one sample).
    """
    started = time.perf_counter()
    params = dict(params or {})
    names = [_canonical_policy(p, params.get(p, {})) for p in policies]
    if not names:
        raise ConfigError("give at least one policy", field="policies")
    if len(set(names)) != len(names):
        raise ConfigError(f"a policy is named twice in {list(policies)}", field="policies")
    params = {name: dict(params.get(given, {})) for name, given in zip(names, policies,
                                                                      strict=True)}
    sizes = _check_sizes(sizes)
    if isinstance(min_pages, bool) or not isinstance(min_pages, int) or min_pages < 0:
        raise ConfigError(f"expected an integer >= 0, got {min_pages!r}", field="min_pages")
    if max_error is not None and (isinstance(max_error, bool) or not isinstance(
            max_error, int | float) or not max_error > 0):
        raise ConfigError(f"expected a positive number or None, got {max_error!r}",
                          field="max_error")
    if isinstance(processes, bool) or not isinstance(processes, int) or processes < 1:
        raise ConfigError(f"expected a whole number of processes >= 1, got {processes!r}",
                          field="processes")
    spec = source_spec(source)
    if rate is None and processes > 1:
        curves = _exact_curves_in_processes(spec, names, params, sizes, unit_pages, on_point,
                                            processes)
    elif rate is None:
        curves = _exact_curves(source, spec, names, params, sizes, unit_pages, on_point)
    else:
        _threshold(rate)
        curves = _sampled_curves(source, spec, names, params, sizes, unit_pages, rate,
                                 min_pages, max_error, salt, on_point)
    requests = next(iter(curves.values())).points[0].requests
    return MrcResult(requests, unit_pages, sizes, curves, rate, min_pages,
                     time.perf_counter() - started, max_error if rate is not None else None)


def _exact_curves(source: Source, spec: dict[str, Any], names: list[str],
                  params: dict[str, dict[str, Any]], sizes: list[int], unit_pages: bool,
                  on_point: Callable[[CellResult], None] | None) -> dict[str, Curve]:
    curves: dict[str, Curve] = {}
    for name in names:
        if name == "lru":
            curves[name] = lru_curve(source, sizes, unit_pages=unit_pages, on_point=on_point)
            continue
        points = []
        for size in sizes:
            points.append(run_cell(Cell(spec, name, size, unit_pages, params[name]), source))
            if on_point is not None:
                on_point(points[-1])
        curves[name] = Curve(name, points)
    return curves


def _exact_curves_in_processes(
    spec: dict[str, Any], names: list[str], params: dict[str, dict[str, Any]],
    sizes: list[int], unit_pages: bool, on_point: Callable[[CellResult], None] | None,
    processes: int,
) -> dict[str, Curve]:
    """:func:`_exact_curves` on a pool of spawned processes (a fork of a process with threads
    is not safe): each task is plain data, the source is opened again from ``spec``. The
    first error of a task is raised here, and the tasks not started are cancelled."""
    tasks: list[tuple[Callable[..., list[CellResult]], tuple]] = []
    if "lru" in names:
        tasks.append((_lru_points, (spec, sizes, unit_pages)))
    tasks += [(_cell_points, (Cell(spec, name, size, unit_pages, params[name]).to_dict(),))
              for name in names if name != "lru" for size in sizes]
    points: dict[tuple[str, int], CellResult] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(tasks)),
                             mp_context=context) as pool:
        futures = [pool.submit(task, *args) for task, args in tasks]
        try:
            for future in as_completed(futures):
                for point in future.result():
                    points[point.policy, point.size] = point
                    if on_point is not None:
                        on_point(point)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return {name: Curve(name, [points[name, size] for size in sizes]) for name in names}


def _lru_points(spec: dict[str, Any], sizes: list[int], unit_pages: bool) -> list[CellResult]:
    """A process's task: the exact LRU curve's points (one pass of stack distances)."""
    return lru_curve(open_source(spec), sizes, unit_pages=unit_pages).points


def _cell_points(cell: dict[str, Any]) -> list[CellResult]:
    """A process's task: one cell's point."""
    return [run_cell(Cell.from_dict(cell))]


def _sampled_curves(source: Source, spec: dict[str, Any], names: list[str],
                    params: dict[str, dict[str, Any]], sizes: list[int], unit_pages: bool,
                    rate: float, min_pages: int, max_error: float | None, salt: int,
                    on_point: Callable[[CellResult], None] | None) -> dict[str, Curve]:
    page_tokens = 1.0 if unit_pages else _mean_page_tokens(source, spec, rate, salt)
    todo = {(name, size): point_rate(size, rate, min_pages, page_tokens)
            for name in names for size in sizes}
    points: dict[tuple[str, int], CellResult] = {}
    for _ in range(_ROUNDS):
        sampled = [r for r in todo.values() if r < _EXACT_FROM]
        if sampled:  # one pass takes the sample every cell of this round needs
            _sample_of(Cell(spec, "lru", 1, unit_pages, {}, max(sampled), salt), source,
                       _threshold(max(sampled)))
        for (name, size), point_rate_ in todo.items():
            point = run_cell(Cell(spec, name, size, unit_pages, params[name],
                                  sampled_or_exact(point_rate_), salt), source)
            points[name, size] = point
            if on_point is not None:
                on_point(point)
        if max_error is None:
            break
        todo = {key: _rate_for(point, max_error) for key, point in points.items()
                if not point.exact and (point.error is None or point.error > max_error)}
        if not todo:
            break
    return {name: Curve(name, [points[name, size] for size in sizes]) for name in names}


def _rate_for(point: CellResult, max_error: float) -> float:
    """The rate at which ``point``'s standard error should fall to ``max_error``: the error
    goes as sqrt((1 - R) / R) (docs/mrc.md §4), with a margin of 25 %; at least double."""
    if not point.error:
        return min(1.0, 4 * point.rate)
    odds = (max_error / point.error) ** 2 * (1 - point.rate) / point.rate
    return min(1.0, max(2 * point.rate, 1.25 / (1 + odds)))


def point_rate(size: int, rate: float, min_pages: int, page_tokens: float = 1.0) -> float:
    """The rate a sampled point at ``size`` starts at: ``rate``, raised so that the miniature
    cache holds at least ``min_pages`` pages of ``page_tokens`` tokens (at most 1)."""
    pages = size / page_tokens
    return min(1.0, max(rate, min_pages / pages)) if pages > 0 else 1.0


def sampled_or_exact(rate: float) -> float | None:
    """A cell's rate for a point that should be sampled at ``rate``: None (the exact
    simulation) from 1/2 up, where a sample would cost about as much and be approximate."""
    return rate if rate < _EXACT_FROM else None


def _mean_page_tokens(source: Source, spec: dict[str, Any], rate: float, salt: int) -> float:
    """The mean size of the sampled pages (each at its latest size): with sized pages the
    floor ``min_pages`` is counted in pages of that size."""
    sample = _sample_of(Cell(spec, "lru", 1, False, {}, rate, salt), source, _threshold(rate))
    if not len(sample.ids):
        return 1.0
    latest = np.zeros(len(sample.page_key), dtype=np.int64)
    _, last = np.unique(sample.ids[::-1], return_index=True)
    latest[sample.ids[::-1][last]] = sample.tokens[::-1][last]
    return float(latest.mean())
