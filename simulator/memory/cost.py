"""What a session's model calls cost with a provider's prompt cache (docs/cost.md).

Each call's prompt is a sequence of :class:`Block` in packing order — pages with their token
counts, then whatever else the call sends (the new user message). :class:`CostModel` keeps the
provider's cache across calls: which prefixes are cached, until when (given the time between
calls and whether a hit restarts the clock), and reports for each call the tokens read from the
cache, written to it and sent uncached, the output tokens, the cost in USD and, when the prompt
no longer repeats the previous one, the **cache break**: which block at which position changed
and why (evicted, compressed, summarised, reordered, inserted…).

Pure Python, no I/O. All prices and rules come from a
:class:`~simulator.memory.pricing.PricingProfile`. The work per call is proportional to the
prompt's blocks (and a bounded number of cache entries), never to the session's length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from simulator.engine import ConfigError
from simulator.engine.validation import number as _number

from .pricing import CacheRules, PricingProfile, TtlOption

__all__ = ["Block", "CacheBreak", "CallCost", "CostModel", "CostTotals"]

_MILLION = 1_000_000
#: seconds between calls when the caller gives no time
DEFAULT_THINK_TIME = 30.0
#: cache entries kept at most (the soonest to expire go first beyond it)
DEFAULT_MAX_ENTRIES = 4096


@dataclass(frozen=True, slots=True)
class Block:
    """One piece of a prompt. Two blocks are the same for the cache when id, version and
    tokens all match. ``version`` changes when the content does (a compression level, a summary
    revision); ``change`` says why, in the caller's words ("compressed", "summarised"), for the
    cache-break report."""

    id: str
    tokens: int
    version: str = ""
    change: str | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.id, self.version, self.tokens)


@dataclass(frozen=True)
class CacheBreak:
    """Why a call does not repeat the previous call's prompt.

    ``position`` is the index, in the previous prompt, of the first block that differs;
    ``token_offset`` the tokens before it; ``block_id`` the block whose change broke the prefix
    (the previous prompt's block at ``position``, or the block inserted there); ``tokens_lost``
    the tokens the previous call left in the cache beyond that point, which this call could not
    read because of the change.
    """

    position: int
    token_offset: int
    block_id: str
    cause: str
    tokens_lost: int

    @property
    def detail(self) -> str:
        return (f"{self.block_id} at position {self.position} (token {self.token_offset:,}) "
                f"{_VERBS.get(self.cause, self.cause)}: {self.tokens_lost:,} cached tokens "
                f"after it could not be read")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "detail": self.detail}


_VERBS = {"evicted": "was evicted", "compressed": "was compressed",
          "summarised": "was summarised", "removed": "left the prompt",
          "changed": "changed", "reordered": "moved", "inserted": "was inserted before it",
          "compacted": "was evicted by a compaction", "replaced": "was replaced",
          "updated": "was rewritten", "decompressed": "came back whole"}


@dataclass(frozen=True)
class CallCost:
    """One model call. ``prompt_tokens = cache_read_tokens + cache_write_tokens +
    uncached_tokens``; ``expired_tokens`` are tokens that would have been read had their cache
    not expired since the last call."""

    index: int
    at: float
    prompt_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    uncached_tokens: int
    output_tokens: int
    usd: float
    read_usd: float
    write_usd: float
    uncached_usd: float
    output_usd: float
    storage_usd: float
    usd_no_cache: float
    expired_tokens: int = 0
    cache_break: CacheBreak | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["cache_break"] = self.cache_break.to_dict() if self.cache_break else None
        return data


@dataclass
class CostTotals:
    """A session's running totals."""

    calls: int = 0
    prompt_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    uncached_tokens: int = 0
    output_tokens: int = 0
    expired_tokens: int = 0
    cache_breaks: int = 0
    usd: float = 0.0
    storage_usd: float = 0.0
    usd_no_cache: float = 0.0

    def add(self, call: CallCost) -> None:
        self.calls += 1
        for name in ("prompt_tokens", "cache_read_tokens", "cache_write_tokens",
                     "uncached_tokens", "output_tokens", "expired_tokens"):
            setattr(self, name, getattr(self, name) + getattr(call, name))
        self.cache_breaks += call.cache_break is not None
        self.usd += call.usd
        self.storage_usd += call.storage_usd
        self.usd_no_cache += call.usd_no_cache

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hit_rate"] = (self.cache_read_tokens / self.prompt_tokens
                            if self.prompt_tokens else 0.0)
        data["savings_usd"] = self.usd_no_cache - self.usd
        return data


