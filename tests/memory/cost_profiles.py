"""Pricing profiles with round numbers in the shape of each provider's cache, for the cost tests
(the hand-worked figures below do not move when a shipped profile's prices are updated)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from simulator.memory.pricing import CacheRules, PricingProfile, parse_profile


def profile(**overrides: Any) -> PricingProfile:
    data: dict[str, Any] = {"name": "test", "provider": "test", "model": "test",
                            "prices": {"input": 3.0, "output": 15.0, "cache_read": 0.3}}
    data.update(overrides)
    return parse_profile(data)


#: Anthropic's shape: explicit breakpoints (at most 4), 20-block lookback, 1.25x / 2x writes
ANTHROPIC = profile(cache={
    "mode": "breakpoints", "min_tokens": 1024, "max_breakpoints": 4, "lookback_blocks": 20,
    "ttl": [{"name": "5m", "seconds": 300, "write_factor": 1.25},
            {"name": "1h", "seconds": 3600, "write_factor": 2.0}]})

#: OpenAI's shape: automatic, 1,024-token minimum, 128-token steps, no write premium
OPENAI = profile(prices={"input": 2.0, "output": 8.0, "cache_read": 0.5}, cache={
    "mode": "automatic", "min_tokens": 1024, "granularity": 128,
    "ttl": [{"name": "in-memory", "seconds": 300}]})

#: Gemini's shapes: implicit (automatic above a minimum) and explicit caches with storage
GEMINI = profile(prices={"input": 1.25, "output": 10.0, "cache_read": 0.125},
                 cache={"mode": "automatic", "min_tokens": 2048,
                        "ttl": [{"name": "implicit", "seconds": 300}]},
                 explicit_cache={"min_tokens": 2048, "storage_per_mtok_hour": 4.5,
                                 "ttl": [{"name": "1h", "seconds": 3600}]},
                 long_prompt={"above_tokens": 200_000, "input": 2.5, "output": 15.0,
                              "cache_read": 0.25})


def without_cache(p: PricingProfile) -> PricingProfile:
    """The same prices with no prompt cache at all."""
    return replace(p, cache=CacheRules(), explicit_cache=None)
