"""Seeded, streaming workload generators.

Every generator yields :class:`~simulator.engine.access.Access` tuples one at a time (``n``
of them, or forever when ``n`` is None) and never materialises the trace: random numbers are
drawn in batches of :data:`BATCH` for speed, so memory stays constant however long the stream.
Arguments are checked when the generator is created (:class:`ConfigError` naming the field);
the work (e.g. a Zipf CDF) starts at the first ``next()``.

Common rules:

* page ids are ints; ``time`` is the access's index as a float (0.0, 1.0, ...); op read.
* ``seed`` (an int) fixes the whole stream: same arguments and seed, same accesses.
* ``tokens`` is either a constant page size (default 1: classic unit pages) or a
  ``(min, max)`` pair: each page then gets a fixed size drawn uniformly in ``[min, max]`` from
  its own seeded stream (independent of the access stream), so the same page always has the
  same size. Sizes are kept in an array of 8 bytes per page.
* ``n_pages`` is at most :data:`MAX_PAGES` (CDFs and size tables are O(n_pages)).

Each generator's parameters are described once, as data (:data:`GENERATORS`: a
:class:`Generator` with its :class:`~simulator.engine.params.Param` tuple, each with its sane
range); the checks read those descriptions, and the web form, the API's JSON Schema and the
CLI derive their fields, schemas and help from them. The :class:`Workload` dataclass
describes a generator by name and parameters (plain data for forms, JSON and the database)
and builds it; :data:`WORKLOADS` maps names to the generator functions.
"""

from __future__ import annotations

import math
import random
from array import array
from bisect import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, repeat
from typing import Any

from simulator.engine.access import Access, Op
from simulator.engine.errors import ConfigError
from simulator.engine.params import Param, Problems, figure, json_schema, show

__all__ = [
    "BATCH",
    "GENERATORS",
    "MAX_ACCESSES",
    "MAX_PAGES",
    "MAX_TOKENS",
    "WORKLOADS",
    "Generator",
    "Workload",
    "loop",
    "phased",
    "scan_hotset",
    "uniform",
    "zipf",
]

#: random numbers are drawn this many at a time
BATCH = 4096
#: the largest ``n_pages`` a generator accepts
MAX_PAGES = 10_000_000
#: the largest ``n`` (accesses): far more than a run can chart, small enough for any column
MAX_ACCESSES = 10_000_000_000
#: the largest page size in tokens
MAX_TOKENS = 1_000_000
#: the largest Zipf exponent (beyond it every draw is the first rank anyway)
MAX_ALPHA = 10.0
#: the most phases of a phased workload
MAX_PHASES = 100

Tokens = int | tuple[int, int]

_READ = Op.READ
_new = tuple.__new__


# --------------------------------------------------------------------------------------------
# validation (the messages users read; the ranges are in the Param descriptions below)


def _got(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and abs(value) < 10**30 else show(value)


def _check_int(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be an integer, got {show(value)}", field=name)
    if value < minimum:
        raise ConfigError(f"must be >= {minimum}, got {_got(value)}", field=name)
    if maximum is not None and value > maximum:
        raise ConfigError(f"must be <= {maximum:,}, got {_got(value)}", field=name)
    return value


def _check_alpha(value: Any, name: str = "alpha", maximum: float = MAX_ALPHA) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"must be a number, got {show(value)}", field=name)
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"must be a finite number >= 0, got {show(value)}", field=name)
    if value > maximum:
        raise ConfigError(f"must be <= {figure(maximum)}, got {show(value)}", field=name)
    return float(value)


def _check_size_pair(value: Any, name: str, maximum: int) -> tuple[int, int]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise ConfigError(f"must be a size or a (min, max) pair, got {show(value)}",
                          field=name)
    low = _check_int(value[0], name, 1, maximum)
    high = _check_int(value[1], name, 1, maximum)
    if low > high:
        raise ConfigError(f"min must be <= max, got ({low}, {high})", field=name)
    return (low, high)


def _check_tokens(value: Any, name: str = "tokens", maximum: int | None = None) -> Tokens:
    maximum = maximum or MAX_TOKENS
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_int(value, name, 1, maximum)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _check_size_pair(value, name, maximum)
    raise ConfigError(f"must be a positive integer or a (min, max) pair, got {show(value)}",
                      field=name)


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            0.0 <= value <= 1.0):
        raise ConfigError(f"must be a number between 0 and 1, got {show(value)}", field=name)
    return float(value)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {show(value)}", field=name)
    return value


