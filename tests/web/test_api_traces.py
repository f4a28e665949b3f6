"""The trace library's JSON API: /api/traces/ with token or session authentication."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from vmemsite.accounts.services import token_create
from vmemsite.traces.models import Trace
from vmemsite.traces.selectors import trace_path

from .library_data import CSV, JSONL, PLAIN, gz, upload

pytestmark = pytest.mark.django_db
API = "/api/traces/"


@pytest.fixture
def alice_api(alice, data_dir) -> Client:
    """A script's client: every call carries alice's bearer token, no cookie, CSRF enforced."""
    _, token = token_create(user=alice, name="tests")
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def bob_api(bob, data_dir) -> Client:
    _, token = token_create(user=bob, name="tests")
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")


def post_raw(client: Client, body: bytes | str, query: str = "?name=raw",
             content_type: str = "application/octet-stream"):
    return client.generic("POST", API + query, body, content_type=content_type)


# -- upload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fmt"), [(PLAIN, "plain"), (CSV, "csv"), (JSONL, "jsonl")])
def test_multipart_upload_in_every_format(alice_api, text, fmt):
    response = alice_api.post(API, {"file": SimpleUploadedFile("trace.data", text.encode()),
                                    "name": f"via api {fmt}"})
    assert response.status_code == 201, response.content
    body = response.json()
    trace = Trace.objects.get()
    assert response["Location"] == f"/api/traces/{trace.pk}/"
    assert body["id"] == trace.pk and body["format"] == fmt
    assert body["name"] == f"via api {fmt}" and body["owner"] == "alice" and body["owned"]
    assert body["stats"]["requests"] == trace.requests
    assert body["public"] is False and body["gzipped"] is False


def test_raw_body_upload_gzip_with_options(alice_api):
    response = post_raw(alice_api, gz(JSONL), "?name=session&format=jsonl&public=true")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["format"], body["public"], body["gzipped"]) == (
        "session", "jsonl", True, True)
    assert body["requests"] == 3 and body["size_bytes"] == len(gz(JSONL))


def test_raw_body_sent_as_a_form_content_type_is_still_a_raw_trace(alice_api):
    # curl --data-binary sends application/x-www-form-urlencoded unless told otherwise
    response = post_raw(alice_api, CSV, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    assert response.json()["requests"] == 4


def test_stats_of_the_hand_worked_trace(alice_api):
    body = post_raw(alice_api, PLAIN, content_type="text/plain").json()
    stats = body["stats"]
    assert (stats["requests"], stats["distinct_pages"], stats["one_hit_wonders"]) == (6, 3, 1)
    assert stats["reuse_histogram"] == [
        {"distance": "cold", "count": 3}, {"distance": "0", "count": 0},
        {"distance": "1", "count": 1}, {"distance": "2-3", "count": 2}]


def test_malformed_trace_is_a_400_with_line_and_field(alice_api, library_files):
    response = post_raw(alice_api, "time,page_id,tokens\n0,1,5\n1,2,-3\n")
    assert response.status_code == 400
    assert response.json() == {
        "error": "line 3, field 'tokens': expected a positive integer, got '-3'",
        "line": 3, "field": "tokens"}
    assert Trace.objects.count() == 0 and library_files() == []


@pytest.mark.parametrize(("body", "query", "needle", "field"), [
    (b"", "?name=x", "empty trace", None),
    (b"1\n\xff\n", "?name=x", "not valid UTF-8", None),
    (PLAIN, "", "give the trace a name", "name"),
    (PLAIN, "?name=x&format=xml", "unknown format", "format"),
    (PLAIN, "?name=x&public=maybe", "expected true or false", "public"),
    (b"1\t2\t3\n4\t5\t6\n", "?name=x", "fields separated by tabs", "page_id"),
    (b"time,obj_id,size\n1,2,3\n", "?name=x&format=plain", "is a CSV header", "page_id"),
    (PLAIN, "?name=x&fromat=csv", "unknown upload option 'fromat'", "fromat"),
])
def test_bad_uploads_are_400s(alice_api, library_files, body, query, needle, field):
    response = post_raw(alice_api, body, query)
    assert response.status_code == 400
    data = response.json()
    assert needle in data["error"]
    assert data.get("field") == field
    assert Trace.objects.count() == 0 and library_files() == []


def test_multipart_with_an_unknown_option(alice_api, library_files):
    response = alice_api.post(API, {"file": SimpleUploadedFile("t", PLAIN.encode()),
                                    "publc": "true"})
    assert response.status_code == 400
    assert response.json()["field"] == "publc"
    assert Trace.objects.count() == 0 and library_files() == []


def test_multipart_without_the_file_field(alice_api):
    response = alice_api.post(API, {"name": "x"})
    assert response.status_code == 400
    assert response.json()["field"] == "file"


def test_too_large_is_a_413(alice_api, library_files, settings):
    settings.VMEM_MAX_TRACE_BYTES = 100
    response = post_raw(alice_api, "1\n" * 51)
    assert response.status_code == 413
    assert "larger than the limit of 100 bytes" in response.json()["error"]
    response = alice_api.post(API, {"file": SimpleUploadedFile("t", gz("1\n" * 1000))})
    assert response.status_code == 413  # decompressed text over the limit
    assert Trace.objects.count() == 0 and library_files() == []


# -- reading --------------------------------------------------------------------------------


def test_list_has_own_and_public_traces(alice, bob, alice_api, data_dir):
    mine = upload(alice, PLAIN, name="mine")
    public = upload(bob, CSV, name="bobs public", public=True)
    upload(bob, CSV, name="bobs private")
    body = alice_api.get(API).json()
    assert body["count"] == 2
    assert {t["id"] for t in body["traces"]} == {mine.pk, public.pk}
    owned = {t["name"]: t["owned"] for t in body["traces"]}
    assert owned == {"mine": True, "bobs public": False}
    page = alice_api.get(API + "?limit=1&offset=1").json()
    assert (page["count"], page["limit"], page["offset"], len(page["traces"])) == (2, 1, 1, 1)
    assert alice_api.get(API + "?limit=-1").status_code == 400


def test_detail_and_file(alice, alice_api, data_dir):
    trace = upload(alice, gz(CSV))
    body = alice_api.get(f"{API}{trace.pk}/").json()
    assert body["stats"]["distinct_tokens"] == 75
    assert body["file_url"] == f"/api/traces/{trace.pk}/file"
    response = alice_api.get(body["file_url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == gz(CSV)
    response.close()


def test_another_users_private_trace_is_404_everywhere(alice, bob_api, data_dir):
    trace = upload(alice, PLAIN)
    for method in ("GET", "PATCH", "DELETE"):
        response = bob_api.generic(method, f"{API}{trace.pk}/", json.dumps({"public": True}),
                                   content_type="application/json")
        assert response.status_code == 404, method
        assert response.json() == {"error": "no such trace"}
    assert bob_api.get(f"{API}{trace.pk}/file").status_code == 404
    assert bob_api.get(f"{API}{trace.pk + 1}/").json() == {"error": "no such trace"}
    assert bob_api.get(API).json()["count"] == 0
    trace.refresh_from_db()
    assert trace.public is False


def test_another_users_public_trace_is_readable_not_writable(alice, bob_api, data_dir):
    trace = upload(alice, PLAIN, public=True)
    assert bob_api.get(f"{API}{trace.pk}/").json()["owned"] is False
    assert bob_api.delete(f"{API}{trace.pk}/").status_code == 403
    response = bob_api.patch(f"{API}{trace.pk}/", {"public": False},
                             content_type="application/json")
    assert response.status_code == 403
    trace.refresh_from_db()
    assert trace.public is True and trace_path(trace).is_file()


# -- changing -------------------------------------------------------------------------------


def test_patch_and_delete_by_the_owner(alice, alice_api, library_files):
    trace = upload(alice, PLAIN)
    url = f"{API}{trace.pk}/"
    response = alice_api.patch(url, {"public": True, "name": "shared"},
                               content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["public"], response.json()["name"]) == (True, "shared")
    for bad in ('{"public": "yes"}', '{"owner": "bob"}', "[1]", "not json", '{"name": ""}'):
        bad_response = alice_api.patch(url, bad, content_type="application/json")
        assert bad_response.status_code == 400, bad
    response = alice_api.delete(url)
    assert response.status_code == 204
    assert Trace.objects.count() == 0 and library_files() == []
    assert alice_api.get(url).status_code == 404


def test_errors_401_405(data_dir, alice_api):
    anonymous = Client()
    for method in ("get", "post"):
        response = getattr(anonymous, method)(API)
        assert response.status_code == 401
        assert "Bearer" in response.json()["error"]
    response = alice_api.put(API)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert "not allowed" in response.json()["error"]


# -- CSRF: required for session calls that write, not for token calls ------------------------


def test_session_calls_need_the_csrf_token(alice, data_dir):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get(API).status_code == 200  # reads need none
    refused = post_raw(browser, PLAIN)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]
    assert Trace.objects.count() == 0
    browser.get("/traces/")  # sets the CSRF cookie, as a page visit would
    token = browser.cookies["csrftoken"].value
    accepted = browser.generic("POST", API + "?name=ok", PLAIN,
                               content_type="text/plain", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_token_calls_need_no_csrf_token(alice_api):
    assert post_raw(alice_api, PLAIN).status_code == 201


def test_session_call_with_a_bogus_bearer_header_is_refused(alice, data_dir):
    """A bearer header does not exempt a session call from CSRF: a bogus token is refused."""
    browser = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer forged")
    browser.force_login(alice)
    refused = post_raw(browser, PLAIN)
    assert refused.status_code == 401
    assert "invalid bearer token" in refused.json()["error"]
    assert Trace.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/sweeps/abc/", "/api/traces/abc/", "/api/nothing/"])
def test_a_path_no_endpoint_has_is_a_json_404(alice_api, path):
    response = alice_api.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": "no such endpoint or object"}
    page = alice_api.get("/no/such/page/")  # elsewhere: the HTML page
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
