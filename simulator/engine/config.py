"""Run configuration as plain dataclasses, validated with clear errors and round-tripped to JSON.

Everything a run needs is here and nothing else: the dashboard, the presets and the command
line all build a :class:`SimConfig` and hand it to :class:`simulator.engine.simulation.Simulation`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .validation import number as _number

TIER_NAMES = ("L0", "L1", "L2", "L3", "L4")
LATENCY_KINDS = ("constant", "uniform", "lognormal")
WRITE_POLICIES = ("write-back", "write-through")


def _reject_unknown(cls: type, data: dict[str, Any], where: str) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"expected an object, got {type(data).__name__}", field=where or None)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown setting(s) {', '.join(prefix + u for u in unknown)}; "
            f"known: {', '.join(sorted(known))}",
            field=where or None,
        )


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
        if self.kind not in LATENCY_KINDS:
            raise ConfigError(
                f"unknown latency model {self.kind!r}; use one of {', '.join(LATENCY_KINDS)}",
                field=f"{where}.kind",
            )
        for name in ("ms", "low_ms", "high_ms", "sigma", "per_token_ms"):
            setattr(self, name, _number(getattr(self, name), f"{where}.{name}"))
        if self.kind == "uniform" and self.high_ms < self.low_ms:
            raise ConfigError(
                f"high_ms ({self.high_ms:g}) is below low_ms ({self.low_ms:g})",
                field=f"{where}.high_ms",
            )

    @property
    def is_zero(self) -> bool:
        """True when every transfer is free (then faults need no simulated time at all)."""
        if self.per_token_ms:
            return False
        return self.high_ms == 0 if self.kind == "uniform" else self.ms == 0

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "latency") -> LatencyModel:
        _reject_unknown(cls, data, where)
        model = cls(**data)
        model.validate(where)
        return model


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
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError("a tier needs a name", field=f"{where}.name")
        if self.capacity_tokens is not None:
            self.capacity_tokens = _number(
                self.capacity_tokens, f"{where}.capacity_tokens", minimum=1, integer=True
            )
        if self.concurrency is not None:
            self.concurrency = _number(
                self.concurrency, f"{where}.concurrency", minimum=1, integer=True
            )
        if not isinstance(self.policy, str):
            raise ConfigError(
                f"expected a policy name, got {self.policy!r}", field=f"{where}.policy"
            )
        self.policy = self.policy.strip().lower()
        from .policies import policy_names

        if self.policy not in policy_names():
            raise ConfigError(
                f"unknown policy {self.policy!r}; known: {', '.join(policy_names())}",
                field=f"{where}.policy",
            )
        if not isinstance(self.policy_params, dict):
            raise ConfigError("expected an object", field=f"{where}.policy_params")
        from .policies import make_policy

        try:  # building an empty policy is cheap and checks its parameters
            make_policy(self.policy, self.capacity_tokens, **self.policy_params)
        except ConfigError as exc:
            raise ConfigError(exc.message, field=f"{where}.policy_params") from None
        self.latency.validate(f"{where}.latency")

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> TierConfig:
        _reject_unknown(cls, data, where)
        data = dict(data)
        if "name" not in data or "capacity_tokens" not in data:
            missing = "name" if "name" not in data else "capacity_tokens"
            raise ConfigError("is required", field=f"{where}.{missing}")
        data["latency"] = LatencyModel.from_dict(data.get("latency", {}), f"{where}.latency")
        tier = cls(**data)
        tier.validate(where)
        return tier


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
        if not isinstance(self.tiers, list) or not self.tiers:
            raise ConfigError("at least one tier (L0) is required", field="tiers")
        if len(self.tiers) > len(TIER_NAMES):
            raise ConfigError(
                f"at most {len(TIER_NAMES)} tiers (L0-L4), got {len(self.tiers)}", field="tiers"
            )
        for i, tier in enumerate(self.tiers):
            tier.validate(f"tiers[{i}]")
        for i, tier in enumerate(self.tiers[:-1]):
            if tier.capacity_tokens is None:
                raise ConfigError(
                    "only the last tier may be unlimited", field=f"tiers[{i}].capacity_tokens"
                )
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ConfigError(f"tier names must differ, got {names}", field="tiers")
        if self.page_size is not None:
            self.page_size = _number(self.page_size, "page_size", minimum=1, integer=True)
            l0 = self.tiers[0].capacity_tokens
            if not self.unit_pages and l0 is not None and l0 < self.page_size:
                raise ConfigError(
                    f"L0 ({l0} tokens) is smaller than one page ({self.page_size} tokens)",
                    field="tiers[0].capacity_tokens",
                )
        if self.write_policy not in WRITE_POLICIES:
            raise ConfigError(
                f"use one of {', '.join(WRITE_POLICIES)}, got {self.write_policy!r}",
                field="write_policy",
            )
        for name in ("unit_pages", "pinning"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"expected true or false, got {getattr(self, name)!r}", name)
        self.anti_thrash = _number(self.anti_thrash, "anti_thrash", integer=True)
        self.prefetch = _number(self.prefetch, "prefetch", integer=True)
        self.thrash_window = _number(self.thrash_window, "thrash_window", minimum=1, integer=True)
        self.window_accesses = _number(
            self.window_accesses, "window_accesses", minimum=1, integer=True
        )
        if self.window_ms is not None:
            self.window_ms = _number(self.window_ms, "window_ms")
            if self.window_ms <= 0:
                raise ConfigError("must be positive", field="window_ms")
        self.seed = _number(self.seed, "seed", minimum=-(2**63), integer=True)
        return self

    # --- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SimConfig:
        _reject_unknown(cls, data, "")
        data = dict(data)
        tiers = data.get("tiers")
        if not isinstance(tiers, list):
            raise ConfigError("expected a list of tiers", field="tiers")
        data["tiers"] = [TierConfig.from_dict(t, f"tiers[{i}]") for i, t in enumerate(tiers)]
        return cls(**data).validate()

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