def _check_phases(phases: Any, name: str = "phases") -> list[tuple[int, int, float]]:
    if isinstance(phases, str) or not isinstance(phases, Sequence) or not phases:
        raise ConfigError("must be a non-empty list of (n_pages, n_accesses, alpha)",
                          field=name)
    if len(phases) > MAX_PHASES:
        raise ConfigError(f"at most {MAX_PHASES} phases, got {len(phases)}", field=name)
    checked = []
    for index, phase in enumerate(phases):
        where = f"{name}[{index}]"
        if isinstance(phase, Mapping):
            unknown = set(phase) - {"n_pages", "n_accesses", "alpha"}
            if unknown:
                raise ConfigError(f"unknown keys {sorted(map(str, unknown))}", field=where)
            try:
                phase = (phase["n_pages"], phase["n_accesses"], phase.get("alpha", 0.0))
            except KeyError as exc:
                raise ConfigError("is required", field=f"{where}.{exc.args[0]}") from None
        if isinstance(phase, str) or not isinstance(phase, Sequence) or len(phase) != 3:
            raise ConfigError(f"must be (n_pages, n_accesses, alpha), got {show(phase)}",
                              field=where)
        checked.append((
            _check_int(phase[0], f"{where}.n_pages", 1, MAX_PAGES),
            _check_int(phase[1], f"{where}.n_accesses", 0, MAX_ACCESSES),
            _check_alpha(phase[2], f"{where}.alpha"),
        ))
    return checked


def _check_text(value: Any, name: str, longest: int = 64) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"must be a string, got {show(value)}", field=name)
    if len(value) > longest or "\x00" in value:
        raise ConfigError(f"at most {longest} characters, no NUL", field=name)
    return value


# Checkers in the Param form: (param, value, field) -> value. Bounds come from the Param.
_CHECKERS: dict[str, Callable[[Param, Any, str], Any]] = {
    "int": lambda p, v, f: _check_int(v, f, int(p.minimum), None if p.maximum is None
                                      else int(p.maximum)),
    "number": lambda p, v, f: _check_alpha(v, f, p.maximum if p.maximum is not None
                                           else math.inf),
    "fraction": lambda p, v, f: _check_fraction(v, f),
    "bool": lambda p, v, f: _check_bool(v, f),
    "tokens": lambda p, v, f: _check_tokens(v, f, int(p.maximum)),
    "pair": lambda p, v, f: _check_pair(v, f, int(p.maximum)),
    "phases": lambda p, v, f: _check_phases(v, f),
    "text": lambda p, v, f: _check_text(v, f, int(p.maximum or 64)),
}


def _check_pair(value: Any, name: str, maximum: int) -> tuple[int, int]:
    if not (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                    for v in value) and value[0] <= value[1]):
        raise ConfigError(f"must be a (min, max) pair of positive integers, got "
                          f"{show(value)}", field=name)
    return _check_size_pair(value, name, maximum)


def _param(name: str, kind: str, help: str, **kwargs: Any) -> Param:
    return Param(name, kind, help, _CHECKERS[kind], **kwargs)


# The parameters several generators share are described once.
N = _param("n", "int", "how many accesses (null: endless)", default=None, nullable=True,
           minimum=0, maximum=MAX_ACCESSES, unit="accesses", label="Accesses (n)")
SEED = _param("seed", "int", "fixes the whole stream: same parameters and seed, same accesses",
              default=0, minimum=-(2**63), maximum=2**63 - 1, label="Workload seed")
TOKENS = _param("tokens", "tokens", "a page's size, or a [min, max] range: each page then "
                "gets a fixed size drawn in it", default=1, minimum=1, maximum=MAX_TOKENS,
                unit="tokens", label="Tokens per page")
N_PAGES = _param("n_pages", "int", "distinct pages", minimum=1, maximum=MAX_PAGES,
                 unit="pages", label="Pages")
ALPHA = _param("alpha", "number", "Zipf exponent: P(rank k) ∝ (k+1)^-alpha; 0 is uniform",
               minimum=0, maximum=MAX_ALPHA, label="Zipf alpha")


