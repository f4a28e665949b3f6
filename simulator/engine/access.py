"""One access to one page: the unit every workload, trace and session produces."""

from __future__ import annotations

from enum import StrEnum
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
