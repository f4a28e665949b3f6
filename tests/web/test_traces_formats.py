"""Uploads in the formats real traces come in: libCacheSim's oracleGeneral (written by
libCacheSim itself from the shared real trace), Zstandard, and CSV of another shape through a
column layout, by the service, the page and the API; errors name the record or line."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import zstandard
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from simulator.engine.traces import open_trace
from tests.engine.conftest import shared_trace_candidates
from vmemsite.accounts.services import token_create
from vmemsite.traces.models import Trace
from vmemsite.traces.selectors import trace_path, trace_source

from .library_data import assert_nothing_saved, rejected, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def cloudphysics() -> Path:
    path = next((p for p in shared_trace_candidates("cloudPhysicsIO.plain.csv")
                 if p.is_file()), None)
    if path is None:
        pytest.skip("the shared trace cloudPhysicsIO.plain.csv is not here")
    return path


@pytest.fixture(scope="module")
def oracle_file(cloudphysics, tmp_path_factory) -> Path:
    """The shared trace converted to oracleGeneral by libCacheSim itself."""
    lcs = pytest.importorskip("libcachesim")
    params = lcs.ReaderInitParam()
    params.delimiter, params.has_header = ",", True
    params.time_field, params.obj_id_field, params.obj_size_field = 1, 2, 3
    params.obj_id_is_num = True
    reader = lcs.TraceReader(str(cloudphysics), lcs.TraceType.CSV_TRACE, params)
    path = tmp_path_factory.mktemp("oracle") / "cloudPhysicsIO.oracleGeneral"
    lcs.Util.convert_to_oracleGeneral(reader._reader, str(path))
    return path


@pytest.fixture
def alice_api(alice, data_dir) -> Client:
    _, token = token_create(user=alice, name="tests")
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")


def records(ids: list[int], nexts: list[int], size: int = 8) -> bytes:
    return b"".join(struct.pack("<IQIq", k, i, size, n)
                    for k, (i, n) in enumerate(zip(ids, nexts, strict=True)))


def test_oracle_written_by_libcachesim_has_the_statistics_of_the_csv(
        alice, data_dir, cloudphysics, oracle_file):
    text = upload(alice, cloudphysics.read_bytes(), name="csv", size_unit="bytes",
                  bytes_per_token=512)
    binary = upload(alice, zstandard.ZstdCompressor().compress(oracle_file.read_bytes()),
                    name="oracle", filename="cp.oracleGeneral.zst", size_unit="bytes",
                    bytes_per_token=512)
    assert (binary.fmt, binary.compression) == ("oracle", "zstd")
    assert trace_path(binary).name.endswith(".oracle.zst")
    assert binary.stats == text.stats
    assert binary.requests == 113_872 and binary.distinct_pages == 48_974
    assert list(trace_source(binary).open()) == list(trace_source(text).open())


def test_zstd_csv_is_stored_as_sent(alice, data_dir, cloudphysics):
    data = zstandard.ZstdCompressor().compress(cloudphysics.read_bytes())
    trace = upload(alice, data, name="z", filename="cp.csv.zst")
    assert (trace.fmt, trace.compression, trace.size_bytes) == ("csv", "zstd", len(data))
    assert trace_path(trace).read_bytes() == data
    assert list(trace_source(trace).open()) == list(open_trace(cloudphysics))


@pytest.mark.parametrize("body, message, field", [
    (records([1, 2, 1], [3, -1, -1])[:-7], "record 3 is cut short: 17 of 24 bytes", None),
    (records([1, 2, 1], [-1, -1, -1]), "record 1 says object 1 is requested never again, "
                                       "but record 3 requests it", "next_access"),
    (records([1, 2], [-1, -1], size=0), "record 1: expected a size from 1", "size"),
])
def test_bad_records_are_named(alice, library_files, body, message, field):
    error = rejected(alice, body)
    assert error.status == 400 and message in error.message and error.field == field
    assert_nothing_saved(library_files)


def test_a_zstd_bomb_stops_early(alice, library_files, settings):
    settings.VMEM_MAX_TRACE_GZIP_RATIO = 100
    settings.VMEM_TRACE_GZIP_RATIO_FLOOR = 20_000
    error = rejected(alice, zstandard.ZstdCompressor().compress(b"1\n" * 5_000_000))
    assert error.status == 413 and "zstd data expands more than 100 times" in error.message
    assert error.line < 1_000_000
    assert_nothing_saved(library_files)


def test_truncated_zstd_is_a_400(alice, library_files):
    data = zstandard.ZstdCompressor().compress(
        "".join(f"{k * 7919 % 100_003}\n" for k in range(50_000)).encode())
    error = rejected(alice, data[: len(data) // 2])
    assert error.status == 400 and "corrupt or truncated" in error.message
    assert_nothing_saved(library_files)


def test_a_trace_unreadable_from_its_start_says_so(alice, library_files):
    # one zstd block cut in half: not a line can be read ("after line 0" said nothing)
    data = zstandard.ZstdCompressor().compress(b"time,obj_id,size\n" + b"1,2,512\n" * 10_000)
    error = rejected(alice, data[: len(data) // 2], fmt="csv")
    assert error.status == 400 and error.line == 1
    assert "cannot read the trace from its start (corrupt or truncated file?)" in error.message
    assert_nothing_saved(library_files)


def test_api_upload_with_a_column_layout(alice_api):
    body = b"GET\t10\t7\t5\nGET\t11\t8\t6\nSET\t10\t9\t5\n"
    response = alice_api.post("/api/traces/", {
        "file": SimpleUploadedFile("kv.tsv", body), "columns": "time=3,page_id=2,size=4",
        "delimiter": "tab", "header": "false"})
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["csv_layout"] == {"columns": {"time": 3, "page_id": 2, "tokens": 4},
                                  "delimiter": "\t", "header": False}
    assert (data["format"], data["requests"], data["distinct_pages"], data["total_tokens"]) == (
        "csv", 3, 2, 16)
    trace = Trace.objects.get()
    assert [(a.time, a.page_id, a.tokens) for a in trace_source(trace).open()] == [
        (7.0, 10, 5), (8.0, 11, 6), (9.0, 10, 5)]


@pytest.mark.parametrize("options, field, message", [
    ({"columns": "time=1"}, "columns", "page id"),
    ({"columns": "page_id=key", "header": "false"}, "columns", "only when the file has a header"),
    ({"columns": "page_id=1", "delimiter": "::"}, "delimiter", "one character"),
    ({"delimiter": "tab"}, "columns", "needs the columns too"),
    ({"columns": "page_id=1", "format": "jsonl"}, "columns", "describe a CSV"),
    ({"columns": "page_id=id"}, "page_id", "the header has no column 'id'"),
])
def test_api_bad_layouts_name_the_field(alice_api, library_files, options, field, message):
    response = alice_api.post("/api/traces/", {
        "file": SimpleUploadedFile("t.csv", b"a,b\n1,2\n"), **options})
    assert response.status_code == 400
    assert response.json()["field"] == field and message in response.json()["error"]
    assert_nothing_saved(library_files)


def test_page_upload_with_columns_and_an_error_beside_the_field(alice_client, data_dir):
    url = reverse("traces:upload")
    # the page sends its default delimiter with every upload: without columns it means nothing
    plain = alice_client.post(url, {"file": SimpleUploadedFile("p.txt", b"1\n2\n"),
                                    "delimiter": "comma"})
    assert plain.status_code == 302
    Trace.objects.all().delete()
    bad = alice_client.post(url, {"file": SimpleUploadedFile("t.csv", b"x;y\n1;2\n"),
                                  "columns": "obj_id=1,size=zz", "delimiter": "semicolon"})
    assert bad.status_code == 400
    assert "the header has no column" in bad.context["form"].errors["file"][0]
    good = alice_client.post(url, {"file": SimpleUploadedFile("t.csv", b"x;y\n1;2\n3;4\n"),
                                   "columns": "obj_id=1,size=y", "delimiter": "semicolon"})
    assert good.status_code == 302
    trace = Trace.objects.get()
    assert (trace.requests, trace.total_tokens) == (2, 6)
    page = alice_client.get(reverse("traces:detail", args=[trace.pk]))
    assert "page_id=1, tokens=y; delimiter semicolon; header" in page.content.decode()


def test_download_keeps_the_format_and_compression(alice_client, alice, data_dir):
    trace = upload(alice, zstandard.ZstdCompressor().compress(records([5, 5], [2, -1])),
                   name="tiny")
    response = alice_client.get(reverse("traces:download", args=[trace.pk]))
    assert response["Content-Type"] == "application/zstd"
    assert 'filename="tiny.oracleGeneral.zst"' in response["Content-Disposition"]


def test_server_side_import_over_the_api(alice, data_dir, tmp_path, settings, cloudphysics):
    """Staff import a file already on the server, under the import's bounds (past an
    upload's), confined to the import folder."""
    folder = tmp_path / "imports"
    (folder / "msr").mkdir(parents=True)
    (folder / "msr" / "cp.csv.zst").write_bytes(
        zstandard.ZstdCompressor().compress(cloudphysics.read_bytes()))
    settings.VMEM_TRACE_IMPORT_DIR = str(folder)
    settings.VMEM_MAX_TRACE_ACCESSES = 1000  # an upload could not take it
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"path": "msr/cp.csv.zst", "size_unit": "ignore"}
    refused = api.post("/api/traces/import", body, content_type="application/json")
    assert refused.status_code == 403 and "staff" in refused.json()["error"]
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    (tmp_path / "outside.txt").write_text("1\n2\n")
    for path in ("../outside.txt", "/etc/passwd", "msr/none.csv", "msr"):
        bad = api.post("/api/traces/import", {"path": path}, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["field"] == "path", path
    done = api.post("/api/traces/import", body, content_type="application/json")
    assert done.status_code == 201, done.json()
    assert (done.json()["requests"], done.json()["compression"]) == (113_872, "zstd")
    settings.VMEM_TRACE_IMPORT_DIR = ""
    off = api.post("/api/traces/import", body, content_type="application/json")
    assert off.status_code == 400 and "not configured" in off.json()["error"]