# --------------------------------------------------------------------------------------------
# building blocks


def _sizes(tokens: Tokens, seed: int, n_ids: int) -> array | None:
    """Per-page sizes for a (min, max) range, or None for a constant size."""
    if isinstance(tokens, int):
        return None
    low, high = tokens
    span = high - low + 1
    r = random.Random(f"vmem-tokens/{seed}").random
    return array("q", [low + int(r() * span) for _ in repeat(None, n_ids)])


def _stream(batches: Iterator[list[int]], tokens: Tokens, sizes: array | None,
            ) -> Iterator[Access]:
    """Turn batches of page ids into accesses numbered 0.0, 1.0, ..."""
    time = 0.0
    if sizes is None:
        for batch in batches:
            for page in batch:
                yield _new(Access, (time, page, tokens, _READ, "", 0))
                time += 1.0
    else:
        for batch in batches:
            for page in batch:
                yield _new(Access, (time, page, sizes[page], _READ, "", 0))
                time += 1.0


def _batch_sizes(n: int | None) -> Iterator[int]:
    if n is None:
        while True:
            yield BATCH
    full, rest = divmod(n, BATCH)
    yield from repeat(BATCH, full)
    if rest:
        yield rest


def _zipf_cdf(n_pages: int, alpha: float) -> array:
    """Cumulative weights of ranks 1..n_pages under weight ``rank ** -alpha``."""
    return array("d", accumulate(map(pow, range(1, n_pages + 1), repeat(-alpha))))


def _zipf_ranks(cdf: array, rng: random.Random, count: int) -> list[int]:
    """``count`` ranks (0-based) drawn by inverting the CDF with bisect."""
    total = cdf[-1]
    top = len(cdf) - 1  # bisect's hi: clamps the (rounding) case random()*total == total
    r = rng.random
    return [bisect(cdf, r() * total, 0, top) for _ in repeat(None, count)]


# --------------------------------------------------------------------------------------------
# generators


def zipf(
    n_pages: int, alpha: float, n: int | None = None, seed: int = 0, tokens: Tokens = 1,
    shuffle: bool = False,
) -> Iterator[Access]:
    """Independent draws from a Zipf law over ``n_pages`` pages: P(rank k) ∝ (k+1)**-alpha.

    ``alpha = 0`` is uniform. Rank 0 is the most popular; by default page id = rank (page 0 is
    the hottest). ``shuffle=True`` maps ranks to ids through a seeded permutation, so
    popularity is not correlated with id order (matters to next-N prefetching). Sampling
    inverts a precomputed CDF (an ``array('d')`` of n_pages floats) with ``bisect``.
    """
    return _generate("zipf", n_pages=n_pages, alpha=alpha, n=n, seed=seed, tokens=tokens,
                     shuffle=shuffle)


def _zipf(n_pages: int, alpha: float, n: int | None, seed: int, tokens: Tokens,
          shuffle: bool) -> Iterator[Access]:
    cdf = _zipf_cdf(n_pages, alpha)
    rng = random.Random(seed)
    if shuffle:
        order = list(range(n_pages))
        random.Random(f"vmem-shuffle/{seed}").shuffle(order)
        perm = array("q", order)
        del order
        batches = ([perm[rank] for rank in _zipf_ranks(cdf, rng, k)] for k in _batch_sizes(n))
    else:
        batches = (_zipf_ranks(cdf, rng, k) for k in _batch_sizes(n))
    yield from _stream(batches, tokens, _sizes(tokens, seed, n_pages))


def uniform(n_pages: int, n: int | None = None, seed: int = 0, tokens: Tokens = 1,
            ) -> Iterator[Access]:
    """Independent uniform draws over pages ``0..n_pages-1`` (no CDF: O(1) memory)."""
    return _generate("uniform", n_pages=n_pages, n=n, seed=seed, tokens=tokens)


def _uniform(n_pages: int, n: int | None, seed: int, tokens: Tokens) -> Iterator[Access]:
    r = random.Random(seed).random
    # int(random() * n) < n holds for every n <= 2**53; its bias is below 2**-29 here.
    batches = ([int(r() * n_pages) for _ in repeat(None, k)] for k in _batch_sizes(n))
    yield from _stream(batches, tokens, _sizes(tokens, seed, n_pages))


