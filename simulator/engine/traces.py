"""Streaming trace readers and writers, trace statistics and the OPT helper.

Nothing here holds a whole trace in memory except :func:`next_use_indices`, which needs the
future by definition. Readers are generators of :class:`~simulator.engine.access.Access`.

Formats
-------
``plain``
    One page id per line. The access's ``time`` is its index (0.0, 1.0, ...); tokens 1, op read.
``csv``
    A header row naming the columns, in any order: ``time``, ``page_id`` (alias ``obj_id``),
    ``tokens`` (alias ``size``), ``op``, ``session``, ``turn``. Only ``page_id`` is required;
    without a ``time`` column the access index is used. Column names are case-insensitive.
    **An unknown column is an error naming it** (a typo such as ``tokns`` would otherwise be
    silently ignored and every page would get the default size). Giving a field and its alias
    is an error. Every row must have as many fields as the header. Fields may be quoted as in
    RFC 4180 but may not span lines; whitespace around a field is not significant.
``jsonl``
    One JSON object per line with the same field names, aliases and rules as CSV. Numeric
    fields may be JSON numbers or strings written as in CSV.
``oracle``
    libCacheSim's ``oracleGeneral`` binary: 24-byte little-endian records (u32 time, u64 id,
    u32 size, i64 next access); see :mod:`simulator.engine.oracle_general`. Errors name the
    record instead of a line.

A CSV of any other shape is read with a :class:`CsvLayout` (the column of each field, by
number or by header name; the delimiter; whether there is a header): its other columns are
ignored.

In every text format: blank lines and lines whose first non-blank character is ``#`` are
skipped; a UTF-8 byte order mark is ignored. gzip and Zstandard are read transparently in
every format (recognised by their magic bytes, whatever the file's name).

Field rules (the same in every format)
--------------------------------------
* ``page_id``: an id made only of ASCII digits becomes an ``int`` (so numeric traces such as
  libCacheSim's stay ints: ``"007"`` and ``7`` are the same page); anything else stays a
  ``str``. A numeric id is below ``2**64`` (:data:`MAX_PAGE_ID`, libCacheSim's ids are
  unsigned 64-bit). JSON numbers must be non-negative integers; floats, booleans and null are
  rejected.
* ``time``: a finite number >= 0. Times need **not** be non-decreasing: the engine orders
  accesses by their position in the trace, ``time`` is carried along for display.
* ``tokens``: a positive integer up to ``10**12`` (:data:`MAX_TOKENS`; ignored, and not
  validated, with ``unit_pages=True``, which makes every access one token: the classic
  page-count mode). With ``bytes_per_token=N`` the column holds bytes, and an access of ``b``
  bytes is ``ceil(b / N)`` tokens (:func:`tokens_from_bytes`).
* ``op``: ``read``, ``write``, ``pin`` or ``unpin``, case-insensitive; default ``read``.
* ``session``: any string; default ``""``.
* ``turn``: a non-negative integer up to ``2**31 - 1`` (:data:`MAX_TURN`); default 0.

Numbers past these bounds (including those of thousands of digits, which Python's ``int``
refuses to parse) are errors naming the line and the field like any other bad value.

Bad input raises :class:`~simulator.engine.errors.TraceError` naming the 1-based line and the
field, e.g. ``trace.csv, line 17, field 'tokens': expected a positive integer, got '-3'``.
A trace with no access at all (empty file, header only) is an error too.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import math
import os
import sys
import zlib
from array import array
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import IO, Any, TypeVar

import zstandard

from simulator.engine.access import Access, Op, PageReads
from simulator.engine.errors import ConfigError, TraceError
from simulator.engine.oracle_general import oracle_future, read_oracle

__all__ = [
    "FORMATS",
    "FORMAT_ALIASES",
    "MAX_PAGE_ID",
    "MAX_TOKENS",
    "MAX_TURN",
    "NEVER",
    "CsvLayout",
    "TraceStats",
    "TraceTooLarge",
    "detect_format",
    "next_use_indices",
    "open_trace",
    "open_trace_future",
    "read_accesses",
    "read_binary",
    "sniff_format",
    "tokens_from_bytes",
    "trace_stats",
    "write_trace",
]

#: the formats understood by the readers (the writer writes the three text ones)
FORMATS = ("plain", "csv", "jsonl", "oracle")
#: the formats made of lines of text
TEXT_FORMATS = ("plain", "csv", "jsonl")
#: sentinel of :func:`next_use_indices`: the page is never used again
NEVER = sys.maxsize

#: every format name the readers accept (``ndjson`` and ``txt`` included) -> its format
FORMAT_ALIASES = {"plain": "plain", "txt": "plain", "csv": "csv", "jsonl": "jsonl",
                  "ndjson": "jsonl", "oracle": "oracle", "oraclegeneral": "oracle"}
#: the largest numeric page id (ids are unsigned 64-bit integers, as in libCacheSim)
MAX_PAGE_ID = 2**64 - 1
#: the largest size of one access, in tokens (or in bytes, with ``bytes_per_token``)
MAX_TOKENS = 10**12
#: the largest turn number
MAX_TURN = 2**31 - 1
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "plain",
               ".trace": "plain", ".oraclegeneral": "oracle", ".oracle": "oracle"}
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: suffixes of compressed files, stripped before the format's extension is looked at
COMPRESSED_SUFFIXES = (".gz", ".zst")
#: a text trace has no NUL byte; an oracleGeneral one has one in its first records (the high
#: bytes of its u64 ids and i64 next-access fields), so the first bytes tell them apart
_SNIFF_BYTES = 240

#: canonical field names, in the order the writer emits them
_FIELDS = ("time", "page_id", "tokens", "op", "session", "turn")
_ALIASES = {"obj_id": "page_id", "size": "tokens"}
_KNOWN = frozenset(_FIELDS) | frozenset(_ALIASES)
_KNOWN_TEXT = "time, page_id (or obj_id), tokens (or size), op, session, turn"
_OPS = {op.value: op for op in Op}
_OPS_TEXT = ", ".join(_OPS)
_READ = Op.READ
_new = tuple.__new__
#: what a file reader yields (accesses, or blocks of them)
_Item = TypeVar("_Item")
#: bytes read at a time by the plain reader (whole lines of a block are parsed at once)
_BLOCK = 1 << 20
_DIGITS_AND_NEWLINES = b"0123456789\n"


# --------------------------------------------------------------------------------------------
# field parsing


def _show(value: Any) -> str:
    """A short, unambiguous rendering of a bad value for an error message."""
    if isinstance(value, str):
        text = repr(value if len(value) <= 40 else value[:37] + "...")
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
        if len(text) > 40:
            text = text[:37] + "..."
    return text


def _is_digits(text: str) -> bool:
    return text.isdigit() and text.isascii()


def _digits_at_most(text: str, maximum: int) -> int | None:
    """The value of a string of ASCII digits if it is at most ``maximum``, else None (without
    calling ``int`` on thousands of digits, which Python refuses)."""
    if len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if value <= maximum else None


class _LongNumber:
    """A JSON integer too long for ``int`` (more than 4,300 digits): kept as its text so that
    the field it stands in is named in the error."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"{self.text[:12]}... ({len(self.text.lstrip('-')):,} digits)"


