"""Trace readers, writers, statistics and the OPT helper (simulator.engine.traces)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import sys
from array import array
from collections.abc import Callable, Iterable
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import traces
from simulator.engine.access import Access, Op
from simulator.engine.errors import ConfigError, TraceError
from simulator.engine.traces import (
    FORMAT_ALIASES,
    MAX_PAGE_ID,
    MAX_TOKENS,
    MAX_TURN,
    NEVER,
    TraceStats,
    TraceTooLarge,
    detect_format,
    next_use_indices,
    open_trace,
    read_accesses,
    sniff_format,
    tokens_from_bytes,
    trace_stats,
    write_trace,
)

REPO = Path(__file__).resolve().parents[2]


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read(text: str, fmt: str | None = None, **kwargs) -> list[Access]:
    return list(read_accesses(text.splitlines(), fmt, **kwargs))


def error_of(text: str | bytes, fmt: str | None = None, source: str | None = None,
             **kwargs) -> TraceError:
    lines = text.splitlines(keepends=True)
    with pytest.raises(TraceError) as info:
        list(read_accesses(lines, fmt, source=source, **kwargs))
    return info.value


# --------------------------------------------------------------------------------------------
# plain


def test_a_table_read_as_plain_is_named_not_misread() -> None:
    """No page id has a tab (the writer refuses one): a TSV sniffed as plain is an error at
    its first line, not a trace of ids such as "1\t2\t3"."""
    with pytest.raises(TraceError, match="separated by tabs") as info:
        read("1\t20\t512\n2\t21\t512\n", "plain")
    assert (info.value.line, info.value.field) == (1, "page_id")
    assert [a.page_id for a in read("doc 1\n", "plain")] == ["doc 1"]  # a space is an id's


@pytest.mark.parametrize("header", ["time,obj_id,size", "page_id,tokens", " Obj_ID , Size "])
def test_a_csv_read_as_plain_is_named_at_its_header(tmp_path, header) -> None:
    """A CSV with our header read as plain (the shared trace is named ``*.plain.csv``) would
    be a trace of ids such as "5633898,42932745,512": an error at line 1 instead, on the
    line reader and on the file reader alike (after a comment too)."""
    text = f"# from the lab\n{header}\n1,2,3\n"
    with pytest.raises(TraceError, match="is a CSV header") as info:
        read(text, "plain")
    assert (info.value.line, info.value.field) == (2, "page_id")
    path = tmp_path / "t.plain.csv"
    path.write_text(text)
    with pytest.raises(TraceError, match="read the file as CSV"):
        list(open_trace(path, "plain"))
    # ids that merely hold commas, or a header further down, are ids
    assert [a.page_id for a in read("doc,1\ntime,obj_id\n", "plain")] == ["doc,1", "time,obj_id"]
    assert [a.page_id for a in read("time,x\n", "plain")] == ["time,x"]


def test_plain_ids_comments_and_blank_lines() -> None:
    accesses = read("# a comment\n\n42\nabc\n  7  \n   # indented comment\n007\nx-1\n", "plain")
    assert [a.page_id for a in accesses] == [42, "abc", 7, 7, "x-1"]
    assert [a.time for a in accesses] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert all(a.tokens == 1 and a.op is Op.READ and a.session == "" and a.turn == 0
               for a in accesses)
    assert all(type(a.time) is float for a in accesses)


def test_digit_rule_is_ascii_only_and_negative_ids_stay_strings() -> None:
    accesses = read("12\n-5\n1.5\n\u0661\u0662\n", "plain")  # Arabic-Indic digits stay str
    assert [a.page_id for a in accesses] == [12, "-5", "1.5", "\u0661\u0662"]


# --------------------------------------------------------------------------------------------
# CSV


def test_csv_all_columns() -> None:
    text = ("time,page_id,tokens,op,session,turn\n"
            "0,a,10,read,s1,0\n"
            "1.5,17,3,WRITE,s2,4\n"
            "2,b,1,Pin,,1\n"
            "3,b,1,unpin,s1,1\n")
    assert read(text, "csv") == [
        Access(0.0, "a", 10, Op.READ, "s1", 0),
        Access(1.5, 17, 3, Op.WRITE, "s2", 4),
        Access(2.0, "b", 1, Op.PIN, "", 1),
        Access(3.0, "b", 1, Op.UNPIN, "s1", 1),
    ]


def test_csv_aliases_any_order_case_and_whitespace() -> None:
    text = "SIZE , Obj_Id,Time\n 512 , 42932745 , 5633898\n6656,x y,5633899\n"
    assert read(text, "csv") == [
        Access(5633898.0, 42932745, 512),
        Access(5633899.0, "x y", 6656),
    ]


def test_csv_without_time_uses_the_index_and_defaults() -> None:
    assert read("page_id\n3\n4\n# comment\n\n3\n", "csv") == [
        Access(0.0, 3), Access(1.0, 4), Access(2.0, 3)]


def test_csv_quoted_fields() -> None:
    text = 'page_id,session\n"a,b","say ""hi"""\n'
    assert read(text, "csv") == [Access(0.0, "a,b", 1, Op.READ, 'say "hi"', 0)]