def loop(n_pages: int, n: int | None = None, tokens: Tokens = 1, seed: int = 0,
         ) -> Iterator[Access]:
    """The scan/loop pattern 0, 1, ..., n_pages-1, 0, 1, ... (``seed`` only draws sizes)."""
    return _generate("loop", n_pages=n_pages, n=n, tokens=tokens, seed=seed)


def _loop_batches(n_pages: int, n: int | None) -> Iterator[list[int]]:
    position = 0
    for k in _batch_sizes(n):
        batch: list[int] = []
        while k:
            take = min(k, n_pages - position)
            batch.extend(range(position, position + take))
            position = (position + take) % n_pages
            k -= take
        yield batch


def _loop(n_pages: int, n: int | None, tokens: Tokens, seed: int) -> Iterator[Access]:
    yield from _stream(_loop_batches(n_pages, n), tokens, _sizes(tokens, seed, n_pages))


def scan_hotset(
    hot_pages: int, scan_pages: int, n: int | None = None, hot_fraction: float = 0.5,
    seed: int = 0, tokens: Tokens = 1,
) -> Iterator[Access]:
    """A hot set interleaved with a long scan (the pattern that defeats LRU).

    Each access is, with probability ``hot_fraction``, a uniform draw over the hot pages
    ``0..hot_pages-1``; otherwise the next page of a cyclic scan over
    ``hot_pages..hot_pages+scan_pages-1``.
    """
    return _generate("scan_hotset", hot_pages=hot_pages, scan_pages=scan_pages, n=n,
                     hot_fraction=hot_fraction, seed=seed, tokens=tokens)


def _scan_hotset_cross(values: dict[str, Any]) -> None:
    if values["hot_pages"] + values["scan_pages"] > MAX_PAGES:
        raise ConfigError(f"hot_pages + scan_pages must be <= {MAX_PAGES:,}",
                          field="scan_pages")


def _scan_hotset(hot_pages: int, scan_pages: int, n: int | None, hot_fraction: float,
                 seed: int, tokens: Tokens) -> Iterator[Access]:
    r = random.Random(seed).random

    def batches() -> Iterator[list[int]]:
        scan = 0
        for k in _batch_sizes(n):
            batch = []
            append = batch.append
            for _ in repeat(None, k):
                if r() < hot_fraction:
                    append(int(r() * hot_pages))
                else:
                    append(hot_pages + scan)
                    scan += 1
                    if scan == scan_pages:
                        scan = 0
            yield batch

    yield from _stream(batches(), tokens, _sizes(tokens, seed, hot_pages + scan_pages))


def _phase_offsets(phases: list[tuple[int, int, float]], shift: int | None) -> list[int]:
    if shift is None:
        return list(accumulate((p[0] for p in phases[:-1]), initial=0))
    return [index * shift for index in range(len(phases))]


def phased(
    phases: Sequence[Sequence[Any]], seed: int = 0, tokens: Tokens = 1,
    shift: int | None = None,
) -> Iterator[Access]:
    """Phased working sets: phase i makes ``n_accesses`` Zipf(``alpha``) draws over its own
    ``n_pages`` pages, then the next phase starts (time keeps counting).

    Page ranges: with ``shift=None`` (default) the phases use **disjoint** ranges laid end to
    end (phase 0 pages 0..p0-1, phase 1 pages p0..p0+p1-1, ...); with ``shift=s`` phase i
    starts at page ``i*s``, so a shift smaller than the phase size makes consecutive working
    sets overlap (``shift=0``: all phases share the same base). Within a phase the lowest id is
    the most popular. A phase may be given as ``[n_pages, n_accesses, alpha]`` or as a mapping
    with those keys. The stream ends after the last phase.
    """
    return _generate("phased", phases=phases, seed=seed, tokens=tokens, shift=shift)


def _phases_span(phases: list[tuple[int, int, float]], offsets: list[int]) -> int:
    return max(offset + phase[0] for offset, phase in zip(offsets, phases, strict=True))


def _phased_cross(values: dict[str, Any]) -> None:
    span = _phases_span(values["phases"], _phase_offsets(values["phases"], values["shift"]))
    if span > MAX_PAGES:
        raise ConfigError(f"the phases span {span:,} pages, more than {MAX_PAGES:,}",
                          field="phases")


