"""Sampling transfer times from a tier's :class:`~simulator.engine.config.LatencyModel`."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from .config import LatencyModel

Sampler = Callable[[int], float]


def make_sampler(model: LatencyModel, rng: random.Random) -> Sampler:
    """Return ``sample(tokens) -> ms`` for ``model``, drawing from ``rng`` (seeded per tier so a
    run is reproducible and one tier's draws never shift another's)."""
    per_token = model.per_token_ms
    if model.kind == "constant":
        base = model.ms
        if per_token == 0:
            return lambda tokens: base
        return lambda tokens: base + per_token * tokens
    if model.kind == "uniform":
        low, high = model.low_ms, model.high_ms
        uniform = rng.uniform
        return lambda tokens: uniform(low, high) + per_token * tokens
    mu, sigma = math.log(model.ms) if model.ms > 0 else -math.inf, model.sigma
    if model.ms == 0:
        return lambda tokens: per_token * tokens
    lognorm = rng.lognormvariate
    return lambda tokens: lognorm(mu, sigma) + per_token * tokens
