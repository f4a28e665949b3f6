"""One access to one page: the unit every workload, trace and session produces."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from enum import StrEnum
from functools import partial
from itertools import count, repeat
from typing import NamedTuple


class Op(StrEnum):
    READ = "read"
    WRITE = "write"
    PIN = "pin"
    UNPIN = "unpin"


class Access(NamedTuple):
    """An access. ``tokens`` is the page's size in tokens (1 in classic mode).

    A NamedTuple rather than a dataclass: millions of these stream through the engine and tuple
    creation and attribute access are the cheapest Python offers.
    """

    time: float
    page_id: str | int
    tokens: int = 1
    op: Op = Op.READ
    session: str = ""
    turn: int = 0


_make_access = partial(tuple.__new__, Access)


def reads(pages: Iterable[Hashable], tokens: int | Iterable[int] = 1, start: int = 0
          ) -> Iterator[Access]:
    """Reads of ``pages`` in turn, of ``tokens`` each (one number, or one per page), at times
    ``start``, ``start + 1``, …; made by C code alone, with no Python frame per access (the
    plain trace reader and miniature simulations feed the engine millions of them). With one
    number of tokens the stream is a :class:`PageReads`, whose ids the engine can take bare."""
    if isinstance(tokens, int):
        return PageReads(pages, tokens, start)
    return map(_make_access, zip(map(float, count(start)), pages, tokens, repeat(Op.READ),
                                 repeat(""), repeat(0)))


class PageReads(map):
    """Reads of pages given by their ids alone, ``tokens`` tokens each, at times ``start``,
    ``start + 1``, …: an iterator of :class:`Access` like any stream (made by C code, no
    Python frame per access), whose ids can also be taken bare with :meth:`page_ids` by a
    consumer that needs nothing else. Both views draw on the same ids: what one takes, the
    other does not see.

    Why: making an ``Access`` costs more than the engine's whole hit (bench/README.md,
    "Reads as bare page ids"); the classic loop and the miss-ratio passes read the ids alone.
    A subclass of ``map`` so that taking an ``Access`` stays C code.
    """

    __slots__ = ("_pages", "tokens")

    def __new__(cls, pages: Iterable[Hashable], tokens: int = 1, start: int = 0
                ) -> PageReads:
        ids = iter(pages)
        stream = super().__new__(cls, _make_access, zip(
            map(float, count(start)), ids, repeat(tokens), repeat(Op.READ), repeat(""),
            repeat(0)))
        stream._pages = ids
        stream.tokens = tokens
        return stream

    def page_ids(self) -> Iterator[Hashable]:
        """The ids of the reads not taken yet (taking them consumes this stream too)."""
        return self._pages