def _json_int(text: str) -> int | _LongNumber:
    return int(text) if len(text) <= 4000 else _LongNumber(text)


def _id_out_of_range(value: Any, line: int, source: str | None) -> TraceError:
    return TraceError(f"a numeric page id must be below 2**64, got {_show(value)}", line=line,
                      field="page_id", source=source)


def _id_text(text: str, line: int, source: str | None) -> int | str:
    if _is_digits(text):
        value = _digits_at_most(text, MAX_PAGE_ID)
        if value is None:
            raise _id_out_of_range(text, line, source)
        return value
    if not text:
        raise TraceError("expected a page id, got an empty value", line=line, field="page_id",
                         source=source)
    return text


def _time_text(text: str, line: int, source: str | None) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value >= 0.0 and value != math.inf):  # also rejects NaN
        raise TraceError(f"expected a finite number >= 0, got {_show(text)}", line=line,
                         field="time", source=source)
    return value


def _int_error(value: Any, line: int, source: str | None, field: str, minimum: int,
               maximum: int) -> TraceError:
    what = "a positive integer" if minimum == 1 else "a non-negative integer"
    if isinstance(value, str):
        too_big = _is_digits(value) and _digits_at_most(value, maximum) is None
    elif isinstance(value, _LongNumber):
        too_big = not value.text.startswith("-")
    else:
        too_big = isinstance(value, int) and not isinstance(value, bool) and value > maximum
    limit = f" of at most {maximum:,}" if too_big else ""
    return TraceError(f"expected {what}{limit}, got {_show(value)}", line=line, field=field,
                      source=source)


def _int_text(text: str, line: int, source: str | None, field: str, minimum: int,
              maximum: int) -> int:
    if _is_digits(text):
        value = _digits_at_most(text, maximum)
        if value is not None and value >= minimum:
            return value
    raise _int_error(text, line, source, field, minimum, maximum)


def _op_text(text: str, line: int, source: str | None) -> Op:
    op = _OPS.get(text.lower())
    if op is None:
        raise TraceError(f"expected one of {_OPS_TEXT}, got {_show(text)}", line=line,
                         field="op", source=source)
    return op


# JSON values: numbers (or strings written as in CSV), strictly typed otherwise


def _id_json(value: Any, line: int, source: str | None) -> int | str:
    if isinstance(value, str):
        return _id_text(value, line, source)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        if value > MAX_PAGE_ID:
            raise _id_out_of_range(value, line, source)
        return value
    if isinstance(value, _LongNumber) and not value.text.startswith("-"):
        raise _id_out_of_range(value, line, source)
    raise TraceError(
        f"expected a page id (an integer >= 0 or a string), got {_show(value)}",
        line=line, field="page_id", source=source)


def _time_json(value: Any, line: int, source: str | None) -> float:
    if isinstance(value, str):
        return _time_text(value.strip(), line, source)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if number >= 0.0 and number != math.inf:
            return number
    raise TraceError(f"expected a finite number >= 0, got {_show(value)}", line=line,
                     field="time", source=source)


def _int_json(value: Any, line: int, source: str | None, field: str, minimum: int,
              maximum: int) -> int:
    if isinstance(value, str):
        return _int_text(value.strip(), line, source, field, minimum, maximum)
    if isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum:
        return value
    raise _int_error(value, line, source, field, minimum, maximum)


def _op_json(value: Any, line: int, source: str | None) -> Op:
    if isinstance(value, str):
        return _op_text(value, line, source)
    raise TraceError(f"expected one of {_OPS_TEXT}, got {_show(value)}", line=line, field="op",
                     source=source)


def _session_json(value: Any, line: int, source: str | None) -> str:
    if isinstance(value, str):
        return value
    raise TraceError(f"expected a string, got {_show(value)}", line=line, field="session",
                     source=source)


# --------------------------------------------------------------------------------------------
# lines


def _numbered(lines: Iterable[str | bytes], source: str | None, first: int = 1
              ) -> Iterator[tuple[int, str]]:
    """(1-based line number, from ``first``, and the text without its line ending); bytes are
    decoded as UTF-8."""
    for lineno, raw in enumerate(lines, first):
        if isinstance(raw, bytes | bytearray):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise TraceError(
                    f"not valid UTF-8 text (byte {exc.start + 1} of the line is "
                    f"{raw[exc.start]:#04x})", line=lineno, source=source) from None
        else:
            text = raw
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield lineno, text.rstrip("\r\n")


def _content(numbered: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Skip blank lines and ``#`` comments."""
    for lineno, text in numbered:
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            yield lineno, text


def sniff_format(first_line: str) -> str:
    """The format a trace's first non-blank, non-comment line suggests.

    ``{...`` → jsonl; a line with a comma, or made only of known column names → csv (a
    header); anything else → plain.
    """
    text = first_line.strip().lstrip("\ufeff")
    if text.startswith("{"):
        return "jsonl"
    if "," in text:
        return "csv"
    if text.lower() in _KNOWN:
        return "csv"
    return "plain"


def _normalise_fmt(fmt: str) -> str:
    if not isinstance(fmt, str) or fmt.lower() not in FORMAT_ALIASES:
        raise ConfigError(f"unknown trace format {_show(fmt)} (expected one of "
                          f"{', '.join(FORMATS)})", field="fmt")
    return FORMAT_ALIASES[fmt.lower()]


def _format_from_name(path: str | os.PathLike[str]) -> str | None:
    name = Path(path).name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    if ".oraclegeneral" in name:  # libCacheSim's names: x.oracleGeneral[.bin][.zst]
        return "oracle"
    return _EXTENSIONS.get(Path(name).suffix)


# --------------------------------------------------------------------------------------------
# CSV of any shape

#: the delimiters a layout may name in words (``\\t`` is a tab too)
DELIMITER_NAMES = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "space": " ",
                   "pipe": "|"}
#: the highest column number a layout may name
MAX_COLUMN = 1000
_MAX_COLUMN_NAME = 100


