"""Hostile uploads through the page and the API (issue 8.4 and 8's fuzz suite): numbers past
Python's or the database's limits, NUL bytes, bad options, random and half-gzipped bodies.
Every one gets a 4xx that names the field (and the line, for the file's content), never a 5xx,
and leaves nothing behind: no row, no file.

Runs on the test database (SQLite); ``test_the_same_on_postgresql`` runs this whole module
again on a throwaway PostgreSQL database, in a subprocess."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.servers import reachable
from vmemsite.accounts.services import token_create
from vmemsite.traces.models import Trace
from vmemsite.traces.services import traces_delete

REPO = Path(__file__).resolve().parents[2]
ON_POSTGRES = "VMEM_TEST_POSTGRES_RUN" in os.environ
HUGE = "9" * 5000  # past Python's 4,300-digit limit on int(str)
BIG = "9223372036854775808"  # 2**63: past SQLite's INTEGER and PostgreSQL's bigint

pytestmark = pytest.mark.django_db

#: the page's form calls the service's fields by these names
PAGE_FIELDS = {"format": "fmt"}


@pytest.fixture
def api(alice, data_dir) -> Client:
    _, token = token_create(user=alice, name="hostile")
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_database_is_the_one_asked_for(db):
    assert connection.vendor == ("postgresql" if ON_POSTGRES else "sqlite")


# -- the cases of issue 8.4, each through the API (raw and multipart) and the page -----------

CASES = [
    # (id, file, options, field, line)
    ("page-id-of-5000-digits", f"1\n{HUGE}\n", {}, "page_id", 2),
    ("csv-page-id-of-5000-digits", f"page_id\n{HUGE}\n", {}, "page_id", 2),
    ("json-page-id-of-5000-digits", f'{{"page_id": {HUGE}}}\n', {}, "page_id", 1),
    ("page-id-of-2**64", f"{2**64}\n", {}, "page_id", 1),
    ("tokens-of-5000-digits", f"page_id,tokens\n1,{HUGE}\n", {}, "tokens", 2),
    ("tokens-of-2**63", f"page_id,tokens\n1,{BIG}\n", {}, "tokens", 2),
    ("json-tokens-of-2**63", f'{{"page_id": 1, "tokens": {BIG}}}\n', {}, "tokens", 1),
    ("json-tokens-of-5000-digits", f'{{"page_id": 1, "size": {HUGE}}}\n', {}, "tokens", 1),
    ("turn-of-5000-digits", f"page_id,turn\n1,{HUGE}\n", {}, "turn", 2),
    ("nul-in-the-name", "1\n", {"name": "a\x00b"}, "name", None),
    ("nul-in-the-format", "1\n", {"format": "csv\x00"}, "format", None),
    ("bytes-per-token-of-5000-digits", "1\n", {"size_unit": "bytes", "bytes_per_token": HUGE},
     "bytes_per_token", None),
    ("bytes-per-token-of-2**63", "1\n", {"size_unit": "bytes", "bytes_per_token": BIG},
     "bytes_per_token", None),
    ("unknown-size-unit", "1\n", {"size_unit": "pages\x00"}, "size_unit", None),
]


def assert_nothing_left(data_dir: Path) -> None:
    assert Trace.objects.count() == 0
    folder = data_dir / "traces"
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.parametrize("content,options,field,line", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_raw_api_upload(api, data_dir, content, options, field, line):
    query = urlencode({"name": "hostile", **options})
    response = api.generic("POST", f"/api/traces/?{query}", content.encode(),
                           content_type="application/octet-stream")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == field and body.get("line") == line
    assert len(body["error"]) < 400
    assert_nothing_left(data_dir)


@pytest.mark.parametrize("content,options,field,line", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_multipart_api_upload(api, data_dir, content, options, field, line):
    response = api.post("/api/traces/", {
        "file": SimpleUploadedFile("t.data", content.encode()), "name": "hostile",
        **options})
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["field"] == field and body.get("line") == line
    assert_nothing_left(data_dir)


@pytest.mark.parametrize("content,options,field,line", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_page_upload(alice_client, data_dir, content, options, field, line):
    fields = {"fmt" if key == "format" else key: value for key, value in options.items()}
    response = alice_client.post(reverse("traces:upload"), {
        "file": SimpleUploadedFile("t.data", content.encode()), **fields})
    assert response.status_code == 400
    errors = response.context["form"].errors
    where = PAGE_FIELDS.get(field, field) if field in ("name", "format", "size_unit",
                                                       "bytes_per_token") else "file"
    assert list(errors) == [where], errors
    if line is not None:
        assert f"line {line}, field '{field}'" in errors[where][0]
    assert_nothing_left(data_dir)


def test_renaming_to_a_nul_is_a_400(api, data_dir):
    created = api.generic("POST", "/api/traces/?name=ok", b"1\n",
                          content_type="application/octet-stream")
    assert created.status_code == 201
    response = api.patch(created["Location"], {"name": "bad\x00name"},
                         content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "name"
    assert Trace.objects.get().name == "ok"


# -- the fuzz suite ----------------------------------------------------------------------------

_LINE = st.one_of(
    st.sampled_from(["1", "a", "page_id", "page_id,tokens", "time,page_id,tokens,op,session,turn",
                     "obj_id,size", "# comment", "", " ", "0,1,2,read,s,0", "1,2",
                     '{"page_id": 1}', '{"page_id": 1, "tokens": 0}', '{"page_id": "x"',
                     "[" * 50, HUGE, BIG, f"1,{BIG}", f'{{"page_id": {HUGE}}}', "\x00",
                     "\ud800", "\ufeff1", '"a","b"']),
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=24),
)
_TEXT = st.builds(
    lambda lines, ending: ending.join(lines).encode("utf-8", "surrogatepass"),
    st.lists(_LINE, max_size=12), st.sampled_from(["\n", "\r\n", "\r"]))
_BODY = st.one_of(
    _TEXT,
    st.binary(max_size=200),
    _TEXT.map(lambda data: gzip.compress(data, mtime=0)),
    st.tuples(_TEXT, st.floats(0.1, 0.9)).map(
        lambda pair: gzip.compress(pair[0] * 20, mtime=0)[: max(3, int(
            len(gzip.compress(pair[0] * 20, mtime=0)) * pair[1]))]),
)
_OPTIONS = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=210), st.sampled_from(["a\x00b", " ", "x" * 201])),
    "format": st.sampled_from(["", "auto", "plain", "csv", "jsonl", "ndjson", "NDJSON", "xml",
                               "csv\x00", "txt"]),
    "public": st.sampled_from(["", "true", "false", "maybe", "\x00"]),
    "size_unit": st.sampled_from(["", "tokens", "bytes", "ignore", "pages", "\x00"]),
    "bytes_per_token": st.sampled_from(["", "1", "4", "512", "0", "-1", "4.5", "x", BIG, HUGE]),
})
_CHANNEL = st.sampled_from(["raw", "multipart", "page"])
_FILENAME = st.sampled_from(["t.csv", "t.jsonl.gz", "trace", "n.ndjson", "a\x00b.txt", ""])


def _send(client_api: Client, client_page: Client, channel: str, body: bytes, options: dict,
          filename: str):
    if channel == "raw":
        return client_api.generic("POST", f"/api/traces/?{urlencode(options)}", body,
                                  content_type="application/octet-stream")
    upload = SimpleUploadedFile(filename or "t", body)
    if channel == "multipart":
        return client_api.post("/api/traces/", {"file": upload, **options})
    fields = {"fmt" if key == "format" else key: value for key, value in options.items()}
    return client_page.post(reverse("traces:upload"), {"file": upload, **fields})


def _library(data_dir: Path) -> list[str]:
    folder = data_dir / "traces"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@settings(max_examples=120 if ON_POSTGRES else 200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(channel=_CHANNEL, body=_BODY, options=_OPTIONS, filename=_FILENAME)
def test_fuzzed_uploads_never_fail_the_server_nor_leave_anything(
        api, alice_client, data_dir, channel, body, options, filename):
    response = _send(api, alice_client, channel, body, options, filename)
    status = response.status_code
    assert status < 500, (status, response.content[:300])
    if status in (201, 302):
        assert Trace.objects.count() == 1 and len(_library(data_dir)) == 1
        traces_delete(traces=Trace.objects.all())
    else:
        assert 400 <= status < 500
        if channel != "page":
            assert response.json()["error"]
    assert Trace.objects.count() == 0 and _library(data_dir) == []


# -- the same on PostgreSQL --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(ON_POSTGRES, reason="this is the PostgreSQL run")
def test_the_same_on_postgresql(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    if not reachable("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not listening on 127.0.0.1:5432")
    name = f"vmem_hostile_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
           "VMEM_TEST_POSTGRES_RUN": "1", "VMEM_DATA_DIR": str(tmp_path / "data")}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-o", "addopts=--strict-markers", "-q", "-p",
             "no:cacheprovider", "-x",
             str(Path(__file__).relative_to(REPO))],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                             autocommit=True, connect_timeout=5) as conn:
            for db in (name, f"test_{name}"):
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
