"""The OpenAPI 3.1 document of the lab's JSON API (``/api/openapi.json``) and the readable
API page (``/api/``).

The document is assembled from the apps' own descriptions: ``traces.api`` (the trace library)
and ``vmemsite.runs.api`` (runs), each exporting ``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS``. A
schema defined by both must be identical (checked by tests/web/test_openapi.py).
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

#: modules that describe part of the API, in the order their paths are listed
API_MODULES = ("vmemsite.runs.api", "vmemsite.traces.api")

_METHODS = ("get", "post", "put", "patch", "delete")


def _api_modules() -> list[Any]:
    modules = []
    for name in API_MODULES:
        # vmemsite.runs.api (the runs API) is written in parallel with the trace library: until it
        # exists, the document holds only the trace endpoints. Only absence is tolerated; an
        # error inside an existing module propagates.
        if importlib.util.find_spec(name) is None:
            continue
        modules.append(importlib.import_module(name))
    return modules


@cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process; callers get a shared dict: do not
    modify it, use :func:`copy.deepcopy`)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for module in _api_modules():
        paths.update(copy.deepcopy(getattr(module, "OPENAPI_PATHS", {})))
        for name, schema in getattr(module, "OPENAPI_SCHEMAS", {}).items():
            schemas.setdefault(name, copy.deepcopy(schema))
    used_tags = {tag for item in paths.values() for method, op in item.items()
                 if method in _METHODS for tag in op.get("tags", [])}
    descriptions = {
        "runs": "Simulation runs and comparisons: create from a configuration, read status "
                "and results, control, export windowed metrics.",
        "traces": "The trace library: upload (streamed, validated line by line), list, read "
                  "statistics, download, share, delete.",
    }
    tags = [{"name": tag, "description": descriptions.get(tag, "")} for tag in sorted(used_tags)]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VMem Lab API",
            "version": "1",
            "summary": "Simulate virtual memory for LLM context: runs and the trace library.",
            "description": (
                "Authenticate scripts with `Authorization: Bearer <token>` (create tokens at "
                "/accounts/tokens/). A signed-in browser session works too; its writes need "
                "Django's CSRF token in the `X-CSRFToken` header. Errors are JSON objects "
                "with an `error` message meant for a person. A private resource of another "
                "user answers 404, exactly like one that does not exist."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": tags,
        "security": [{"bearerToken": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "An API token from /accounts/tokens/"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "sessionid",
                                  "description": "A signed-in browser session (writes also "
                                                 "need the X-CSRFToken header)"},
            },
        },
    }


@require_GET
def openapi_json(request: HttpRequest) -> HttpResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 2})


def _endpoints(document: dict[str, Any], base_url: str) -> list[dict[str, Any]]:
    """Every operation, for the docs page: method, path, summary, description, curl
    examples (the operation's ``x-codeSamples``, else a generated one)."""
    endpoints = []
    for path, item in document["paths"].items():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            samples = [
                {"label": sample.get("label", "curl"),
                 "source": sample["source"].replace("$VMEM_URL", base_url)}
                for sample in op.get("x-codeSamples", []) if sample.get("lang") == "curl"
            ]
            if not samples:
                parts = ["curl" + ("" if method == "get" else f" -X {method.upper()}")
                         + ' -H "Authorization: Bearer $VMEM_TOKEN"']
                if "requestBody" in op:
                    parts.append("-H 'Content-Type: application/json' -d @body.json")
                parts.append(f"{base_url}{path}")
                samples = [{"label": "curl", "source": " \\\n  ".join(parts)}]
            endpoints.append({
                "method": method.upper(),
                "path": path,
                "tag": (op.get("tags") or ["other"])[0],
                "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "samples": samples,
                "statuses": sorted(op.get("responses", {})),
            })
    endpoints.sort(key=lambda e: (e["tag"], e["path"], _METHODS.index(e["method"].lower())))
    return endpoints


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    document = openapi_document()
    base_url = request.build_absolute_uri("/").rstrip("/")
    return render(request, "api/index.html", {
        "document": document,
        "endpoints": _endpoints(document, base_url),
        "base_url": base_url,
    })
