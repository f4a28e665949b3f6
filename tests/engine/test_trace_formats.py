"""The formats real traces come in: libCacheSim's oracleGeneral binary, Zstandard beside gzip,
and CSV of any shape through a column layout (simulator.engine.traces, .oracle_general)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.errors import ConfigError, TraceError
from simulator.engine.sources import TraceSource, future_of
from simulator.engine.traces import (
    CsvLayout,
    detect_format,
    next_use_indices,
    open_trace,
    open_trace_future,
    read_accesses,
    trace_stats,
    write_trace,
)

RECORD = "<IQIq"


def oracle_bytes(ids: list[int], sizes: list[int] | None = None, times: list[int] | None = None,
                 nexts: list[int] | None = None) -> bytes:
    """Records built by hand from the layout libCacheSim documents (not by our reader):
    next access = the 1-based position of the object's next request, -1 if none."""
    if nexts is None:
        following: dict[int, int] = {}
        nexts = [0] * len(ids)
        for i in range(len(ids) - 1, -1, -1):
            nexts[i] = following.get(ids[i], -1)
            following[ids[i]] = i + 1
    sizes = sizes or [1] * len(ids)
    times = times or list(range(len(ids)))
    return b"".join(struct.pack(RECORD, t, i, s, n)
                    for t, i, s, n in zip(times, ids, sizes, nexts, strict=True))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# oracleGeneral


def test_hand_built_records_read_field_by_field(tmp_path):
    path = write(tmp_path / "t.oracleGeneral",
                 oracle_bytes([7, 2**64 - 1, 7], sizes=[512, 4096, 512], times=[10, 11, 12]))
    accesses = list(open_trace(path))
    assert [(a.time, a.page_id, a.tokens, a.op.value) for a in accesses] == [
        (10.0, 7, 512, "read"), (11.0, 2**64 - 1, 4096, "read"), (12.0, 7, 512, "read")]


def test_oracle_is_recognised_by_name_and_by_content(tmp_path):
    data = oracle_bytes([1, 2, 1])
    for name in ("a.oracleGeneral", "a.oracleGeneral.bin", "a.oracleGeneral.zst",
                 "a.oracle.gz"):
        assert detect_format(tmp_path / name) == "oracle"
    assert detect_format(write(tmp_path / "no-extension", data)) == "oracle"
    assert [a.page_id for a in open_trace(tmp_path / "no-extension")] == [1, 2, 1]


def test_cut_record_is_named(tmp_path):
    path = write(tmp_path / "t.oracleGeneral", oracle_bytes([1, 2, 3])[:-5])
    with pytest.raises(TraceError, match=r"record 3 is cut short: 19 of 24 bytes"):
        list(open_trace(path))


def test_zero_size_is_named_unless_sizes_are_ignored(tmp_path):
    path = write(tmp_path / "t.bin", oracle_bytes([1, 2], sizes=[5, 0]))
    with pytest.raises(TraceError) as info:
        list(open_trace(path))
    assert info.value.field == "size" and "record 2" in str(info.value)
    assert [a.tokens for a in open_trace(path, unit_pages=True)] == [1, 1]


def test_empty_binary_file_is_an_error(tmp_path):
    with pytest.raises(TraceError, match="empty"):
        list(open_trace(write(tmp_path / "t.bin", b"")))


def test_lines_of_oracle_are_refused():
    with pytest.raises(ConfigError) as info:
        read_accesses([b"x"], "oracle")
    assert info.value.field == "fmt"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=200))
def test_future_from_the_file_is_next_use_indices(ids):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "t.bin", oracle_bytes(ids))
        assert [a.page_id for a in open_trace(path)] == ids
        assert open_trace_future(path) == next_use_indices(ids)
        assert future_of(TraceSource(path)) == next_use_indices(ids)


