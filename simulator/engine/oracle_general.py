"""libCacheSim's ``oracleGeneral`` binary trace format (docs/traces.md, "Formats").

The format of the public Twitter, Meta, CloudPhysics and MSR collections that libCacheSim
distributes: a file of little-endian, packed 24-byte records, one per request, with no header:

=========  ======  =====================================================================
bytes      type    field
=========  ======  =====================================================================
0-3        u32     timestamp (the trace's clock, usually seconds)
4-11       u64     object id
12-15      u32     object size (bytes, in the public traces)
16-23      i64     next access: the 1-based position of the next request to the same
                   object, or -1 if there is none (libCacheSim counts requests from 1)
=========  ======  =====================================================================

The last field is the future that OPT (Belady) needs, so a replay of such a trace need not
compute it (:func:`oracle_future`); it is checked against the trace itself before it is
trusted. Records are read in blocks, so memory does not grow with the file.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from typing import IO

from .access import Access, Op
from .errors import TraceError

__all__ = ["NEVER_NEXT", "RECORD", "FutureCheck", "oracle_future", "read_oracle"]

#: one record: u32 timestamp, u64 object id, u32 size, i64 next access (little-endian, packed)
RECORD = struct.Struct("<IQIq")
#: the next-access value of an object's last request
NEVER_NEXT = -1
#: records decoded per read
_BLOCK_RECORDS = 4096
_READ = Op.READ
_new = tuple.__new__


def _records(stream: IO[bytes], source: str | None) -> Iterator[tuple[int, tuple]]:
    """(1-based record number, (time, id, size, next)) for every record of ``stream``; a
    file that is not a whole number of records is an error naming the cut record."""
    size = RECORD.size
    block = size * _BLOCK_RECORDS
    number = 0
    pending = b""
    while True:
        data = stream.read(block - len(pending))
        if not data:
            break
        pending += data
        whole = len(pending) - len(pending) % size
        if whole < size:
            continue
        for record in RECORD.iter_unpack(pending[:whole] if whole != len(pending)
                                         else pending):
            number += 1
            yield number, record
        pending = pending[whole:]
    if pending:
        raise TraceError(
            f"record {number + 1:,} is cut short: {len(pending)} of {size} bytes (an "
            f"oracleGeneral file is a whole number of {size}-byte records; is it truncated, "
            f"or another format?)", source=source)
    if number == 0:
        raise TraceError("empty trace: no records", source=source)


class FutureCheck:
    """Checks, request by request, that each record's next-access field says where the
    object is requested next: when an object comes back at position ``i``, its previous
    record must have said ``i``; one whose previous record said -1 (never) must not come back;
    at the end, no record may point past the trace. Memory: one entry per object awaited."""

    def __init__(self, source: str | None) -> None:
        self._source = source
        self._awaited: dict[int, tuple[int, int]] = {}  # id -> (promised position, record)

    def see(self, number: int, obj: int, following: int) -> None:
        promised = self._awaited.get(obj)
        if promised is not None and promised[0] != number:
            said = "never again" if promised[0] == NEVER_NEXT else f"at {promised[0]:,}"
            raise TraceError(
                f"record {promised[1]:,} says object {obj} is requested {said}, but record "
                f"{number:,} requests it", source=self._source, field="next_access")
        if following != NEVER_NEXT and following <= number:
            raise TraceError(
                f"record {number:,}: the next access must be a later position or -1, got "
                f"{following:,}", source=self._source, field="next_access")
        self._awaited[obj] = (following, number)

    def finish(self, total: int) -> None:
        for obj, (promised, number) in self._awaited.items():
            if promised != NEVER_NEXT:
                raise TraceError(
                    f"record {number:,} says object {obj} is requested again at {promised:,}, "
                    f"but the trace ends at record {total:,}", source=self._source,
                    field="next_access")


def read_oracle(
    stream: IO[bytes], *, source: str | None = None, unit_pages: bool = False,
    max_tokens: int = 10**12, check_future: bool = False,
) -> Iterator[Access]:
    """The accesses of an oracleGeneral stream (already decompressed): time = the timestamp,
    page id = the object id, tokens = the size (1 with ``unit_pages``), op read.

    A size of 0 or above ``max_tokens`` is an error naming the record (unless ``unit_pages``
    ignores sizes). ``check_future`` also checks the next-access fields (:class:`FutureCheck`).
    Raises :class:`TraceError` lazily, while iterating.
    """
    check = FutureCheck(source) if check_future else None
    number = 0
    for number, (time, obj, size, following) in _records(stream, source):
        if unit_pages:
            size = 1
        elif not 1 <= size <= max_tokens:
            raise TraceError(
                f"record {number:,}: expected a size from 1 to {max_tokens:,}, got {size} "
                f"(choose to ignore sizes to replay zero-size requests as one token each)",
                source=source, field="size")
        if check is not None:
            check.see(number, obj, following)
        yield _new(Access, (float(time), obj, size, _READ, "", 0))
    if check is not None:
        check.finish(number)


def oracle_future(stream: IO[bytes], *, source: str | None = None) -> array:
    """OPT's future read from the file: for each request (0-based), the 0-based index of the
    next request to the same object, else ``sys.maxsize`` (as
    :func:`~simulator.engine.traces.next_use_indices` gives it). The fields are checked
    (:class:`FutureCheck`) as they are read: a wrong one is an error, never a wrong OPT."""
    never = sys.maxsize
    result = array("q")
    check = FutureCheck(source)
    number = 0
    for number, (_time, obj, _size, following) in _records(stream, source):
        check.see(number, obj, following)
        result.append(never if following == NEVER_NEXT else following - 1)
    check.finish(number)
    return result
