"""Writes of the trace library (HackSoft style: services write, selectors read).

An upload is **streamed**: the bytes as sent are copied to a temporary file under
``DATA_DIR/traces/`` while the same bytes, decompressed when they start with gzip's or
Zstandard's magic, are read line by line (record by record for libCacheSim's binary
oracleGeneral) through the engine's :func:`~simulator.engine.traces.read_binary`, and
:func:`~simulator.engine.traces.trace_stats` is computed in that one pass. Only when the whole
trace has been read without error is the temporary file renamed into place and the database
row created (in a transaction). On any error nothing is left: no row, no file, and a
:class:`TraceRejected` whose message names the line and the field, e.g.
``line 17, field 'tokens': expected a positive integer, got '-3'``.

The validation is bounded (:class:`UploadLimits`, docs/traces.md "Limits"): bytes as sent
and decompressed, the gzip expansion ratio, accesses, distinct pages (which bound the memory
of the statistics), wall-clock seconds, and how many uploads are validated at once in a
process. It stops as soon as the client has gone (``stop``, set by
:class:`~vmemsite.traces.disconnect.ClientGoneApp`). Temporary files that a killed
process left behind are removed by age when the next upload starts.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from simulator.engine.access import Access
from simulator.engine.errors import ConfigError, TraceError
from simulator.engine.traces import (
    FORMAT_ALIASES,
    FORMATS,
    MAX_TOKENS,
    READ_ERRORS,
    CsvLayout,
    TraceTooLarge,
    ZstdStream,
    read_accesses,
    read_binary,
    read_failure,
    sniff_format,
    tokens_from_bytes,
    trace_stats,
)
from vmemsite.text import has_control_characters

from .analyses import trace_analysis_request
from .models import SIZE_UNITS, Trace

logger = logging.getLogger(__name__)

#: the folder of the library under ``settings.DATA_DIR``
TRACES_DIR = "traces"
#: the longest line accepted (a file without line breaks is not a trace)
MAX_LINE_BYTES = 64 * 1024
#: the longest trace name
MAX_NAME_CHARS = 200
#: the largest number a total may reach (the database's BIGINT)
MAX_TOTAL = 2**63 - 1
#: temporary files of uploads in progress: ``.upload-<random>.part``
PART_PREFIX, PART_SUFFIX = ".upload-", ".part"

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: the suffix of a stored file, by its compression
_COMPRESSION_SUFFIX = {None: "", "gzip": ".gz", "zstd": ".zst"}
#: the bytes of binary records between two checks (1,024 oracleGeneral records)
_CHECK_BYTES = 24 * 1024
_CHUNK = 64 * 1024
#: how often (in lines) the pass looks at the clock, the client and the gzip ratio
_CHECK_EVERY = 1024


class TraceRejected(Exception):
    """An upload that was not stored. ``message`` is meant for a person; ``line`` (1-based)
    and ``field`` locate the problem when there is one; ``status`` is the HTTP status that
    says why: 400 bad content or option, 413 past a size or work limit, 429 too many uploads
    being validated (retry after ``retry_after`` seconds), 499 the client left."""

    def __init__(
        self, message: str, *, line: int | None = None, field: str | None = None,
        too_large: bool = False, status: int | None = None, retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field
        self.status = status or (413 if too_large else 400)
        self.retry_after = retry_after

    @property
    def too_large(self) -> bool:
        return self.status == 413


class _TooLarge(Exception):
    """Raised from inside the streaming pass when the size limit is crossed."""


def human_bytes(count: int) -> str:
    """``200 MB``, ``1.5 kB``, ``512 bytes`` (decimal units, as file managers show them)."""
    if count < 1000:
        return f"{count} byte{'s' if count != 1 else ''}"
    value = float(count)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class UploadLimits:
    """What one upload's validation may cost, from the settings of the same names
    (``VMEM_MAX_TRACE_BYTES`` ...; defaults here). See docs/traces.md "Limits"."""

    #: the file as sent, and its decompressed text
    bytes: int = 200 * 1000 * 1000
    #: decompressed text / gzip bytes, checked once the text passes ``gzip_floor``
    gzip_ratio: int = 100
    #: below this much text the ratio is not checked (small, very repetitive traces
    #: compress far better than 100:1 and cost nothing)
    gzip_floor: int = 10 * 1000 * 1000
    #: accesses in the trace (the work of the pass)
    accesses: int = 5_000_000
    #: distinct pages (the memory of the statistics: about 150 bytes each)
    pages: int = 1_000_000
    #: wall-clock seconds of the validation pass
    seconds: float = 120.0
    #: validations running at once in one process (they share its CPU)
    at_once: int = 2
    #: seconds an upload waits for its turn before a 429
    queue_seconds: float = 30.0

    @classmethod
    def from_settings(cls) -> UploadLimits:
        default = cls()
        return cls(
            bytes=int(getattr(settings, "VMEM_MAX_TRACE_BYTES", default.bytes)),
            gzip_ratio=int(getattr(settings, "VMEM_MAX_TRACE_GZIP_RATIO", default.gzip_ratio)),
            gzip_floor=int(getattr(settings, "VMEM_TRACE_GZIP_RATIO_FLOOR", default.gzip_floor)),
            accesses=int(getattr(settings, "VMEM_MAX_TRACE_ACCESSES", default.accesses)),
            pages=int(getattr(settings, "VMEM_MAX_TRACE_PAGES", default.pages)),
            seconds=float(getattr(settings, "VMEM_TRACE_VALIDATION_SECONDS", default.seconds)),
            at_once=max(1, int(getattr(settings, "VMEM_TRACE_VALIDATIONS_AT_ONCE",
                                       default.at_once))),
            queue_seconds=float(getattr(settings, "VMEM_TRACE_QUEUE_SECONDS",
                                        default.queue_seconds)),
        )

    @classmethod
    def for_import(cls) -> UploadLimits:
        """The bounds of a server-side import (``manage.py load_sample_traces --import``):
        for traces too large for a form, read from a file on the server by an operator. The
        same checks, larger bounds (settings ``VMEM_IMPORT_MAX_BYTES`` ..., docs/traces.md);
        memory stays bounded by the distinct pages."""
        upload = cls.from_settings()
        return cls(
            bytes=int(getattr(settings, "VMEM_IMPORT_MAX_BYTES", 50 * 1000**3)),
            gzip_ratio=upload.gzip_ratio,
            gzip_floor=upload.gzip_floor,
            accesses=int(getattr(settings, "VMEM_IMPORT_MAX_ACCESSES", 1_000_000_000)),
            pages=int(getattr(settings, "VMEM_IMPORT_MAX_PAGES", 5_000_000)),
            seconds=float(getattr(settings, "VMEM_IMPORT_SECONDS", 6 * 3600)),
            at_once=1,
            queue_seconds=float(getattr(settings, "VMEM_IMPORT_SECONDS", 6 * 3600)),
        )

    @property
    def stale_part_seconds(self) -> float:
        """A temporary file older than this belongs to no running upload."""
        return max(15 * 60.0, 2 * (self.seconds + self.queue_seconds))


def traces_dir() -> Path:
    directory = Path(settings.DATA_DIR) / TRACES_DIR
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _too_large(limit: int) -> TraceRejected:
    return TraceRejected(
        f"the trace is larger than the limit of {human_bytes(limit)} ({limit:,} bytes); "
        f"split it, or sample it, and upload the parts",
        too_large=True,
    )


class _Tee(io.RawIOBase):
    """Reads ``source``, copies every byte to ``sink`` and counts them, up to ``limit``."""

    def __init__(self, source: IO[bytes], sink: IO[bytes], limit: int) -> None:
        super().__init__()
        self._source = source
        self._sink = sink
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._source.read(min(len(buffer), _CHUNK))
        if not data:
            return 0
        size = len(data)
        self.count += size
        if self.count > self._limit:
            raise _TooLarge
        self._sink.write(data)
        buffer[:size] = data
        return size


@dataclass
class _Pass:
    """What the line reader learns while the engine reads: the decompressed size, the lines
    read and the first line with content (the engine sniffs the format from that same line)."""

    text_bytes: int = 0
    lines: int = 0
    first_content: str | None = None
    #: what ``lines`` counts: lines of text, or the records of a binary format
    unit: str = "line"


class _Guard:
    """The checks made every ``_CHECK_EVERY`` lines: the client is still there, the deadline
    has not passed, the gzip data does not expand beyond the ratio limit."""

    def __init__(self, limits: UploadLimits, tee: _Tee, compression: str | None,
                 stop: threading.Event | None) -> None:
        self._limits = limits
        self._tee = tee
        self._compression = compression
        self._stop = stop
        self._deadline = time.monotonic() + limits.seconds

    def check(self, state: _Pass) -> None:
        if self._stop is not None and self._stop.is_set():
            raise TraceRejected("the client went away: the upload was dropped", status=499,
                                line=state.lines)
        if time.monotonic() > self._deadline:
            raise TraceRejected(
                f"validating the trace took more than {self._limits.seconds:g} s (stopped at "
                f"{state.unit} {state.lines:,}): split or sample it, or try again when the "
                f"server is less busy", too_large=True, line=state.lines)
        ratio = self._limits.gzip_ratio
        if (self._compression and state.text_bytes > self._limits.gzip_floor
                and state.text_bytes > ratio * self._tee.count):
            raise TraceRejected(
                f"the {self._compression} data expands more than {ratio} times "
                f"({human_bytes(self._tee.count)} became {human_bytes(state.text_bytes)} by "
                f"{state.unit} {state.lines:,}): upload it uncompressed, or compressed less "
                f"tightly", too_large=True, line=state.lines)


def _lines(stream: IO[bytes], limit: int, state: _Pass, guard: _Guard) -> Iterator[bytes]:
    while True:
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
        except READ_ERRORS as exc:  # corrupt or truncated compressed data
            raise read_failure(exc, state.lines) from None
        if not line:
            return
        state.lines += 1
        state.text_bytes += len(line)
        if state.text_bytes > limit:
            raise _TooLarge
        if len(line) > MAX_LINE_BYTES:
            raise TraceError(f"the line is longer than {human_bytes(MAX_LINE_BYTES)}: is this "
                             f"a trace file?", line=state.lines)
        if state.lines % _CHECK_EVERY == 0:
            guard.check(state)
        if state.first_content is None:
            with contextlib.suppress(UnicodeDecodeError):  # the engine reports it, with line
                text = line.decode("utf-8").lstrip("\ufeff").strip()
                if text and not text.startswith("#"):
                    state.first_content = text
        yield line


class _Records(io.RawIOBase):
    """The decompressed bytes of a binary trace on their way to the engine, counted against
    the size limit, with the guard's checks every :data:`_CHECK_BYTES` (``state.lines``
    counts whole records)."""

    def __init__(self, stream: IO[bytes], limit: int, state: _Pass, guard: _Guard) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._state = state
        self._guard = guard
        self._next_check = _CHECK_BYTES

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._stream.read(min(len(buffer), _CHUNK))
        except READ_ERRORS as exc:
            raise read_failure(exc, self._state.lines, unit="record") from None
        state = self._state
        state.text_bytes += len(data)
        state.lines = state.text_bytes // 24
        if state.text_bytes > self._limit:
            raise _TooLarge
        if state.text_bytes >= self._next_check:
            self._next_check = state.text_bytes + _CHECK_BYTES
            self._guard.check(state)
        buffer[:len(data)] = data
        return len(data)


def _clean_name(name: str, filename: str) -> str:
    name = " ".join((name or "").split())
    if not name and filename:
        base = Path(filename).name
        for suffix in (".gz", ".zst", ".bin", ".csv", ".tsv", ".jsonl", ".ndjson", ".txt",
                       ".trace", ".oraclegeneral"):
            if base.lower().endswith(suffix):
                base = base[: -len(suffix)]
        name = " ".join(base.split())
    if not name:
        raise TraceRejected("give the trace a name", field="name")
    if len(name) > MAX_NAME_CHARS:
        raise TraceRejected(f"the name is longer than {MAX_NAME_CHARS} characters", field="name")
    if has_control_characters(name):
        raise TraceRejected("the name has control characters (such as NUL): use printable "
                            "text", field="name")
    return name


def _clean_fmt(fmt: str | None) -> str | None:
    if fmt is None or not fmt.strip() or fmt.strip().lower() == "auto":
        return None
    value = fmt.strip().lower()
    if value not in FORMAT_ALIASES:
        raise TraceRejected(f"unknown format {value!r} (expected one of {', '.join(FORMATS)}, "
                            f"ndjson for jsonl, or leave it empty to detect it)",
                            field="format")
    return FORMAT_ALIASES[value]


def clean_csv_layout(columns: str | None, delimiter: str | None = None,
                     header: bool | None = None) -> CsvLayout | None:
    """The column layout of a CSV of another shape (:class:`~simulator.engine.traces.
    CsvLayout`), or None when ``columns`` is empty (the CSV has our header). A delimiter or a
    header choice without columns is refused rather than ignored."""
    text = (columns or "").strip()
    if not text:
        # the page always sends its delimiter choice: the default one means "not given"
        if (delimiter or "").strip().lower() not in ("", ",", "comma") or header is False:
            raise TraceRejected("a delimiter or a headerless file needs the columns too "
                                "(e.g. time=1,obj_id=2,size=3)", field="columns")
        return None
    if len(text) > 500:
        raise TraceRejected("the columns are longer than 500 characters", field="columns")
    try:
        return CsvLayout.build(text, delimiter if delimiter else ",",
                               header=True if header is None else header)
    except ConfigError as exc:
        raise TraceRejected(exc.message, field=exc.field) from None


@dataclass(frozen=True)
class SizeMeaning:
    """What a trace's size column (``tokens``, alias ``size``) holds: ``tokens``; ``bytes``,
    ``bytes_per_token`` of them making a token (rounded up per access); or ``ignore`` (every
    access is one token)."""

    unit: str = "tokens"
    bytes_per_token: int | None = None


def clean_size_meaning(unit: str | None, bytes_per_token: int | str | None) -> SizeMeaning:
    """Check the size options of an upload. ``unit`` defaults to ``bytes`` when
    ``bytes_per_token`` is given, else ``tokens``; ``bytes`` needs ``bytes_per_token``."""
    text = ("" if unit is None else str(unit)).strip().lower()
    per_token: int | None = None
    if bytes_per_token is not None and str(bytes_per_token).strip() != "":
        raw = str(bytes_per_token).strip()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:20]) <= MAX_TOKENS:
            raise TraceRejected(f"expected a whole number of bytes from 1 to {MAX_TOKENS:,}, "
                                f"got {raw[:40]!r}", field="bytes_per_token")
        per_token = int(raw)
    if not text:
        text = "bytes" if per_token is not None else "tokens"
    if text not in SIZE_UNITS:
        raise TraceRejected(f"unknown size unit {text[:40]!r} (expected one of "
                            f"{', '.join(SIZE_UNITS)})", field="size_unit")
    if text == "bytes" and per_token is None:
        raise TraceRejected("sizes in bytes need a number of bytes per token (e.g. 4 for "
                            "text, or a block's size to make each block one token)",
                            field="bytes_per_token")
    if text != "bytes" and per_token is not None:
        raise TraceRejected(f"bytes per token only apply to sizes in bytes, not {text}",
                            field="bytes_per_token")
    return SizeMeaning(text, per_token)


class _RawTotal:
    """Adds up the sizes as written in the file (bytes) on their way to the conversion."""

    def __init__(self) -> None:
        self.total = 0

    def tap(self, accesses: Iterable[Access]) -> Iterator[Access]:
        for access in accesses:
            self.total += access[2]
            yield access


_turns_lock = threading.Lock()
_turns: dict[int, threading.BoundedSemaphore] = {}


@contextlib.contextmanager
def _validation_turn(limits: UploadLimits, stop: threading.Event | None) -> Iterator[None]:
    """At most ``limits.at_once`` validations at once in this process (they share one CPU
    through the GIL, and the server's other work with them); the others wait their turn up
    to ``limits.queue_seconds``, then get a 429 that asks them to retry."""
    with _turns_lock:
        turns = _turns.setdefault(limits.at_once, threading.BoundedSemaphore(limits.at_once))
    give_up = time.monotonic() + limits.queue_seconds
    while not turns.acquire(timeout=0.2):
        if stop is not None and stop.is_set():
            raise TraceRejected("the client went away: the upload was dropped", status=499)
        if time.monotonic() >= give_up:
            retry = max(5, round(limits.seconds / 2))
            raise TraceRejected(
                f"the server is validating {limits.at_once} other upload"
                f"{'s' if limits.at_once > 1 else ''}; try again in {retry} s",
                status=429, retry_after=retry)
    try:
        yield
    finally:
        turns.release()


def sweep_stale_parts(limits: UploadLimits | None = None) -> int:
    """Remove the temporary files of uploads that can no longer be running (a killed server
    leaves them behind): ``.upload-*.part`` files older than ``limits.stale_part_seconds``.
    Returns how many went."""
    limits = limits or UploadLimits.from_settings()
    cutoff = time.time() - limits.stale_part_seconds
    removed = 0
    for path in traces_dir().glob(f"{PART_PREFIX}*{PART_SUFFIX}"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    if removed:
        logger.info("removed %s temporary upload file(s) left by an interrupted upload",
                    removed)
    return removed


def trace_upload(
    *,
    owner: AbstractBaseUser,
    stream: IO[bytes],
    name: str = "",
    filename: str = "",
    fmt: str | None = None,
    public: bool = False,
    size_hint: int | None = None,
    size_unit: str | None = None,
    bytes_per_token: int | str | None = None,
    csv_layout: CsvLayout | None = None,
    stop: threading.Event | None = None,
    limits: UploadLimits | None = None,
) -> Trace:
    """Validate and store a trace read from ``stream`` (any object with ``read(n)``: an
    uploaded file, the request itself, an open file), for ``owner``.

    ``fmt`` is ``plain``, ``csv``, ``jsonl`` (or ``ndjson``) or ``oracle`` (libCacheSim's
    oracleGeneral); empty or None detects it from the first bytes (binary: oracle) and the
    first line with content (:func:`~simulator.engine.traces.sniff_format`). ``csv_layout``
    reads a CSV of another shape (:func:`clean_csv_layout`); gzip and Zstandard are read
    transparently. ``name``
    defaults to the file's name without its extensions. ``size_unit`` and
    ``bytes_per_token`` say what the size column holds (:func:`clean_size_meaning`).
    ``size_hint`` (the announced size, if any) rejects an oversized upload before reading it;
    every limit of :class:`UploadLimits` is enforced while streaming anyway. ``stop``, once
    set (the client left), ends the work at the next check. ``limits`` defaults to an
    upload's (:meth:`UploadLimits.from_settings`). Raises :class:`TraceRejected`; on any
    error, nothing is stored.
    """
    name = _clean_name(name, filename)
    fmt = _clean_fmt(fmt)
    if csv_layout is not None:
        if fmt not in (None, "csv"):
            raise TraceRejected(f"columns describe a CSV, not {fmt}", field="columns")
        fmt = "csv"
    sizes = clean_size_meaning(size_unit, bytes_per_token)
    limits = limits or UploadLimits.from_settings()
    if size_hint is not None and size_hint > limits.bytes:
        raise _too_large(limits.bytes)
    sweep_stale_parts(limits)
    with _validation_turn(limits, stop):
        trace = _store(owner=owner, stream=stream, name=name, fmt=fmt, public=public,
                       sizes=sizes, layout=csv_layout, limits=limits, stop=stop)
    _start_analysis(trace)
    return trace


def _start_analysis(trace: Trace) -> None:
    """The trace's analysis: done now for a small trace, queued for a big one. The upload
    has succeeded whatever happens here (the page offers to start it again)."""
    try:
        trace_analysis_request(trace)
    except Exception:
        logger.exception("could not start the analysis of trace %s", trace.pk)


def _store(
    *, owner: AbstractBaseUser, stream: IO[bytes], name: str, fmt: str | None, public: bool,
    sizes: SizeMeaning, layout: CsvLayout | None, limits: UploadLimits,
    stop: threading.Event | None,
) -> Trace:
    directory = traces_dir()
    temp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in every path below
        dir=directory, prefix=PART_PREFIX, suffix=PART_SUFFIX, delete=False
    )
    temp_path = Path(temp.name)
    final_path: Path | None = None
    state = _Pass()
    try:
        try:
            tee = _Tee(stream, temp, limits.bytes)
            raw = io.BufferedReader(tee, buffer_size=_CHUNK)
            compression, data = _decompressed(raw)
            guard = _Guard(limits, tee, compression, stop)
            if fmt is None and layout is None and _looks_binary(data):
                fmt = "oracle"
            unit_pages = sizes.unit == "ignore"
            if fmt == "oracle":
                state.unit = "record"
                records = io.BufferedReader(_Records(data, limits.bytes, state, guard),
                                            buffer_size=_CHUNK)
                # the next-access fields are checked too: a replay's OPT trusts them
                accesses = read_binary(records, "oracle", unit_pages=unit_pages,
                                       check_future=True)
            else:
                accesses = read_accesses(_lines(data, limits.bytes, state, guard), fmt,
                                         unit_pages=unit_pages, csv_layout=layout)
            stats, raw_total = _statistics(accesses, sizes, limits)
            while raw.read(_CHUNK):  # copy whatever follows the data (gzip padding)
                pass
        except _TooLarge:
            raise _too_large(limits.bytes) from None
        except TraceTooLarge as exc:
            line = state.lines if state.unit == "line" else None  # records are read ahead
            where = f"line {line}: " if line is not None else ""
            raise TraceRejected(f"{where}{exc.message}; the limit is there to bound the "
                                f"server's work and memory: split or sample the trace",
                                line=line, field=exc.field, too_large=True) from None
        except TraceError as exc:
            raise TraceRejected(str(exc), line=exc.line, field=exc.field) from None
        _check_totals(stats.total_tokens, raw_total)
        used_fmt = fmt or sniff_format(state.first_content or "")
        temp.flush()
        os.fsync(temp.fileno())
        temp.close()
        relative = (Path(TRACES_DIR)
                    / f"{uuid.uuid4().hex}.{used_fmt}{_COMPRESSION_SUFFIX[compression]}")
        final_path = Path(settings.DATA_DIR) / relative
        os.replace(temp_path, final_path)
        summary = stats.to_dict()
        if sizes.unit == "bytes":
            summary["total_bytes"] = raw_total
        with transaction.atomic():
            trace = Trace.objects.create(
                owner=owner,
                name=name,
                fmt=used_fmt,
                file=relative.as_posix(),
                size_bytes=tee.count,
                requests=stats.requests,
                distinct_pages=stats.distinct_pages,
                total_tokens=stats.total_tokens,
                size_unit=sizes.unit,
                bytes_per_token=sizes.bytes_per_token,
                csv_layout=layout.to_dict() if layout is not None else None,
                stats=summary,
                public=bool(public),
            )
    except BaseException as exc:
        temp.close()
        for path in (temp_path, final_path):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
        if isinstance(exc, TraceRejected) and exc.status == 499:
            logger.info("upload by %s dropped at line %s: the client went away", owner,
                        f"{state.lines:,}")
        raise
    logger.info("trace %s uploaded by %s: %s, %s accesses, %s", trace.pk, owner,
                used_fmt, f"{stats.requests:,}", human_bytes(tee.count))
    return trace


def _looks_binary(data: io.BufferedReader) -> bool:
    """A NUL in the first bytes: a binary trace (no text trace has one; the engine's rule)."""
    try:
        return b"\0" in data.peek(240)[:240]
    except READ_ERRORS as exc:
        raise read_failure(exc, 0) from None


def _decompressed(raw: io.BufferedReader) -> tuple[str | None, io.BufferedReader]:
    """The compression the stream's first bytes announce (None, ``gzip`` or ``zstd``) and
    its decompressed bytes (which can ``peek``)."""
    magic = raw.peek(4)[:4]
    if magic[:2] == _GZIP_MAGIC:
        return "gzip", io.BufferedReader(gzip.GzipFile(fileobj=raw, mode="rb"))
    if magic == _ZSTD_MAGIC:
        return "zstd", io.BufferedReader(ZstdStream(raw))
    return None, raw


def _statistics(
    accesses: Iterable[Access], sizes: SizeMeaning, limits: UploadLimits,
) -> tuple[Any, int]:
    """The engine's statistics of the trace as a replay will read it (sizes converted or
    ignored as the upload says), and the total of the size column as written."""
    raw = _RawTotal()
    if sizes.bytes_per_token is not None:
        accesses = tokens_from_bytes(raw.tap(accesses), sizes.bytes_per_token)
    stats = trace_stats(accesses, max_pages=limits.pages, max_requests=limits.accesses)
    return stats, raw.total if sizes.bytes_per_token is not None else stats.total_tokens


def _check_totals(total_tokens: int, raw_total: int) -> None:
    if max(total_tokens, raw_total) > MAX_TOTAL:
        raise TraceRejected(
            f"the sizes add up to {max(total_tokens, raw_total):,}, more than the library can "
            f"store ({MAX_TOTAL:,}): are they in the unit you chose?", field="tokens")


def trace_import_file(
    *, owner: AbstractBaseUser, path: Path, name: str = "", fmt: str | None = None,
    public: bool = False, size_unit: str | None = None,
    bytes_per_token: int | str | None = None, csv_layout: CsvLayout | None = None,
    large: bool = False,
) -> Trace:
    """Import a trace file from disk (the same checks as an upload; with ``large``, the
    bounds of a server-side import, :meth:`UploadLimits.for_import`)."""
    limits = UploadLimits.for_import() if large else None
    with open(path, "rb") as handle:
        return trace_upload(owner=owner, stream=handle, name=name, filename=path.name, fmt=fmt,
                            public=public, size_hint=path.stat().st_size,
                            size_unit=size_unit, bytes_per_token=bytes_per_token,
                            csv_layout=csv_layout, limits=limits)


def trace_import_server_file(
    *, user: AbstractBaseUser, path: str, name: str = "", fmt: str | None = None,
    public: bool = False, size_unit: str | None = None,
    bytes_per_token: int | str | None = None, csv_layout: CsvLayout | None = None,
    stop: threading.Event | None = None,
) -> Trace:
    """Import a file that is already on the server, for a staff user (the API's server-side
    import): ``path`` is relative to ``VMEM_TRACE_IMPORT_DIR`` and may not leave it. The
    bounds of an import (:meth:`UploadLimits.for_import`), the checks of an upload."""
    if not getattr(user, "is_staff", False):
        raise PermissionDenied("only staff can import files from the server")
    base = getattr(settings, "VMEM_TRACE_IMPORT_DIR", "") or ""
    if not base:
        raise TraceRejected("server-side import is not configured (VMEM_TRACE_IMPORT_DIR)",
                            field="path")
    root = Path(base).resolve()
    target = (root / str(path or "")).resolve()
    if not path or has_control_characters(str(path)) or not target.is_relative_to(root):
        raise TraceRejected("expected a file path inside the import folder", field="path")
    if not target.is_file():
        raise TraceRejected(f"no such file in the import folder: {path!s:.200}", field="path")
    with open(target, "rb") as handle:
        return trace_upload(owner=user, stream=handle, name=name, filename=target.name,
                            fmt=fmt, public=public, size_hint=target.stat().st_size,
                            size_unit=size_unit, bytes_per_token=bytes_per_token,
                            csv_layout=csv_layout, stop=stop,
                            limits=UploadLimits.for_import())


def _require_owner(trace: Trace, user: AbstractBaseUser) -> None:
    if trace.owner_id != getattr(user, "pk", None):
        raise PermissionDenied("only the owner of a trace can change or delete it")


def trace_update(
    *, trace: Trace, user: AbstractBaseUser, public: bool | None = None,
    name: str | None = None,
) -> Trace:
    """Change a trace's visibility and/or name (its owner only: PermissionDenied otherwise)."""
    _require_owner(trace, user)
    fields = []
    if public is not None:
        trace.public = bool(public)
        fields.append("public")
    if name is not None:
        trace.name = _clean_name(name, "")
        fields.append("name")
    if fields:
        trace.save(update_fields=fields)
    return trace


def trace_file_path(trace: Trace) -> Path | None:
    """The trace's file, or None if the row points outside the library (never touched)."""
    base = (Path(settings.DATA_DIR) / TRACES_DIR).resolve()
    path = (Path(settings.DATA_DIR) / trace.file).resolve()
    return path if path.is_relative_to(base) else None


def trace_files_unlink(paths: list[Path | None]) -> None:
    """Remove library files whose rows are gone (a missing file is fine)."""
    for path in paths:
        if path is None:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.exception("could not delete the file of a deleted trace: %s", path)


def trace_delete(*, trace: Trace, user: AbstractBaseUser) -> None:
    """Delete a trace and its file (its owner only: PermissionDenied otherwise).

    Runs that used it keep their stored windows and results (``Run.trace`` becomes null), so
    their pages still replay; a run still queued on it fails when a runner picks it up, and
    one executing stops within a tick, failed with a message saying the trace was deleted."""
    _require_owner(trace, user)
    traces_delete(traces=Trace.objects.filter(pk=trace.pk))


def traces_delete(*, traces: QuerySet[Trace]) -> int:
    """Delete these traces, then their files (for the owner's delete above and the admin: the
    caller has checked the permission). The files go only once the rows are gone."""
    with transaction.atomic():
        rows = list(traces)
        paths = [trace_file_path(trace) for trace in rows]
        Trace.objects.filter(pk__in=[trace.pk for trace in rows]).delete()
    trace_files_unlink(paths)
    return len(rows)