def _phased_make(phases: list[tuple[int, int, float]], seed: int, tokens: Tokens,
                 shift: int | None) -> Iterator[Access]:
    offsets = _phase_offsets(phases, shift)
    return _phased(phases, offsets, _phases_span(phases, offsets), seed, tokens)


def _phased(phases: list[tuple[int, int, float]], offsets: list[int], span: int, seed: int,
            tokens: Tokens) -> Iterator[Access]:
    rng = random.Random(seed)

    def batches() -> Iterator[list[int]]:
        for (n_pages, n_accesses, alpha), offset in zip(phases, offsets, strict=True):
            if n_accesses == 0:
                continue
            cdf = _zipf_cdf(n_pages, alpha)
            for k in _batch_sizes(n_accesses):
                ranks = _zipf_ranks(cdf, rng, k)
                yield [rank + offset for rank in ranks] if offset else ranks

    yield from _stream(batches(), tokens, _sizes(tokens, seed, span))


# --------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class Generator:
    """A workload generator described as data: its ``name``, a ``summary`` for people, its
    ``params`` (each with its range and default) and ``make``, the function that streams the
    accesses from checked values (``cross``: checks across several parameters)."""

    name: str
    summary: str
    params: tuple[Param, ...]
    make: Callable[..., Iterator[Access]]
    cross: Callable[[dict[str, Any]], None] | None = None

    def check(self, values: Any, problems: Problems) -> dict[str, Any]:
        """Every parameter checked (defaults filled in); problems go to ``problems``."""
        if not isinstance(values, Mapping):
            problems.add(f"must be a mapping, got {show(values)}", "params")
            return {}
        names = [p.name for p in self.params]
        for key in values:
            if key not in names:
                problems.add(f"unknown parameter of workload {self.name!r} (expected "
                             f"{', '.join(names)})", str(key))
        checked: dict[str, Any] = {}
        for param in self.params:
            if param.name not in values:
                if param.required:
                    problems.add(f"is required by workload {self.name!r}", param.name)
                else:
                    checked[param.name] = param.default
                continue
            checked[param.name] = problems.check(param.check, values[param.name])
        if self.cross and not problems:
            problems.check(self.cross, checked)
        return checked

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this generator's ``params`` object."""
        return json_schema(self.params, title=self.summary)


def _generate(name: str, **values: Any) -> Iterator[Access]:
    generator = GENERATORS[name]
    problems = Problems()
    checked = generator.check(values, problems)
    problems.raise_any()
    return generator.make(**checked)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


