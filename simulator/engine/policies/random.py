"""Random replacement, seeded so that a run is reproducible."""

from __future__ import annotations

import random as _random

from .base import Key, Policy, PolicyState


class RandomPolicy(Policy):
    """Evict a uniformly random resident page.

    The generator is ``random.Random(seed)``; the same seed and the same call sequence give the
    same victims. Keys sit in a list (plus key -> index), so a random pick and a removal from the
    middle (swap with the last) are O(1). Hits change nothing.
    """

    __slots__ = ("_index", "_keys", "_rng", "_sizes", "seed")
    name = "random"
    resident_maps = ("_sizes",)

    def __init__(self, capacity: int | None, *, seed: int = 0) -> None:
        super().__init__(capacity)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        self.seed = seed
        self._rng = _random.Random(seed)
        self._keys: list[Key] = []
        self._index: dict[Key, int] = {}
        self._sizes: dict[Key, int] = {}

    def touch(self, key: Key) -> None:
        """A hit: random replacement records nothing."""

    def insert(self, key: Key, size: int) -> None:
        self._index[key] = len(self._keys)
        self._keys.append(key)
        self._sizes[key] = size
        self.used += size

    def _drop(self, key: Key) -> None:
        keys, index = self._keys, self._index
        i = index.pop(key)
        last = keys.pop()
        if i < len(keys):  # the removed key was not the last one: fill its slot
            keys[i] = last
            index[last] = i
        self.used -= self._sizes.pop(key)

    def victim(self) -> Key:
        keys = self._keys
        if not keys:
            raise self._nothing_resident()
        key = keys[self._rng.randrange(len(keys))]
        self._drop(key)
        return key

    def remove(self, key: Key) -> None:
        self._drop(key)

    def snapshot(self) -> PolicyState:
        return PolicyState(tuple(self._keys), "any of them may be drawn", {}, "",
                           {"seed": self.seed})