@dataclass
class _Entry:
    tokens: int
    expires: float


@dataclass
class _Lookup:
    """What the cache holds for a prompt: the read (alive entries only), the read had nothing
    expired, and the entry fingerprints the read used."""

    read: int = 0
    read_any: int = 0
    hits: list[bytes] = field(default_factory=list)


class CostModel:
    """A provider's prompt cache through one session, and the bill.

    ``use_explicit_cache`` takes the profile's explicit cache (Gemini) instead of its default
    shape; ``ttl`` names one of the cache's time-to-live options (the first by default);
    ``think_time`` is the seconds between calls given no time.
    """

    def __init__(self, profile: PricingProfile, *, ttl: str | None = None,
                 use_explicit_cache: bool = False, think_time: float = DEFAULT_THINK_TIME,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if use_explicit_cache and profile.explicit_cache is None:
            raise ConfigError(f"profile {profile.name!r} has no explicit cache",
                              field="use_explicit_cache")
        self.profile = profile
        self.rules: CacheRules = profile.explicit_cache if use_explicit_cache else profile.cache
        self.use_explicit_cache = use_explicit_cache
        self.ttl: TtlOption | None = self.rules.ttl_option(ttl) if self.rules.caches else None
        self.think_time = _number(think_time, "think_time")
        self.max_entries = _number(max_entries, "max_entries", minimum=1, integer=True)
        self.totals = CostTotals()
        self.now: float | None = None
        self._entries: dict[bytes, _Entry] = {}
        self._prev: list[Block] = []
        self._prev_fps: list[bytes] = []
        self._prev_cached = 0

    @property
    def last_prompt(self) -> list[Block]:
        """The previous call's blocks, in order."""
        return list(self._prev)

    # --- the call ------------------------------------------------------------------------

    def call(self, blocks: Iterable[Block | Mapping[str, Any]], *, output_tokens: int = 0,
             at: float | None = None, breakpoints: Sequence[int] | None = None,
             removed: Mapping[str, str] | None = None) -> CallCost:
        """Bill one model call and update the cache.

        ``at`` is the call's time in seconds (the previous call's plus ``think_time`` when
        None); ``breakpoints`` are the indexes of blocks marked for caching (the last block
        by default for a breakpoints cache, none for an explicit cache); ``removed`` maps the
        ids of blocks that left the prompt since the last call to why ("evicted",
        "summarised") for the cache-break report.
        """
        prompt = [_as_block(b, i) for i, b in enumerate(blocks)]
        ids = _index_ids(prompt)
        output_tokens = _number(output_tokens, "output_tokens", integer=True)
        at = self._time(at)
        marks = self._breakpoints(breakpoints, len(prompt))
        if removed is not None and not isinstance(removed, Mapping):
            raise ConfigError("expected a mapping of block id to why it left", field="removed")
        self.now = at
        cut = _first_difference(self._prev, prompt)
        fps = self._fingerprints(prompt, cut)
        cum = _cumulative(prompt)
        total = cum[-1] if cum else 0

        cache_break = self._cache_break(prompt, ids, cut, removed or {})
        read, written, storage_usd, lookup = self._use_cache(fps, cum, marks, at)
        uncached = total - read - written
        result = self._bill(at, total, read, written, uncached, output_tokens, storage_usd,
                            lookup.read_any - read, cache_break)
        self._prev, self._prev_fps, self._prev_cached = prompt, fps, read + written
        self.totals.add(result)
        return result

    def _time(self, at: float | None) -> float:
        if at is None:
            return 0.0 if self.now is None else self.now + self.think_time
        at = _number(at, "at", minimum=float("-inf"))
        if self.now is not None and at < self.now:
            raise ConfigError(f"calls go forward in time: {at:g} is before the previous "
                              f"call's {self.now:g}", field="at")
        return at

    def _breakpoints(self, breakpoints: Sequence[int] | None, n: int) -> list[int]:
        mode = self.rules.mode
        if mode not in ("breakpoints", "explicit"):
            if breakpoints:
                raise ConfigError(f"a {mode} cache takes no breakpoints", field="breakpoints")
            return []
        if breakpoints is None:
            return [n - 1] if mode == "breakpoints" and n else []
        if isinstance(breakpoints, str | bytes) or not isinstance(breakpoints, Sequence):
            raise ConfigError("expected a list of block indexes", field="breakpoints")
        marks = sorted({_number(b, "breakpoints", integer=True) for b in breakpoints})
        limit = self.rules.max_breakpoints if mode == "breakpoints" else 1
        if len(marks) > limit:
            raise ConfigError(f"at most {limit} per call, got {len(marks)}", field="breakpoints")
        if marks and marks[-1] >= n:
            raise ConfigError(f"block index {marks[-1]} is past the prompt's {n} blocks",
                              field="breakpoints")
        return marks

    # --- the cache -----------------------------------------------------------------------

    def _fingerprints(self, prompt: list[Block], keep: int) -> list[bytes]:
        """Chained hashes of every prefix (``fps[i]`` covers blocks 0..i), reusing the previous
        call's for the blocks both prompts share."""
        fps = self._prev_fps[:keep]
        last = fps[-1] if fps else b""
        for block in prompt[keep:]:
            h = hashlib.blake2b(last, digest_size=16)
            h.update(f"{block.id}\x1f{block.version}\x1f{block.tokens}".encode())
            last = h.digest()
            fps.append(last)
        return fps

    def _use_cache(self, fps: list[bytes], cum: list[int], marks: list[int], at: float
                   ) -> tuple[int, int, float, _Lookup]:
        mode = self.rules.mode
        if mode == "none" or not fps:
            return 0, 0, 0.0, _Lookup()
        if mode == "automatic":
            lookup = self._lookup(fps, cum, range(len(fps) - 1, -1, -1), at)
            end = len(fps) - 1 if self.rules.cacheable(cum[-1]) else -1
            written = max(0, self.rules.cacheable(cum[-1]) - lookup.read)
            self._store(fps, range(end + 1), cum, at, lookup)
            return lookup.read, written, 0.0, lookup
        lookback = self.rules.lookback_blocks if mode == "breakpoints" else 0
        candidates = _candidates(marks, lookback)
        lookup = self._lookup(fps, cum, candidates, at)
        storable = [b for b in marks if self.rules.cacheable(cum[b])]
        written_end = max((self.rules.cacheable(cum[b]) for b in storable), default=0)
        written = max(0, written_end - lookup.read)
        storage_usd = 0.0
        if mode == "explicit" and written:
            hours = self.ttl.seconds / 3600
            storage_usd = written * hours * self.rules.storage_per_mtok_hour / _MILLION
        self._store(fps, storable, cum, at, lookup)
        return lookup.read, written, storage_usd, lookup

    def _lookup(self, fps: list[bytes], cum: list[int], order: Iterable[int], at: float
                ) -> _Lookup:
        """The longest cached prefix among the candidate block boundaries."""
        found = _Lookup()
        for i in order:
            entry = self._entries.get(fps[i])
            if entry is None:
                continue
            length = self.rules.cacheable(min(cum[i], entry.tokens))
            if entry.expires > at:
                if length > found.read:
                    found.read, found.hits = length, [fps[i]]
                    found.read_any = max(found.read_any, length)
                if self.rules.mode == "automatic":
                    break  # boundaries come longest first: the first alive one is the answer
            else:
                found.read_any = max(found.read_any, length)
        return found

    def _store(self, fps: list[bytes], indexes: Iterable[int], cum: list[int], at: float,
               lookup: _Lookup) -> None:
        expires = at + self.ttl.seconds
        refresh = self.rules.refresh_on_hit
        for fp in lookup.hits if refresh else ():
            self._entries[fp].expires = expires
        for i in indexes:
            entry = self._entries.get(fps[i])
            if entry is None or entry.expires <= at:
                self._entries[fps[i]] = _Entry(cum[i], expires)
            elif refresh:
                entry.expires = expires
        self._forget(at)

    def _forget(self, at: float) -> None:
        """Drop expired entries; beyond ``max_entries``, the soonest to expire."""
        dead = [fp for fp, e in self._entries.items() if e.expires <= at]
        for fp in dead:
            del self._entries[fp]
        excess = len(self._entries) - self.max_entries
        if excess > 0:
            doomed = sorted(self._entries, key=lambda fp: self._entries[fp].expires)[:excess]
            for fp in doomed:
                del self._entries[fp]

    # --- breaks and the bill -------------------------------------------------------------

    def _cache_break(self, prompt: list[Block], ids: dict[str, int], cut: int,
                     removed: Mapping[str, str]) -> CacheBreak | None:
        prev = self._prev
        if cut >= len(prev):
            return None  # the new prompt repeats the whole previous one
        old = prev[cut]
        offset = sum(b.tokens for b in prev[:cut])
        lost = max(0, self._prev_cached - offset)
        where = ids.get(old.id)
        block_id = old.id
        if old.id in removed:
            cause = str(removed[old.id])
        elif where is None:
            cause = "removed"
        elif prompt[where].key != old.key:
            cause = prompt[where].change or "changed"
        elif cut < len(prompt) and prompt[cut].id not in {b.id for b in prev}:
            cause, block_id = "inserted", prompt[cut].id
        else:
            cause = "reordered"
        return CacheBreak(cut, offset, block_id, cause, lost)

    def _rates(self, prompt_tokens: int) -> tuple[float, float, float]:
        p = self.profile
        tier = p.long_prompt
        if tier is not None and prompt_tokens > tier.above_tokens:
            read = tier.cache_read if tier.cache_read is not None else p.cache_read
            return tier.input, tier.output, read or 0.0
        return p.input, p.output, p.cache_read or 0.0

    def _bill(self, at: float, total: int, read: int, written: int, uncached: int,
              output: int, storage_usd: float, expired: int, cache_break: CacheBreak | None
              ) -> CallCost:
        input_price, output_price, read_price = self._rates(total)
        write_price = input_price * (self.ttl.write_factor if self.ttl else 1.0)
        if self.rules.mode == "explicit":
            # the cache is made first (billed as input), then this call reads it
            write_price += read_price
        read_usd = read * read_price / _MILLION
        write_usd = written * write_price / _MILLION
        uncached_usd = uncached * input_price / _MILLION
        output_usd = output * output_price / _MILLION
        return CallCost(
            index=self.totals.calls, at=at, prompt_tokens=total, cache_read_tokens=read,
            cache_write_tokens=written, uncached_tokens=uncached, output_tokens=output,
            usd=read_usd + write_usd + uncached_usd + output_usd + storage_usd,
            read_usd=read_usd, write_usd=write_usd, uncached_usd=uncached_usd,
            output_usd=output_usd, storage_usd=storage_usd,
            usd_no_cache=(total * input_price + output * output_price) / _MILLION,
            expired_tokens=max(0, expired), cache_break=cache_break)

    # --- state ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready state (the cache entries, the last prompt and the totals)."""
        return {
            "profile": self.profile.name,
            "ttl": self.ttl.name if self.ttl else None,
            "use_explicit_cache": self.use_explicit_cache,
            "think_time": self.think_time,
            "max_entries": self.max_entries,
            "now": self.now,
            "entries": [[fp.hex(), e.tokens, e.expires] for fp, e in self._entries.items()],
            "prompt": [[b.id, b.tokens, b.version] for b in self._prev],
            "prompt_cached": self._prev_cached,
            "totals": asdict(self.totals),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], profile: PricingProfile) -> CostModel:
        """The model :meth:`to_dict` described, on ``profile`` (which must be the same one)."""
        if data.get("profile") != profile.name:
            raise ConfigError(f"this state is for profile {data.get('profile')!r}, not "
                              f"{profile.name!r}", field="profile")
        model = cls(profile, ttl=data.get("ttl"),
                    use_explicit_cache=bool(data.get("use_explicit_cache")),
                    think_time=data.get("think_time", DEFAULT_THINK_TIME),
                    max_entries=data.get("max_entries", DEFAULT_MAX_ENTRIES))
        try:
            model.now = data.get("now")
            model._entries = {bytes.fromhex(fp): _Entry(int(tokens), float(expires))
                              for fp, tokens, expires in data.get("entries", [])}
            model._prev = [Block(str(i), int(t), str(v)) for i, t, v in data.get("prompt", [])]
            model._prev_fps = model._fingerprints(model._prev, 0)
            model._prev_cached = int(data.get("prompt_cached", 0))
            model.totals = CostTotals(**data.get("totals", {}))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"malformed cost-model state ({exc})", field="state") from None
        return model


