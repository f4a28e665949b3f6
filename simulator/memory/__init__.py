"""LLM context memory on top of the engine (docs/sessions.md): pages with kinds and
importance, compression on demotion, BM25 retrieval, memory presets and the memory of one
session. Pure Python: it imports the engine and nothing else of the lab.

Importing the package registers the importance-weighted LRU and the cache-aware policy in the
engine's policy registry, as any policy written outside the engine would be.
"""

from simulator.engine.policies import register_policy

from .cache_aware import CacheAwareLRU
from .importance import ImportanceLRU

register_policy(ImportanceLRU, "importance-lru", "iwlru")
register_policy(CacheAwareLRU, "cache-aware", "cacheawarelru")

__all__ = ["CacheAwareLRU", "ImportanceLRU"]
