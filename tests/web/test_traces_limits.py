"""What an upload's validation may cost (issue 8.7) and what its size column means (7.13):
the gzip ratio, accesses, distinct pages, seconds, uploads at once, a client that leaves,
temporary files a killed process left; sizes in tokens, bytes or ignored, through the service,
the page, the API and a replay."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from vmemsite.accounts.services import token_create
from vmemsite.traces import services
from vmemsite.traces.models import Trace
from vmemsite.traces.selectors import trace_size_summary, trace_source
from vmemsite.traces.services import (
    TraceRejected,
    UploadLimits,
    sweep_stale_parts,
    trace_upload,
)

from .library_data import assert_nothing_saved, gz, rejected, upload

pytestmark = pytest.mark.django_db


# -- bounds of the validation ---------------------------------------------------------------


def test_a_gzip_that_expands_too_much_stops_early(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_GZIP_RATIO = 100
    settings.VMEM_TRACE_GZIP_RATIO_FLOOR = 20_000
    bomb = gz("1\n" * 200_000)  # 400 kB of text from about 1 kB: several hundred to one
    error = rejected(alice, bomb)
    assert error.status == 413 and "expands more than 100 times" in error.message
    assert error.line is not None and error.line < 200_000  # stopped early
    assert_nothing_saved(library_files)
    # the same text sent as it is, or a trace that compresses normally, is fine
    assert upload(alice, "1\n" * 200_000, name="plain").requests == 200_000


def test_accesses_past_the_bound(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_ACCESSES = 1000
    assert upload(alice, "7\n" * 1000).requests == 1000
    error = rejected(alice, "page_id\n" + "7\n" * 1001, name="long")
    assert error.status == 413 and error.line == 1002
    assert "more than 1,000 accesses" in error.message


def test_distinct_pages_past_the_bound_bound_the_memory(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_PAGES = 100
    assert upload(alice, "".join(f"{i}\n" for i in range(100)) * 3).distinct_pages == 100
    Trace.objects.all().delete()
    error = rejected(alice, "".join(f"{i}\n" for i in range(101)), name="wide")
    assert (error.status, error.line, error.field) == (413, 101, "page_id")
    assert "more than 100 distinct pages" in error.message


def test_validation_time_is_bounded(alice, library_files, settings):
    settings.VMEM_TRACE_VALIDATION_SECONDS = 0
    error = rejected(alice, "1\n" * 5000)
    assert error.status == 413 and "took more than 0 s" in error.message
    assert error.line == 1024  # the first check
    assert_nothing_saved(library_files)


def test_the_work_stops_when_the_client_leaves(alice, library_files):
    gone = threading.Event()
    gone.set()
    with pytest.raises(TraceRejected) as info:
        trace_upload(owner=alice, stream=io.BytesIO(b"1\n" * 5000), name="t", stop=gone)
    assert info.value.status == 499 and info.value.line == 1024
    assert_nothing_saved(library_files)


class _Held(io.RawIOBase):
    """A client still sending: ``read`` blocks until ``release`` is set."""

    def __init__(self, data: bytes, release: threading.Event) -> None:
        self._data = io.BytesIO(data)
        self._release = release
        self.reading = threading.Event()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reading.set()
        self._release.wait(30)
        return self._data.read(size)


def test_uploads_past_the_concurrency_bound_are_asked_to_retry(alice, library_files, settings):
    settings.VMEM_TRACE_VALIDATIONS_AT_ONCE = 1
    settings.VMEM_TRACE_QUEUE_SECONDS = 0.5
    release, gone = threading.Event(), threading.Event()
    held = _Held(b"1\n" * 5000, release)
    outcome: list[BaseException] = []

    def first() -> None:
        try:
            trace_upload(owner=alice, stream=held, name="first", stop=gone)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    worker = threading.Thread(target=first)
    worker.start()
    try:
        assert held.reading.wait(10)
        started = time.monotonic()
        error = rejected(alice, "1\n2\n", name="second")
        assert time.monotonic() - started < 5
        assert error.status == 429 and error.retry_after and error.retry_after > 0
        assert "validating 1 other upload" in error.message
    finally:
        gone.set()  # the first client leaves: its validation stops at its next check
        release.set()
        worker.join(30)
    assert isinstance(outcome[0], TraceRejected) and outcome[0].status == 499
    assert_nothing_saved(library_files)
    assert upload(alice, "1\n2\n", name="third").requests == 2  # the turn was given back


def test_temporary_files_of_a_killed_upload_are_swept_by_age(alice, data_dir):
    folder = data_dir / "traces"
    folder.mkdir()
    stale, fresh = folder / ".upload-killed.part", folder / ".upload-running.part"
    stale.write_bytes(b"1\n")
    fresh.write_bytes(b"2\n")
    old = time.time() - UploadLimits().stale_part_seconds - 60
    os.utime(stale, (old, old))
    upload(alice, "1\n")
    assert not stale.exists() and fresh.exists()
    assert sweep_stale_parts() == 0


# -- numbers and text that used to be 500s (issue 8.4): see also test_traces_hostile.py ----


@pytest.mark.parametrize("name", ["nul\x00name", "bell\x07", "lone \ud800 surrogate"])
def test_control_characters_in_a_name(alice, library_files, name):
    error = rejected(alice, "1\n", name=name)
    assert error.field == "name" and error.status == 400
    assert_nothing_saved(library_files)


def test_emoji_and_accents_are_fine_in_a_name(alice, data_dir):
    assert upload(alice, "1\n", name="café 👩‍💻 run").name == "café 👩‍💻 run"


def test_a_total_the_database_cannot_hold(alice, library_files, monkeypatch):
    monkeypatch.setattr(services, "MAX_TOTAL", 100)
    error = rejected(alice, "page_id,tokens\n1,60\n2,41\n")
    assert error.field == "tokens" and "add up to 101" in error.message
    assert_nothing_saved(library_files)


# -- the size column (issue 7.13) -------------------------------------------------------------

BLOCKS = "time,obj_id,size\n0,1,512\n1,2,4096\n2,1,512\n3,3,100\n"


def test_sizes_in_bytes_are_converted_and_replayed_the_same_way(alice, data_dir):
    trace = upload(alice, BLOCKS, size_unit="bytes", bytes_per_token=512)
    assert (trace.size_unit, trace.bytes_per_token) == ("bytes", 512)
    assert trace.total_tokens == 1 + 8 + 1 + 1 and trace.stats["total_bytes"] == 5220
    assert trace.stats["distinct_tokens"] == 1 + 8 + 1
    assert [a.tokens for a in trace_source(trace).open()] == [1, 8, 1, 1]
    assert trace_size_summary(trace) == {
        "size_unit": "bytes", "bytes_per_token": 512, "total_tokens": 11, "total_bytes": 5220,
        "note": "sizes are bytes, 512 to a token (rounded up per access)"}


def test_sizes_ignored_and_the_default(alice, data_dir):
    ignored = upload(alice, BLOCKS, size_unit="ignore", name="ignored")
    assert ignored.total_tokens == ignored.requests == 4
    assert [a.tokens for a in trace_source(ignored).open()] == [1, 1, 1, 1]
    tokens = upload(alice, BLOCKS, name="tokens")
    assert (tokens.size_unit, tokens.total_tokens) == ("tokens", 5220)
    assert upload(alice, BLOCKS, bytes_per_token="4", name="implied").size_unit == "bytes"


@pytest.mark.parametrize("kwargs,field", [
    ({"size_unit": "bytes"}, "bytes_per_token"),
    ({"size_unit": "bytes", "bytes_per_token": 0}, "bytes_per_token"),
    ({"size_unit": "bytes", "bytes_per_token": "4.5"}, "bytes_per_token"),
    ({"size_unit": "bytes", "bytes_per_token": "9" * 5000}, "bytes_per_token"),
    ({"size_unit": "tokens", "bytes_per_token": 4}, "bytes_per_token"),
    ({"size_unit": "pages"}, "size_unit"),
])
def test_bad_size_options_name_their_field(alice, library_files, kwargs, field):
    error = rejected(alice, BLOCKS, **kwargs)
    assert (error.status, error.field) == (400, field)
    assert_nothing_saved(library_files)


def test_the_page_asks_and_shows_the_unit(alice_client, data_dir):
    response = alice_client.post(reverse("traces:upload"), {
        "file": SimpleUploadedFile("cloud.csv", BLOCKS.encode()), "size_unit": "bytes",
        "bytes_per_token": "512"})
    assert response.status_code == 302, response.content.decode()[:2000]
    trace = Trace.objects.get()
    html = alice_client.get(reverse("traces:detail", args=[trace.pk])).content.decode()
    assert 'data-size-unit="bytes"' in html
    assert "Sizes are bytes, 512 to a token" in html
    assert 'data-stat="total_tokens">11 <small data-stat="total_bytes">from 5,220 bytes' in html
    listing = alice_client.get(reverse("traces:list")).content.decode()
    assert "bytes ÷ 512" in listing
    missing = alice_client.post(reverse("traces:upload"), {
        "file": SimpleUploadedFile("cloud.csv", BLOCKS.encode()), "size_unit": "bytes"})
    assert missing.status_code == 400
    assert missing.context["form"].errors["bytes_per_token"]


def test_the_api_takes_and_returns_the_unit(alice, data_dir):
    _, token = token_create(user=alice, name="tests")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.generic("POST", "/api/traces/?name=cloud&size_unit=bytes&bytes_per_token=512",
                           BLOCKS.encode(), content_type="text/csv")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["size_unit"], body["bytes_per_token"], body["total_bytes"],
            body["total_tokens"]) == ("bytes", 512, 5220, 11)
    plain = api.generic("POST", "/api/traces/?name=p&format=ndjson", b'{"page_id": 1}\n',
                        content_type="application/octet-stream").json()
    assert (plain["format"], plain["size_unit"], plain["total_bytes"]) == ("jsonl", "tokens",
                                                                          None)


def test_ndjson_is_accepted_as_jsonl(alice, data_dir):
    assert upload(alice, '{"page_id": 1}\n', fmt="ndjson").fmt == "jsonl"
    assert upload(alice, '{"page_id": 1}\n', fmt="NDJSON", name="u").fmt == "jsonl"
