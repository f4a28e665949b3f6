"""Pricing profiles: what a model charges for a prompt and how its provider caches prompts.

A profile is plain data read from a TOML or JSON file (docs/cost.md, "Pricing profiles"): the
prices in USD per million tokens, the cache's shape (``none``, ``automatic`` prefix caching,
explicit ``breakpoints``), its minimum prefix, its granularity, its time-to-live options with
their write price, and for providers that have them, explicit caches billed for storage per
token-hour and a dearer tier for long prompts. Every figure may carry the public page it was
read from and the date it was checked; shipped profiles carry one for each figure.

No price is written in the code: :mod:`simulator.memory.cost` reads them all from a profile.
The lab ships profiles in ``simulator/memory/pricing_profiles/``; a user adds their own file
(``load_profile(path)``) or a folder of them (``load_profiles(folder)``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.engine import ConfigError
from simulator.engine.validation import INVALID, Problems
from simulator.engine.validation import number as _number

__all__ = [
    "CACHE_MODES",
    "SHIPPED_DIR",
    "CacheRules",
    "LongPromptRates",
    "PricingError",
    "PricingProfile",
    "Source",
    "TtlOption",
    "load_profile",
    "load_profiles",
    "parse_profile",
    "shipped_profile",
    "shipped_profiles",
]

#: where the lab's own profiles live
SHIPPED_DIR = Path(__file__).with_name("pricing_profiles")
#: ``none``: no caching; ``automatic``: the provider caches every prompt's prefix by itself
#: (OpenAI, Gemini implicit); ``breakpoints``: only prefixes ending at a marked block are cached
#: (Anthropic ``cache_control``); ``explicit``: a cache object made on purpose, billed for
#: storage by the token-hour (Gemini explicit caching)
CACHE_MODES = ("none", "automatic", "breakpoints", "explicit")
#: the largest profile file read (a profile is a few kilobytes)
MAX_PROFILE_BYTES = 256 * 1024

_TOP = {"name", "provider", "model", "title", "notes", "currency", "prices", "cache",
        "explicit_cache", "long_prompt", "sources"}
_PRICES = {"input", "output", "cache_read"}
_CACHE = {"mode", "min_tokens", "granularity", "max_breakpoints", "lookback_blocks",
          "refresh_on_hit", "ttl", "storage_per_mtok_hour"}
_TTL = {"name", "seconds", "write_factor"}
_LONG = {"above_tokens", "input", "output", "cache_read"}
_SOURCE = {"url", "checked", "confirmed", "note"}


class PricingError(ConfigError):
    """A malformed pricing profile; ``field`` is the dotted path of the bad setting and the
    message starts with the file it came from."""

    def __init__(self, message: str, field: str | None = None, source: str | None = None):
        self.source = source
        super().__init__(message, field=field)
        if source:
            self.args = (f"{source}: {self.args[0]}",)


@dataclass(frozen=True)
class Source:
    """Where a figure was read: a public page and the day it was checked. ``confirmed`` is
    False for a figure the page does not state outright (an assumption, said so in ``note``)."""

    url: str
    checked: dt.date
    confirmed: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "checked": self.checked.isoformat(),
                "confirmed": self.confirmed, "note": self.note}


@dataclass(frozen=True)
class TtlOption:
    """How long a cached prefix lives without a hit, and what writing it costs, as a multiple
    of the input price (1.0: no premium)."""

    name: str
    seconds: float
    write_factor: float = 1.0


@dataclass(frozen=True)
class CacheRules:
    """The shape of one provider cache (docs/cost.md §2)."""

    mode: str = "none"
    #: a prefix shorter than this is never cached
    min_tokens: int = 0
    #: cached lengths above the minimum go in steps of this many tokens
    granularity: int = 1
    #: ``breakpoints``: at most this many marked blocks per call
    max_breakpoints: int | None = None
    #: ``breakpoints``: how many block boundaries before a breakpoint are checked for a hit
    lookback_blocks: int | None = None
    #: a hit restarts the time-to-live of the prefix it read
    refresh_on_hit: bool = True
    ttl: tuple[TtlOption, ...] = ()
    #: ``explicit``: USD per million cached tokens per hour of storage
    storage_per_mtok_hour: float = 0.0

    @property
    def caches(self) -> bool:
        return self.mode != "none"

    def ttl_option(self, name: str | None = None) -> TtlOption:
        """The named time-to-live (the first one by default)."""
        if name is None:
            return self.ttl[0]
        for option in self.ttl:
            if option.name == name:
                return option
        known = ", ".join(o.name for o in self.ttl) or "none"
        raise ConfigError(f"unknown time-to-live {name!r}; this cache has {known}", field="ttl")

    def cacheable(self, tokens: int) -> int:
        """The longest length at or below ``tokens`` this cache can hold (0 below the minimum):
        the minimum, then whole steps of ``granularity``."""
        if not self.caches or tokens < max(self.min_tokens, 1):
            return 0
        return self.min_tokens + (tokens - self.min_tokens) // self.granularity * self.granularity


@dataclass(frozen=True)
class LongPromptRates:
    """Dearer rates for a whole call whose prompt is longer than ``above_tokens``."""

    above_tokens: int
    input: float
    output: float
    cache_read: float | None = None


@dataclass(frozen=True)
class PricingProfile:
    """What one model costs. Prices are USD per million tokens."""

    name: str
    provider: str
    model: str
    input: float
    output: float
    cache_read: float | None = None
    cache: CacheRules = field(default_factory=CacheRules)
    explicit_cache: CacheRules | None = None
    long_prompt: LongPromptRates | None = None
    title: str = ""
    notes: str = ""
    sources: Mapping[str, Source] = field(default_factory=dict)
    #: the file it was read from ("" when built in code)
    path: str = ""

    def figures(self) -> list[str]:
        """The dotted names of every figure this profile states (what sources should cover)."""
        names = ["prices.input", "prices.output"]
        if self.cache_read is not None:
            names.append("prices.cache_read")
        for section, rules in (("cache", self.cache), ("explicit_cache", self.explicit_cache)):
            if rules is None or not rules.caches:
                continue
            names += [f"{section}.{n}" for n in ("mode", "min_tokens", "granularity",
                                                 "refresh_on_hit", "ttl")]
            if rules.max_breakpoints is not None:
                names.append(f"{section}.max_breakpoints")
            if rules.lookback_blocks is not None:
                names.append(f"{section}.lookback_blocks")
            if rules.mode == "explicit":
                names.append(f"{section}.storage_per_mtok_hour")
        if self.long_prompt is not None:
            names.append("long_prompt")
        return names

    def source_of(self, figure: str) -> Source | None:
        """The source covering a figure: its own entry or the nearest parent's."""
        parts = figure.split(".")
        for end in range(len(parts), 0, -1):
            found = self.sources.get(".".join(parts[:end]))
            if found is not None:
                return found
        return None

    def unsourced(self) -> list[str]:
        return [f for f in self.figures() if self.source_of(f) is None]

    def unconfirmed(self) -> list[str]:
        return [f for f in self.figures()
                if (s := self.source_of(f)) is not None and not s.confirmed]

    def summary(self) -> dict[str, Any]:
        """A flat, JSON-ready description (what ``vmem session pricing --json`` lists)."""
        rules = self.cache
        data: dict[str, Any] = {
            "name": self.name, "provider": self.provider, "model": self.model,
            "title": self.title or self.name, "input": self.input, "output": self.output,
            "cache_read": self.cache_read, "cache_mode": rules.mode,
            "min_cacheable_tokens": rules.min_tokens, "granularity": rules.granularity,
            "max_breakpoints": rules.max_breakpoints, "refresh_on_hit": rules.refresh_on_hit,
            "ttl": [{"name": o.name, "seconds": o.seconds,
                     "write": round(o.write_factor * self.input, 6)} for o in rules.ttl],
            "explicit_cache": None, "long_prompt": None, "notes": self.notes,
            "unconfirmed": self.unconfirmed(),
            "sources": {k: v.to_dict() for k, v in sorted(self.sources.items())},
        }
        if self.explicit_cache is not None:
            ex = self.explicit_cache
            data["explicit_cache"] = {
                "min_cacheable_tokens": ex.min_tokens, "storage_per_mtok_hour":
                ex.storage_per_mtok_hour, "ttl": [{"name": o.name, "seconds": o.seconds}
                                                  for o in ex.ttl]}
        if self.long_prompt is not None:
            lp = self.long_prompt
            data["long_prompt"] = {"above_tokens": lp.above_tokens, "input": lp.input,
                                   "output": lp.output, "cache_read": lp.cache_read}
        return data