def test_csv_times_need_not_be_sorted() -> None:
    assert [a.time for a in read("time,page_id\n5,a\n1,b\n3,c\n", "csv")] == [5.0, 1.0, 3.0]


def test_csv_bom_is_ignored() -> None:
    assert read("\ufefftime,obj_id\n1,2\n") == [Access(1.0, 2)]


# --------------------------------------------------------------------------------------------
# JSONL


def test_jsonl_fields_aliases_and_id_rule() -> None:
    text = "\n".join([
        '{"time": 0, "page_id": 5}',
        '{"obj_id": "5", "size": 7, "time": 1.25}',
        '{"page_id": "doc-1", "tokens": "3", "op": "Write", "session": "s", "turn": 2}',
        "",
        "# comment",
        '{"page_id": "0012", "time": "4"}',
    ])
    assert read(text, "jsonl") == [
        Access(0.0, 5),
        Access(1.25, 5, 7),
        Access(2.0, "doc-1", 3, Op.WRITE, "s", 2),
        Access(4.0, 12),
    ]


# --------------------------------------------------------------------------------------------
# unit pages


@pytest.mark.parametrize("fmt,text", [
    ("csv", "time,obj_id,size\n0,1,512\n1,2,-3\n2,1,x\n"),
    ("jsonl", '{"obj_id":1,"size":512}\n{"obj_id":2,"size":-3}\n{"obj_id":1,"size":null}\n'),
])
def test_unit_pages_ignores_sizes(fmt: str, text: str) -> None:
    accesses = read(text, fmt, unit_pages=True)
    assert [(a.page_id, a.tokens) for a in accesses] == [(1, 1), (2, 1), (1, 1)]


# --------------------------------------------------------------------------------------------
# files, gzip and detection


def test_open_trace_by_extension(tmp_path: Path) -> None:
    csv_path = write_text(tmp_path / "t.csv", "time,obj_id,size\n0,1,2\n")
    jsonl_path = write_text(tmp_path / "t.ndjson", '{"page_id": 1, "tokens": 2}\n')
    plain_path = write_text(tmp_path / "t.trace", "1\n")
    assert list(open_trace(csv_path)) == [Access(0.0, 1, 2)]
    assert list(open_trace(jsonl_path)) == [Access(0.0, 1, 2)]
    assert list(open_trace(plain_path)) == [Access(0.0, 1)]


def test_explicit_fmt_overrides_the_extension(tmp_path: Path) -> None:
    path = write_text(tmp_path / "t.txt", "page_id,tokens\n1,2\n")
    with pytest.raises(TraceError, match="is a CSV header"):  # .txt: plain, not ids
        list(open_trace(path))
    assert list(open_trace(path, fmt="csv")) == [Access(0.0, 1, 2)]


@pytest.mark.parametrize("name", ["t.csv.gz", "t.csv", "t.data", "noextension"])
def test_gzip_is_detected_by_magic_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"time,obj_id,size\n0,1,2\n1,abc,3\n"))
    assert list(open_trace(path)) == [Access(0.0, 1, 2), Access(1.0, "abc", 3)]


def test_gzipped_jsonl_without_extension_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "trace.bin"
    path.write_bytes(gzip.compress(b'\n{"page_id": 3}\n'))
    assert detect_format(path) == "jsonl"
    assert list(open_trace(path)) == [Access(0.0, 3)]


@pytest.mark.parametrize("name,fmt", [
    ("a.csv", "csv"), ("a.CSV", "csv"), ("a.jsonl", "jsonl"), ("a.ndjson", "jsonl"),
    ("a.txt", "plain"), ("a.trace", "plain"), ("a.csv.gz", "csv"), ("a.jsonl.gz", "jsonl"),
    ("dir.x/a.trace.gz", "plain"),
])
def test_detect_format_by_extension(name: str, fmt: str) -> None:
    assert detect_format(name) == fmt  # the file need not exist


@pytest.mark.parametrize("line,fmt", [
    ('{"page_id": 1}', "jsonl"), ("time,obj_id,size", "csv"), ("5633898,42932745,512", "csv"),
    ("page_id", "csv"), ("OBJ_ID", "csv"), ("42932745", "plain"), ("doc-7", "plain"),
    ("\ufeff{}", "jsonl"),
])
def test_sniff_format(line: str, fmt: str) -> None:
    assert sniff_format(line) == fmt
    assert detect_format("upload", first_line=line) == fmt


def test_detect_format_sniffs_the_first_content_line(tmp_path: Path) -> None:
    path = write_text(tmp_path / "trace.log", "# header comment\n\ntime,page_id\n1,2\n")
    assert detect_format(path) == "csv"
    assert list(open_trace(path)) == [Access(1.0, 2)]


def test_read_accesses_sniffs_and_accepts_bytes() -> None:
    lines = [b"time,page_id\n", b"1,a\r\n", b"2,b"]
    assert list(read_accesses(lines)) == [Access(1.0, "a"), Access(2.0, "b")]


