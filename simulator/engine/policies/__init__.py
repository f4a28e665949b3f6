"""Eviction policies and their registry.

``make_policy("lru", capacity)`` builds a policy by registry name; ``policy_names()`` lists the
names. Every policy implements :class:`~simulator.engine.policies.base.Policy`; see
``docs/policies.md`` for the exact semantics of each.
"""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import ConfigError
from .aging import Aging
from .arc import ARC
from .base import Key, Policy, PolicyState
from .clock import Clock
from .eclock import EnhancedClock
from .fifo import FIFO
from .lfu import LFU
from .lru import LRU
from .mru import MRU
from .nru import NRU
from .opt import OPT
from .random import RandomPolicy
from .s3fifo import S3FIFO
from .sieve import Sieve
from .twoq import TwoQ
from .workingset import WorkingSet
from .worst import Worst

__all__ = [
    "ARC",
    "FIFO",
    "LFU",
    "LRU",
    "MRU",
    "NRU",
    "OPT",
    "POLICIES",
    "S3FIFO",
    "Aging",
    "Clock",
    "EnhancedClock",
    "Key",
    "Policy",
    "PolicyState",
    "RandomPolicy",
    "Sieve",
    "TwoQ",
    "WorkingSet",
    "Worst",
    "make_policy",
    "policy_names",
    "policy_parameters",
    "refuses_new_pages",
    "register_policy",
]

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (LRU, FIFO, LFU, Clock, ARC, TwoQ, Sieve, S3FIFO, RandomPolicy, OPT, WorkingSet,
                MRU, EnhancedClock, NRU, Aging, Worst)
}

# Spellings people use for the same policy; looked up after lower-casing and dropping "-", "_"
# and spaces.
_ALIASES = {
    "twoq": "2q",
    "s3fifo": "s3fifo",
    "belady": "opt",
    "min": "opt",
    "workingset": "ws",
    "secondchance": "clock",
    "rand": "random",
    "unopt": "worst",
    "enhancedclock": "eclock",
    "enhancedsecondchance": "eclock",
}


def register_policy(cls: type[Policy], *aliases: str) -> type[Policy]:
    """Add a policy to the registry under ``cls.name`` (and ``aliases``), the way any policy
    written outside the engine joins it: ``simulator.memory`` registers its importance policy
    so. Registering the same class again is harmless; another class under a taken name is a
    mistake and raises ``ValueError``."""
    if not (isinstance(cls, type) and issubclass(cls, Policy)) or not cls.name:
        raise ValueError(f"{cls!r} is not a named Policy subclass")
    taken = POLICIES.get(cls.name)
    if taken is not None and taken is not cls:
        raise ValueError(f"a policy named {cls.name!r} is registered already")
    POLICIES[cls.name] = cls
    for alias in aliases:
        _ALIASES[alias.lower().replace("-", "").replace("_", "").replace(" ", "")] = cls.name
    return cls


def policy_names() -> list[str]:
    """Registry names, in a stable order."""
    return list(POLICIES)


def _canonical(name: str) -> str | None:
    if name in POLICIES:
        return name
    flat = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    flat = _ALIASES.get(flat, flat)
    return flat if flat in POLICIES else None


def _params_of(cls: type[Policy]) -> dict[str, Any]:
    """Keyword parameters a policy accepts, with their defaults."""
    sig = inspect.signature(cls.__init__)
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def policy_parameters(name: str) -> dict[str, Any]:
    """The keyword parameters of the policy registered as ``name`` (an alias works), with
    their defaults (``seed`` included for policies that draw at random); {} for an unknown
    name."""
    key = _canonical(name) if isinstance(name, str) else None
    return _params_of(POLICIES[key]) if key is not None else {}


def make_policy(name: str, capacity: int | None, *, seed: int = 0, **params: Any) -> Policy:
    """Build the policy registered as ``name`` for a tier of ``capacity`` tokens.

    ``seed`` goes to policies that use randomness (and is ignored by the others); ``params`` are
    the policy's own keyword parameters (e.g. ``tau`` for ``"ws"``). An unknown name, an unknown
    parameter or a bad value raises :class:`ConfigError` with ``field="policy"``.
    """
    key = _canonical(name) if isinstance(name, str) else None
    if key is None:
        raise ConfigError(
            f"unknown policy {name!r}; known policies: {', '.join(policy_names())}",
            field="policy",
        )
    if capacity is not None and (
        isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0
    ):
        raise ConfigError(
            f"capacity must be a non-negative integer (tokens) or None, got {capacity!r}",
            field="policy",
        )
    cls = POLICIES[key]
    accepted = _params_of(cls)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        what = ", ".join(f"{p}={accepted[p]!r}" for p in accepted) or "none"
        raise ConfigError(
            f"policy {key!r} has no parameter(s) {', '.join(unknown)}; its parameters: {what}",
            field="policy",
        )
    kwargs = dict(params)
    if "seed" in accepted:
        kwargs.setdefault("seed", seed)
    try:
        return cls(capacity, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"policy {key!r}: {exc}", field="policy") from exc


def refuses_new_pages(name: str, capacity: int, **params: Any) -> bool:
    """Whether the policy, at ``capacity`` one-token pages, refuses to cache a page on its
    first miss (asked of the policy's own ``admits``, never of a table kept beside it):
    libCacheSim's strict S3-FIFO below 20 pages and strict 2Q below 4 do (docs/policies.md),
    so their miss ratio there is about 1. Pages, sweeps and curves say so next to the figure."""
    policy = make_policy(name, capacity, **params)
    probe = object()  # a page no policy has seen
    policy.on_miss(probe, 1)
    return not policy.admits(probe, 1)
