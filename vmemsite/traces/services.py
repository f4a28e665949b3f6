"""Writes of the trace library (HackSoft style: services write, selectors read).

An upload is **streamed**: the bytes as sent are copied to a temporary file under
``DATA_DIR/traces/`` while the same bytes, gunzipped when they start with gzip's magic, are
read line by line through the engine's :func:`~simulator.engine.traces.read_accesses`, and
:func:`~simulator.engine.traces.trace_stats` is computed in that one pass. Only when the whole
trace has been read without error is the temporary file renamed into place and the database
row created (in a transaction). On any error nothing is left: no row, no file, and a
:class:`TraceRejected` whose message names the line and the field, e.g.
``line 17, field 'tokens': expected a positive integer, got '-3'``.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from simulator.engine.errors import TraceError
from simulator.engine.traces import FORMATS, read_accesses, sniff_format, trace_stats

from .models import Trace

logger = logging.getLogger(__name__)

#: the folder of the library under ``settings.DATA_DIR``
TRACES_DIR = "traces"
#: the longest line accepted (a file without line breaks is not a trace)
MAX_LINE_BYTES = 64 * 1024
#: the longest trace name
MAX_NAME_CHARS = 200

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


class TraceRejected(Exception):
    """An upload that was not stored. ``message`` is meant for a person; ``line`` (1-based)
    and ``field`` locate the problem when there is one; ``too_large`` marks the size limit
    (HTTP 413)."""

    def __init__(
        self, message: str, *, line: int | None = None, field: str | None = None,
        too_large: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field
        self.too_large = too_large


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


def max_trace_bytes() -> int:
    return int(settings.VMEM_MAX_TRACE_BYTES)


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
    """What the line reader learns while the engine reads: the decompressed size and the
    first line with content (the engine sniffs the format from that same line)."""

    text_bytes: int = 0
    first_content: str | None = None


def _lines(stream: IO[bytes], limit: int, state: _Pass) -> Iterator[bytes]:
    lineno = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:  # corrupt or truncated gzip
            raise TraceError(f"cannot read the trace after line {lineno} (corrupt or "
                             f"truncated gzip data?): {exc}", line=lineno + 1) from None
        if not line:
            return
        lineno += 1
        state.text_bytes += len(line)
        if state.text_bytes > limit:
            raise _TooLarge
        if len(line) > MAX_LINE_BYTES:
            raise TraceError(f"the line is longer than {human_bytes(MAX_LINE_BYTES)}: is this "
                             f"a trace file?", line=lineno)
        if state.first_content is None:
            with contextlib.suppress(UnicodeDecodeError):  # the engine reports it, with line
                text = line.decode("utf-8").lstrip("\ufeff").strip()
                if text and not text.startswith("#"):
                    state.first_content = text
        yield line


def _clean_name(name: str, filename: str) -> str:
    name = " ".join((name or "").split())
    if not name and filename:
        base = Path(filename).name
        for suffix in (".gz", ".csv", ".jsonl", ".ndjson", ".txt", ".trace"):
            if base.lower().endswith(suffix):
                base = base[: -len(suffix)]
        name = " ".join(base.split())
    if not name:
        raise TraceRejected("give the trace a name", field="name")
    if len(name) > MAX_NAME_CHARS:
        raise TraceRejected(f"the name is longer than {MAX_NAME_CHARS} characters", field="name")
    return name


def _clean_fmt(fmt: str | None) -> str | None:
    if fmt is None or not fmt.strip() or fmt.strip().lower() == "auto":
        return None
    value = fmt.strip().lower()
    if value not in FORMATS:
        raise TraceRejected(f"unknown format {value!r} (expected one of {', '.join(FORMATS)}, "
                            f"or leave it empty to detect it)", field="format")
    return value


def trace_upload(
    *,
    owner: AbstractBaseUser,
    stream: IO[bytes],
    name: str = "",
    filename: str = "",
    fmt: str | None = None,
    public: bool = False,
    size_hint: int | None = None,
) -> Trace:
    """Validate and store a trace read from ``stream`` (any object with ``read(n)``: an
    uploaded file, the request itself, an open file), for ``owner``.

    ``fmt`` is ``plain``, ``csv`` or ``jsonl``; empty or None detects it from the first line
    with content (:func:`~simulator.engine.traces.sniff_format`). ``name`` defaults to the
    file's name without its extensions. ``size_hint`` (the announced size, if any) rejects an
    oversized upload before reading it; the limit (``settings.VMEM_MAX_TRACE_BYTES``) is
    enforced while streaming anyway, on the bytes as sent and on the decompressed text.
    Raises :class:`TraceRejected`; on any error, nothing is stored.
    """
    name = _clean_name(name, filename)
    fmt = _clean_fmt(fmt)
    limit = max_trace_bytes()
    if size_hint is not None and size_hint > limit:
        raise _too_large(limit)

    directory = traces_dir()
    temp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in every path below
        dir=directory, prefix=".upload-", suffix=".part", delete=False
    )
    temp_path = Path(temp.name)
    final_path: Path | None = None
    try:
        try:
            tee = _Tee(stream, temp, limit)
            raw = io.BufferedReader(tee, buffer_size=_CHUNK)
            gzipped = raw.peek(2)[:2] == _GZIP_MAGIC
            text = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            state = _Pass()
            stats = trace_stats(read_accesses(_lines(text, limit, state), fmt))
            while raw.read(_CHUNK):  # copy whatever follows the data (gzip padding)
                pass
        except _TooLarge:
            raise _too_large(limit) from None
        except TraceError as exc:
            raise TraceRejected(str(exc), line=exc.line, field=exc.field) from None
        used_fmt = fmt or sniff_format(state.first_content or "")
        temp.flush()
        os.fsync(temp.fileno())
        temp.close()
        relative = Path(TRACES_DIR) / f"{uuid.uuid4().hex}.{used_fmt}{'.gz' if gzipped else ''}"
        final_path = Path(settings.DATA_DIR) / relative
        os.replace(temp_path, final_path)
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
                stats=stats.to_dict(),
                public=bool(public),
            )
    except BaseException:
        temp.close()
        for path in (temp_path, final_path):
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
        raise
    logger.info("trace %s uploaded by %s: %s, %s accesses, %s", trace.pk, owner,
                used_fmt, f"{stats.requests:,}", human_bytes(tee.count))
    return trace


def trace_import_file(
    *, owner: AbstractBaseUser, path: Path, name: str = "", fmt: str | None = None,
    public: bool = False,
) -> Trace:
    """Import a trace file from disk (the same checks as an upload)."""
    with open(path, "rb") as handle:
        return trace_upload(owner=owner, stream=handle, name=name, filename=path.name, fmt=fmt,
                            public=public, size_hint=path.stat().st_size)


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
