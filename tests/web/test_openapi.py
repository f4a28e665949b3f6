"""/api/openapi.json (OpenAPI 3.1, assembled from the apps) and the /api/ page."""

from __future__ import annotations

import importlib.util
import json

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import vmemsite.traces.api
from vmemsite.openapi import API_MODULES, openapi_document

TRACE_PATHS = {"/api/traces/", "/api/traces/{trace_id}/", "/api/traces/{trace_id}/file"}
HAS_RUNS_API = importlib.util.find_spec("vmemsite.runs.api") is not None


@pytest.fixture
def document(client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_the_validator_does_catch_a_broken_document(document):
    document["paths"]["/api/traces/"]["get"]["responses"] = "nothing"
    with pytest.raises(OpenAPIValidationError):
        validate(document)


def test_trace_paths_and_operations(document):
    assert set(document["paths"]) >= TRACE_PATHS
    assert set(document["paths"]["/api/traces/"]) == {"get", "post"}
    assert set(document["paths"]["/api/traces/{trace_id}/"]) >= {"get", "patch", "delete"}
    upload = document["paths"]["/api/traces/"]["post"]
    assert {"multipart/form-data", "application/octet-stream"} <= set(
        upload["requestBody"]["content"])
    assert {"201", "400", "401", "413"} <= set(upload["responses"])
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_every_reference_resolves(document):
    schemas = document["components"]["schemas"]
    refs = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref


@pytest.mark.skipif(not HAS_RUNS_API, reason="the runs API does not exist yet")
def test_runs_paths_are_included(document):
    import vmemsite.runs.api

    assert set(vmemsite.runs.api.OPENAPI_PATHS) <= set(document["paths"])
    assert any(path.startswith("/api/runs/") for path in document["paths"])


def test_schemas_defined_by_two_apps_agree():
    defined: dict[str, tuple[str, object]] = {}
    for name in API_MODULES:
        if importlib.util.find_spec(name) is None:
            continue
        module = importlib.import_module(name)
        for schema, body in getattr(module, "OPENAPI_SCHEMAS", {}).items():
            if schema in defined:
                assert defined[schema][1] == body, f"{schema}: {defined[schema][0]} vs {name}"
            defined[schema] = (name, body)
    assert set(vmemsite.traces.api.OPENAPI_SCHEMAS) <= set(defined)


def test_document_is_built_once():
    assert openapi_document() is openapi_document()


def test_api_page_lists_endpoints_with_curl_examples(client):
    response = client.get("/api/")
    assert response.status_code == 200
    html = response.content.decode()
    for path in TRACE_PATHS:
        assert path in html
    assert "curl -H &quot;Authorization: Bearer $VMEM_TOKEN&quot;" in html
    assert "http://testserver/api/traces/" in html  # examples use this server's address
    assert 'href="/api/openapi.json"' in html
    if HAS_RUNS_API:
        assert "/api/runs/" in html
