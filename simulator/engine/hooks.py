"""Hooks through which code outside the engine changes what a page is as it moves.

The engine knows that a page can be stored smaller in a lower tier (compression on demotion,
docs/architecture.md §5 in docs/architecture.md) but not how: a :class:`SizeHook` passed to
:class:`~simulator.engine.simulation.Simulation` decides. :mod:`simulator.memory.compression`
implements one for LLM pages; a researcher can write another (e.g. a fixed ratio per tier).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol


class SizeHook(Protocol):
    """Stored sizes of pages across tiers. Every method is called by the engine only."""

    def on_demote(self, page_id: Hashable, size: int, dst: int) -> int:
        """``page_id`` of ``size`` tokens moves into tier ``dst``: its stored size there."""

    def on_fault(self, page_id: Hashable, size: int, src: int, last: int) -> tuple[int, int]:
        """A fault on ``page_id`` served by tier ``src`` (``last`` is the last tier's index):
        (size brought into L0, index of the tier whose latency the fault costs)."""

    def on_write(self, page_id: Hashable) -> None:
        """``page_id`` was written: any smaller copy below is out of date."""

    def forget(self, page_id: Hashable) -> None:
        """``page_id`` left the hierarchy for good."""
