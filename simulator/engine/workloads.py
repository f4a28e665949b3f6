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

The :class:`Workload` dataclass describes a generator by name and parameters (plain data for
forms, JSON and the database) and builds it; :data:`WORKLOADS` is the registry of names.
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

__all__ = [
    "BATCH",
    "MAX_PAGES",
    "WORKLOADS",
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

Tokens = int | tuple[int, int]

_READ = Op.READ
_new = tuple.__new__


# --------------------------------------------------------------------------------------------
# validation


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_int(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be an integer, got {_show(value)}", field=name)
    if value < minimum:
        raise ConfigError(f"must be >= {minimum}, got {value}", field=name)
    if maximum is not None and value > maximum:
        raise ConfigError(f"must be <= {maximum:,}, got {value:,}", field=name)
    return value


def _check_n(value: Any, name: str = "n") -> int | None:
    return None if value is None else _check_int(value, name, 0)


def _check_seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be an integer, got {_show(value)}", field="seed")
    return value


def _check_alpha(value: Any, name: str = "alpha") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"must be a number, got {_show(value)}", field=name)
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"must be a finite number >= 0, got {value}", field=name)
    return float(value)


def _check_tokens(value: Any) -> Tokens:
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_int(value, "tokens", 1)
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ConfigError(f"must be a size or a (min, max) pair, got {_show(value)}",
                              field="tokens")
        low = _check_int(value[0], "tokens", 1)
        high = _check_int(value[1], "tokens", 1)
        if low > high:
            raise ConfigError(f"min must be <= max, got ({low}, {high})", field="tokens")
        return (low, high)
    raise ConfigError(f"must be a positive integer or a (min, max) pair, got {_show(value)}",
                      field="tokens")


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            0.0 <= value <= 1.0):
        raise ConfigError(f"must be a number between 0 and 1, got {_show(value)}", field=name)
    return float(value)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {_show(value)}", field=name)
    return value


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
    n_pages = _check_int(n_pages, "n_pages", 1, MAX_PAGES)
    alpha = _check_alpha(alpha)
    n = _check_n(n)
    seed = _check_seed(seed)
    tokens = _check_tokens(tokens)
    shuffle = _check_bool(shuffle, "shuffle")
    return _zipf(n_pages, alpha, n, seed, tokens, shuffle)


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
    n_pages = _check_int(n_pages, "n_pages", 1, MAX_PAGES)
    n = _check_n(n)
    seed = _check_seed(seed)
    tokens = _check_tokens(tokens)
    return _uniform(n_pages, n, seed, tokens)


def _uniform(n_pages: int, n: int | None, seed: int, tokens: Tokens) -> Iterator[Access]:
    r = random.Random(seed).random
    # int(random() * n) < n holds for every n <= 2**53; its bias is below 2**-29 here.
    batches = ([int(r() * n_pages) for _ in repeat(None, k)] for k in _batch_sizes(n))
    yield from _stream(batches, tokens, _sizes(tokens, seed, n_pages))


def loop(n_pages: int, n: int | None = None, tokens: Tokens = 1, seed: int = 0,
         ) -> Iterator[Access]:
    """The scan/loop pattern 0, 1, ..., n_pages-1, 0, 1, ... (``seed`` only draws sizes)."""
    n_pages = _check_int(n_pages, "n_pages", 1, MAX_PAGES)
    n = _check_n(n)
    tokens = _check_tokens(tokens)
    seed = _check_seed(seed)
    return _loop(n_pages, n, tokens, seed)


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
    hot_pages = _check_int(hot_pages, "hot_pages", 1, MAX_PAGES)
    scan_pages = _check_int(scan_pages, "scan_pages", 1, MAX_PAGES)
    if hot_pages + scan_pages > MAX_PAGES:
        raise ConfigError(f"hot_pages + scan_pages must be <= {MAX_PAGES:,}",
                          field="scan_pages")
    n = _check_n(n)
    hot_fraction = _check_fraction(hot_fraction, "hot_fraction")
    seed = _check_seed(seed)
    tokens = _check_tokens(tokens)
    return _scan_hotset(hot_pages, scan_pages, n, hot_fraction, seed, tokens)


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