@pytest.mark.parametrize("nexts, record", [
    ([2, -1, -1], 1),   # record 1 says position 2, but object 1 comes back at 3
    ([-1, -1, -1], 1),  # record 1 says never, but object 1 comes back at 3
    ([3, -1, 2], 3),    # record 3 points backwards
    ([3, -1, 5], 3),    # record 3 points past the end
    ([3, 3, -1], 2),    # record 2 promises object 2 at 3, where object 1 is
])
def test_wrong_future_is_an_error_never_a_wrong_opt(tmp_path, nexts, record):
    """ids 1, 2, 1: the right fields are 3, -1, -1."""
    path = write(tmp_path / "t.bin", oracle_bytes([1, 2, 1], nexts=nexts))
    with pytest.raises(TraceError) as info:
        open_trace_future(path)
    assert info.value.field == "next_access" and f"record {record}" in str(info.value)
    assert [a.page_id for a in open_trace(path)] == [1, 2, 1]  # plain reading ignores it


def test_real_trace_written_by_libcachesim(tmp_path, cloudphysics_path):
    """libCacheSim converts the shared CSV to oracleGeneral; we read back every access and
    its future, and libCacheSim reads our Zstandard compression of it."""
    lcs = pytest.importorskip("libcachesim")
    params = lcs.ReaderInitParam()
    params.delimiter, params.has_header = ",", True
    params.time_field, params.obj_id_field, params.obj_size_field = 1, 2, 3
    params.obj_id_is_num = True
    reader = lcs.TraceReader(str(cloudphysics_path), lcs.TraceType.CSV_TRACE, params)
    binary = tmp_path / "cloudPhysicsIO.oracleGeneral"
    lcs.Util.convert_to_oracleGeneral(reader._reader, str(binary))
    expected = list(open_trace(cloudphysics_path))
    assert list(open_trace(binary)) == expected
    assert open_trace_future(binary) == next_use_indices(expected)

    compressed = write(tmp_path / "cloudPhysicsIO.oracleGeneral.zst",
                       zstandard.ZstdCompressor(level=3).compress(binary.read_bytes()))
    assert list(open_trace(compressed)) == expected
    theirs = lcs.TraceReader(str(compressed), lcs.TraceType.ORACLE_GENERAL_TRACE)
    assert theirs.get_num_of_req() == len(expected)


# --------------------------------------------------------------------------------------------
# Zstandard


def test_zstd_text_reads_like_plain_text(tmp_path, cloudphysics_path):
    text = cloudphysics_path.read_bytes()
    one_frame = write(tmp_path / "a.csv.zst", zstandard.ZstdCompressor().compress(text))
    half = len(text) // 2
    cut = text.rindex(b"\n", 0, half) + 1
    two_frames = write(tmp_path / "b.zst", zstandard.ZstdCompressor().compress(text[:cut])
                       + zstandard.ZstdCompressor().compress(text[cut:]))
    gzipped = write(tmp_path / "c.csv.gz", gzip.compress(text))
    expected = list(open_trace(cloudphysics_path))
    assert list(open_trace(one_frame)) == expected
    assert list(open_trace(two_frames)) == expected  # every frame, as the zstd tool reads
    assert list(open_trace(gzipped)) == expected


