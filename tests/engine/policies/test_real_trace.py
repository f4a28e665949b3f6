"""The real cloudPhysics trace against libCacheSim's miss counts, recorded (no oracle needed).

The numbers were produced by libcachesim 0.3.5 with the parameters in ``oracle.ORACLE_PARAMS``
(``test_oracle.py`` recomputes them live when the package is installed). 113,872 requests,
48,974 distinct objects; classic mode ignores sizes, sized mode uses the byte sizes of the trace.
"""

from __future__ import annotations

import pytest

CAPACITIES = (10, 100, 1000, 5000)

CLASSIC = {
    "lru": (107620, 100215, 94823, 91527),
    "fifo": (107793, 101495, 95520, 91581),
    "lfu": (107693, 100973, 95562, 89798),
    "clock": (107584, 100047, 94727, 91458),
    "arc": (106062, 97330, 94027, 87770),
    "2q": (105862, 97458, 94117, 87879),
    "sieve": (106040, 98130, 93975, 89798),
    "s3fifo": (113872, 97332, 94005, 85689),  # 10 pages: small queue of 1, nothing admitted
    "opt": (102486, 94010, 87025, 71311),
}

SIZED_CAPACITY = 128 << 20  # bytes
SIZED = {
    "lru": 93374,
    "fifo": 93403,
    "lfu": 91699,
    "clock": 93313,
    "arc": 90252,
    "2q": 91729,
    "sieve": 91699,
    "s3fifo": 90117,
    "opt": 79256,
}


@pytest.mark.parametrize("capacity", CAPACITIES)
@pytest.mark.parametrize("name", sorted(CLASSIC))
def test_classic_matches_libcachesim(name: str, capacity: int, cloudphysics_misses) -> None:
    expected = CLASSIC[name][CAPACITIES.index(capacity)]
    assert cloudphysics_misses(name, capacity) == expected


@pytest.mark.parametrize("name", sorted(SIZED))
def test_sized_matches_libcachesim_byte_mode(name: str, cloudphysics_misses) -> None:
    assert cloudphysics_misses(name, SIZED_CAPACITY, sized=True) == SIZED[name]
