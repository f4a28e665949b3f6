"""Compression on demotion: a demoted page may be kept as a shorter version.

Levels (as in chuk-ai-session-manager's AI virtual memory):

====== ============ ==========================================================
level  name         what is kept
====== ============ ==========================================================
0      full         the page as written
1      reduced      the most salient sentences (default ratio 0.5)
2      abstract     key points only (default ratio 0.25)
3      reference    a reference: the page id and a few topic terms (0.05)
====== ============ ==========================================================

:class:`CompressionModel` is the size side, a :class:`simulator.engine.hooks.SizeHook` that the
:class:`~simulator.engine.Simulation` calls (its ``compression=`` argument): a page
demoted into tier *k* is stored at ``max(its level, level_by_tier[k])``, its stored size is
``max(1, ceil(full x ratio[level]))``, and a fault brings the stored (lower-fidelity) version back
into L0 — unless ``full_copy`` is set, in which case a full copy is kept in the last tier
(MemGPT's recall storage keeps every message in full), the fault is served from there at that
tier's latency and the page comes back at level 0. A write makes a page full again.

:class:`ExtractiveCompressor` is the text side: it makes the shorter version of a text for a
level within a token target, and says which sentences it dropped. The session layer can plug
in another compressor (e.g. the LLM itself) with the same ``compress`` signature.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from simulator.engine import ConfigError
from simulator.engine.hooks import SizeHook

from .bm25 import terms
from .pages import split_sentences

__all__ = [
    "DEFAULT_RATIOS",
    "LEVEL_NAMES",
    "Compressed",
    "CompressionModel",
    "CompressionSettings",
    "Compressor",
    "ExtractiveCompressor",
    "fit_tokens",
]

LEVEL_NAMES = ("full", "reduced", "abstract", "reference")
DEFAULT_RATIOS = (1.0, 0.5, 0.25, 0.05)


@dataclass
class CompressionSettings:
    """Plain data: ``ratios[level]`` (level 0 must be 1.0), the level a page gets when it lands
    in each tier (by tier index; missing tiers: 0), and whether a full copy is kept below."""

    ratios: Sequence[float] = DEFAULT_RATIOS
    level_by_tier: dict[int, int] = field(default_factory=dict)
    full_copy: bool = False

    def validate(self) -> CompressionSettings:
        ratios = list(self.ratios)
        if len(ratios) != 4 or ratios[0] != 1.0:
            raise ConfigError("four ratios, the first 1.0 (full)", field="compression.ratios")
        if any(not (0 < r <= 1) for r in ratios) or ratios != sorted(ratios, reverse=True):
            raise ConfigError("ratios must be in (0, 1] and not increase with the level",
                              field="compression.ratios")
        self.ratios = tuple(float(r) for r in ratios)
        clean: dict[int, int] = {}
        for tier, level in dict(self.level_by_tier).items():
            if int(level) not in range(4) or int(tier) < 0:
                raise ConfigError(f"tier {tier}: level must be 0-3, got {level!r}",
                                  field="compression.level_by_tier")
            clean[int(tier)] = int(level)
        self.level_by_tier = clean
        return self

    @property
    def active(self) -> bool:
        return any(self.level_by_tier.values())

    def to_dict(self) -> dict[str, Any]:
        return {"ratios": list(self.ratios),
                "level_by_tier": {str(k): v for k, v in self.level_by_tier.items()},
                "full_copy": self.full_copy}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompressionSettings:
        return cls(ratios=tuple(data.get("ratios", DEFAULT_RATIOS)),
                   level_by_tier={int(k): int(v)
                                  for k, v in data.get("level_by_tier", {}).items()},
                   full_copy=bool(data.get("full_copy", False))).validate()


class CompressionModel(SizeHook):
    """Per-page compression levels and stored sizes, driven by the simulation's demotions and
    faults (see the module docstring)."""

    def __init__(self, settings: CompressionSettings) -> None:
        self.settings = settings.validate()
        self.levels: dict[Hashable, int] = {}
        self.full: dict[Hashable, int] = {}
        self.compressions = 0  # demotions that lowered a page's fidelity
        self.tokens_saved = 0  # full - stored, summed over those demotions
        self.full_fetches = 0  # faults served from the full copy

    def level(self, page_id: Hashable) -> int:
        return self.levels.get(page_id, 0)

    def stored_size(self, full: int, level: int) -> int:
        return max(1, math.ceil(full * self.settings.ratios[level]))

    def on_demote(self, page_id: Hashable, size: int, dst: int) -> int:
        """A page of ``size`` tokens moves into tier ``dst``; returns its stored size there."""
        current = self.levels.get(page_id, 0)
        if current == 0:
            self.full[page_id] = size
        level = max(current, self.settings.level_by_tier.get(dst, 0))
        if level == current:
            return size
        full = self.full[page_id]
        stored = self.stored_size(full, level)
        self.levels[page_id] = level
        self.compressions += 1
        self.tokens_saved += size - stored
        return stored

    def on_fault(self, page_id: Hashable, size: int, src: int, last: int) -> tuple[int, int]:
        """A fault on ``page_id`` served by tier ``src``: returns (size brought into L0, tier
        whose latency it costs)."""
        level = self.levels.get(page_id, 0)
        if level == 0:
            return size, src
        if self.settings.full_copy:
            del self.levels[page_id]
            self.full_fetches += 1
            return self.full.get(page_id, size), last
        return self.stored_size(self.full.get(page_id, size), level), src

    def on_write(self, page_id: Hashable) -> None:
        self.levels.pop(page_id, None)
        self.full.pop(page_id, None)

    def forget(self, page_id: Hashable) -> None:
        self.on_write(page_id)


@dataclass
class Compressed:
    text: str
    dropped: list[str]


class Compressor(Protocol):
    """Makes the level-``level`` version of ``text`` in at most ``target`` tokens."""

    name: str

    def compress(self, text: str, level: int, target: int, *, page_id: str = "",
                 count: Callable[[str], int]) -> Compressed: ...


class ExtractiveCompressor:
    """Extractive compression, no model: sentences are scored by the summed frequency of their
    terms in the page (normalised by length, a Luhn-style salience) and the best are kept, in
    their original order, within the token target. Level 2 keeps at most three sentences;
    level 3 is ``[ref <page id>: term, term, …]`` with the most frequent terms. The result
    never exceeds ``target`` tokens (words are cut off at the end when needed)."""

    name = "extractive"

    def compress(self, text: str, level: int, target: int, *, page_id: str = "",
                 count: Callable[[str], int]) -> Compressed:
        if level <= 0:
            return Compressed(text, [])
        freq = Counter(terms(text))
        if level >= 3:
            top = [t for t, _ in freq.most_common(6)]
            ref = f"[ref {page_id}: {', '.join(top)}]" if page_id else f"[ref: {', '.join(top)}]"
            return Compressed(fit_tokens(ref, target, count), [text])
        sentences = split_sentences(text)

        def salience(sentence: str) -> float:
            ts = terms(sentence)
            return sum(freq[t] for t in ts) / (len(ts) + 2) if ts else 0.0

        order = sorted(range(len(sentences)), key=lambda k: (-salience(sentences[k]), k))
        limit = 3 if level == 2 else len(sentences)
        keep: list[int] = []
        used = 0
        for k in order:
            if len(keep) >= limit:
                break
            size = count(sentences[k])
            if used + size <= target:
                keep.append(k)
                used += size
        if not keep and order:
            keep = [order[0]]
        keep.sort()
        kept = " ".join(sentences[k] for k in keep)
        dropped = [sentences[k] for k in range(len(sentences)) if k not in keep]
        return Compressed(fit_tokens(kept, target, count), dropped)


def fit_tokens(text: str, target: int, count: Callable[[str], int]) -> str:
    """``text`` cut at a word boundary so that it has at most ``target`` tokens."""
    if count(text) <= target:
        return text
    words = text.split()
    low, high = 0, len(words)
    while low < high:  # the longest prefix of words that fits
        mid = (low + high + 1) // 2
        if count(" ".join(words[:mid]) + " …") <= target:
            low = mid
        else:
            high = mid - 1
    return (" ".join(words[:low]) + " …") if low else ""
