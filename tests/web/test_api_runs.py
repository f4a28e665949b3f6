"""The runs JSON API: token auth, creation, errors with status codes, control, windows."""

import json

import pytest

from vmemsite.accounts.models import ApiToken, token_digest
from vmemsite.openapi import openapi_document
from vmemsite.runs.models import Run
from vmemsite.runs.services import run_execute

from .conftest import classic, sequence

TOKEN = "vmem_test_token_0123456789abcdef"


@pytest.fixture
def token(user):
    ApiToken.objects.create(user=user, name="test", prefix=TOKEN[:8], digest=token_digest(TOKEN))
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def _post(client, url, data, headers):
    return client.post(url, data, content_type="application/json", **headers)


def test_create_with_a_token_returns_201_and_urls(client, user, token, settings):
    settings.VMEM_RUNNER = "local"
    response = _post(client, "/api/runs/", {"config": classic(), "workload": sequence(),
                                            "label": "api run"}, token)
    assert response.status_code == 201, response.content
    body = response.json()
    run = Run.objects.get(pk=body["id"])
    assert run.owner == user and run.label == "api run"
    assert response["Location"] == f"/api/runs/{run.pk}/"
    assert body["urls"]["page"] == f"/runs/{run.pk}/"
    assert body["urls"]["websocket"] == f"/ws/runs/{run.pk}/"
    assert body["status"] == "queued"


def test_create_a_comparison(client, token, settings):
    settings.VMEM_RUNNER = "local"
    response = _post(client, "/api/runs/", {
        "config": classic("fifo", 3), "workload": sequence(),
        "variants": [{"capacity_tokens": 3}, {"capacity_tokens": 4}],
    }, token)
    assert response.status_code == 201
    assert response.json()["kind"] == "compare"


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"config": {"tiers": [{"name": "L0", "capacity_tokens": 0}]}, "workload": sequence()},
     400, "config.tiers[0].capacity_tokens"),
    ({"config": {"tiers": [{"name": "L0", "capacity_tokens": 5,
                            "latency": {"kind": "constant", "ms": -1}}]},
      "workload": sequence()}, 400, "config.tiers[0].latency.ms"),
    ({"config": classic()}, 400, "workload"),
    ({"config": classic(), "workload": sequence(), "colour": "red"}, 400, "colour"),
    ({"config": classic(), "workload": {"kind": "sequence", "pages": []}}, 400,
     "workload.pages"),
    ({"config": classic(), "workload": sequence(), "variants": [{"policy": "lru"}]}, 400,
     "variants"),
])
def test_invalid_input_is_400_with_the_field(client, token, body, status, field):
    response = _post(client, "/api/runs/", body, token)
    assert response.status_code == status
    assert response.json()["field"] == field
    assert response.json()["error"]
    assert Run.objects.count() == 0


def test_bad_json_is_400(client, token):
    response = client.post("/api/runs/", "{not json", content_type="application/json", **token)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    response = client.post("/api/runs/", "[1]", content_type="application/json", **token)
    assert response.status_code == 400


def test_auth_and_methods(client, db):
    assert client.get("/api/runs/").status_code == 401
    assert client.post("/api/runs/", "{}", content_type="application/json").status_code == 401
    bad = {"HTTP_AUTHORIZATION": "Bearer nope"}
    assert client.get("/api/runs/", **bad).status_code == 401
    response = client.delete("/api/runs/")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD, POST"
    assert client.get("/api/runs/1/control").status_code == 405


def test_session_writes_need_csrf(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/runs/", {"config": classic(), "workload": sequence()},
                           content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]