def test_open_trace_is_lazy_and_closes_the_file(tmp_path: Path) -> None:
    path = write_text(tmp_path / "t.txt", "1\n2\n3\n")
    stream = open_trace(path)
    path.unlink()  # not opened yet: the first next() fails cleanly
    with pytest.raises(TraceError, match="cannot open"):
        next(stream)
    path = write_text(tmp_path / "t.txt", "1\n2\n3\n")
    stream = open_trace(path)
    assert next(stream).page_id == 1
    stream.close()


# --------------------------------------------------------------------------------------------
# errors


def test_the_documented_error_message(tmp_path: Path) -> None:
    lines = ["time,page_id,tokens"] + [f"{i},{i},1" for i in range(15)] + ["15,p,-3", "16,q,1"]
    path = write_text(tmp_path / "trace.csv", "\n".join(lines) + "\n")
    with pytest.raises(TraceError) as info:
        list(open_trace(path))
    assert str(info.value) == (
        "trace.csv, line 17, field 'tokens': expected a positive integer, got '-3'")
    assert (info.value.line, info.value.field, info.value.source) == (17, "tokens", "trace.csv")


CSV_HEAD = "time,page_id,tokens,op,session,turn\n0,a,1,read,s,0\n"

CSV_ERRORS = [
    # (body appended after two good lines, line, field, message fragment)
    ("1,a,0,read,s,0", 3, "tokens", "expected a positive integer, got '0'"),
    ("1,a,1.5,read,s,0", 3, "tokens", "expected a positive integer, got '1.5'"),
    ("1,a,,read,s,0", 3, "tokens", "expected a positive integer, got ''"),
    ("1,a,+2,read,s,0", 3, "tokens", "got '+2'"),
    ("-1,a,1,read,s,0", 3, "time", "expected a finite number >= 0, got '-1'"),
    ("nan,a,1,read,s,0", 3, "time", "got 'nan'"),
    ("inf,a,1,read,s,0", 3, "time", "got 'inf'"),
    ("yesterday,a,1,read,s,0", 3, "time", "got 'yesterday'"),
    (",a,1,read,s,0", 3, "time", "got ''"),
    ("1,a,1,get,s,0", 3, "op", "expected one of read, write, pin, unpin, got 'get'"),
    ("1,a,1,read,s,-1", 3, "turn", "expected a non-negative integer, got '-1'"),
    ("1, ,1,read,s,0", 3, "page_id", "expected a page id, got an empty value"),
    ("1,a,1,read,s", 3, None, "expected 6 fields as in the header, got 5"),
    ("1,a,1,read,s,0,extra", 3, None, "expected 6 fields as in the header, got 7"),
    ('1,"a,1,read,s,0', 3, None, "malformed CSV"),
    ("\n# comment\n1,a,1,read,s,0\n1,b,x,read,s,0", 6, "tokens", "got 'x'"),
]


@pytest.mark.parametrize("body,line,field,fragment", CSV_ERRORS)
def test_csv_errors(body: str, line: int, field: str | None, fragment: str) -> None:
    error = error_of(CSV_HEAD + body + "\n", "csv", source="t.csv")
    assert (error.line, error.field, error.source) == (line, field, "t.csv")
    assert fragment in str(error)
    assert str(error).startswith(f"t.csv, line {line}")


@pytest.mark.parametrize("header,field,fragment", [
    ("time,size,turn", "page_id", "no page_id (or obj_id) column; got 'time', 'size', 'turn'"),
    ("5633898,42932745,512", "page_id", "no page_id (or obj_id) column"),
    ("time,page_id,tokns,colour", None, "unknown columns 'tokns', 'colour' (known: time"),
    ("time,page_id,", None, "unknown column ''"),
    ("page_id,obj_id", "page_id", "column 'page_id' given twice"),
    ("size,tokens,page_id", "tokens", "column 'tokens' given twice"),
])
def test_csv_header_errors_name_line_1(header: str, field: str | None, fragment: str) -> None:
    error = error_of(header + "\n1,2,3\n", "csv")
    assert (error.line, error.field) == (1, field)
    assert fragment in str(error)


def test_csv_header_error_names_the_header_line_after_comments() -> None:
    error = error_of("# made by hand\n\ntime,obj\n1,2\n", "csv")
    assert error.line == 3