@dataclass(frozen=True)
class CsvLayout:
    """Where a CSV's fields are: ``columns`` pairs a field (``time``, ``page_id``, ``tokens``,
    ``op``, ``session``, ``turn``; ``obj_id`` and ``size`` as aliases) with its column, a
    1-based number or, when the file has a header row, the header's name for it
    (case-insensitive); ``page_id`` is required. ``delimiter`` is one character (a space splits
    on runs of blanks); ``header`` says whether the first row names the columns (it is then
    skipped). Columns not named are ignored. Build one with :meth:`build`, which checks it."""

    columns: tuple[tuple[str, int | str], ...]
    delimiter: str = ","
    header: bool = True

    @classmethod
    def build(cls, columns: Any, delimiter: str | None = ",", header: bool = True) -> CsvLayout:
        """Check a layout: ``columns`` is a mapping or text such as ``time=1,obj_id=2,size=3``
        (or ``page_id=key`` with a header). Raises :class:`ConfigError` naming ``columns`` or
        ``delimiter``."""
        pairs = _column_pairs(columns)
        result: dict[str, int | str] = {}
        for raw_field, raw_column in pairs:
            name = str(raw_field).strip().lower()
            field = _ALIASES.get(name, name)
            if name not in _KNOWN:
                raise ConfigError(f"unknown field {_show(raw_field)} (known: {_KNOWN_TEXT})",
                                  field="columns")
            if field in result:
                raise ConfigError(f"{field!r} is given twice (directly or through its alias)",
                                  field="columns")
            result[field] = _column_of(field, raw_column, header)
        if "page_id" not in result:
            raise ConfigError("say which column holds the page id (page_id or obj_id)",
                              field="columns")
        numbers = [c for c in result.values() if isinstance(c, int)]
        names = [c.lower() for c in result.values() if isinstance(c, str)]
        if len(set(numbers)) != len(numbers) or len(set(names)) != len(names):
            raise ConfigError("two fields are given the same column", field="columns")
        order = [f for f in _FIELDS if f in result]
        return cls(tuple((f, result[f]) for f in order), _delimiter_of(delimiter),
                   bool(header))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CsvLayout:
        return cls.build(data.get("columns") or {}, data.get("delimiter", ","),
                         data.get("header", True))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": dict(self.columns), "delimiter": self.delimiter,
                "header": self.header}

    def describe(self) -> str:
        """``time=1, page_id=2, tokens=3; delimiter tab; no header``."""
        names = {value: name for name, value in DELIMITER_NAMES.items() if name != "\\t"}
        cols = ", ".join(f"{field}={column}" for field, column in self.columns)
        return (f"{cols}; delimiter {names.get(self.delimiter, repr(self.delimiter))}; "
                f"{'header' if self.header else 'no header'}")

    def split(self, text: str, lineno: int, source: str | None) -> list[str]:
        if self.delimiter == " ":
            return text.split()
        return _split_csv(text, lineno, source, self.delimiter)

    def resolve(self, names: list[str], lineno: int, source: str | None) -> dict[str, int]:
        """Each field's 0-based column, given the header row's ``names``."""
        where = {name.strip().lower(): index for index, name in enumerate(names)}
        columns: dict[str, int] = {}
        for field, column in self.columns:
            if isinstance(column, int):
                columns[field] = column - 1
            elif column.lower() in where:
                columns[field] = where[column.lower()]
            else:
                shown = ", ".join(_show(n.strip()) for n in names[:20])
                raise TraceError(f"the header has no column {column!r} (for {field}); it has "
                                 f"{shown}", line=lineno, field=field, source=source)
        return columns


def _column_pairs(columns: Any) -> list[tuple[Any, Any]]:
    if isinstance(columns, dict):
        return list(columns.items())
    if not isinstance(columns, str) or not columns.strip():
        raise ConfigError("expected columns such as 'time=1,obj_id=2,size=3'",
                          field="columns")
    pairs = []
    for item in columns.split(","):
        field, equals, column = item.partition("=")
        if not equals or not field.strip() or not column.strip():
            raise ConfigError(f"expected field=column pairs separated by commas, such as "
                              f"'time=1,obj_id=2,size=3'; got {_show(columns.strip())}",
                              field="columns")
        pairs.append((field.strip(), column.strip()))
    return pairs


def _column_of(field: str, raw: Any, header: bool) -> int | str:
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    if _is_digits(text):
        number = _digits_at_most(text, MAX_COLUMN)
        if number is None or number < 1:
            raise ConfigError(f"{field}: a column number is from 1 to {MAX_COLUMN}, got "
                              f"{_show(text)}", field="columns")
        return number
    if not text or len(text) > _MAX_COLUMN_NAME or not text.isprintable():
        raise ConfigError(f"{field}: expected a column number or a header name, got "
                          f"{_show(raw)}", field="columns")
    if not header:
        raise ConfigError(f"{field}: a column can be named ({text!r}) only when the file has "
                          f"a header row; give its number instead", field="columns")
    return text


def _delimiter_of(value: str | None) -> str:
    text = "," if value is None or value == "" else str(value)
    text = DELIMITER_NAMES.get(text.lower(), text)
    if len(text) != 1 or text in "\"\r\n" or (not text.isprintable() and text != "\t"):
        raise ConfigError(f"expected one character (or comma, tab, semicolon, space, pipe), "
                          f"got {_show(value)}", field="delimiter")
    return text


# --------------------------------------------------------------------------------------------
# readers


def read_accesses(
    lines: Iterable[str | bytes], fmt: str | None = None, *, source: str | None = None,
    unit_pages: bool = False, bytes_per_token: int | None = None,
    csv_layout: CsvLayout | None = None,
) -> Iterator[Access]:
    """Parse a trace given as lines (str, or bytes decoded as UTF-8), lazily.

    One item per line (line endings optional), e.g. a text file, an uploaded file or
    ``text.splitlines()``. ``fmt`` is ``"plain"``, ``"csv"`` or ``"jsonl"``; ``None`` sniffs
    it from the first non-blank, non-comment line (:func:`sniff_format`), or is CSV when a
    ``csv_layout`` is given (:class:`CsvLayout`). ``source`` names the trace in error
    messages. ``bytes_per_token`` reads the size column as bytes (:func:`tokens_from_bytes`).
    Raises :class:`TraceError` (lazily, while iterating). The binary ``oracle`` format is read
    from a stream instead (:func:`open_trace`, :func:`read_binary`).
    """
    fmt = _text_fmt(fmt, csv_layout)
    per_token = _check_bytes_per_token(bytes_per_token)
    accesses = _read(lines, fmt, source, unit_pages, csv_layout)
    return accesses if per_token is None else tokens_from_bytes(accesses, per_token)


def _text_fmt(fmt: str | None, layout: CsvLayout | None) -> str | None:
    """The text format to read, checked against the layout (which only CSV has)."""
    if fmt is not None:
        fmt = _normalise_fmt(fmt)
    if fmt == "oracle":
        raise ConfigError("oracleGeneral is a binary format: read it from a file or a byte "
                          "stream, not from lines", field="fmt")
    if layout is not None:
        if fmt not in (None, "csv"):
            raise ConfigError(f"a column layout applies to CSV, not {fmt}", field="fmt")
        fmt = "csv"
    return fmt


