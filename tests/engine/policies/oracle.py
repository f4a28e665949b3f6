"""libCacheSim (PyPI ``libcachesim``) as an independent oracle: miss counts for a list of ids.

Only the tests import this module, and only after ``pytest.importorskip("libcachesim")``.

Parameters that give the semantics of ``docs/policies.md`` (they are libcachesim 0.3.5's
defaults, spelled out so that a change of defaults cannot silently change the oracle):

* LRU, FIFO, LFU, ARC, Sieve, Belady: no parameters.
* Clock: ``init_freq=0, n_bit_counter=1`` (one reference bit, clear on insert).
* TwoQ: ``a_in_size_ratio=0.25, a_out_size_ratio=0.5`` (Kin = floor(c/4), Kout = floor(c/2)).
* S3FIFO: ``small_size_ratio=0.1, ghost_size_ratio=0.9, move_to_main_threshold=2``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

import libcachesim as lcs

from .driver import next_uses

ORACLE_PARAMS: dict[str, tuple[str, dict[str, object]]] = {
    "lru": ("LRU", {}),
    "fifo": ("FIFO", {}),
    "lfu": ("LFU", {}),
    "arc": ("ARC", {}),
    "sieve": ("Sieve", {}),
    "opt": ("Belady", {}),
    "clock": ("Clock", {"init_freq": 0, "n_bit_counter": 1}),
    "2q": ("TwoQ", {"a_in_size_ratio": 0.25, "a_out_size_ratio": 0.5}),
    "s3fifo": (
        "S3FIFO",
        {"small_size_ratio": 0.1, "ghost_size_ratio": 0.9, "move_to_main_threshold": 2},
    ),
}

INT64_MAX = 2**63 - 1


def oracle_supports(policy: str, capacity: int) -> bool:
    """libCacheSim aborts the process for an S3FIFO whose small queue would be empty."""
    return not (policy == "s3fifo" and int(capacity * 0.1) <= 0)


def _hashpower(n_keys: int) -> int:
    return max(4, min(24, math.ceil(math.log2(max(n_keys, 2))) + 1))


def oracle_misses(
    policy: str,
    capacity: int,
    ids: Sequence[Hashable],
    sizes: Mapping[Hashable, int] | None = None,
) -> int:
    """Misses libCacheSim's ``policy`` makes on ``ids`` with ``capacity`` (objects or bytes)."""
    if not oracle_supports(policy, capacity):
        raise ValueError(f"libCacheSim cannot build {policy} with capacity {capacity}")
    cls_name, params = ORACLE_PARAMS[policy]
    numeric: dict[Hashable, int] = {}
    for k in ids:
        if k not in numeric:
            numeric[k] = len(numeric) + 1  # libCacheSim wants integer ids
    cache = getattr(lcs, cls_name)(
        cache_size=capacity, hashpower=_hashpower(len(numeric)), **params
    )
    nxt = next_uses(ids) if policy == "opt" else None
    req = lcs.Request()
    get = cache.get
    misses = 0
    for i, k in enumerate(ids):
        req.obj_id = numeric[k]
        req.obj_size = 1 if sizes is None else sizes[k]
        if nxt is not None:
            n = nxt[i]
            req.next_access_vtime = INT64_MAX if n == math.inf else int(n)
        if not get(req):
            misses += 1
    return misses


def oracle_misses_ops(policy: str, capacity: int, ops: Sequence[tuple[str, int]]) -> int:
    """Like :func:`oracle_misses` for unit pages, with ``("remove", key)`` operations mixed in:
    a resident key is removed with libCacheSim's ``remove`` (a non-resident one is skipped)."""
    if not oracle_supports(policy, capacity):
        raise ValueError(f"libCacheSim cannot build {policy} with capacity {capacity}")
    cls_name, params = ORACLE_PARAMS[policy]
    cache = getattr(lcs, cls_name)(cache_size=capacity, hashpower=8, **params)
    req = lcs.Request()
    req.obj_size = 1
    misses = 0
    for op, key in ops:
        req.obj_id = key + 1
        if op == "remove":
            if cache.find(req, False) is not None:
                cache.remove(key + 1)
        elif not cache.get(req):
            misses += 1
    return misses