JSONL_ERRORS = [
    ('{"page_id": 1.5}', "page_id", "expected a page id (an integer >= 0 or a string), got 1.5"),
    ('{"page_id": true}', "page_id", "got true"),
    ('{"page_id": null}', "page_id", "got null"),
    ('{"page_id": -4}', "page_id", "got -4"),
    ('{"page_id": [1]}', "page_id", "got [1]"),
    ('{"page_id": ""}', "page_id", "empty value"),
    ('{"time": 3}', "page_id", "missing field"),
    ('{"page_id": 1, "tokens": 0}', "tokens", "expected a positive integer, got 0"),
    ('{"page_id": 1, "tokens": 2.0}', "tokens", "got 2.0"),
    ('{"page_id": 1, "tokens": true}', "tokens", "got true"),
    ('{"page_id": 1, "size": "-3"}', "tokens", "got '-3'"),
    ('{"page_id": 1, "time": null}', "time", "expected a finite number >= 0, got null"),
    ('{"page_id": 1, "time": -0.5}', "time", "got -0.5"),
    ('{"page_id": 1, "time": NaN}', "time", "got NaN"),
    ('{"page_id": 1, "time": 1e999}', "time", "got Infinity"),
    ('{"page_id": 1, "time": false}', "time", "got false"),
    ('{"page_id": 1, "op": "delete"}', "op", "got 'delete'"),
    ('{"page_id": 1, "op": 1}', "op", "got 1"),
    ('{"page_id": 1, "session": 7}', "session", "expected a string, got 7"),
    ('{"page_id": 1, "turn": -1}', "turn", "expected a non-negative integer, got -1"),
    ('{"page_id": 1, "obj_id": 2}', "page_id", "both 'page_id' and its alias 'obj_id'"),
    ('{"page_id": 1, "kind": "doc", "x": 1}', None, "unknown fields 'kind', 'x'"),
    ('{"page_id": 1', None, "invalid JSON: Expecting ',' delimiter at column 14"),
    ("[1, 2]", None, "expected a JSON object, got [1, 2]"),
    ('"page"', None, "expected a JSON object"),
    ("[" * 100_000, None, "invalid JSON"),
]


@pytest.mark.parametrize("body,field,fragment", JSONL_ERRORS)
def test_jsonl_errors(body: str, field: str | None, fragment: str) -> None:
    text = '{"page_id": 1}\n\n{"page_id": 2}\n' + body + "\n"
    error = error_of(text, "jsonl", source="t.jsonl")
    assert (error.line, error.field) == (4, field)
    assert fragment in str(error)


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"time,page_id\n1,a\n2,\xff\xfeb\n3,c\n")
    with pytest.raises(TraceError) as info:
        list(open_trace(path))
    assert info.value.line == 3
    assert "not valid UTF-8" in str(info.value)
    assert str(info.value).startswith("t.csv, line 3: ")
    # the same from an in-memory byte stream, and in a gzipped file
    error = error_of(b"1\n2\n\xc3(\n", "plain")
    assert error.line == 3
    gz = tmp_path / "t2.txt"
    gz.write_bytes(gzip.compress(b"1\n\x80\n"))
    with pytest.raises(TraceError, match="line 2: not valid UTF-8"):
        list(open_trace(gz))


@pytest.mark.parametrize("text,fragment", [
    ("", "empty trace: no accesses found"),
    ("\n\n  \n", "empty trace: no accesses found"),
    ("# only\n# comments\n", "empty trace: no accesses found"),
    ("time,obj_id,size\n", "empty trace: a header but no accesses"),
    ("time,obj_id,size\n\n# nothing\n", "empty trace: a header but no accesses"),
])
def test_empty_traces(tmp_path: Path, text: str, fragment: str) -> None:
    path = write_text(tmp_path / "empty.csv", text)
    with pytest.raises(TraceError, match=fragment):
        list(open_trace(path))


def test_empty_file_of_unknown_format(tmp_path: Path) -> None:
    path = write_text(tmp_path / "empty", "")
    with pytest.raises(TraceError, match="empty trace"):
        list(open_trace(path))
    with pytest.raises(TraceError, match="empty trace"):
        detect_format(path)