def read_binary(
    stream: IO[bytes], fmt: str | None, *, source: str | None = None,
    unit_pages: bool = False, bytes_per_token: int | None = None,
    csv_layout: CsvLayout | None = None, check_future: bool = False,
) -> Iterator[Access]:
    """The accesses of a decompressed byte stream in any format (``None``: oracleGeneral if
    its first bytes hold a NUL, which no text trace has; else sniffed as text).
    ``check_future`` checks an oracleGeneral file's next-access fields too."""
    if fmt is not None:
        fmt = _normalise_fmt(fmt)
    if fmt is None and csv_layout is None and _looks_binary(stream):
        fmt = "oracle"
    per_token = _check_bytes_per_token(bytes_per_token)
    if fmt == "oracle":
        if csv_layout is not None:
            raise ConfigError("a column layout applies to CSV, not oracle", field="fmt")
        accesses = read_oracle(stream, source=source, unit_pages=unit_pages,
                               max_tokens=MAX_TOKENS, check_future=check_future)
    elif fmt == "plain" and csv_layout is None:
        # a block of lines at a time (the format is known: sniffing would need the stream
        # rewound, which a Zstandard stream does not offer)
        accesses = PageReads(chain.from_iterable(_plain_blocks(stream, source)))
    else:
        accesses = _read(_guarded_lines(stream, source or ""), _text_fmt(fmt, csv_layout),
                         source, unit_pages, csv_layout)
    return accesses if per_token is None else tokens_from_bytes(accesses, per_token)


def _looks_binary(stream: IO[bytes]) -> bool:
    peek = getattr(stream, "peek", None)
    head = peek(_SNIFF_BYTES)[:_SNIFF_BYTES] if peek is not None else b""
    return b"\0" in head


