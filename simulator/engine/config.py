"""Run configuration as plain dataclasses, validated with clear errors and round-tripped to JSON.

Everything a run needs is here and nothing else: the dashboard, the presets and the command
line all build a :class:`SimConfig` and hand it to :class:`simulator.engine.simulation.Simulation`.

Every setting is described once, as data, in :data:`SIM_PARAMS`, :data:`TIER_PARAMS` and
:data:`LATENCY_PARAMS` (name, kind, sane range, default, help; see ``params.py``): validation
reads those descriptions, and so do the web form, the API's JSON Schema and the CLI's flags.
Validation reports every bad field at once (one :class:`ConfigError` holding them all).

A validated config remembers what it looked like; :meth:`SimConfig.checked` (what a
:class:`~simulator.engine.simulation.Simulation` calls) validates again only if it changed
since, so a config is checked once however many simulations run it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .params import INVALID, Param, Problems, check_object, figure, show
from .policies import make_policy, policy_names
from .validation import LARGEST as _LARGEST

TIER_NAMES = ("L0", "L1", "L2", "L3", "L4")
LATENCY_KINDS = ("constant", "uniform", "lognormal")
WRITE_POLICIES = ("write-back", "write-through")
#: policy parameters: how many, how long a name or a text value may be
MAX_POLICY_PARAMS, MAX_PARAM_NAME, MAX_TEXT = 16, 64, 200


# --- how each kind of setting is checked (the messages users read) --------------------------


def _check_number(param: Param, value: Any, name: str) -> Any:
    integer = param.kind == "int"
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"expected {kind}, got {show(value)}", field=name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"must be finite, got {value!r}", field=name)
    if integer and isinstance(value, float) and not value.is_integer():
        raise ConfigError(f"expected an integer, got {value!r}", field=name)
    low, high = param.minimum, param.maximum
    if low is not None and (value <= low if param.exclusive_minimum else value < low):
        word = "above" if param.exclusive_minimum else "at least"
        raise ConfigError(f"must be {word} {figure(low)}, got {show(value)}", field=name)
    if high is not None and value > high:
        raise ConfigError(f"must be at most {figure(high)}, got {show(value)}", field=name)
    if isinstance(value, int) and abs(value) > _LARGEST:
        raise ConfigError(f"must be at most {_LARGEST:,} in size", field=name)
    return int(value) if integer else float(value)


def _check_flag(param: Param, value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {show(value)}", field=name)
    return value


def _check_text(param: Param, value: Any, name: str) -> str:
    longest = int(param.maximum or MAX_TEXT)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"expected a non-empty text, got {show(value)}", field=name)
    if len(value) > longest or "\x00" in value:
        raise ConfigError(f"at most {longest} characters, no NUL", field=name)
    return value


def _check_policy(param: Param, value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"expected a policy name, got {show(value)}", field=name)
    policy = value.strip().lower()
    if policy not in policy_names():
        raise ConfigError(f"unknown policy {show(policy)}; known: {', '.join(policy_names())}",
                          field=name)
    return policy


def _check_latency_kind(param: Param, value: Any, name: str) -> str:
    if value not in LATENCY_KINDS:
        raise ConfigError(
            f"unknown latency model {show(value)}; use one of {', '.join(LATENCY_KINDS)}",
            field=name)
    return value


def _check_write_policy(param: Param, value: Any, name: str) -> str:
    if value not in WRITE_POLICIES:
        raise ConfigError(f"use one of {', '.join(WRITE_POLICIES)}, got {show(value)}",
                          field=name)
    return value


def _check_policy_params(param: Param, value: Any, name: str) -> dict[str, Any]:
    """Plain JSON values only (what the database stores): finite numbers, short texts."""
    if not isinstance(value, dict):
        raise ConfigError("expected an object", field=name)
    if len(value) > MAX_POLICY_PARAMS:
        raise ConfigError(f"at most {MAX_POLICY_PARAMS} parameters", field=name)
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= MAX_PARAM_NAME or "\x00" in key:
            raise ConfigError(f"parameter names are short texts, got {show(key)}", field=name)
        where = f"{name}.{key}"
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int | float):
            _check_number(_ANY_NUMBER, item, where)
        elif isinstance(item, str):
            if len(item) > MAX_TEXT or "\x00" in item:
                raise ConfigError(f"at most {MAX_TEXT} characters, no NUL", field=where)
        else:
            raise ConfigError(f"expected a number, text or true/false, got {show(item)}",
                              field=where)
    return dict(value)


def _setting(name: str, kind: str, help: str, **kwargs: Any) -> Param:
    checker = {"int": _check_number, "number": _check_number, "bool": _check_flag}[kind]
    return Param(name, kind, help, checker, **kwargs)


_ANY_NUMBER = _setting("value", "number", "a number")

#: the settings of a latency model (one tier's transfer time)
LATENCY_PARAMS: tuple[Param, ...] = (
    Param("kind", "choice", "constant: always ms; uniform: drawn in [low_ms, high_ms]; "
          "lognormal: median ms, shape sigma", _check_latency_kind, default="constant",
          choices=LATENCY_KINDS, label="latency model"),
    _setting("ms", "number", "constant time, or the lognormal median", default=0.0,
             minimum=0, maximum=3_600_000, unit="ms", label="ms (median)"),
    _setting("low_ms", "number", "uniform: lowest time", default=0.0, minimum=0,
             maximum=3_600_000, unit="ms", label="low ms"),
    _setting("high_ms", "number", "uniform: highest time", default=0.0, minimum=0,
             maximum=3_600_000, unit="ms", label="high ms"),
    _setting("sigma", "number", "lognormal shape", default=0.5, minimum=0, maximum=5,
             label="sigma"),
    _setting("per_token_ms", "number", "added per token moved", default=0.0, minimum=0,
             maximum=1000, unit="ms", label="ms per token"),
)

#: the settings of one tier (its ``latency`` is described by :data:`LATENCY_PARAMS`)
TIER_PARAMS: tuple[Param, ...] = (
    Param("name", "text", "the tier's name (L0 … L4)", _check_text, maximum=40),
    _setting("capacity_tokens", "int", "capacity; null: unlimited (the last tier only)",
             minimum=1, maximum=10**12, nullable=True, unit="tokens", label="capacity"),
    Param("policy", "choice", "the eviction policy (docs/policies.md)", _check_policy,
          default="lru", choices=policy_names),
    _setting("concurrency", "int", "transfers served at once; null: they never queue",
             default=None, minimum=1, maximum=4096, nullable=True,
             label="concurrent transfers"),
    Param("policy_params", "object", "the policy's own parameters, e.g. {\"tau\": 100} "
          "for ws", _check_policy_params, default={}),
)

#: the settings of a whole run (its ``tiers`` are described by :data:`TIER_PARAMS`)
SIM_PARAMS: tuple[Param, ...] = (
    _setting("page_size", "int", "the largest page; a larger access is cut into pages "
             "(null: pages as the workload gives them)", default=None, minimum=1,
             maximum=1_000_000, nullable=True, unit="tokens", label="Page size (tokens)"),
    _setting("unit_pages", "bool", "classic mode: every page is one token, sizes ignored",
             default=False, label="Classic mode (every page 1 token)"),
    Param("write_policy", "choice", "when dirty pages are written down", _check_write_policy,
          default="write-back", choices=WRITE_POLICIES),
    _setting("pinning", "bool", "honour pin and unpin accesses", default=True,
             label="Honour pin / unpin"),
    _setting("anti_thrash", "int", "a page just faulted into L0 is protected from eviction "
             "for this many accesses (0: off)", default=0, minimum=0, maximum=1_000_000,
             unit="accesses", label="Anti-thrash protection (accesses)"),
    _setting("prefetch", "int", "on a fault, also bring the next N pages of the same "
             "sequence up (0: off)", default=0, minimum=0, maximum=256, unit="pages",
             label="Prefetch depth (pages)"),
    _setting("thrash_window", "int", "W of the thrash index", default=1000, minimum=1,
             maximum=1_000_000, unit="accesses", label="Thrash window W (accesses)"),
    _setting("window_accesses", "int", "accesses per chart point (window snapshot)",
             default=1000, minimum=1, maximum=1_000_000, unit="accesses",
             label="Window (accesses per chart point)"),
    _setting("window_ms", "number", "also close a window every this many simulated ms "
             "(null: by accesses only)", default=None, minimum=1, maximum=86_400_000,
             nullable=True, unit="ms", label="Window (simulated ms)"),
    _setting("seed", "int", "seeds latency draws and random policies", default=0,
             minimum=-(2**63), maximum=_LARGEST, label="Seed"),
)


def _unknown(cls: type, where: str) -> Any:
    def error(names: list[str]) -> ConfigError:
        known = {f.name for f in fields(cls)}
        prefix = f"{where}." if where else ""
        return ConfigError(
            f"unknown setting(s) {', '.join(prefix + name for name in names)}; "
            f"known: {', '.join(sorted(known))}",
            field=where or None,
        )
    return error


# --- validation on plain data (one function per level, every problem collected) -------------


def _check_latency_data(data: Any, where: str, problems: Problems) -> dict[str, Any]:
    checked = check_object(LATENCY_PARAMS, data, where=where, problems=problems,
                           unknown=_unknown(LatencyModel, where))
    low, high = checked.get("low_ms", 0.0), checked.get("high_ms", 0.0)
    if checked.get("kind") == "uniform" and high < low:
        problems.add(f"high_ms ({high:g}) is below low_ms ({low:g})", f"{where}.high_ms")
    return checked


def _check_tier_data(data: Any, where: str, problems: Problems) -> dict[str, Any]:
    checked = check_object(TIER_PARAMS, {k: v for k, v in data.items() if k != "latency"}
                           if isinstance(data, dict) else data, where=where, problems=problems,
                           unknown=_unknown(TierConfig, where))
    if not isinstance(data, dict):
        return checked
    checked["latency"] = _check_latency_data(data.get("latency", {}), f"{where}.latency",
                                             problems)
    policy = checked.get("policy", "lru" if "policy" not in data else INVALID)
    capacity = checked.get("capacity_tokens", INVALID)
    policy_params = checked.get("policy_params", {} if "policy_params" not in data else INVALID)
    if INVALID not in (policy, capacity, policy_params):
        try:  # building an empty policy is cheap and checks its parameters
            make_policy(policy, capacity, **policy_params)
        except ConfigError as exc:
            problems.add(exc.message, f"{where}.policy_params")
    return checked


def _check_config_data(data: Any, problems: Problems) -> dict[str, Any]:
    if not isinstance(data, dict):
        problems.add(f"expected an object, got {type(data).__name__}")
        return {}
    settings = {k: v for k, v in data.items() if k != "tiers"}
    checked = check_object(SIM_PARAMS, settings, problems=problems,
                           unknown=_unknown(SimConfig, ""))
    tiers = data.get("tiers")
    if not isinstance(tiers, list):
        problems.add("expected a list of tiers", "tiers")
        return checked
    if not tiers:
        problems.add("at least one tier (L0) is required", "tiers")
        return checked
    if len(tiers) > len(TIER_NAMES):
        problems.add(f"at most {len(TIER_NAMES)} tiers (L0-L4), got {len(tiers)}", "tiers")
        return checked
    checked["tiers"] = [_check_tier_data(t, f"tiers[{i}]", problems)
                        for i, t in enumerate(tiers)]
    _check_hierarchy(checked, problems)
    return checked


def _check_hierarchy(checked: dict[str, Any], problems: Problems) -> None:
    """What depends on several settings: only the last tier unlimited, names distinct, L0
    large enough for one page."""
    tiers = checked["tiers"]
    for i, tier in enumerate(tiers[:-1]):
        if "capacity_tokens" in tier and tier["capacity_tokens"] is None:
            problems.add("only the last tier may be unlimited", f"tiers[{i}].capacity_tokens")
    names = [t.get("name") for t in tiers]
    if None not in names and len(set(names)) != len(names):
        problems.add(f"tier names must differ, got {names}", "tiers")
    page_size, l0 = checked.get("page_size"), tiers[0].get("capacity_tokens")
    if not checked.get("unit_pages") and page_size and l0 and l0 < page_size:
        problems.add(f"L0 ({l0} tokens) is smaller than one page ({page_size} tokens)",
                     "tiers[0].capacity_tokens")


@dataclass
class LatencyModel:
    """Service time of one transfer from a tier, in simulated milliseconds.

    ``constant`` always takes ``ms``; ``uniform`` draws from [``low_ms``, ``high_ms``];
    ``lognormal`` has median ``ms`` and shape ``sigma``. ``per_token_ms`` is added per token
    moved, so large pages cost more.
    """

    kind: str = "constant"
    ms: float = 0.0
    low_ms: float = 0.0
    high_ms: float = 0.0
    sigma: float = 0.5
    per_token_ms: float = 0.0

    def validate(self, where: str = "latency") -> None:
        problems = Problems()
        checked = _check_latency_data(asdict(self), where, problems)
        problems.raise_any()
        for name, value in checked.items():
            setattr(self, name, value)

    @property
    def is_zero(self) -> bool:
        """True when every transfer is free (then faults need no simulated time at all)."""
        if self.per_token_ms:
            return False
        return self.high_ms == 0 if self.kind == "uniform" else self.ms == 0

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "latency") -> LatencyModel:
        problems = Problems()
        checked = _check_latency_data(data, where, problems)
        problems.raise_any()
        return cls(**checked)


@dataclass
class TierConfig:
    """One level of the hierarchy. ``capacity_tokens=None`` means unlimited (only sensible for
    the last tier); ``concurrency=None`` means transfers never queue."""

    name: str
    capacity_tokens: int | None
    policy: str = "lru"
    latency: LatencyModel = field(default_factory=LatencyModel)
    concurrency: int | None = None
    policy_params: dict[str, Any] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        problems = Problems()
        checked = _check_tier_data(_plain(self), where, problems)
        problems.raise_any()
        self._take(checked)

    def _take(self, checked: dict[str, Any]) -> None:
        for name, value in checked.items():
            setattr(self, name, LatencyModel(**value) if name == "latency" else value)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> TierConfig:
        problems = Problems()
        checked = _check_tier_data(data, where, problems)
        problems.raise_any()
        return cls._build(checked)

    @classmethod
    def _build(cls, checked: dict[str, Any]) -> TierConfig:
        return cls(**{**checked, "latency": LatencyModel(**checked["latency"])})


def _plain(obj: Any) -> dict[str, Any]:
    """A dataclass as data, keeping whatever its fields hold (validation judges them)."""
    return {f.name: _plain(value) if hasattr(value, "__dataclass_fields__") else value
            for f in fields(obj) for value in [getattr(obj, f.name)]}


@dataclass
class SimConfig:
    """A whole run: the tiers (L0 first) and the knobs of the model.

    * ``page_size`` — the largest page in tokens; a larger access is cut into several pages
      (``None``: pages are taken as the workload gives them).
    * ``unit_pages`` — classic mode: every page is one token, sizes in the workload ignored.
    * ``anti_thrash`` — a page just faulted into L0 is protected from eviction for this many
      accesses (0: off).
    * ``prefetch`` — on a fault of page *p*, also bring the next *N* pages of the same sequence
      (ids p+1… or ``doc#k+1``…) up from lower tiers.
    * ``thrash_window`` — W of the thrash index.
    * ``window_accesses`` / ``window_ms`` — how often observers get a snapshot.

    The range of each is in :data:`SIM_PARAMS` (and docs/parameters.md).
    """

    tiers: list[TierConfig]
    page_size: int | None = None
    unit_pages: bool = False
    write_policy: str = "write-back"
    pinning: bool = True
    anti_thrash: int = 0
    prefetch: int = 0
    thrash_window: int = 1000
    window_accesses: int = 1000
    window_ms: float | None = None
    seed: int = 0

    def validate(self) -> SimConfig:
        """Check every setting (all problems at once, in one :class:`ConfigError`), normalise
        them in place (``" LRU "`` → ``"lru"``, ``3.0`` → ``3``) and return ``self``."""
        problems = Problems()
        data = _plain(self)
        if isinstance(self.tiers, list):
            data["tiers"] = [_plain(t) if isinstance(t, TierConfig) else t for t in self.tiers]
        checked = _check_config_data(data, problems)
        problems.raise_any()
        for name, value in checked.items():
            if name == "tiers":
                for tier, values in zip(self.tiers, value, strict=True):
                    tier._take(values)
            else:
                setattr(self, name, value)
        self._remember()
        return self

    def checked(self) -> SimConfig:
        """``self``, validated unless it already was and has not changed since."""
        if self.__dict__.get("_checked_as") == self._fingerprint():
            return self
        return self.validate()

    def _fingerprint(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=repr)

    def _remember(self) -> None:
        # not a dataclass field: equality, asdict() and the JSON form never see it
        self.__dict__["_checked_as"] = self._fingerprint()

    # --- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimConfig:
        """A validated config from JSON data; every problem is reported at once."""
        problems = Problems()
        checked = _check_config_data(data, problems)
        problems.raise_any()
        config = cls(**{**checked, "tiers": [TierConfig._build(t) for t in checked["tiers"]]})
        config._remember()
        return config

    @classmethod
    def restore(cls, data: dict[str, Any]) -> SimConfig:
        """A config from JSON that :meth:`to_dict` wrote after validation (a stored run):
        rebuilt as it is, not checked again."""
        def known(kind: type, values: dict[str, Any]) -> dict[str, Any]:
            names = {f.name for f in fields(kind)}
            return {key: value for key, value in values.items() if key in names}

        tiers = [TierConfig(**{**known(TierConfig, t),
                               "latency": LatencyModel(**known(LatencyModel,
                                                               t.get("latency", {})))})
                 for t in data["tiers"]]
        config = cls(**{**known(cls, data), "tiers": tiers})
        config._remember()
        return config

    @classmethod
    def from_json(cls, text: str) -> SimConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> SimConfig:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path} is not UTF-8 text") from None
        return cls.from_json(text)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    # --- ready-made shapes ----------------------------------------------------------------

    @classmethod
    def classic(cls, policy: str, capacity: int, **kwargs: Any) -> SimConfig:
        """One tier, every page one token, capacity in pages: the textbook cache."""
        tier = TierConfig("L0", capacity, policy=policy, policy_params=kwargs.pop("params", {}))
        return cls(tiers=[tier], unit_pages=True, **kwargs).validate()

    @classmethod
    def hierarchy(
        cls, l0_tokens: int = 8192, policy: str = "lru", lower_policy: str = "lru",
        **kwargs: Any,
    ) -> SimConfig:
        """The five tiers of docs/architecture.md §1 with their typical capacities and latencies."""
        tiers = [
            TierConfig("L0", l0_tokens, policy, LatencyModel("constant", 0.0)),
            TierConfig("L1", 1_000_000, lower_policy, LatencyModel("uniform", low_ms=1, high_ms=9)),
            TierConfig(
                "L2", 100_000_000, lower_policy, LatencyModel("lognormal", ms=40, sigma=0.4),
                concurrency=64,
            ),
            TierConfig(
                "L3", 2_500_000_000, lower_policy, LatencyModel("lognormal", ms=300, sigma=0.5),
                concurrency=16,
            ),
            TierConfig(
                "L4", None, "fifo", LatencyModel("lognormal", ms=3000, sigma=0.6), concurrency=4
            ),
        ]
        return cls(tiers=tiers, **kwargs).validate()


__all__ = [
    "LATENCY_KINDS", "LATENCY_PARAMS", "SIM_PARAMS", "TIER_NAMES", "TIER_PARAMS",
    "WRITE_POLICIES", "LatencyModel", "SimConfig", "TierConfig",
]