def test_missing_file_and_bad_format(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        open_trace(tmp_path / "absent.csv")
    with pytest.raises(TraceError, match="not a file"):
        open_trace(tmp_path)
    with pytest.raises(ConfigError, match="unknown trace format 'xml'"):
        open_trace(tmp_path / "absent.csv", fmt="xml")
    with pytest.raises(ConfigError) as info:
        read_accesses([], "parquet")
    assert info.value.field == "fmt"


def test_corrupt_gzip(tmp_path: Path) -> None:
    data = gzip.compress(("\n".join(str(i) for i in range(50_000)) + "\n").encode())
    path = tmp_path / "t.txt.gz"
    path.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(TraceError, match="corrupt or truncated"):
        list(open_trace(path))
    path.write_bytes(data[:10] + b"\x00" * 40 + data[50:])  # damaged
    with pytest.raises(TraceError, match="corrupt or truncated"):
        list(open_trace(path))


_LINES = st.lists(st.one_of(
    st.text(max_size=30),
    st.sampled_from(["time,page_id,tokens", "page_id", '{"page_id": 1}', '{"obj_id": "x"}',
                     "1,2,3", '"', "{", "0", "#", ""]),
), max_size=6)


@settings(max_examples=300, deadline=None)
@given(lines=_LINES, fmt=st.sampled_from([None, "plain", "csv", "jsonl"]),
       unit=st.booleans())
def test_any_input_parses_or_raises_trace_error(lines: list[str], fmt: str | None,
                                                unit: bool) -> None:
    try:
        accesses = list(read_accesses(lines, fmt, unit_pages=unit))
    except TraceError as exc:
        assert exc.line is None or 1 <= exc.line <= len(lines)
    else:
        assert accesses
        for access in accesses:
            assert isinstance(access.page_id, int | str) and not isinstance(access.page_id, bool)
            assert access.tokens >= 1 and access.time >= 0 and access.turn >= 0


_PLAIN_LINES = st.lists(st.one_of(
    st.integers(0, 2**64 + 5).map(str),
    st.sampled_from(["", "# comment", "007", "12\r", " 3", "4 ", "a", "1 2", "\ufeff5",
                     "9" * 30, "-1", "\u0663"]),
), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_PLAIN_LINES, block=st.integers(1, 64), last_newline=st.booleans(),
       gz=st.booleans())
def test_plain_files_read_by_blocks_as_line_by_line(tmp_path_factory: pytest.TempPathFactory,
                                                    lines: list[str], block: int,
                                                    last_newline: bool, gz: bool) -> None:
    """The plain reader of files parses blocks of digit lines at once: the same accesses,
    or the same error (line and field), as the line reader, wherever the blocks cut."""
    text = "\n".join(lines) + ("\n" if last_newline else "")
    data = text.encode()
    folder = tmp_path_factory.mktemp("plain")
    named = folder / "t.txt"  # plain by its name
    sniffed = folder / "t"  # plain by its first line
    for path in (named, sniffed):
        path.write_bytes(gzip.compress(data) if gz else data)

    def outcome(read: Callable[[], Iterable[Access]]) -> object:
        try:
            return list(read())
        except TraceError as exc:
            return (str(exc), exc.line, exc.field)

    with mock.patch.object(traces, "_BLOCK", block):
        for path in (named, sniffed):
            expected = outcome(lambda p=path: read_accesses(data.splitlines(keepends=True),
                                                            "plain", source=p.name))
            assert outcome(lambda p=path: open_trace(p)) == expected
            if path is named:  # known to be plain: a stream of page reads, the same bare
                bare = outcome(lambda p=path: open_trace(p).page_ids())
                assert bare == (expected if isinstance(expected, tuple)
                                else [access.page_id for access in expected])


@settings(max_examples=200, deadline=None)
@given(data=st.lists(st.binary(max_size=20), max_size=5))
def test_any_bytes_parse_or_raise_trace_error(data: list[bytes]) -> None:
    with contextlib.suppress(TraceError):
        list(read_accesses(data))


# --------------------------------------------------------------------------------------------
# writer and round trips


SAMPLE = [
    Access(0.0, 1, 10, Op.READ, "s1", 0),
    Access(0.5, "doc-1", 3, Op.WRITE, "s1", 1),
    Access(2.0, "a,b \"quoted\"", 1, Op.PIN, "", 2),
    Access(1e20, 2**40, 2**33, Op.UNPIN, "sessión ü", 3),
    Access(3.25, "x", 1, Op.READ, "", 0),
]


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl", "t.csv.gz", "t.ndjson.gz", "t.out"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_trace(path, iter(SAMPLE)) == len(SAMPLE)
    assert list(open_trace(path)) == SAMPLE
    assert sorted(os.listdir(tmp_path)) == [name]  # no temporary file left


def test_plain_round_trip_keeps_only_ids(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    assert write_trace(path, SAMPLE) == 5
    assert [a.page_id for a in open_trace(path)] == [a.page_id for a in SAMPLE]
    assert [a.time for a in open_trace(path)] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_written_formats(tmp_path: Path) -> None:
    write_trace(tmp_path / "a.csv", SAMPLE[:2])
    assert (tmp_path / "a.csv").read_text() == (
        "time,page_id,tokens,op,session,turn\n0,1,10,read,s1,0\n0.5,doc-1,3,write,s1,1\n")
    write_trace(tmp_path / "a.jsonl", SAMPLE[:1])
    assert json.loads((tmp_path / "a.jsonl").read_text()) == {
        "time": 0, "page_id": 1, "tokens": 10, "op": "read", "session": "s1", "turn": 0}
    write_trace(tmp_path / "a.txt.gz", SAMPLE[:2])
    assert gzip.decompress((tmp_path / "a.txt.gz").read_bytes()) == b"1\ndoc-1\n"
    write_trace(tmp_path / "b", SAMPLE[:1], fmt="jsonl")
    assert (tmp_path / "b").read_text().startswith("{")


def test_digit_string_ids_come_back_as_ints(tmp_path: Path) -> None:
    write_trace(tmp_path / "t.jsonl", [Access(0.0, "0042")])
    assert next(open_trace(tmp_path / "t.jsonl")).page_id == 42


def _exploding(n: int):
    for i in range(n):
        yield Access(float(i), i)
    raise RuntimeError("generator failed")


@pytest.mark.parametrize("name", ["t.csv", "t.jsonl.gz", "t.txt"])
def test_failed_write_leaves_nothing(tmp_path: Path, name: str) -> None:
    with pytest.raises(RuntimeError, match="generator failed"):
        write_trace(tmp_path / name, _exploding(10_000))
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_trace(path, SAMPLE)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_trace(path, _exploding(5))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["t.csv"]


@pytest.mark.parametrize("access,fmt,field,fragment", [
    (Access(0.0, -1), "csv", "page_id", "got -1"),
    (Access(0.0, True), "csv", "page_id", "got true"),
    (Access(0.0, 1.5), "jsonl", "page_id", "got 1.5"),
    (Access(0.0, ""), "csv", "page_id", "empty string"),
    (Access(0.0, "a\nb"), "jsonl", "page_id", "line breaks"),
    (Access(0.0, " a"), "plain", "page_id", "surrounding whitespace"),
    (Access(0.0, "#a"), "plain", "page_id", "would read as a comment"),
    (Access(-1.0, 1), "csv", "time", "got -1.0"),
    (Access(float("nan"), 1), "jsonl", "time", "got NaN"),
    (Access(0.0, 1, 0), "csv", "tokens", "got 0"),
    (Access(0.0, 1, 1, "delete"), "csv", "op", "got 'delete'"),
    (Access(0.0, 1, 1, Op.READ, "s\t"), "csv", "session", "control characters"),
    (Access(0.0, 1, 1, Op.READ, "", -2), "jsonl", "turn", "got -2"),
])
def test_unwritable_accesses(tmp_path: Path, access: Access, fmt: str, field: str,
                             fragment: str) -> None:
    path = tmp_path / "t.out"
    with pytest.raises(TraceError) as info:
        write_trace(path, [Access(0.0, 1), access], fmt=fmt)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert "cannot write access #2" in str(info.value)
    assert info.value.line == (3 if fmt == "csv" else 2)
    assert os.listdir(tmp_path) == []


def test_writer_accepts_op_strings(tmp_path: Path) -> None:
    write_trace(tmp_path / "t.csv", [Access(0.0, 1, 1, "WRITE")])
    assert next(open_trace(tmp_path / "t.csv")).op is Op.WRITE


def _text_ok(value: str) -> bool:
    return value.isprintable() and value == value.strip()


_IDS = st.one_of(
    st.integers(min_value=0, max_value=MAX_PAGE_ID),
    st.text(min_size=1, max_size=12).filter(
        lambda s: _text_ok(s) and not (s.isascii() and s.isdigit())),
)
_ACCESS = st.builds(
    Access,
    time=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    page_id=_IDS,
    tokens=st.integers(min_value=1, max_value=MAX_TOKENS),
    op=st.sampled_from(list(Op)),
    session=st.text(max_size=8).filter(_text_ok),
    turn=st.integers(min_value=0, max_value=MAX_TURN),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(accesses=st.lists(_ACCESS, min_size=1, max_size=20),
       name=st.sampled_from(["t.csv", "t.jsonl", "t.csv.gz", "t.jsonl.gz"]))
def test_round_trip_property(tmp_path: Path, accesses: list[Access], name: str) -> None:
    path = tmp_path / name
    assert write_trace(path, accesses) == len(accesses)
    assert list(open_trace(path)) == accesses
    assert list(open_trace(path, unit_pages=True)) == [a._replace(tokens=1) for a in accesses]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.lists(_IDS.filter(lambda p: not str(p).startswith("#")), min_size=1,
                    max_size=20))
def test_plain_round_trip_property(tmp_path: Path, ids: list[int | str]) -> None:
    path = tmp_path / "t.trace"
    write_trace(path, [Access(0.0, p) for p in ids])
    assert [a.page_id for a in open_trace(path)] == ids


# --------------------------------------------------------------------------------------------
# statistics


def _accesses(ids, tokens=None, ops=None) -> list[Access]:
    return [Access(float(i), p, tokens[i] if tokens else 1, ops[i] if ops else Op.READ)
            for i, p in enumerate(ids)]


def naive_distances(ids) -> list[int | None]:
    out: list[int | None] = []
    for i, page in enumerate(ids):
        previous = max((j for j in range(i) if ids[j] == page), default=None)
        out.append(None if previous is None else len(set(ids[previous + 1:i])))
    return out


def histogram_of(distances, bins: int = 32) -> tuple[int, tuple[int, ...]]:
    counts = [0] * bins
    for d in distances:
        if d is not None:
            counts[min(d.bit_length(), bins - 1)] += 1
    return sum(d is None for d in distances), tuple(counts)


def test_hand_worked_reuse_distances() -> None:
    ids = ["a", "b", "a", "c", "b", "a"]
    assert naive_distances(ids) == [None, None, 1, None, 2, 2]
    stats = trace_stats(_accesses(ids))
    assert stats.reuse_cold == 3
    assert stats.reuse_bins[:4] == (0, 1, 2, 0)  # d=1 once, d in 2-3 twice
    assert stats.reuse_histogram() == {"cold": 3, "0": 0, "1": 1, "2-3": 2}
    assert stats.reuse_sampled_requests == 6


def test_hand_worked_stats() -> None:
    ids = ["a", "a", "b", "c", "a", "b"]
    tokens = [5, 7, 2, 4, 9, 3]
    ops = [Op.READ, Op.WRITE, Op.READ, Op.PIN, Op.UNPIN, "write"]
    stats = trace_stats(_accesses(ids, tokens, ops))
    assert stats == TraceStats(
        requests=6, distinct_pages=3, one_hit_wonders=1, total_tokens=30,
        distinct_tokens=9 + 3 + 4, reads=2, writes=2, pins=1, unpins=1, reuse_cold=3,
        reuse_bins=(1, 0, 2) + (0,) * 29, reuse_sampled_requests=6)
    # a: cold, 0, then 2 (b, c) ; b: cold, then 2 (c, a)
    data = stats.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["reuse_histogram"] == {"cold": 3, "0": 1, "1": 0, "2-3": 2}


def test_stats_of_an_empty_stream() -> None:
    stats = trace_stats([])
    assert (stats.requests, stats.distinct_pages, stats.reuse_cold) == (0, 0, 0)
    assert stats.reuse_histogram() == {"cold": 0}


def test_last_bin_is_open_ended() -> None:
    ids = [*range(20), 0]  # distance 19
    stats = trace_stats(_accesses(ids), reuse_bins=3)
    assert stats.reuse_bins == (0, 0, 1)
    assert stats.reuse_histogram() == {"cold": 20, "0": 0, "1": 0, "2+": 1}


def test_reuse_sampling_limit() -> None:
    ids = [1, 2, 1, 2, 1, 2, 3, 3]
    stats = trace_stats(_accesses(ids), max_reuse_samples=4)
    assert stats.reuse_sampled_requests == 4
    assert (stats.reuse_cold, sum(stats.reuse_bins)) == (2, 2)
    assert (stats.requests, stats.distinct_pages) == (8, 3)  # the rest covers everything


@pytest.mark.parametrize("kwargs,field", [
    ({"reuse_bins": 0}, "reuse_bins"), ({"reuse_bins": True}, "reuse_bins"),
    ({"max_reuse_samples": -1}, "max_reuse_samples"),
])
def test_stats_arguments(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        trace_stats([], **kwargs)
    assert info.value.field == field


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.integers(0, 12), max_size=60))
def test_reuse_histogram_matches_brute_force(ids: list[int]) -> None:
    stats = trace_stats(_accesses(ids))
    assert (stats.reuse_cold, stats.reuse_bins) == histogram_of(naive_distances(ids))


@pytest.mark.parametrize("seed,n_pages", [(1, 30), (2, 400), (3, 3000)])
def test_reuse_histogram_across_tree_compactions(seed: int, n_pages: int) -> None:
    rng = random.Random(seed)
    ids = [int(rng.paretovariate(1.0)) % n_pages for _ in range(5000)]  # > 1024: compacts
    stats = trace_stats(_accesses(ids))
    assert (stats.reuse_cold, stats.reuse_bins) == histogram_of(naive_distances_fast(ids))


def naive_distances_fast(ids) -> list[int | None]:
    """LRU stack simulation: the stack position of a page is its reuse distance."""
    stack: list = []
    out: list[int | None] = []
    for page in ids:
        if page in stack:
            depth = len(stack) - 1 - stack.index(page)
            out.append(depth)
            stack.remove(page)
        else:
            out.append(None)
        stack.append(page)
    return out


def test_the_two_reference_implementations_agree() -> None:
    rng = random.Random(5)
    ids = [rng.randrange(15) for _ in range(300)]
    assert naive_distances(ids) == naive_distances_fast(ids)


# --------------------------------------------------------------------------------------------
# the real trace


def test_real_trace_stats(cloudphysics_path: Path) -> None:
    stats = trace_stats(open_trace(cloudphysics_path, unit_pages=True))
    assert stats.requests == 113_872
    assert stats.distinct_pages == 48_974
    assert stats.one_hit_wonders == 21_049
    assert stats.total_tokens == 113_872 and stats.distinct_tokens == 48_974
    assert stats.reads == 113_872 and stats.writes == 0
    assert stats.reuse_cold == 48_974
    assert sum(stats.reuse_bins) == 113_872 - 48_974


def test_real_trace_fields_and_sizes(cloudphysics_path: Path) -> None:
    path = cloudphysics_path
    first = next(open_trace(path))
    assert first == Access(5633898.0, 42932745, 512)
    sized = trace_stats(open_trace(path))
    assert sized.total_tokens > sized.distinct_tokens > 48_974


# --------------------------------------------------------------------------------------------
# next use (OPT)


def test_next_use_indices() -> None:
    result = next_use_indices(["a", "b", "a", "c", "b", "a"])
    assert isinstance(result, array) and result.typecode == "q"
    assert list(result) == [2, 4, 5, NEVER, NEVER, NEVER]
    assert sys.maxsize == NEVER
    assert list(next_use_indices(_accesses([1, 1, 2]))) == [1, NEVER, NEVER]
    assert len(next_use_indices([])) == 0
    assert list(next_use_indices(iter([7, "7", 7]))) == [2, NEVER, NEVER]


@settings(max_examples=200, deadline=None)
@given(ids=st.lists(st.one_of(st.integers(0, 5), st.sampled_from("abc")), max_size=40))
def test_next_use_matches_brute_force(ids: list) -> None:
    expected = [next((j for j in range(i + 1, len(ids)) if ids[j] == ids[i]), NEVER)
                for i in range(len(ids))]
    assert list(next_use_indices(ids)) == expected


# --------------------------------------------------------------------------------------------
# numbers out of range: an error naming the line and the field, never a ValueError from int()

HUGE = "9" * 5000  # past Python's 4,300-digit limit on int(str)


@pytest.mark.parametrize("fmt,body,field", [
    ("plain", HUGE, "page_id"),
    ("plain", str(2**64), "page_id"),
    ("csv", f"1,{HUGE},1,read,s,0", "page_id"),
    ("csv", f"1,a,{HUGE},read,s,0", "tokens"),
    ("csv", "1,a,9223372036854775808,read,s,0", "tokens"),
    ("csv", f"1,a,{10**12 + 1},read,s,0", "tokens"),
    ("csv", f"1,a,1,read,s,{HUGE}", "turn"),
    ("csv", f"1,a,1,read,s,{2**31}", "turn"),
    ("jsonl", f'{{"page_id": {HUGE}}}', "page_id"),
    ("jsonl", f'{{"page_id": {2**64}}}', "page_id"),
    ("jsonl", f'{{"page_id": "{HUGE}"}}', "page_id"),
    ("jsonl", f'{{"page_id": 1, "tokens": {HUGE}}}', "tokens"),
    ("jsonl", '{"page_id": 1, "tokens": 9223372036854775808}', "tokens"),
    ("jsonl", f'{{"page_id": 1, "size": "{HUGE}"}}', "tokens"),
    ("jsonl", f'{{"page_id": 1, "turn": {HUGE}}}', "turn"),
    ("jsonl", f'{{"page_id": 1, "time": {HUGE}}}', "time"),
    ("jsonl", f'{{"page_id": 1, "session": -{HUGE}}}', "session"),
])
def test_numbers_out_of_range_name_the_line_and_field(fmt: str, body: str, field: str) -> None:
    head = {"plain": "1\n2\n", "csv": CSV_HEAD, "jsonl": '{"page_id": 1}\n{"page_id": 2}\n'}
    error = error_of(head[fmt] + body + "\n", fmt)
    assert (error.line, error.field) == (3, field)
    assert len(str(error)) < 300  # the value is shown shortened


def test_the_largest_numbers_accepted() -> None:
    biggest = 2**64 - 1
    assert read(f"{biggest}\n")[0].page_id == biggest
    csv_row = read(f"time,page_id,tokens,turn\n0,{biggest},{10**12},{2**31 - 1}\n")[0]
    assert (csv_row.page_id, csv_row.tokens, csv_row.turn) == (biggest, 10**12, 2**31 - 1)
    row = read(f'{{"page_id": {biggest}, "tokens": {10**12}, "turn": {2**31 - 1}}}\n')[0]
    assert (row.page_id, row.tokens, row.turn) == (biggest, 10**12, 2**31 - 1)


def test_ndjson_is_a_name_of_jsonl() -> None:
    assert FORMAT_ALIASES["ndjson"] == "jsonl"
    assert read('{"page_id": 3}\n', "ndjson")[0].page_id == 3


# --------------------------------------------------------------------------------------------
# sizes in bytes


@pytest.mark.parametrize("fmt,text", [
    ("csv", "page_id,size\na,1\nb,4\nc,5\nd,4096\n"),
    ("jsonl", '{"page_id": "a", "tokens": 1}\n{"page_id": "b", "size": 4}\n'
              '{"page_id": "c", "size": 5}\n{"page_id": "d", "tokens": 4096}\n'),
])
def test_sizes_in_bytes_become_tokens_rounded_up(fmt: str, text: str) -> None:
    assert [a.tokens for a in read(text, fmt, bytes_per_token=4)] == [1, 1, 2, 1024]
    assert [a.tokens for a in read(text, fmt)] == [1, 4, 5, 4096]


def test_bytes_per_token_on_a_file_and_its_check(tmp_path: Path) -> None:
    path = write_text(tmp_path / "t.csv", "page_id,size\na,512\nb,513\n")
    assert [a.tokens for a in open_trace(path, bytes_per_token=512)] == [1, 2]
    assert [a.tokens for a in tokens_from_bytes(open_trace(path), 256)] == [2, 3]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigError) as info:
            open_trace(path, bytes_per_token=bad)
        assert info.value.field == "bytes_per_token"


def test_real_trace_in_bytes(cloudphysics_path: Path) -> None:
    stats = trace_stats(open_trace(cloudphysics_path, bytes_per_token=512))
    raw = trace_stats(open_trace(cloudphysics_path))
    assert stats.requests == raw.requests == 113_872
    assert stats.total_tokens == sum(-(-a.tokens // 512) for a in open_trace(cloudphysics_path))
    assert stats.total_tokens < raw.total_tokens


# --------------------------------------------------------------------------------------------
# bounded statistics


@pytest.mark.parametrize("bound,fitting,past,field,fragment", [
    ("max_pages", [*range(5), 0], [*range(5), 0, 5], "page_id", "more than 5 distinct pages"),
    ("max_requests", [1] * 5, [1] * 6, None, "more than 5 accesses"),
])
def test_stats_stop_at_their_bounds(bound: str, fitting: list, past: list, field: str | None,
                                    fragment: str) -> None:
    stats = trace_stats(_accesses(fitting), **{bound: 5})
    assert (stats.requests, stats.distinct_pages) == (len(fitting), len(set(fitting)))
    with pytest.raises(TraceTooLarge) as info:
        trace_stats(_accesses(past), **{bound: 5})
    assert info.value.field == field and fragment in str(info.value)