def test_session_call_with_a_bogus_bearer_header_is_refused(user, settings):
    """A bearer header does not switch CSRF off: it must hold a valid token, else the call is
    refused, whatever the session cookie says."""
    from django.test import Client

    settings.VMEM_RUNNER = "local"
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    body = {"config": classic(), "workload": sequence()}
    for header in ("Bearer bogus", "Bearer ", "bearer x"):
        response = client.post("/api/runs/", body, content_type="application/json",
                               HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert "bearer token" in response.json()["error"]
    # a non-bearer Authorization header is not a token: the session rules, with CSRF
    response = client.post("/api/runs/", body, content_type="application/json",
                           HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]
    assert Run.objects.count() == 0
    # the session with its CSRF token works
    client.get("/runs/new/")
    response = client.post("/api/runs/", body, content_type="application/json",
                           HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 201, response.content


def test_a_valid_token_needs_no_csrf_even_with_a_session(user, token, settings):
    from django.test import Client

    settings.VMEM_RUNNER = "local"
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = _post(client, "/api/runs/", {"config": classic(), "workload": sequence()}, token)
    assert response.status_code == 201, response.content


def test_control_with_a_session_needs_csrf(user, settings):
    from django.test import Client

    from vmemsite.runs.services import run_create

    run = run_create(owner=user, config=classic(), workload=sequence(), submit=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/api/runs/{run.pk}/control"
    refused = client.post(url, {"action": "stop"}, content_type="application/json",
                          HTTP_AUTHORIZATION="Bearer not-a-token")
    assert refused.status_code == 401
    refused = client.post(url, {"action": "stop"}, content_type="application/json")
    assert refused.status_code == 403
    run.refresh_from_db()
    assert run.desired == Run.Desired.RUNNING


def test_public_runs_are_readable_anonymously_but_not_with_a_bad_token(user, client):
    from vmemsite.runs.services import run_create

    run = run_create(owner=user, config=classic(), workload=sequence(), submit=False,
                     public=True)
    assert client.get(f"/api/runs/{run.pk}/").status_code == 200
    assert client.head(f"/api/runs/{run.pk}/").status_code == 200
    assert client.get(f"/api/runs/{run.pk}/",
                      HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.post(f"/api/runs/{run.pk}/control", {"action": "stop"},
                       content_type="application/json").status_code == 401


@pytest.fixture
def finished(user, recorder):
    from vmemsite.runs.services import run_create

    run = run_create(owner=user, config=classic("lru", 3), workload=sequence(), submit=False)
    run_execute(run_id=run.pk, publisher=recorder)
    return run


def test_read_list_and_windows(client, token, finished):
    body = client.get(f"/api/runs/{finished.pk}/", **token).json()
    assert body["status"] == "finished" and body["result"]["faults"] == 10
    listed = client.get("/api/runs/?limit=5", **token).json()
    assert listed["count"] == 1 and listed["runs"][0]["id"] == finished.pk
    windows = client.get(f"/api/runs/{finished.pk}/windows", **token).json()
    assert len(windows["points"]["lru"]) == 12
    response = client.get(f"/api/runs/{finished.pk}/windows.csv", **token)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).count(b"\n") == 13
    assert client.get("/api/runs/?limit=x", **token).status_code == 400


def test_private_runs_are_404_and_public_ones_read_only(client, other, finished):
    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    assert stranger.get(f"/api/runs/{finished.pk}/").status_code == 404
    assert stranger.get("/api/runs/424242/").status_code == 404
    response = stranger.post(f"/api/runs/{finished.pk}/control", {"action": "pause"},
                             content_type="application/json")
    assert response.status_code == 404
    Run.objects.filter(pk=finished.pk).update(public=True)
    assert stranger.get(f"/api/runs/{finished.pk}/").status_code == 200
    assert Client().get(f"/api/runs/{finished.pk}/").status_code == 200  # anonymous read
    response = stranger.post(f"/api/runs/{finished.pk}/control", {"action": "pause"},
                             content_type="application/json")
    assert response.status_code == 403


def test_control(client, token, user, finished):
    url = f"/api/runs/{finished.pk}/control"
    assert _post(client, url, {"action": "pause"}, token).status_code == 409
    assert _post(client, url, {"action": "fly"}, token).status_code == 400
    assert _post(client, url, {}, token).json()["field"] == "action"
    response = _post(client, url, {"action": "speed", "speed": 50}, token)
    assert response.status_code == 200 and response.json()["speed"] == 50.0
    from vmemsite.runs.services import run_create

    queued = run_create(owner=user, config=classic(), workload=sequence(), submit=False)
    response = _post(client, f"/api/runs/{queued.pk}/control", {"action": "step"}, token)
    assert response.status_code == 200
    assert response.json()["desired"] == "paused" and response.json()["step_requests"] == 1


def test_openapi_entries_reference_known_schemas():
    import json

    document = openapi_document()  # generated by Django Ninja from vmemsite/runs/api.py
    OPENAPI_PATHS = {path: item for path, item in document["paths"].items()
                     if path.startswith("/api/runs/")}
    OPENAPI_SCHEMAS = document["components"]["schemas"]

    text = json.dumps(OPENAPI_PATHS)
    for name in ("RunCreate", "RunSummary", "Run", "RunControl", "Error"):
        assert name in OPENAPI_SCHEMAS
    for ref in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert ref in OPENAPI_SCHEMAS, ref
    assert set(OPENAPI_PATHS) == {"/api/runs/", "/api/runs/{run_id}/",
                                  "/api/runs/{run_id}/control", "/api/runs/{run_id}/windows",
                                  "/api/runs/{run_id}/windows.csv"}


@pytest.mark.parametrize("example", ["EXAMPLE_RUN", "EXAMPLE_COMPARISON"])
def test_the_documented_example_bodies_start_runs(client, token, settings, example):
    """The complete bodies shown on /api/ (issue 7.15) are accepted as they are."""
    import vmemsite.runs.api

    settings.VMEM_RUNNER = "local"
    response = _post(client, "/api/runs/", getattr(vmemsite.runs.api, example), token)
    assert response.status_code == 201, response.content
    detail = client.get(response["Location"], **token).json()
    assert {"tiers", "workload", "owner", "desired", "can_control"} <= set(detail)


def test_every_bad_field_is_reported_at_once(client, token):
    body = {"config": {"tiers": [{"name": "L0", "capacity_tokens": 0}], "prefetch": 10**9},
            "workload": {"kind": "generator", "name": "zipf",
                         "params": {"n_pages": 0, "alpha": -1}},
            "label": "a\x00b"}
    response = _post(client, "/api/runs/", body, token)
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"config.tiers[0].capacity_tokens", "config.prefetch", "workload.n_pages",
                      "workload.alpha", "label"}
    assert Run.objects.count() == 0


@pytest.mark.parametrize("url", ["/api/runs/", "/api/traces/1/"])
def test_a_body_over_2_mb_is_the_documented_json_413(client, token, url, data_dir):
    method = client.post if url == "/api/runs/" else client.patch
    response = method(url, json.dumps({"label": "x" * (3 * 1024 * 1024)}),
                      content_type="application/json", **token)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "too large" in response.json()["error"]


def test_an_api_bug_is_a_json_500_without_details_under_prod_settings(client, token, settings,
                                                                       monkeypatch):
    """A failure inside an operation answers JSON (never Django's HTML page, never a
    traceback), whatever DEBUG says."""
    import vmemsite.runs.api

    def broken(user):
        raise RuntimeError("a secret detail")

    monkeypatch.setattr(vmemsite.runs.api, "run_list_owned", broken)
    for debug in (False, True):
        settings.DEBUG = debug
        response = client.get("/api/runs/", **token)
        assert response.status_code == 500
        assert response["Content-Type"] == "application/json"
        assert "secret" not in response.content.decode()
        assert response.json()["error"].startswith("internal error")
