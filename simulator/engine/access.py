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
    plain trace reader and miniature simulations feed the engine millions of them)."""
    sizes = repeat(tokens) if isinstance(tokens, int) else tokens
    return map(_make_access, zip(map(float, count(start)), pages, sizes, repeat(Op.READ),
                                 repeat(""), repeat(0)))
