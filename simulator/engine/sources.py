"""Where accesses come from: a trace file or a workload generator, openable more than once.

A run, OPT's look at the future and a comparison of several policies each need their own pass
over the same accesses; a source gives a fresh stream every time without keeping the trace in
memory.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .access import Access, PageReads, reads
from .errors import ConfigError
from .simulation import split_pages
from .traces import CsvLayout, detect_format, next_use_indices, open_trace, open_trace_future
from .workloads import Workload, round_robin_sessions


class Source(Protocol):
    label: str

    def open(self) -> Iterator[Access]: ...

    @property
    def finite(self) -> bool: ...

    @property
    def length(self) -> int | None: ...


@dataclass
class TraceSource:
    """A trace file in any of the engine's formats (gzip and Zstandard read transparently);
    with ``bytes_per_token`` its size column is in bytes, with ``csv_layout`` it is a CSV of
    any shape (``open_trace``'s options)."""

    path: Path
    fmt: str | None = None
    unit_pages: bool = False
    bytes_per_token: int | None = None
    csv_layout: CsvLayout | None = None
    _length: int | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return self.path.name

    def open(self) -> Iterator[Access]:
        if not self.path.exists():
            raise ConfigError(f"no such trace file: {self.path}", field="trace")
        return open_trace(self.path, self.fmt, unit_pages=self.unit_pages,
                          bytes_per_token=self.bytes_per_token, csv_layout=self.csv_layout)

    @property
    def knows_its_future(self) -> bool:
        """Whether the file carries OPT's future (oracleGeneral's next-access fields)."""
        return self.path.exists() and (self.fmt or detect_format(self.path)) == "oracle"

    @property
    def finite(self) -> bool:
        return True

    @property
    def length(self) -> int | None:
        return self._length

    def count(self) -> int:
        """Count the accesses (one streaming pass); remembered for progress figures."""
        if self._length is None:
            stream = self.open()
            ids = stream.page_ids() if isinstance(stream, PageReads) else stream
            self._length = sum(1 for _ in ids)
        return self._length


@dataclass
class WorkloadSource:
    """A seeded generator; finite when its ``n`` (or its phases) say so."""

    workload: Workload

    @property
    def label(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.workload.params.items() if k != "phases")
        return f"{self.workload.name}({params})"

    def open(self) -> Iterator[Access]:
        return self.workload.build()

    @property
    def finite(self) -> bool:
        return self.workload.length is not None

    @property
    def length(self) -> int | None:
        return self.workload.length


def future_of(source: Source, page_size: int | None = None) -> array:
    """For OPT: the index of the next access of the same page, for every access of the
    stream the simulation will see (pages cut to ``page_size`` like the run cuts them)."""
    if not source.finite:
        raise ConfigError(
            "OPT (Belady) needs the whole future: give the workload a length (n)", field="policy"
        )
    if page_size is None and isinstance(source, TraceSource) and source.knows_its_future:
        return open_trace_future(source.path)
    stream = source.open()
    if page_size is not None:
        stream = split_pages(stream, page_size)
    return next_use_indices(acc[1] for acc in stream)


def describe(source: Source) -> dict[str, Any]:
    return {"label": source.label, "finite": source.finite, "length": source.length}


@dataclass
class SequenceSource:
    """A literal list of page ids, read in order. Every access is a read of ``tokens`` tokens,
    or, for a ``(min, max)`` range, of a size drawn once per page id (seeded by the id, so a
    page keeps its size and the same list always gives the same accesses)."""

    pages: list[int | str]
    tokens: int | tuple[int, int] = 1

    @property
    def label(self) -> str:
        shown = ",".join(str(p) for p in self.pages[:12])
        return f"sequence({shown}{'…' if len(self.pages) > 12 else ''})"

    def open(self) -> Iterator[Access]:
        if isinstance(self.tokens, int):
            return reads(self.pages, self.tokens)
        return self._sized()

    def _sized(self) -> Iterator[Access]:
        low, high = self.tokens
        sizes: dict[int | str, int] = {}  # one entry per distinct id of a bounded list
        for i, page in enumerate(self.pages):
            size = sizes.get(page)
            if size is None:
                size = sizes[page] = random.Random(f"vmem-tokens/{page!r}").randint(low, high)
            yield Access(float(i), page, size)

    @property
    def finite(self) -> bool:
        return True

    @property
    def length(self) -> int:
        return len(self.pages)


@dataclass
class SessionSource:
    """Another source's accesses labelled round-robin as ``n_sessions`` sessions."""

    inner: Source
    n_sessions: int

    @property
    def label(self) -> str:
        return f"{self.inner.label} x {self.n_sessions} sessions"

    def open(self) -> Iterator[Access]:
        return round_robin_sessions(self.inner.open(), self.n_sessions)

    @property
    def finite(self) -> bool:
        return self.inner.finite

    @property
    def length(self) -> int | None:
        return self.inner.length
