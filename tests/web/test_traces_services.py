"""Trace services: streamed, validated uploads; statistics; nothing half-saved on error."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from simulator.engine.traces import open_trace
from vmemsite.traces.models import Trace
from vmemsite.traces.selectors import trace_path, trace_reuse_histogram, trace_source
from vmemsite.traces.services import (
    TraceRejected,
    human_bytes,
    trace_delete,
    trace_import_file,
    trace_update,
    trace_upload,
)

from .library_data import CSV, JSONL, PLAIN, assert_nothing_saved, gz, rejected, upload

pytestmark = pytest.mark.django_db


# -- happy paths, every format ----------------------------------------------------------------


def test_plain_trace_statistics_worked_by_hand(alice, data_dir):
    # a b a c b a: reuse distances (distinct other pages since the previous access):
    # a@2 -> {b} = 1; b@4 -> {a, c} = 2; a@5 -> {c, b} = 2; three first accesses.
    trace = upload(alice, PLAIN, name="abacba")
    assert (trace.fmt, trace.requests, trace.distinct_pages, trace.total_tokens) == (
        "plain", 6, 3, 6)
    stats = trace.stats
    assert stats["one_hit_wonders"] == 1  # c
    assert stats["reads"] == 6 and stats["writes"] == 0
    assert stats["reuse_cold"] == 3
    assert stats["reuse_bins"][:4] == [0, 1, 2, 0]
    assert trace_reuse_histogram(trace) == [("cold", 3), ("0", 0), ("1", 1), ("2-3", 2)]
    assert trace.size_bytes == len(PLAIN)
    assert trace.owner == alice and trace.public is False


def test_csv_trace_with_sizes_and_ops(alice, data_dir):
    trace = upload(alice, CSV)
    assert trace.fmt == "csv"
    assert (trace.requests, trace.distinct_pages, trace.total_tokens) == (4, 3, 85)
    assert trace.stats["distinct_tokens"] == 25 + 20 + 30  # a page's last size counts
    assert (trace.stats["reads"], trace.stats["writes"]) == (3, 1)
    assert trace_reuse_histogram(trace) == [("cold", 3), ("0", 0), ("1", 0), ("2-3", 1)]


def test_jsonl_trace_is_detected_and_counted(alice, data_dir):
    trace = upload(alice, JSONL)
    assert trace.fmt == "jsonl"
    assert (trace.requests, trace.distinct_pages, trace.total_tokens) == (3, 2, 240)
    assert trace.stats["pins"] == 1
    assert trace_reuse_histogram(trace) == [("cold", 2), ("0", 0), ("1", 1)]


@pytest.mark.parametrize("text", [PLAIN, CSV, JSONL], ids=["plain", "csv", "jsonl"])
def test_gzip_is_recognised_by_its_bytes_and_stored_as_sent(alice, data_dir, text):
    plain = upload(alice, text, name="text")
    packed = upload(alice, gz(text), name="packed", filename="no-extension")
    assert packed.fmt == plain.fmt
    assert packed.stats == plain.stats
    assert packed.file.endswith(".gz") and packed.size_bytes == len(gz(text))
    assert trace_path(packed).read_bytes() == gz(text)


def test_stored_file_is_the_upload_and_the_engine_replays_it(alice, data_dir):
    trace = upload(alice, "# a comment\n\n" + CSV)
    path = trace_path(trace)
    assert path.parent == data_dir / "traces"
    assert path.read_text() == "# a comment\n\n" + CSV
    pages = [access.page_id for access in trace_source(trace).open()]
    assert pages == [1, 2, 3, 1]
    assert [a.page_id for a in open_trace(path, trace.fmt)] == pages


def test_given_format_wins_over_detection(alice, data_dir):
    # "page_id" alone would be sniffed as a CSV header; as plain it is a page id.
    trace = upload(alice, "page_id\n7\n", fmt="plain")
    assert (trace.fmt, trace.requests, trace.distinct_pages) == ("plain", 2, 2)
    assert upload(alice, "page_id\n7\n").requests == 1  # detected: CSV with one row


def test_name_defaults_to_the_file_name_without_extensions(alice, data_dir):
    trace = trace_upload(owner=alice, stream=io.BytesIO(gz(PLAIN)), filename="my  run.csv.gz")
    assert trace.name == "my run"


def test_bom_and_crlf_are_accepted(alice, data_dir):
    trace = upload(alice, "\ufefftime,page_id\r\n0,5\r\n1,5\r\n")
    assert (trace.fmt, trace.requests, trace.distinct_pages) == ("csv", 2, 1)


# -- errors: message with line and field; nothing left behind ------------------------------


def test_malformed_csv_line_names_line_and_field(alice, library_files):
    text = "time,page_id,tokens\n0,1,10\n# comment\n1,2,-3\n2,3,5\n"
    error = rejected(alice, text)
    assert error.message == "line 4, field 'tokens': expected a positive integer, got '-3'"
    assert (error.line, error.field, error.too_large) == (4, "tokens", False)
    assert_nothing_saved(library_files)


def test_malformed_jsonl_line_names_the_line(alice, library_files):
    error = rejected(alice, JSONL + '{"page_id": 1, "op": "erase"}\n')
    assert error.line == 4 and error.field == "op"
    assert "expected one of read, write, pin, unpin, got 'erase'" in error.message
    assert_nothing_saved(library_files)


def test_error_on_the_last_line_of_a_big_gzip_upload_leaves_nothing(alice, library_files):
    text = "page_id,tokens\n" + "".join(f"{i},1\n" for i in range(50_000)) + "7,x\n"
    error = rejected(alice, gz(text))
    assert (error.line, error.field) == (50_002, "tokens")
    assert_nothing_saved(library_files)


def test_empty_file(alice, library_files):
    assert "empty trace" in rejected(alice, "").message
    assert "empty trace" in rejected(alice, "# only a comment\n\n").message
    assert "empty trace" in rejected(alice, "time,page_id\n").message
    assert "empty trace" in rejected(alice, gz("")).message
    assert_nothing_saved(library_files)


def test_non_utf8_text_names_the_line(alice, library_files):
    error = rejected(alice, b"1\n2\n\xff\xfe3\n")
    assert error.line == 3
    assert "not valid UTF-8" in error.message
    assert_nothing_saved(library_files)


def test_corrupt_gzip_is_an_error_not_a_crash(alice, library_files):
    data = gz(PLAIN * 100)
    error = rejected(alice, data[: len(data) // 2])
    assert "corrupt or truncated" in error.message
    assert_nothing_saved(library_files)


def test_a_binary_file_without_line_breaks_is_refused(alice, library_files):
    error = rejected(alice, b"x" * (70 * 1024))
    assert error.line == 1 and "longer than" in error.message
    assert_nothing_saved(library_files)


def test_size_limit_while_streaming(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_BYTES = 1000
    ok = upload(alice, "1\n" * 500)  # exactly 1000 bytes
    assert ok.requests == 500
    Trace.objects.all().delete()
    trace_path(ok).unlink()
    error = rejected(alice, "1\n" * 501)
    assert error.too_large
    assert error.message.startswith("the trace is larger than the limit of 1 kB (1,000 bytes)")
    assert_nothing_saved(library_files)


def test_size_limit_applies_to_the_decompressed_text(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_BYTES = 10_000
    bomb = gz("1\n" * 50_000)  # 100 kB of text in a few hundred bytes
    assert len(bomb) < 10_000
    assert rejected(alice, bomb).too_large
    assert_nothing_saved(library_files)


def test_announced_size_is_refused_before_reading(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_BYTES = 100

    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("must not be read")

    with pytest.raises(TraceRejected) as info:
        trace_upload(owner=alice, stream=Unreadable(), name="big", size_hint=101)
    assert info.value.too_large
    assert_nothing_saved(library_files)


def test_bad_format_and_name(alice, library_files):
    error = rejected(alice, PLAIN, fmt="xml")
    assert error.field == "format" and "plain, csv, jsonl" in error.message
    assert rejected(alice, PLAIN, name="  ").field == "name"
    assert rejected(alice, PLAIN, name="x" * 201).field == "name"
    assert_nothing_saved(library_files)


def test_database_failure_removes_the_renamed_file(library_files):
    # The file is valid and already renamed into place when the row is refused (here: its
    # owner was never saved); the file must go too.
    ghost = get_user_model()(username="ghost")
    with pytest.raises(ValueError):
        upload(ghost, PLAIN)
    assert_nothing_saved(library_files)


# -- update, delete, import -----------------------------------------------------------------


def test_only_the_owner_updates_and_deletes(alice, bob, data_dir):
    trace = upload(alice, PLAIN, public=True)
    with pytest.raises(PermissionDenied):
        trace_update(trace=trace, user=bob, public=False)
    with pytest.raises(PermissionDenied):
        trace_delete(trace=trace, user=bob)
    trace_update(trace=trace, user=alice, public=False, name="renamed")
    trace.refresh_from_db()
    assert (trace.public, trace.name) == (False, "renamed")
    path = trace_path(trace)
    assert path.is_file()
    trace_delete(trace=trace, user=alice)
    assert not path.exists()
    assert Trace.objects.count() == 0


def test_import_file_from_disk(alice, data_dir, tmp_path: Path):
    source = tmp_path / "sample.jsonl.gz"
    source.write_bytes(gzip.compress(JSONL.encode()))
    trace = trace_import_file(owner=alice, path=source, public=True)
    assert (trace.name, trace.fmt, trace.public, trace.requests) == ("sample", "jsonl", True, 3)


def test_human_bytes():
    assert human_bytes(1) == "1 byte"
    assert human_bytes(999) == "999 bytes"
    assert human_bytes(1000) == "1 kB"
    assert human_bytes(1500) == "1.5 kB"
    assert human_bytes(200 * 1000 * 1000) == "200 MB"