def test_corrupt_zstd_is_a_trace_error(tmp_path):
    data = zstandard.ZstdCompressor().compress(b"page_id\n" + b"1\n2\n" * 50_000)
    path = write(tmp_path / "t.csv.zst", data[: len(data) // 2])
    with pytest.raises(TraceError, match="corrupt or truncated"):
        list(open_trace(path))


def test_zstd_oracle_without_a_name_is_sniffed(tmp_path):
    path = write(tmp_path / "blob", zstandard.ZstdCompressor().compress(oracle_bytes([4, 4])))
    assert detect_format(path) == "oracle"
    assert [a.page_id for a in open_trace(path)] == [4, 4]


# --------------------------------------------------------------------------------------------
# CSV layouts


def test_layout_without_header_tab_separated(tmp_path):
    path = write(tmp_path / "t.tsv", b"x\t10\t5\tread\ny\t11\t7\twrite\n")
    layout = CsvLayout.build("page_id=2,size=3,op=4", "tab", header=False)
    accesses = list(open_trace(path, csv_layout=layout))
    assert [(a.time, a.page_id, a.tokens, a.op.value) for a in accesses] == [
        (0.0, 10, 5, "read"), (1.0, 11, 7, "write")]


def test_layout_by_header_names_ignores_other_columns():
    lines = ["ts;key;bytes;ttl", "3;k1;100;0", "4;k2;200;0"]
    layout = CsvLayout.build({"time": "TS", "obj_id": "key", "size": "bytes"}, ";")
    accesses = list(read_accesses(lines, csv_layout=layout))
    assert [(a.time, a.page_id, a.tokens) for a in accesses] == [
        (3.0, "k1", 100), (4.0, "k2", 200)]


def test_layout_space_splits_on_runs_of_blanks():
    layout = CsvLayout.build("time=1,page_id=3", "space", header=False)
    assert [a.page_id for a in read_accesses(["1   R  9", "2 W 9"], csv_layout=layout)] == [9, 9]


def test_the_shared_trace_through_a_layout(cloudphysics_path):
    layout = CsvLayout.build("obj_id=2,time=1,size=3", ",", header=True)
    assert (trace_stats(open_trace(cloudphysics_path, csv_layout=layout))
            == trace_stats(open_trace(cloudphysics_path)))


@pytest.mark.parametrize("lines, message, line, field", [
    (["a,b", "1,2"], "the header has no column 'key' (for page_id)", 1, "page_id"),
    (["key,size", "1,2", "3"], "expected at least 2 fields (column 2 holds 'tokens'), got 1",
     3, None),
    (["key,size", "1,-2"], "expected a positive integer", 2, "tokens"),
])
def test_layout_errors_name_the_line_and_field(lines, message, line, field):
    layout = CsvLayout.build({"page_id": "key", "size": 2})
    with pytest.raises(TraceError) as info:
        list(read_accesses(lines, csv_layout=layout))
    assert message in str(info.value)
    assert (info.value.line, info.value.field) == (line, field)


@pytest.mark.parametrize("columns, delimiter, header, field, message", [
    ("time=1", ",", True, "columns", "page id"),
    ("page_id=1,tokns=2", ",", True, "columns", "unknown field 'tokns'"),
    ("page_id=1,obj_id=2", ",", True, "columns", "given twice"),
    ("page_id=1,size=1", ",", True, "columns", "same column"),
    ("page_id=0", ",", True, "columns", "from 1 to 1000"),
    ("page_id=key", ",", False, "columns", "only when the file has a header"),
    ("page_id", ",", True, "columns", "field=column"),
    ("page_id=1", ",,", True, "delimiter", "one character"),
    ("page_id=1", '"', True, "delimiter", "one character"),
])
def test_bad_layouts_name_their_setting(columns, delimiter, header, field, message):
    with pytest.raises(ConfigError) as info:
        CsvLayout.build(columns, delimiter, header)
    assert info.value.field == field and message in info.value.message


def test_layout_round_trips_through_a_dict():
    layout = CsvLayout.build("size=3,obj_id=key", "|", True)
    assert CsvLayout.from_dict(layout.to_dict()) == layout
    assert layout.describe() == "page_id=key, tokens=3; delimiter pipe; header"


def test_writer_refuses_the_binary_format(tmp_path):
    with pytest.raises(ConfigError):
        write_trace(tmp_path / "t.oracleGeneral", [])
    with pytest.raises(ConfigError):
        write_trace(tmp_path / "t.csv", [], fmt="oracle")


def test_a_cell_keeps_the_column_layout_of_its_trace(tmp_path):
    """A CSV of another shape is read only through its layout: a sweep's cell, which travels as
    data to another process, carries it (mrc.source_spec / open_source)."""
    from simulator.engine.mrc import Cell, open_source, run_cell, source_spec

    path = tmp_path / "kv.tsv"
    path.write_text("".join(f"GET\t{page}\n" for page in [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]))
    source = TraceSource(path, csv_layout=CsvLayout.build("page_id=2", "tab", header=False))
    spec = source_spec(source)
    assert open_source(spec).csv_layout == source.csv_layout
    assert run_cell(Cell(spec, "fifo", 3)).misses == 9  # Belady's anomaly string
    with pytest.raises(ConfigError) as info:
        open_source({**spec, "csv_layout": {"columns": {"time": 1}}})
    assert info.value.field == "source.csv_layout.columns"