@dataclass
class Workload:
    """A workload generator described as plain data: ``name`` (a key of :data:`WORKLOADS`)
    and the keyword ``params`` of that generator, e.g.
    ``Workload("zipf", {"n_pages": 1000, "alpha": 1.0, "n": 100_000, "seed": 7})``.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> dict[str, Any]:
        """Check the name and every parameter, raising one :class:`ConfigError` with every
        problem (fields ``name``, a parameter name, or e.g. ``phases[1].alpha``); returns the
        checked parameters (defaults filled in). Checked once: until ``params`` change,
        later calls (every :meth:`build`) reuse the result."""
        fingerprint = repr((self.name, self.params))
        cached = self.__dict__.get("_checked")
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        if not isinstance(self.name, str) or self.name not in GENERATORS:
            raise ConfigError(f"unknown workload {show(self.name)} (expected one of "
                              f"{', '.join(GENERATORS)})", field="name")
        problems = Problems()
        checked = GENERATORS[self.name].check(self.params, problems)
        problems.raise_any()
        # not a dataclass field: equality and to_dict() never see it
        self.__dict__["_checked"] = (fingerprint, checked)
        return checked

    def build(self) -> Iterator[Access]:
        """Validate (once), then return the (lazy) stream of accesses."""
        checked = self.validate()
        return GENERATORS[self.name].make(**checked)

    @property
    def length(self) -> int | None:
        """How many accesses the stream yields (None: endless). Assumes valid params."""
        if self.name == "phased":
            return sum(phase[1] for phase in _check_phases(self.params["phases"]))
        return self.params.get("n")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"name": ..., "params": {...}}`` (tuples become lists)."""
        return {"name": self.name, "params": _jsonable(self.params)}

    @classmethod
    def from_dict(cls, data: Any) -> Workload:
        """The inverse of :meth:`to_dict`; the result is validated."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a workload must be a mapping, got {show(data)}")
        for key in data:
            if key not in ("name", "params"):
                raise ConfigError("unknown key (expected name, params)", field=str(key))
        if "name" not in data:
            raise ConfigError("is required", field="name")
        params = data.get("params", {})
        if not isinstance(params, Mapping):
            raise ConfigError(f"must be a mapping, got {show(params)}", field="params")
        workload = cls(name=data["name"], params=dict(params))
        workload.validate()
        return workload


def round_robin_sessions(accesses: Iterator[Access], n_sessions: int) -> Iterator[Access]:
    """Label accesses with sessions ``s0 … s{n-1}`` in turn, so one stream becomes several
    clients sharing the tiers (run them with ``Simulation(concurrent=True)`` to let their
    faults queue)."""
    n_sessions = _check_int(n_sessions, "sessions", 1)
    names = [f"s{k}" for k in range(n_sessions)]
    for i, acc in enumerate(accesses):
        yield acc._replace(session=names[i % n_sessions])


# --------------------------------------------------------------------------------------------
# LLM chat sessions without a model


def chat(n: int | None = None, seed: int = 0, system_tokens: int = 400,
         user_tokens: tuple[int, int] = (15, 250), assistant_tokens: tuple[int, int] = (40, 700),
         topics: int = 8, revisit: float = 0.3, history_turns: int = 3, recall_pages: int = 2,
         session: str = "chat") -> Iterator[Access]:
    """A chat-shaped access stream, so chat runs exist without a model.

    Turn 0 writes and pins the system prompt (``system:prompt``, ``system_tokens``). Every turn
    ``t`` then: writes the user's message ``message:tNNNNN-user`` (``user_tokens``, log-uniform
    in the range: many short messages, a few long ones), reads the messages of the last
    ``history_turns`` turns (the recent conversation), reads up to ``recall_pages`` earlier
    messages of the turn's topic when the user returns to an old subject (probability
    ``revisit``; otherwise the topic stays or a new one starts), and writes the answer
    ``message:tNNNNN-assistant`` (``assistant_tokens``). Ops are write/read/pin, ``turn`` is the
    turn number, ``session`` as given. ``n`` caps the number of accesses (None: endless).
    """
    return _generate("chat", n=n, seed=seed, system_tokens=system_tokens,
                     user_tokens=user_tokens, assistant_tokens=assistant_tokens, topics=topics,
                     revisit=revisit, history_turns=history_turns, recall_pages=recall_pages,
                     session=session)


def _chat(n: int | None, seed: int, system_tokens: int, user_tokens: tuple[int, int],
          assistant_tokens: tuple[int, int], topics: int, revisit: float, history_turns: int,
          recall_pages: int, session: str) -> Iterator[Access]:
    rng = random.Random(seed)

    def size(bounds: tuple[int, int]) -> int:
        low, high = bounds
        return min(high, max(low, round(math.exp(rng.uniform(math.log(low),
                                                              math.log(high + 1))))))

    count = 0
    history: list[tuple[str, int]] = []  # (page id, tokens) per message, in order
    by_topic: dict[int, list[tuple[str, int]]] = {}
    topic = 0
    started = 1

    def emit(page: str, tokens: int, op: Op, turn: int) -> Access:
        return _new(Access, (float(count), page, tokens, op, session, turn))

    for op in (Op.WRITE, Op.PIN):
        if n is not None and count >= n:
            return
        yield emit("system:prompt", system_tokens, op, 0)
        count += 1
    turn = 0
    while n is None or count < n:
        turn += 1
        draw = rng.random()
        if draw < revisit and started > 1:
            topic = rng.randrange(started)  # back to an old subject
        elif draw < revisit + (1 - revisit) / 2 and started < topics:
            topic = started  # a new subject
            started += 1
        user = (f"message:t{turn:05d}-user", size(user_tokens))
        plan: list[tuple[str, int, Op]] = [(user[0], user[1], Op.WRITE)]
        plan += [(p, t, _READ) for p, t in history[-2 * history_turns:]] if history_turns else []
        older = [m for m in by_topic.get(topic, []) if m not in history[-2 * history_turns:]]
        if older and recall_pages:
            for p, t in rng.sample(older, min(recall_pages, len(older))):
                plan.append((p, t, _READ))
        answer = (f"message:t{turn:05d}-assistant", size(assistant_tokens))
        plan.append((answer[0], answer[1], Op.WRITE))
        for page, tokens, op in plan:
            if n is not None and count >= n:
                return
            yield emit(page, tokens, op, turn)
            count += 1
        history += [user, answer]
        by_topic.setdefault(topic, []).extend([user, answer])


# --------------------------------------------------------------------------------------------
# the registry: every generator and its parameters, described once


def _size_range(name: str, default: tuple[int, int], help: str) -> Param:
    return _param(name, "pair", help, default=default, minimum=1, maximum=MAX_TOKENS,
                  unit="tokens")


#: name → description; the checks, the form, the API schema and the CLI all read it
GENERATORS: dict[str, Generator] = {g.name: g for g in (
    Generator("zipf", "Independent draws from a Zipf law (page 0 the most popular).", (
        N_PAGES, ALPHA, N, SEED, TOKENS,
        _param("shuffle", "bool", "map ranks to ids through a seeded permutation",
               default=False, label="Shuffle ranks"),
    ), _zipf),
    Generator("uniform", "Independent uniform draws over the pages.",
              (N_PAGES, N, SEED, TOKENS), _uniform),
    Generator("loop", "The scan 0, 1, …, n_pages-1, 0, 1, … (LRU's worst case).",
              (N_PAGES, N, TOKENS, SEED), _loop),
    Generator("phased", "Phased working sets: Zipf draws over one set, then the next.", (
        _param("phases", "phases", "the phases in order: [n_pages, n_accesses, alpha] each",
               maximum=MAX_PHASES, label="Phases"),
        SEED, TOKENS,
        _param("shift", "int", "phase i starts at page i*shift (null: disjoint ranges end to "
               "end)", default=None, nullable=True, minimum=0, maximum=MAX_PAGES,
               unit="pages", label="Phase shift (pages)"),
    ), _phased_make, _phased_cross),
    Generator("scan_hotset", "A hot set interleaved with a long scan (defeats LRU).", (
        _param("hot_pages", "int", "pages of the hot set", minimum=1, maximum=MAX_PAGES,
               unit="pages", label="Hot pages"),
        _param("scan_pages", "int", "pages of the scan", minimum=1, maximum=MAX_PAGES,
               unit="pages", label="Scan pages"),
        N,
        _param("hot_fraction", "fraction", "share of accesses that go to the hot set",
               default=0.5, minimum=0, maximum=1, label="Hot fraction"),
        SEED, TOKENS,
    ), _scan_hotset, _scan_hotset_cross),
    Generator("chat", "A chat-shaped stream (system prompt, messages, recalls) without a "
              "model.", (
        N, SEED,
        _param("system_tokens", "int", "size of the pinned system prompt", default=400,
               minimum=1, maximum=MAX_TOKENS, unit="tokens", label="System prompt tokens"),
        _size_range("user_tokens", (15, 250), "[min, max] size of a user message "
                    "(log-uniform)"),
        _size_range("assistant_tokens", (40, 700), "[min, max] size of an answer "
                    "(log-uniform)"),
        _param("topics", "int", "subjects the conversation moves between", default=8,
               minimum=1, maximum=10_000, label="Topics"),
        _param("revisit", "fraction", "chance that a turn goes back to an old subject",
               default=0.3, minimum=0, maximum=1, label="Revisit chance"),
        _param("history_turns", "int", "recent turns read again every turn", default=3,
               minimum=0, maximum=1000, label="History turns"),
        _param("recall_pages", "int", "older messages of the subject recalled on a revisit",
               default=2, minimum=0, maximum=1000, label="Recalled pages"),
        _param("session", "text", "the session's name on every access", default="chat",
               maximum=64, label="Session name"),
    ), _chat),
)}

#: name → generator function; every function checks its arguments when called
WORKLOADS: dict[str, Callable[..., Iterator[Access]]] = {
    "zipf": zipf, "uniform": uniform, "loop": loop, "phased": phased,
    "scan_hotset": scan_hotset, "chat": chat,
}
__all__ += ["chat"]
