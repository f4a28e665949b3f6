"""Pages of an LLM session: kinds, importance, ids, and cutting text into pages.

Pure Python, no tokenizer of its own: whoever cuts text passes a ``count(text) -> int`` (the
session layer uses tiktoken or the model's own tokenizer). Page ids carry their kind as a prefix
(``message:t003-user#1``), so a recorded trace still says what each page was when it is replayed
under another policy (the importance policy reads the prefix).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_IMPORTANCE",
    "KIND_WEIGHT",
    "PageKind",
    "PageRecord",
    "kind_of",
    "page_id",
    "split_sentences",
    "split_text",
]


class PageKind(StrEnum):
    SYSTEM = "system"
    MESSAGE = "message"
    SUMMARY = "summary"
    DOCUMENT = "document"
    TOOL = "tool"


#: how much each kind is worth keeping in context, 0..1 (used by the importance policy)
KIND_WEIGHT: dict[str, float] = {
    PageKind.SYSTEM: 1.0,
    PageKind.SUMMARY: 0.8,
    PageKind.DOCUMENT: 0.5,
    PageKind.MESSAGE: 0.4,
    PageKind.TOOL: 0.2,
}
#: importance a page gets when nobody says otherwise
DEFAULT_IMPORTANCE = 0.5

_KINDS = {k.value for k in PageKind}


def page_id(kind: str, name: str, chunk: int | None = None) -> str:
    """``kind:name`` or ``kind:name#chunk``."""
    base = f"{PageKind(kind).value}:{name}"
    return base if chunk is None else f"{base}#{chunk}"


def kind_of(key: Any) -> str:
    """The kind named by a page id's prefix (``message`` for ids without a known prefix)."""
    if isinstance(key, str):
        head, sep, _ = key.partition(":")
        if sep and head in _KINDS:
            return head
    return PageKind.MESSAGE.value


@dataclass
class PageRecord:
    """What a session knows about one page (the engine's tiers only know id and size).

    ``tokens`` is the size of the full text (plus the per-page prompt overhead the session adds);
    ``compressed`` caches shorter versions by level (1 reduced, 2 abstract, 3 reference).
    """

    id: str
    kind: str
    text: str
    tokens: int
    turn: int = 0
    role: str = ""
    message: str = ""  # the message/document id the page was cut from
    chunk: int = 0
    importance: float = DEFAULT_IMPORTANCE
    labels: list[str] = field(default_factory=list)
    compressed: dict[int, str] = field(default_factory=dict)
    dropped: dict[int, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["compressed"] = {str(k): v for k, v in self.compressed.items()}
        data["dropped"] = {str(k): v for k, v in self.dropped.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageRecord:
        data = dict(data)
        data["compressed"] = {int(k): v for k, v in data.get("compressed", {}).items()}
        data["dropped"] = {int(k): list(v) for k, v in data.get("dropped", {}).items()}
        return cls(**data)

    def hint(self, words: int = 12) -> str:
        """A one-line hint for the manifest: the first words of the text."""
        parts = self.text.split()
        line = " ".join(parts[:words])
        return line + (" …" if len(parts) > words else "")


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after . ! ? and at blank lines), stripped."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def split_text(text: str, page_size: int, count: Callable[[str], int]) -> list[str]:
    """Cut ``text`` into pieces of at most ``page_size`` tokens (as ``count`` measures them).

    Pieces end at sentence boundaries when they can, else between words; a single word longer
    than a page is cut by characters. Joining the pieces with spaces gives the text back up to
    whitespace. An empty text gives one empty piece.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if count(text) <= page_size:
        return [text]
    units: list[str] = []
    for sentence in (s for s in _SENTENCE.split(text) if s and s.strip()):
        if count(sentence) <= page_size:
            units.append(sentence.strip())
            continue
        for word in sentence.split():
            if count(word) <= page_size:
                units.append(word)
                continue
            # a "word" longer than a page: cut it by characters
            piece = ""
            for char in word:
                if piece and count(piece + char) > page_size:
                    units.append(piece)
                    piece = ""
                piece += char
            if piece:
                units.append(piece)
    pages: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}" if current else unit
        if current and count(candidate) > page_size:
            pages.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pages.append(current)
    return pages or [""]