def _check_bytes_per_token(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKENS:
        raise ConfigError(f"expected a positive integer of at most {MAX_TOKENS:,}, got "
                          f"{_show(value)}", field="bytes_per_token")
    return value


def tokens_from_bytes(accesses: Iterable[Access], bytes_per_token: int) -> Iterator[Access]:
    """The same accesses with sizes given in bytes turned into tokens: ``ceil(bytes /
    bytes_per_token)``, so that no access is smaller than one token (for traces whose size
    column is in bytes, such as block and CDN traces)."""
    per_token = _check_bytes_per_token(bytes_per_token)
    for time, page, size, op, session, turn in accesses:
        yield _new(Access, (time, page, -(-size // per_token), op, session, turn))


def _read(
    lines: Iterable[str | bytes], fmt: str | None, source: str | None, unit_pages: bool,
    layout: CsvLayout | None = None,
) -> Iterator[Access]:
    content = _content(_numbered(lines, source))
    first = next(content, None)
    if first is None:
        raise TraceError("empty trace: no accesses found", source=source)
    if fmt is None:
        fmt = sniff_format(first[1])
    content = chain((first,), content)
    if fmt == "plain":
        parse = _parse_plain(content, source)
    elif fmt == "csv":
        parse = _parse_csv(content, source, unit_pages, layout)
    else:
        parse = _parse_jsonl(content, source, unit_pages)
    count = 0
    for access in parse:
        count += 1
        yield access
    if count == 0:
        raise TraceError("empty trace: a header but no accesses", source=source)


def _parse_plain(content: Iterator[tuple[int, str]], source: str | None, index: float = 0.0,
                 first: bool = True) -> Iterator[Access]:
    """Reads of the ids of ``content``; ``first``: it starts the file (a CSV header there
    is refused: the file is a CSV read as plain, not a trace whose first id is a header)."""
    for lineno, text in content:
        text = text.strip()
        if first:
            _refuse_csv_header(text, lineno, source)
            first = False
        if "\t" in text:  # no id has a tab (the writer refuses it): a TSV read as plain
            raise TraceError(
                "a plain trace has one page id a line, and this line has fields separated by "
                "tabs: is it a table? Read it as a CSV with the tab delimiter and its columns",
                line=lineno, field="page_id", source=source)
        yield _new(Access, (index, _id_text(text, lineno, source), 1, _READ, "", 0))
        index += 1.0


def _refuse_csv_header(text: str, lineno: int, source: str | None) -> None:
    fields = [field.strip().lower() for field in text.split(",")]
    if len(fields) > 1 and _KNOWN.issuperset(fields) and {"page_id", "obj_id"} & set(fields):
        raise TraceError(
            f"a plain trace has one page id a line, and this line is a CSV header ({text}): "
            f"read the file as CSV (format csv)", line=lineno, field="page_id", source=source)


def _split_csv(text: str, lineno: int, source: str | None, delimiter: str = ",") -> list[str]:
    """One CSV line's fields (quotes only when the line has any: the common case is a split)."""
    if '"' not in text:
        return text.split(delimiter)
    try:
        rows = list(csv.reader((text,), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise TraceError(f"malformed CSV: {exc}", line=lineno, source=source) from None
    if len(rows) != 1:
        raise TraceError("malformed CSV: a quoted field may not span lines", line=lineno,
                         source=source)
    return rows[0]


def _csv_header(fields: list[str], lineno: int, source: str | None) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown = []
    for index, raw in enumerate(fields):
        name = raw.strip().lower()
        canonical = _ALIASES.get(name, name)
        if name not in _KNOWN:
            unknown.append(raw.strip())
        elif canonical in columns:
            raise TraceError(f"column {canonical!r} given twice (directly or through its "
                             f"alias)", line=lineno, field=canonical, source=source)
        else:
            columns[canonical] = index
    if "page_id" not in columns:
        raise TraceError(
            f"the CSV header has no page_id (or obj_id) column; got "
            f"{', '.join(_show(f.strip()) for f in fields)}", line=lineno, field="page_id",
            source=source)
    if unknown:
        raise TraceError(
            f"unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(_show(name) for name in unknown)} (known: {_KNOWN_TEXT})",
            line=lineno, source=source)
    return columns


def _parse_csv(
    content: Iterator[tuple[int, str]], source: str | None, unit_pages: bool,
    layout: CsvLayout | None = None,
) -> Iterator[Access]:
    if layout is not None:
        yield from _parse_mapped_csv(content, source, unit_pages, layout)
        return
    header_line, header_text = next(content)
    names = _split_csv(header_text, header_line, source)
    columns = _csv_header(names, header_line, source)
    width = len(names)

    def split(text: str, lineno: int) -> list[str]:
        fields = _split_csv(text, lineno, source)
        if len(fields) != width:
            raise TraceError(f"expected {width} fields as in the header, got {len(fields)}",
                             line=lineno, source=source)
        return fields

    yield from _csv_accesses(content, split, columns, source, unit_pages)


def _csv_accesses(
    content: Iterator[tuple[int, str]], split: Any, columns: dict[str, int],
    source: str | None, unit_pages: bool,
) -> Iterator[Access]:
    """The accesses of CSV rows, ``columns`` giving each field's 0-based column."""
    i_id = columns["page_id"]
    i_time = columns.get("time")
    i_tokens = None if unit_pages else columns.get("tokens")
    i_op = columns.get("op")
    i_session = columns.get("session")
    i_turn = columns.get("turn")
    index = 0.0
    for lineno, text in content:
        fields = split(text, lineno)
        page = _id_text(fields[i_id].strip(), lineno, source)
        time = index if i_time is None else _time_text(fields[i_time].strip(), lineno, source)
        tokens = 1 if i_tokens is None else _int_text(
            fields[i_tokens].strip(), lineno, source, "tokens", 1, MAX_TOKENS)
        op = _READ if i_op is None else _op_text(fields[i_op].strip(), lineno, source)
        session = "" if i_session is None else fields[i_session].strip()
        turn = 0 if i_turn is None else _int_text(
            fields[i_turn].strip(), lineno, source, "turn", 0, MAX_TURN)
        yield _new(Access, (time, page, tokens, op, session, turn))
        index += 1.0


def _parse_mapped_csv(
    content: Iterator[tuple[int, str]], source: str | None, unit_pages: bool,
    layout: CsvLayout,
) -> Iterator[Access]:
    if layout.header:
        header_line, header_text = next(content)
        columns = layout.resolve(layout.split(header_text, header_line, source), header_line,
                                 source)
    else:
        columns = {field: int(column) - 1 for field, column in layout.columns}
    need = max(columns.values()) + 1
    holder = {index: field for field, index in columns.items()}[need - 1]

    def split(text: str, lineno: int) -> list[str]:
        fields = layout.split(text, lineno, source)
        if len(fields) < need:
            raise TraceError(f"expected at least {need} fields (column {need} holds "
                             f"{holder!r}), got {len(fields)}", line=lineno, source=source)
        return fields

    yield from _csv_accesses(content, split, columns, source, unit_pages)


def _load_json(text: str) -> Any:
    """``json.loads``; an integer of more than 4,300 digits (which ``int`` refuses) is read
    again as a :class:`_LongNumber`, so that the error names its field."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return json.loads(text, parse_int=_json_int)


def _parse_jsonl(
    content: Iterator[tuple[int, str]], source: str | None, unit_pages: bool,
) -> Iterator[Access]:
    index = 0.0
    for lineno, text in content:
        try:
            obj = _load_json(text)
        except (ValueError, RecursionError) as exc:
            detail = (f"{exc.msg} at column {exc.colno}"
                      if isinstance(exc, json.JSONDecodeError) else "too deeply nested")
            raise TraceError(f"invalid JSON: {detail}", line=lineno, source=source) from None
        if not isinstance(obj, dict):
            raise TraceError(f"expected a JSON object, got {_show(obj)}", line=lineno,
                             source=source)
        if not _KNOWN.issuperset(obj):
            unknown = [key for key in obj if key not in _KNOWN]
            raise TraceError(
                f"unknown field{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(_show(key) for key in unknown)} (known: {_KNOWN_TEXT})",
                line=lineno, source=source)
        for alias, canonical in _ALIASES.items():
            if alias in obj:
                if canonical in obj:
                    raise TraceError(f"both {canonical!r} and its alias {alias!r} given",
                                     line=lineno, field=canonical, source=source)
                obj[canonical] = obj[alias]
        if "page_id" not in obj:
            raise TraceError("missing field", line=lineno, field="page_id", source=source)
        page = _id_json(obj["page_id"], lineno, source)
        value = obj.get("time")
        time = index if value is None and "time" not in obj else _time_json(
            value, lineno, source)
        tokens = 1 if unit_pages or "tokens" not in obj else _int_json(
            obj["tokens"], lineno, source, "tokens", 1, MAX_TOKENS)
        op = _op_json(obj["op"], lineno, source) if "op" in obj else _READ
        session = _session_json(obj["session"], lineno, source) if "session" in obj else ""
        turn = (_int_json(obj["turn"], lineno, source, "turn", 0, MAX_TURN) if "turn" in obj
                else 0)
        yield _new(Access, (time, page, tokens, op, session, turn))
        index += 1.0


@contextlib.contextmanager
def _open_binary(path: str | os.PathLike[str], source: str) -> Iterator[IO[bytes]]:
    """Open a file for binary reading, through gzip or Zstandard if it starts with their
    magic bytes; the stream can ``peek``."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise TraceError(f"cannot open the trace: {exc.strerror or exc}",
                         source=source) from None
    try:
        magic = raw.read(4)
        raw.seek(0)
        if magic[:2] == _GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield io.BufferedReader(gz)
        elif magic == _ZSTD_MAGIC:
            yield io.BufferedReader(ZstdStream(raw))
        else:
            yield raw
    finally:
        raw.close()


class ZstdStream(io.RawIOBase):
    """The decompressed bytes of a Zstandard stream (every frame, as the ``zstd`` tool reads
    them), for ``io.BufferedReader``. Two things the library's own stream reader does not do:
    a stream that ends in the middle of a frame (a truncated file) raises ``ZstdError``
    instead of ending quietly, and the compressed data goes in :data:`FEED` bytes at a time,
    so that one read holds at most what that much data can expand to (8 MiB: zstd's blocks
    expand at most about 32,768 times), whatever the stream's ratio."""

    FEED = 256

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._frame = zstandard.ZstdDecompressor().decompressobj()
        self._in_frame = False
        self._pending = b""
        self._out = b""
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._out):
            data = self._pending or self._raw.read(self.FEED)
            self._pending = b""
            if not data:
                if self._in_frame:
                    raise zstandard.ZstdError("the data ends in the middle of a frame")
                return 0
            self._out, self._at = self._frame.decompress(data), 0
            self._in_frame = True
            if self._frame.eof:  # the next frame, if any, starts in what was left over
                self._pending = self._frame.unused_data
                self._frame = zstandard.ZstdDecompressor().decompressobj()
                self._in_frame = False
        size = min(len(buffer), len(self._out) - self._at)
        buffer[:size] = self._out[self._at:self._at + size]
        self._at += size
        return size


#: what reading a corrupt or truncated compressed stream raises
READ_ERRORS = (OSError, EOFError, zlib.error, zstandard.ZstdError)


def _guarded_lines(stream: IO[bytes], source: str) -> Iterator[bytes]:
    """The stream's lines; read errors (corrupt gzip, I/O) become TraceErrors."""
    lineno = 0
    iterator = iter(stream)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except READ_ERRORS as exc:
            raise read_failure(exc, lineno, source=source) from None
        lineno += 1
        yield line


def open_trace(
    path: str | os.PathLike[str], fmt: str | None = None, *, unit_pages: bool = False,
    bytes_per_token: int | None = None, csv_layout: CsvLayout | None = None,
) -> Iterator[Access]:
    """Stream the accesses of a trace file (plain, CSV, JSONL or oracleGeneral, optionally
    gzipped or Zstandard-compressed).

    ``fmt`` overrides detection (:func:`detect_format`: the extension, else the first bytes
    and line); ``csv_layout`` reads a CSV of any shape (:class:`CsvLayout`).
    The format name and the file's existence are checked at once; the file is opened on the
    first ``next()`` and closed when the iterator is exhausted or closed. Parsing errors raise
    :class:`TraceError` naming the file's name, the line and the field. ``bytes_per_token``
    reads the size column as bytes (:func:`tokens_from_bytes`).
    """
    source = Path(path).name
    # fmt None after this: sniffed from the first line while reading
    fmt = _normalise_fmt(fmt) if fmt is not None else _format_from_name(path)
    if not os.path.isfile(path):
        raise TraceError("no such file" if not os.path.exists(path) else "not a file",
                         source=str(path))
    if csv_layout is not None:
        fmt = _text_fmt(fmt, csv_layout)
    per_token = _check_bytes_per_token(bytes_per_token)
    accesses = _open_and_read(path, fmt, source, unit_pages, csv_layout)
    return accesses if per_token is None else tokens_from_bytes(accesses, per_token)


def _open_and_read(
    path: str | os.PathLike[str], fmt: str | None, source: str, unit_pages: bool,
    layout: CsvLayout | None,
) -> Iterator[Access]:
    if fmt == "plain" and layout is None:
        return _PlainStream.of(_opened(path, source, partial(_plain_blocks, source=source)))
    return _opened(path, source, partial(read_binary, fmt=fmt, source=source,
                                         unit_pages=unit_pages, csv_layout=layout))


class _PlainStream(PageReads):
    """A plain trace's reads (:class:`PageReads`: the engine can take the ids bare), with the
    file's ``close``. Taking an access or an id is C code alone: no Python frame stands
    between a plain file's parsed blocks and the engine's hot loop."""

    __slots__ = ("_blocks",)

    @classmethod
    def of(cls, blocks: Generator[list[Hashable], None, None]) -> _PlainStream:
        stream = cls(chain.from_iterable(blocks))
        stream._blocks = blocks
        return stream

    def close(self) -> None:
        """Close the file now (it closes by itself once the last block is read); what is
        left of the block already read may still come."""
        self._blocks.close()


def _opened(path: str | os.PathLike[str], source: str,
            read: Callable[[IO[bytes]], Iterable[_Item]]) -> Generator[_Item, None, None]:
    """What ``read`` yields from the file (gzip or Zstandard undone), opened on the first
    ``next()`` and closed when done; a decompressor's error is the trace's (lines and blocks
    catch their own)."""
    with _open_binary(path, source) as stream:
        try:
            yield from read(stream)
        except READ_ERRORS as exc:
            raise read_failure(exc, 0, source=source) from None


def read_failure(exc: BaseException, done: int, unit: str = "line",
                 source: str | None = None) -> TraceError:
    """A read error after ``done`` lines (or records) were read — corrupt or truncated
    compressed data, an I/O error — as the error a user sees: where reading stopped, or that
    nothing could be read at all."""
    where = f"after {unit} {done:,}" if done else "from its start"
    return TraceError(f"cannot read the trace {where} (corrupt or truncated file?): {exc}",
                      line=done + 1 if unit == "line" else None, source=source)


def open_trace_future(path: str | os.PathLike[str]) -> array:
    """OPT's future (as :func:`next_use_indices` gives it) read from an oracleGeneral file's
    next-access fields, checked as they are read (:func:`~simulator.engine.oracle_general.
    oracle_future`): 8 bytes per access and no table of page ids."""
    source = Path(path).name
    with _open_binary(path, source) as stream:
        try:
            return oracle_future(stream, source=source)
        except READ_ERRORS as exc:
            raise read_failure(exc, 0, source=source) from None


def _plain_blocks(stream: IO[bytes], source: str | None) -> Iterator[list[Hashable]]:
    """A plain trace's page ids, one block of lines after another (every access of a plain
    trace is a read of one token). A block made only of digits and line ends (the common
    case: integer ids) is parsed with one call of ``int`` per id; any other block goes through
    the line reader, which handles and names everything else (comments, text ids, bad lines)
    exactly as for any trace."""
    count = 0  # accesses so far
    lineno = 0  # lines before the block
    carry = b""  # an incomplete last line, completed by the next block
    while True:
        block = _read_block(stream, lineno, source)
        if block:
            block = carry + block
            cut = block.rfind(b"\n") + 1
            block, carry = block[:cut], block[cut:]
            if not block:
                continue
        elif carry:
            block, carry = carry + b"\n", b""
        else:
            break
        ids = _plain_ids(block)
        if ids is None:
            content = _content(_numbered(block.split(b"\n")[:-1], source, lineno + 1))
            ids = [access[1] for access in _parse_plain(content, source, first=count == 0)]
        yield ids
        count += len(ids)
        lineno += block.count(b"\n")
    if count == 0:
        raise TraceError("empty trace: no accesses found", source=source)


def _read_block(stream: IO[bytes], lineno: int, source: str | None) -> bytes:
    try:
        return stream.read(_BLOCK)
    except READ_ERRORS as exc:
        raise read_failure(exc, lineno, source=source or "") from None


def _plain_ids(block: bytes) -> list[int] | None:
    """The ids of a block of lines made only of ASCII digits (blank lines skipped, as the
    line reader skips them), or None for any other block, or one holding an id of 2**64 or
    more (the line reader names it)."""
    if block.translate(None, _DIGITS_AND_NEWLINES):
        return None
    try:
        ids = list(map(int, block.split()))
    except ValueError:  # thousands of digits: Python's int refuses them
        return None
    return None if ids and max(ids) > MAX_PAGE_ID else ids


def detect_format(path: str | os.PathLike[str], *, first_line: str | None = None) -> str:
    """The format of a trace: from its extension (``.csv``, ``.jsonl``/``.ndjson``,
    ``.txt``/``.trace``, ``.oracleGeneral`` (``.bin`` after it), each optionally followed by
    ``.gz`` or ``.zst``), else sniffed from ``first_line`` if given, else from the file's
    first bytes (a NUL: oracleGeneral) and first non-blank, non-comment line.
    """
    fmt = _format_from_name(path)
    if fmt is not None:
        return fmt
    if first_line is not None:
        return sniff_format(first_line)
    source = Path(path).name
    if not os.path.isfile(path):
        raise TraceError("no such file", source=str(path))
    with _open_binary(path, source) as stream:
        if _looks_binary(stream):
            return "oracle"
        for _lineno, text in _content(_numbered(_guarded_lines(stream, source), source)):
            return sniff_format(text)
    raise TraceError("empty trace: no accesses found", source=source)


# --------------------------------------------------------------------------------------------
# writer


def _check_text(value: Any, field: str, what: str, allow_empty: bool) -> str | None:
    """None if ``value`` is a string that reads back unchanged in every format."""
    if not isinstance(value, str):
        return f"expected {what}, got {_show(value)}"
    if not value:
        return None if allow_empty else f"expected {what}, got an empty string"
    if not value.isprintable() or value != value.strip():
        return (f"{field} {_show(value)} cannot be written: it has control characters, line "
                f"breaks or surrounding whitespace")
    return None


def _format_access(access: Any, fmt: str, lineno: int, source: str) -> tuple[Any, ...]:
    """Validate an access for writing; returns (time, page, tokens, op text, session, turn)
    ready for csv.writer / json.dumps (only the page id for plain)."""

    def fail(field: str, message: str) -> TraceError:
        return TraceError(f"cannot write access #{lineno - (fmt == 'csv')}: {message}",
                          line=lineno, field=field, source=source)

    try:
        time, page, tokens, op, session, turn = access
    except (TypeError, ValueError):
        raise TraceError(f"expected an Access, got {_show(access)}", line=lineno,
                         source=source) from None
    if isinstance(page, bool) or not isinstance(page, int | str):
        raise fail("page_id", f"expected an integer >= 0 or a string, got {_show(page)}")
    if isinstance(page, int):
        if not 0 <= page <= MAX_PAGE_ID:
            raise fail("page_id", f"expected an integer from 0 to 2**64 - 1 or a string, "
                                  f"got {_show(page)}")
    else:
        problem = _check_text(page, "page id", "a page id", allow_empty=False)
        if problem:
            raise fail("page_id", problem)
        if fmt == "plain" and page.startswith("#"):
            raise fail("page_id", f"page id {_show(page)} would read as a comment")
    if fmt == "plain":
        return (None, page, None, None, None, None)
    if (isinstance(time, bool) or not isinstance(time, int | float)
            or not (0 <= time < math.inf)):
        raise fail("time", f"expected a finite number >= 0, got {_show(time)}")
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 1 <= tokens <= MAX_TOKENS:
        raise fail("tokens", f"expected a positive integer of at most {MAX_TOKENS:,}, got "
                             f"{_show(tokens)}")
    op_value = _OPS.get(str(op.value if isinstance(op, Op) else op).lower()) if isinstance(
        op, str) else None
    if op_value is None:
        raise fail("op", f"expected one of {_OPS_TEXT}, got {_show(op)}")
    problem = _check_text(session, "session", "a string", allow_empty=True)
    if problem:
        raise fail("session", problem)
    if isinstance(turn, bool) or not isinstance(turn, int) or not 0 <= turn <= MAX_TURN:
        raise fail("turn", f"expected a non-negative integer of at most {MAX_TURN:,}, got "
                           f"{_show(turn)}")
    if isinstance(time, float) and time.is_integer() and time < 1e16:
        time = int(time)  # "5633898", not "5633898.0"; reads back as the same float
    return (time, page, tokens, op_value.value, session, turn)


def write_trace(
    path: str | os.PathLike[str], accesses: Iterable[Access], fmt: str | None = None,
) -> int:
    """Write ``accesses`` to ``path``; returns how many were written.

    ``fmt`` defaults to the format the extension names, else ``"csv"``. CSV has the header
    ``time,page_id,tokens,op,session,turn``; JSONL objects have the same keys; plain holds only
    page ids. A path ending in ``.gz`` is gzipped. The data goes to a temporary file in the same
    directory, renamed over ``path`` only when everything is written: on any error (including
    one raised by the ``accesses`` iterable) no file, or the previous file, remains.
    Strings that would not read back unchanged (line breaks, control characters, surrounding
    whitespace; a plain-format id starting with ``#``) raise :class:`TraceError`. Note that a
    string id made only of digits reads back as an ``int``.
    """
    target = Path(path)
    fmt = _normalise_fmt(fmt) if fmt is not None else (_format_from_name(target) or "csv")
    if fmt not in TEXT_FORMATS:
        raise ConfigError(f"the writer writes {', '.join(TEXT_FORMATS)}, not {fmt}",
                          field="fmt")
    source = target.name
    directory = target.parent
    fd = None
    for attempt in range(100):
        tmp = directory / f".{target.name}.{os.getpid()}.{attempt}.{os.urandom(4).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise TraceError(f"cannot write the trace: {exc.strerror or exc}",
                             source=str(path)) from None
    if fd is None:  # pragma: no cover - 100 random collisions
        raise TraceError("cannot create a temporary file", source=str(path))
    count = 0
    try:
        with open(fd, "wb") as raw:
            gz = (gzip.GzipFile(filename=target.name[:-3], mode="wb", fileobj=raw, mtime=0)
                  if target.name.lower().endswith(".gz") else None)
            text = io.TextIOWrapper(gz if gz is not None else raw, encoding="utf-8",
                                    newline="\n")
            try:
                count = _write_lines(text, accesses, fmt, source)
                text.flush()
            finally:
                text.detach()  # never let the wrapper close (or flush into) a closed file
            if gz is not None:
                gz.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return count


def _write_lines(text: IO[str], accesses: Iterable[Access], fmt: str, source: str) -> int:
    count = 0
    write = text.write
    if fmt == "csv":
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(_FIELDS)
        for access in accesses:
            writer.writerow(_format_access(access, fmt, count + 2, source))
            count += 1
    elif fmt == "jsonl":
        dumps = json.dumps
        for access in accesses:
            time, page, tokens, op, session, turn = _format_access(access, fmt, count + 1,
                                                                   source)
            write(dumps({"time": time, "page_id": page, "tokens": tokens, "op": op,
                         "session": session, "turn": turn}, ensure_ascii=False))
            write("\n")
            count += 1
    else:
        for access in accesses:
            page = _format_access(access, fmt, count + 1, source)[1]
            write(f"{page}\n")
            count += 1
    return count


# --------------------------------------------------------------------------------------------
# statistics


class TraceTooLarge(TraceError):
    """A trace past a bound given to :func:`trace_stats` (distinct pages, accesses)."""


@dataclass(frozen=True)
class TraceStats:
    """Summary of a trace, computed in one streaming pass by :func:`trace_stats`.

    ``reuse_bins[k]`` counts re-accesses whose reuse distance ``d`` (the number of *distinct*
    other pages accessed since the previous access of the same page: the LRU stack distance)
    falls in log2 bin ``k``: bin 0 is ``d == 0``, bin ``k >= 1`` is ``2**(k-1) <= d < 2**k``;
    the last bin is open-ended. ``reuse_cold`` counts first accesses. The reuse histogram covers
    the first ``reuse_sampled_requests`` accesses only (all of them unless the trace is longer
    than ``max_reuse_samples``); every other figure covers the whole trace. Every access counts,
    whatever its op.
    """

    requests: int
    distinct_pages: int
    one_hit_wonders: int
    total_tokens: int
    distinct_tokens: int
    reads: int
    writes: int
    pins: int
    unpins: int
    reuse_cold: int
    reuse_bins: tuple[int, ...]
    reuse_sampled_requests: int

    @staticmethod
    def bin_label(k: int, last: bool = False) -> str:
        if k == 0:
            return "0"
        low = 1 << (k - 1)
        if last:
            return f"{low}+"
        high = (1 << k) - 1
        return str(low) if low == high else f"{low}-{high}"

    def reuse_histogram(self) -> dict[str, int]:
        """``{"cold": n, "0": n, "1": n, "2-3": n, "4-7": n, ...}`` up to the last non-empty
        bin (the open-ended last bin is labelled ``"2**(k-1)+"``)."""
        bins = self.reuse_bins
        end = len(bins)
        while end > 0 and bins[end - 1] == 0:
            end -= 1
        histogram = {"cold": self.reuse_cold}
        for k in range(end):
            histogram[self.bin_label(k, last=k == len(bins) - 1)] = bins[k]
        return histogram

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reuse_bins"] = list(self.reuse_bins)
        data["reuse_histogram"] = self.reuse_histogram()
        return data


def trace_stats(
    accesses: Iterable[Access], *, reuse_bins: int = 32,
    max_reuse_samples: int | None = 2_000_000, max_pages: int | None = None,
    max_requests: int | None = None,
) -> TraceStats:
    """Statistics of a trace in one pass (see :class:`TraceStats`).

    Reuse distances use a Fenwick (binary indexed) tree over access positions: position ``i``
    holds 1 while access ``i`` is the latest access of its page. The distance of a re-access to
    a page last seen at position ``l`` is the number of marks after ``l``, i.e.
    ``distinct pages so far - prefix_sum(l)``: O(log n) per access. To keep memory bounded by
    the number of distinct pages rather than the trace length, the marks are renumbered
    0..D-1 (order kept) whenever the tree is full, and the tree is rebuilt at twice that size
    (amortised O(log D) per access). ``max_reuse_samples`` (None = no limit) bounds the work
    spent on the histogram for huge traces.

    Memory is one dictionary entry per distinct page (its slot) plus 40 bytes in flat arrays
    (count, size, latest position, and the tree's two words); the counts are exact.
    ``max_pages`` and ``max_requests`` (None = no limit) bound that memory and the work: one
    page or access past them raises :class:`TraceTooLarge` (field ``page_id`` for pages).
    """
    if isinstance(reuse_bins, bool) or not isinstance(reuse_bins, int) or reuse_bins < 1:
        raise ConfigError(f"expected a positive integer, got {_show(reuse_bins)}",
                          field="reuse_bins")
    for name, value in (("max_reuse_samples", max_reuse_samples), ("max_pages", max_pages),
                        ("max_requests", max_requests)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ConfigError(f"expected an integer >= 0 or None, got {_show(value)}",
                              field=name)
    limit = sys.maxsize if max_reuse_samples is None else max_reuse_samples
    page_limit = sys.maxsize if max_pages is None else max_pages
    request_limit = sys.maxsize if max_requests is None else max_requests
    last_bin = reuse_bins - 1
    bins = [0] * reuse_bins
    cold = 0
    # one slot per distinct page; per slot: accesses, latest size, latest sampled position
    slots: dict[Any, int] = {}
    counts = array("q")
    sizes = array("q")
    latest = array("q")
    op_counts: dict[Any, int] = {}
    requests = 0
    total_tokens = 0

    # Fenwick tree, 1-based; tree position = access position + 1
    cap = 1024
    tree = array("q", bytes(8 * (cap + 1)))
    marks = 0  # pages with a mark in the tree (every page seen while sampling)
    pos = 0
    sampled = 0

    for access in accesses:
        page = access[1]
        tokens = access[2]
        requests += 1
        if requests > request_limit:
            raise TraceTooLarge(f"the trace has more than {request_limit:,} accesses")
        total_tokens += tokens
        op = access[3]
        op_counts[op] = op_counts.get(op, 0) + 1
        slot = slots.get(page)
        if slot is None:
            slot = len(counts)
            if slot >= page_limit:
                raise TraceTooLarge(f"the trace has more than {page_limit:,} distinct pages",
                                    field="page_id")
            slots[page] = slot
            counts.append(1)
            sizes.append(tokens)
            latest.append(-1)
        else:
            counts[slot] += 1
            sizes[slot] = tokens
        if sampled >= limit:
            continue
        sampled += 1
        if pos == cap:
            tree, cap, pos = _compact(latest, marks)
        prev = latest[slot]
        if prev < 0:
            cold += 1
            marks += 1
        else:
            # distance = marks after prev = marks - prefix(prev) (prefix includes prev)
            i = prev + 1
            total = 0
            while i:
                total += tree[i]
                i &= i - 1
            distance = marks - total
            bins[last_bin if distance.bit_length() > last_bin else distance.bit_length()] += 1
            i = prev + 1
            while i <= cap:
                tree[i] -= 1
                i += i & -i
        i = pos + 1
        while i <= cap:
            tree[i] += 1
            i += i & -i
        latest[slot] = pos
        pos += 1
        if sampled == limit:  # free the reuse structures early
            latest = array("q")
            tree = array("q")

    return TraceStats(
        requests=requests,
        distinct_pages=len(slots),
        one_hit_wonders=counts.count(1),
        total_tokens=total_tokens,
        distinct_tokens=sum(sizes),
        reads=op_counts.get(Op.READ, 0),
        writes=op_counts.get(Op.WRITE, 0),
        pins=op_counts.get(Op.PIN, 0),
        unpins=op_counts.get(Op.UNPIN, 0),
        reuse_cold=cold,
        reuse_bins=tuple(bins),
        reuse_sampled_requests=sampled,
    )


def _compact(latest: array, marks: int) -> tuple[array, int, int]:
    """Renumber the latest-access positions 0..marks-1 (keeping their order) in a fresh tree
    of capacity max(1024, 2 * marks); returns (tree, capacity, next position). ``latest`` is
    indexed by slot, -1 for a page without a mark. Positions are distinct, so an inverse table
    (position -> slot) orders them in linear time without sorting."""
    owner = array("q", [-1]) * (max(latest, default=-1) + 1)
    for slot, position in enumerate(latest):
        if position >= 0:
            owner[position] = slot
    renumbered = 0
    for slot in owner:
        if slot >= 0:
            latest[slot] = renumbered
            renumbered += 1
    cap = max(1024, 2 * marks)
    tree = array("q", bytes(8 * (cap + 1)))
    for i in range(1, marks + 1):
        tree[i] = 1
    for i in range(1, cap + 1):  # linear-time Fenwick construction
        j = i + (i & -i)
        if j <= cap:
            tree[j] += tree[i]
    return tree, cap, marks


# --------------------------------------------------------------------------------------------
# OPT


def next_use_indices(accesses: Iterable[Access | int | str]) -> array:
    """For each position, the index of the next access to the same page, else :data:`NEVER`.

    ``accesses`` is a finite iterable of Access tuples or bare page ids. Two passes: the page
    ids are listed, then walked backwards with a dict of next positions. The result is an
    ``array('q')`` (8 bytes per access).
    """
    ids = [item[1] if isinstance(item, tuple) else item for item in accesses]
    result = array("q", [NEVER]) * len(ids)
    upcoming: dict[Any, int] = {}
    get = upcoming.get
    for index in range(len(ids) - 1, -1, -1):
        page = ids[index]
        following = get(page)
        if following is not None:
            result[index] = following
        upcoming[page] = index
    return result
