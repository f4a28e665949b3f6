"""What a chat session's model calls cost with a provider's prompt cache (docs/cost.md §5).

:class:`SessionCost` turns each model call's prompt — the pages the memory packed, in prompt
order, and the notes the call adds (manifest, memory-pressure warning, tool results) — into
:class:`~simulator.memory.cost.Block` s for a :class:`~simulator.memory.cost.CostModel`, and
says why every page that left the prompt since the previous call left it (evicted by the
policy to make room, evicted by a compaction, folded into a summary, forgotten), so that each
cache break names the eviction, compaction or summary at its position.

Per turn it sums the turn's calls (a turn with tool rounds makes several); per session the
cost model keeps the totals. State is plain data (:meth:`SessionCost.to_dict`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.engine import ConfigError
from simulator.memory.cost import Block, CallCost, CostModel, CostTotals
from simulator.memory.pages import PageKind
from simulator.memory.pricing import PricingProfile, shipped_profile
from simulator.memory.session_memory import ContextPage, SessionMemory

__all__ = ["NOTES_BLOCK", "SessionCost", "TurnCost", "prompt_blocks"]

#: the id of the block that carries a call's manifest, warning and tool notes
NOTES_BLOCK = "prompt:notes"
#: cache breaks kept per turn (the rest are counted)
MAX_TURN_BREAKS = 8
#: what a turn reports (a session's totals also keep the storage price of explicit caches)
_TURN_FIELDS = ("calls", "prompt_tokens", "cache_read_tokens", "cache_write_tokens",
                "uncached_tokens", "output_tokens", "expired_tokens", "usd", "usd_no_cache",
                "cache_breaks", "at", "breaks")


def _notes_block(text: str, count: Callable[[str], int]) -> Block:
    digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    return Block(NOTES_BLOCK, count(text), digest, "updated")


def _page_block(page: ContextPage) -> Block:
    return Block(page.id, page.tokens, f"L{page.level}" if page.level else "",
                 "compressed" if page.level else "decompressed")


def prompt_blocks(context: Sequence[ContextPage], notes: str, count: Callable[[str], int], *,
                  packing: str = "kinds", asked: Sequence[str] = ()) -> list[Block]:
    """The blocks of one call, in the order :meth:`ChatSession.build_messages` sends them.

    ``kinds`` packing: system, summary, documents and tool pages (the system message), the
    notes (they end the system message), then the conversation. ``stable``: every page in
    context order, the notes just before the pages of the message being answered
    (``asked``), or last."""
    pages = [_page_block(p) for p in context]
    if not notes:
        return pages
    block = _notes_block(notes, count)
    if packing == "stable":
        held = set(asked)
        at = next((i for i, p in enumerate(context) if p.id in held), len(pages))
    else:
        at = sum(1 for p in context if p.kind != PageKind.MESSAGE)
    return [*pages[:at], block, *pages[at:]]


def why_removed(memory: SessionMemory, page_ids: Sequence[str]) -> dict[str, str]:
    """Why each of these pages left the prompt: ``compacted`` (a compaction evicted it; with a
    summarising preset, ``summarised``), ``replaced`` (an older summary a new one replaced),
    ``evicted`` (the policy made room for another page)."""
    reasons = {}
    for pid in page_ids:
        if pid == NOTES_BLOCK:
            continue
        record = memory.pages.get(pid)
        if record is None or memory.tier_of(pid) is None:
            reasons[pid] = "replaced" if pid.startswith(f"{PageKind.SUMMARY.value}:") \
                else "removed"
        elif pid in memory.compacted:
            summarised = memory.preset.summarize and record.kind == PageKind.MESSAGE
            reasons[pid] = "summarised" if summarised else "compacted"
        else:
            reasons[pid] = "evicted"
    return reasons


@dataclass
class TurnCost(CostTotals):
    """The model calls of one turn, summed as a session's totals are; ``breaks`` are their
    cache breaks (at most :data:`MAX_TURN_BREAKS`, ``cache_breaks`` counts them all)."""

    at: float = 0.0
    breaks: list[dict[str, Any]] = field(default_factory=list)

    def add(self, call: CallCost) -> None:
        if not self.calls:
            self.at = call.at
        super().add(call)
        if call.cache_break is not None and len(self.breaks) < MAX_TURN_BREAKS:
            self.breaks.append(call.cache_break.to_dict() | {"call": call.index})

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _TURN_FIELDS}


class SessionCost:
    """The cost model of one session, fed by :class:`~simulator.llm.session.ChatSession`."""

    def __init__(self, profile: PricingProfile, *, ttl: str | None = None,
                 think_time: float = 30.0, use_explicit_cache: bool = False) -> None:
        self.model = CostModel(profile, ttl=ttl, think_time=think_time,
                               use_explicit_cache=use_explicit_cache)
        self.turn = TurnCost()

    @property
    def profile(self) -> PricingProfile:
        return self.model.profile

    def start_turn(self) -> None:
        self.turn = TurnCost()

    def bill(self, memory: SessionMemory, context: Sequence[ContextPage], notes: str,
             count: Callable[[str], int], *, output_tokens: int, at: float | None) -> CallCost:
        """Bill one model call whose prompt was packed from ``context`` and ``notes``."""
        blocks = prompt_blocks(context, notes, count, packing=memory.preset.packing,
                               asked=memory.held)
        here = {b.id for b in blocks}
        gone = [b.id for b in self.model.last_prompt if b.id not in here]
        call = self.model.call(blocks, output_tokens=output_tokens, at=at,
                               breakpoints=self._breakpoints(blocks),
                               removed=why_removed(memory, gone))
        self.turn.add(call)
        return call

    def _breakpoints(self, blocks: Sequence[Block]) -> list[int] | None:
        """Where a breakpoints cache (Anthropic) is asked to cache: after the system pages,
        before the notes and at the end — what a client that knows its prompt's shape marks
        (docs/cost.md §5). Other caches take none."""
        if self.model.rules.mode != "breakpoints" or not blocks:
            return None
        last = len(blocks) - 1
        system = [i for i, b in enumerate(blocks) if b.id.startswith("system:")]
        notes = [i - 1 for i, b in enumerate(blocks) if b.id == NOTES_BLOCK and i > 0]
        marks = sorted({*system[-1:], *notes, last})
        return marks[-(self.model.rules.max_breakpoints or 1):]

    def next_time(self, at: float | None, seconds: float) -> float | None:
        """The time of the next call of the same turn: the previous call's plus the model's
        seconds (None when the caller gives no times: the think time applies)."""
        if at is None and self.model.now is None:
            return None
        return (self.model.now if self.model.now is not None else at) + max(0.0, seconds)

    def totals(self) -> dict[str, Any]:
        """The session's totals with the profile's name: ``usd``, ``cache_read_tokens``,
        ``cache_write_tokens``, ``uncached_tokens``, ``output_tokens``, ``cache_breaks``…"""
        data = self.model.totals.to_dict()
        data.update(pricing=self.profile.name, provider=self.profile.provider,
                    model=self.profile.model, cache_mode=self.model.rules.mode,
                    ttl=self.model.ttl.name if self.model.ttl else None,
                    think_time=self.model.think_time)
        return data

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "profile_path": self.profile.path}

    @classmethod
    def from_dict(cls, data: dict[str, Any],
                  profiles: Callable[[str], PricingProfile] | None = None) -> SessionCost:
        """Restore; ``profiles`` finds a profile by name (the shipped ones by default)."""
        state = data.get("model") or {}
        name = state.get("profile")
        if not isinstance(name, str):
            raise ConfigError("the saved cost state names no pricing profile", field="pricing")
        profile = (profiles or shipped_profile)(name)
        cost = cls.__new__(cls)
        cost.model = CostModel.from_dict(state, profile)
        cost.turn = TurnCost()
        return cost