def _check_phases(phases: Any) -> list[tuple[int, int, float]]:
    if isinstance(phases, str) or not isinstance(phases, Sequence) or not phases:
        raise ConfigError("must be a non-empty list of (n_pages, n_accesses, alpha)",
                          field="phases")
    checked = []
    for index, phase in enumerate(phases):
        where = f"phases[{index}]"
        if isinstance(phase, Mapping):
            unknown = set(phase) - {"n_pages", "n_accesses", "alpha"}
            if unknown:
                raise ConfigError(f"unknown keys {sorted(unknown)}", field=where)
            try:
                phase = (phase["n_pages"], phase["n_accesses"], phase.get("alpha", 0.0))
            except KeyError as exc:
                raise ConfigError("is required", field=f"{where}.{exc.args[0]}") from None
        if isinstance(phase, str) or not isinstance(phase, Sequence) or len(phase) != 3:
            raise ConfigError(f"must be (n_pages, n_accesses, alpha), got {_show(phase)}",
                              field=where)
        checked.append((
            _check_int(phase[0], f"{where}.n_pages", 1, MAX_PAGES),
            _check_int(phase[1], f"{where}.n_accesses", 0),
            _check_alpha(phase[2], f"{where}.alpha"),
        ))
    return checked


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
    checked = _check_phases(phases)
    seed = _check_seed(seed)
    tokens = _check_tokens(tokens)
    if shift is not None:
        shift = _check_int(shift, "shift", 0, MAX_PAGES)
    offsets = _phase_offsets(checked, shift)
    span = max(offset + phase[0] for offset, phase in zip(offsets, checked, strict=True))
    if span > MAX_PAGES:
        raise ConfigError(f"the phases span {span:,} pages, more than {MAX_PAGES:,}",
                          field="phases")
    return _phased(checked, offsets, span, seed, tokens)


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


#: name → generator function; every function checks its arguments when called
WORKLOADS: dict[str, Callable[..., Iterator[Access]]] = {
    "zipf": zipf,
    "uniform": uniform,
    "loop": loop,
    "phased": phased,
    "scan_hotset": scan_hotset,
}

_REQUIRED = {
    "zipf": ("n_pages", "alpha"),
    "uniform": ("n_pages",),
    "loop": ("n_pages",),
    "phased": ("phases",),
    "scan_hotset": ("hot_pages", "scan_pages"),
}
_OPTIONAL = {
    "zipf": ("n", "seed", "tokens", "shuffle"),
    "uniform": ("n", "seed", "tokens"),
    "loop": ("n", "tokens", "seed"),
    "phased": ("seed", "tokens", "shift"),
    "scan_hotset": ("n", "hot_fraction", "seed", "tokens"),
}


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

    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first bad field (``name``, a parameter name,
        or e.g. ``phases[1].alpha``)."""
        if not isinstance(self.name, str) or self.name not in WORKLOADS:
            raise ConfigError(f"unknown workload {_show(self.name)} (expected one of "
                              f"{', '.join(WORKLOADS)})", field="name")
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"must be a mapping, got {_show(self.params)}", field="params")
        required = _REQUIRED[self.name]
        allowed = required + _OPTIONAL[self.name]
        for key in self.params:
            if key not in allowed:
                raise ConfigError(f"unknown parameter of workload {self.name!r} (expected "
                                  f"{', '.join(allowed)})", field=str(key))
        for key in required:
            if key not in self.params:
                raise ConfigError(f"is required by workload {self.name!r}", field=key)
        # the generator functions check every value when called, without doing any work
        WORKLOADS[self.name](**self.params)

    def build(self) -> Iterator[Access]:
        """Validate, then return the (lazy) stream of accesses."""
        self.validate()
        return WORKLOADS[self.name](**self.params)

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
            raise ConfigError(f"a workload must be a mapping, got {_show(data)}")
        for key in data:
            if key not in ("name", "params"):
                raise ConfigError("unknown key (expected name, params)", field=str(key))
        if "name" not in data:
            raise ConfigError("is required", field="name")
        params = data.get("params", {})
        if not isinstance(params, Mapping):
            raise ConfigError(f"must be a mapping, got {_show(params)}", field="params")
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
    _check_n(n)
    _check_seed(seed)
    _check_int(system_tokens, "system_tokens", 1)
    for name, value in (("user_tokens", user_tokens), ("assistant_tokens", assistant_tokens)):
        if not (isinstance(value, Sequence) and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                        for v in value) and value[0] <= value[1]):
            raise ConfigError(f"must be a (min, max) pair of positive integers, got "
                              f"{_show(value)}", field=name)
    _check_int(topics, "topics", 1)
    _check_fraction(revisit, "revisit")
    _check_int(history_turns, "history_turns", 0)
    _check_int(recall_pages, "recall_pages", 0)
    if not isinstance(session, str):
        raise ConfigError(f"must be a string, got {_show(session)}", field="session")
    return _chat(n, seed, system_tokens, tuple(user_tokens), tuple(assistant_tokens), topics,
                 revisit, history_turns, recall_pages, session)


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


WORKLOADS["chat"] = chat
_REQUIRED["chat"] = ()
_OPTIONAL["chat"] = ("n", "seed", "system_tokens", "user_tokens", "assistant_tokens", "topics",
                     "revisit", "history_turns", "recall_pages", "session")
__all__ += ["chat"]