# --- helpers -------------------------------------------------------------------------------

def _as_block(value: Block | Mapping[str, Any], i: int) -> Block:
    if (type(value) is Block and type(value.tokens) is int and value.tokens >= 0
            and type(value.id) is str and value.id and type(value.version) is str
            and (value.change is None or type(value.change) is str)):
        return value  # the common case, checked without the general path's cost
    where = f"blocks[{i}]"
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"id", "tokens", "version", "change"})
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(unknown)}", field=where)
        value = Block(value.get("id"), value.get("tokens"),  # type: ignore[arg-type]
                      value.get("version", ""), value.get("change"))
    if not isinstance(value, Block):
        raise ConfigError(f"expected a block, got {type(value).__name__}", field=where)
    if not isinstance(value.id, str) or not value.id:
        raise ConfigError("a block needs a non-empty string id", field=f"{where}.id")
    tokens = _number(value.tokens, f"{where}.tokens", integer=True)
    version = value.version if isinstance(value.version, str) else str(value.version)
    if value.change is not None and not isinstance(value.change, str):
        raise ConfigError("expected a word such as 'compressed'", field=f"{where}.change")
    if tokens != value.tokens or version != value.version:
        value = Block(value.id, tokens, version, value.change)
    return value


def _index_ids(prompt: list[Block]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for i, block in enumerate(prompt):
        if block.id in ids:
            raise ConfigError(f"{block.id!r} is already block {ids[block.id]}",
                              field=f"blocks[{i}].id")
        ids[block.id] = i
    return ids


def _first_difference(prev: Sequence[Block], prompt: Sequence[Block]) -> int:
    n = min(len(prev), len(prompt))
    for i in range(n):
        if prev[i].key != prompt[i].key:
            return i
    return n


def _cumulative(prompt: Sequence[Block]) -> list[int]:
    cum, running = [], 0
    for block in prompt:
        running += block.tokens
        cum.append(running)
    return cum


def _candidates(marks: Sequence[int], lookback: int | None) -> list[int]:
    """Block boundaries checked for a hit: each breakpoint and up to ``lookback`` boundaries
    before it (every one before it when None)."""
    seen: set[int] = set()
    order = []
    for b in reversed(marks):
        low = 0 if lookback is None else max(0, b - lookback)
        for i in range(b, low - 1, -1):
            if i not in seen:
                seen.add(i)
                order.append(i)
    return order