# --- parsing -------------------------------------------------------------------------------

def _table(data: Any, where: str, known: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError(f"expected a table, got {type(data).__name__}", field=where or None)
    unknown = sorted(set(data) - known)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"unknown setting(s) {', '.join(prefix + u for u in unknown)}; "
                          f"known: {', '.join(sorted(known))}", field=where or None)
    return data


def _text(data: dict[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError("is required (a non-empty string)" if required else
                          "expected a string", field=f"{where}{key}")
    return value.strip()


def _price(data: dict[str, Any], key: str, where: str, *, required: bool = True
           ) -> float | None:
    if key not in data:
        if required:
            raise ConfigError("is required (USD per million tokens)", field=f"{where}.{key}")
        return None
    return _number(data[key], f"{where}.{key}")


def _flag(data: dict[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {value!r}", field=f"{where}.{key}")
    return value


def _ttl_options(raw: Any, where: str, *, required: bool) -> tuple[TtlOption, ...]:
    if raw is None:
        if required:
            raise ConfigError("a cache needs at least one time-to-live option", field=where)
        return ()
    if not isinstance(raw, list) or (required and not raw):
        raise ConfigError("expected a list of {name, seconds, write_factor}", field=where)
    options = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        item = _table(item, here, _TTL)
        seconds = _number(item.get("seconds"), f"{here}.seconds")
        if seconds <= 0:
            raise ConfigError("must be more than 0", field=f"{here}.seconds")
        factor = _number(item.get("write_factor", 1.0), f"{here}.write_factor")
        options.append(TtlOption(_text(item, "name", f"{here}.", required=True), seconds, factor))
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise ConfigError(f"time-to-live names must differ, got {names}", field=where)
    return tuple(options)


def _cache_rules(raw: Any, where: str, *, explicit: bool) -> CacheRules:
    data = _table(raw, where, _CACHE)
    mode = data.get("mode", "explicit" if explicit else "none")
    if explicit and mode != "explicit":
        raise ConfigError("an explicit cache has mode 'explicit'", field=f"{where}.mode")
    if mode not in CACHE_MODES or (mode == "explicit" and not explicit):
        allowed = ", ".join(m for m in CACHE_MODES if m != "explicit")
        raise ConfigError(f"unknown cache mode {mode!r}; use one of {allowed} (explicit "
                          f"caches go in [explicit_cache])", field=f"{where}.mode")
    if mode == "none":
        extra = sorted(set(data) - {"mode"})
        if extra:
            raise ConfigError(f"a cache of mode 'none' takes no {', '.join(extra)}",
                              field=f"{where}.{extra[0]}")
        return CacheRules()
    granularity = _number(data.get("granularity", 1), f"{where}.granularity", minimum=1,
                          integer=True)
    rules = CacheRules(
        mode=mode,
        min_tokens=_number(data.get("min_tokens", 0), f"{where}.min_tokens", integer=True),
        granularity=granularity,
        max_breakpoints=_optional_count(data, "max_breakpoints", where),
        lookback_blocks=_optional_count(data, "lookback_blocks", where, minimum=0),
        refresh_on_hit=_flag(data, "refresh_on_hit", where, default=not explicit),
        ttl=_ttl_options(data.get("ttl"), f"{where}.ttl", required=True),
        storage_per_mtok_hour=_number(data.get("storage_per_mtok_hour", 0.0),
                                      f"{where}.storage_per_mtok_hour"),
    )
    if mode == "breakpoints" and rules.max_breakpoints is None:
        raise ConfigError("a breakpoints cache needs max_breakpoints",
                          field=f"{where}.max_breakpoints")
    if mode != "breakpoints":
        for key in ("max_breakpoints", "lookback_blocks"):
            if key in data:
                raise ConfigError(f"only a breakpoints cache has {key}", field=f"{where}.{key}")
    if not explicit and "storage_per_mtok_hour" in data:
        raise ConfigError("only an explicit cache is billed for storage",
                          field=f"{where}.storage_per_mtok_hour")
    if explicit and "storage_per_mtok_hour" not in data:
        raise ConfigError("is required (USD per million tokens per hour)",
                          field=f"{where}.storage_per_mtok_hour")
    return rules


def _optional_count(data: dict[str, Any], key: str, where: str, minimum: int = 1) -> int | None:
    if key not in data:
        return None
    return _number(data[key], f"{where}.{key}", minimum=minimum, integer=True)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"expected a date like 2026-11-24, got {value!r}", field=where)


def _sources(raw: Any) -> dict[str, Source]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError("expected a table of figure -> {url, checked}", field="sources")
    sources = {}
    for key, item in raw.items():
        here = f"sources.{key}"
        item = _table(item, here, _SOURCE)
        url = _text(item, "url", f"{here}.", required=True)
        if not url.startswith(("https://", "http://")):
            raise ConfigError(f"expected a public http(s) address, got {url!r}",
                              field=f"{here}.url")
        if "checked" not in item:
            raise ConfigError("is required (the day the figure was checked)",
                              field=f"{here}.checked")
        sources[key] = Source(url, _date(item["checked"], f"{here}.checked"),
                              _flag(item, "confirmed", here, True), _text(item, "note", f"{here}."))
    return sources


def parse_profile(data: Mapping[str, Any], *, path: str = "") -> PricingProfile:
    """A validated profile from a decoded file. :class:`PricingError` names the bad field;
    where several fields are bad it holds every one in ``errors`` (the first is its own)."""
    try:
        return _parse(data, path)
    except PricingError:
        raise
    except ConfigError as exc:
        error = PricingError.of(PricingError(e.message, field=e.field, source=path or None)
                                for e in exc.errors)
        error.source = path or None
        raise error from None


def _parse(data: Mapping[str, Any], path: str) -> PricingProfile:
    """Each independent part is checked whatever the others gave, so that one pass names every
    bad field (as every other form of the lab does) instead of stopping at the first."""
    data = _table(dict(data) if isinstance(data, Mapping) else data, "", _TOP)
    problems = Problems()
    check = problems.check
    currency = data.get("currency", "USD")
    if currency != "USD":
        problems.add(f"prices must be in USD, got {currency!r}", "currency")
    prices = check(_table, data.get("prices"), "prices", _PRICES)
    cache = check(_cache_rules, data.get("cache", {"mode": "none"}), "cache", explicit=False)
    explicit = (None if data.get("explicit_cache") is None else
                check(_cache_rules, data["explicit_cache"], "explicit_cache", explicit=True))
    texts = {key: check(_text, data, key, "", required=key in _REQUIRED_TEXTS)
             for key in ("name", "provider", "model", "title", "notes")}
    money = {} if prices is INVALID else {
        key: check(_price, prices, key, "prices", required=key != "cache_read")
        for key in ("input", "output", "cache_read")}
    long_prompt = check(_long_prompt, data.get("long_prompt"))
    sources = check(_sources, data.get("sources"))
    if texts["name"] is not INVALID:
        check(_check_name, texts["name"])
    caches = (cache is not INVALID and cache.caches) or data.get("explicit_cache") is not None
    if caches and prices is not INVALID and "cache_read" not in prices:
        problems.add("a profile that caches needs the cached-read price", "prices.cache_read")
    problems.raise_any()
    return PricingProfile(
        name=texts["name"], provider=texts["provider"], model=texts["model"],
        title=texts["title"], notes=texts["notes"],
        input=money["input"], output=money["output"], cache_read=money["cache_read"],
        cache=cache, explicit_cache=explicit, long_prompt=long_prompt, sources=sources,
        path=path,
    )


#: the text fields a profile must have
_REQUIRED_TEXTS = ("name", "provider", "model")


def _long_prompt(raw: Any) -> LongPromptRates | None:
    if raw is None:
        return None
    data = _table(raw, "long_prompt", _LONG)
    above = _number(data.get("above_tokens"), "long_prompt.above_tokens", minimum=1,
                    integer=True)
    return LongPromptRates(above, _price(data, "input", "long_prompt"),
                           _price(data, "output", "long_prompt"),
                           _price(data, "cache_read", "long_prompt", required=False))


def _check_name(name: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    if len(name) > 80 or not set(name) <= allowed:
        raise ConfigError("use at most 80 lowercase letters, digits, '.', '-' or '_' "
                          f"(got {name!r})", field="name")


# --- files ---------------------------------------------------------------------------------

def load_profile(path: str | Path) -> PricingProfile:
    """Read one ``.toml`` or ``.json`` profile."""
    path = Path(path)
    where = str(path)
    if path.suffix.lower() not in (".toml", ".json"):
        raise PricingError("a pricing profile is a .toml or .json file", source=where)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PricingError(f"cannot read it ({exc.strerror or exc})", source=where) from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise PricingError(f"larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile is a few "
                           f"settings", source=where)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except UnicodeDecodeError:
        raise PricingError("not UTF-8 text", source=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise PricingError(f"not valid TOML ({exc})", source=where) from None
    except json.JSONDecodeError as exc:
        raise PricingError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                           f"{exc.msg})", source=where) from None
    _reject_non_finite(data, where)
    return parse_profile(data, path=where)


def _reject_non_finite(value: Any, where: str, key: str = "") -> None:
    # JSON accepts NaN and Infinity and TOML accepts nan and inf; no price may be either
    if isinstance(value, float) and not math.isfinite(value):
        raise PricingError(f"must be finite, got {value!r}", field=key or None, source=where)
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_non_finite(v, where, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, where, f"{key}[{i}]")


def load_profiles(*folders: str | Path) -> dict[str, PricingProfile]:
    """Every profile in these folders, by name; a later folder's profile replaces an earlier
    one of the same name (so a user's folder can override a shipped profile)."""
    profiles: dict[str, PricingProfile] = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise PricingError("not a folder of pricing profiles", source=str(folder))
        seen: dict[str, Path] = {}
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() not in (".toml", ".json"):
                continue
            profile = load_profile(path)
            if profile.name in seen:
                raise PricingError(f"profile {profile.name!r} is also defined in "
                                   f"{seen[profile.name].name}", field="name", source=str(path))
            seen[profile.name] = path
            profiles[profile.name] = profile
    return profiles


def shipped_profiles() -> dict[str, PricingProfile]:
    """The lab's own profiles, by name."""
    return load_profiles(SHIPPED_DIR)


def shipped_profile(name: str, extra: Iterable[str | Path] = ()) -> PricingProfile:
    """One profile by name from the shipped ones and any ``extra`` folders."""
    profiles = load_profiles(SHIPPED_DIR, *extra)
    try:
        return profiles[name]
    except KeyError:
        raise PricingError(f"unknown pricing profile {name!r}; known: "
                           f"{', '.join(sorted(profiles))}", field="pricing") from None
