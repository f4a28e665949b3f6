"""The runs JSON API under ``/api/runs/`` (token or session auth) and its OpenAPI entries.

* ``GET  /api/runs/`` — the caller's runs (``?limit=&offset=``)
* ``POST /api/runs/`` — create a run: ``{config, workload, label?, public?, speed?}``, plus
  ``variants`` (2 to 8 overrides of L0) and ``with_opt`` for a comparison → 201
* ``GET  /api/runs/<id>/`` — status, counters and results (public runs: anyone)
* ``POST /api/runs/<id>/control`` — ``{action: pause|resume|step|stop|speed, speed?}``
* ``GET  /api/runs/<id>/windows`` (JSON) and ``/windows.csv`` — the windowed metrics

Errors are JSON ``{"error": "...", "field": "..."}``: 400 invalid input (``field`` names it,
e.g. ``config.tiers[0].capacity_tokens``), 401 not authenticated, 403 not the owner of a
visible run, 404 unknown *or not visible* run (the two are indistinguishable), 405 wrong
method, 409 the run is already over.

Scripts authenticate with ``Authorization: Bearer <token>``; a signed-in browser session works
too, with Django's CSRF check on writes (both through ``accounts.auth.api_endpoint``; a wrong
or revoked token is refused even when a session cookie comes along).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse

from simulator.engine.errors import ConfigError
from vmemsite.accounts.auth import ERROR_SCHEMA, api_endpoint

from .models import Run
from .selectors import run_get_visible, run_list_owned, run_meta, run_windows
from .selectors import run_windows_csv as windows_csv_lines
from .services import RunPermissionError, run_control, run_create

CREATE_KEYS = {"config", "workload", "label", "public", "speed", "variants", "with_opt"}
MAX_BODY = 2 * 1024 * 1024
MAX_OFFSET = 10**12  # beyond what a database column holds, nothing is found anyway


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    if len(request.body) > MAX_BODY:
        return _error(413, "request body too large")
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"request body is not valid JSON: {exc}")
    except RecursionError:
        return _error(400, "request body is not valid JSON: nested too deeply")
    if not isinstance(data, dict):
        return _error(400, "request body must be a JSON object")
    return data


def _summary(run: Run, user) -> dict[str, Any]:
    meta = run_meta(run, user)
    keep = ("id", "label", "kind", "public", "status", "progress", "accesses", "total",
            "created_at", "finished_at", "urls")
    return {key: meta[key] for key in keep}


@api_endpoint("GET", "POST")
def runs(request: HttpRequest) -> HttpResponse:
    user = request.api_user
    if request.method == "GET":
        try:
            limit = min(max(int(request.GET.get("limit", 50)), 1), 200)
            offset = min(max(int(request.GET.get("offset", 0)), 0), MAX_OFFSET)
        except ValueError:
            return _error(400, "limit and offset must be integers", field="limit")
        owned = run_list_owned(user)
        page = owned[offset:offset + limit]
        return JsonResponse({
            "count": owned.count(),
            "runs": [_summary(run, user) for run in page.select_related("owner")],
        })
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    unknown = sorted(set(data) - CREATE_KEYS)
    if unknown:
        return _error(400, f"unknown key(s) {', '.join(unknown)}; known: "
                           f"{', '.join(sorted(CREATE_KEYS))}", field=unknown[0])
    for key in ("config", "workload"):
        if key not in data:
            return _error(400, "is required", field=key)
    try:
        run = run_create(
            owner=user, config=data["config"], workload=data["workload"],
            label=data.get("label", ""), public=data.get("public", False),
            speed=data.get("speed"), variants=data.get("variants"),
            with_opt=data.get("with_opt", True),
        )
    except ConfigError as exc:
        return _error(400, exc.message, field=exc.field)
    run = Run.objects.select_related("owner").get(pk=run.pk)
    response = JsonResponse(_summary(run, user), status=201)
    response["Location"] = reverse("simulator:api_run", args=[run.pk])
    return response


def _visible(request: HttpRequest, run_id: int) -> Run | JsonResponse:
    run = run_get_visible(request.api_user, run_id)
    if run is None:
        return _error(404, f"no run {run_id}")
    return run


@api_endpoint("GET", anonymous_reads=True)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible(request, run_id)
    if isinstance(run, JsonResponse):
        return run
    return JsonResponse({**run_meta(run, request.api_user), "counters": run.counters,
                         "result": run.result})


@api_endpoint("POST")
def run_control_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible(request, run_id)
    if isinstance(run, JsonResponse):
        return run
    data = _body(request)
    if isinstance(data, JsonResponse):
        return data
    action = data.get("action")
    if not isinstance(action, str):
        return _error(400, "give an action: pause, resume, step, stop or speed", field="action")
    try:
        run = run_control(run=run, user=request.api_user, action=action,
                          speed=data.get("speed"))
    except RunPermissionError as exc:
        return _error(403, str(exc))
    except ConfigError as exc:
        status = 409 if exc.message.startswith("the run is already") else 400
        return _error(status, exc.message, field=exc.field)
    return JsonResponse({"id": run.pk, "status": run.status, "desired": run.desired,
                         "speed": run.speed, "step_requests": run.step_requests})


@api_endpoint("GET", anonymous_reads=True)
def run_windows_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible(request, run_id)
    if isinstance(run, JsonResponse):
        return run
    return JsonResponse({"id": run.pk, "status": run.status, "points": run_windows(run)})


@api_endpoint("GET", anonymous_reads=True)
def run_windows_csv_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible(request, run_id)
    if isinstance(run, JsonResponse):
        return run
    response = StreamingHttpResponse(windows_csv_lines(run), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-windows.csv"'
    return response


# --- OpenAPI 3.1 (assembled into /api/openapi.json by the accounts app) ----------------------

def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ref("Error"), "Invalid input; `field` names the offending setting."),
    "401": _json(_ref("Error"), "Not authenticated."),
    "404": _json(_ref("Error"), "No such run, or not visible to the caller."),
    "405": _json(_ref("Error"), "Method not allowed."),
}
_RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "integer"}}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Error": ERROR_SCHEMA,
    "LatencyModel": {
        "type": "object",
        "properties": {
            "kind": {"enum": ["constant", "uniform", "lognormal"]},
            "ms": {"type": "number", "minimum": 0}, "low_ms": {"type": "number", "minimum": 0},
            "high_ms": {"type": "number", "minimum": 0},
            "sigma": {"type": "number", "minimum": 0},
            "per_token_ms": {"type": "number", "minimum": 0},
        },
    },
    "TierConfig": {
        "type": "object",
        "required": ["name", "capacity_tokens"],
        "properties": {
            "name": {"type": "string", "examples": ["L0"]},
            "capacity_tokens": {"type": ["integer", "null"], "minimum": 1},
            "policy": {"type": "string", "examples": ["lru", "arc", "s3fifo", "opt"]},
            "latency": _ref("LatencyModel"),
            "concurrency": {"type": ["integer", "null"], "minimum": 1},
            "policy_params": {"type": "object"},
        },
    },
    "SimConfig": {
        "type": "object",
        "required": ["tiers"],
        "description": "The engine's run configuration (simulator/engine/config.py).",
        "properties": {
            "tiers": {"type": "array", "items": _ref("TierConfig"), "minItems": 1,
                      "maxItems": 5},
            "page_size": {"type": ["integer", "null"], "minimum": 1},
            "unit_pages": {"type": "boolean"},
            "write_policy": {"enum": ["write-back", "write-through"]},
            "pinning": {"type": "boolean"},
            "anti_thrash": {"type": "integer", "minimum": 0},
            "prefetch": {"type": "integer", "minimum": 0},
            "thrash_window": {"type": "integer", "minimum": 1},
            "window_accesses": {"type": "integer", "minimum": 1},
            "window_ms": {"type": ["number", "null"]},
            "seed": {"type": "integer"},
        },
    },
    "Workload": {
        "oneOf": [
            {"type": "object", "required": ["kind", "name"], "properties": {
                "kind": {"const": "generator"},
                "name": {"enum": ["zipf", "uniform", "loop", "phased", "scan_hotset"]},
                "params": {"type": "object"},
                "sessions": {"type": "integer", "minimum": 1, "maximum": 64}}},
            {"type": "object", "required": ["kind", "trace_id"], "properties": {
                "kind": {"const": "trace"}, "trace_id": {"type": "integer"},
                "sessions": {"type": "integer", "minimum": 1, "maximum": 64}}},
            {"type": "object", "required": ["kind", "pages"], "properties": {
                "kind": {"const": "sequence"},
                "pages": {"type": "array", "items": {"type": ["integer", "string"]}},
                "tokens": {"type": "integer", "minimum": 1}}},
        ],
    },
    "Variant": {
        "type": "object",
        "description": "Overrides of L0 for one line of a comparison.",
        "properties": {"label": {"type": "string"}, "policy": {"type": "string"},
                       "capacity_tokens": {"type": "integer", "minimum": 1}},
    },
    "RunCreate": {
        "type": "object",
        "required": ["config", "workload"],
        "properties": {
            "config": _ref("SimConfig"),
            "workload": _ref("Workload"),
            "label": {"type": "string"},
            "public": {"type": "boolean"},
            "speed": {"type": ["number", "null"],
                      "description": "Simulated ms per wall second; null: as fast as possible."},
            "variants": {"type": "array", "items": _ref("Variant"), "minItems": 2,
                         "maxItems": 8},
            "with_opt": {"type": "boolean"},
        },
    },
    "RunSummary": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "label": {"type": "string"},
            "kind": {"enum": ["single", "compare"]}, "public": {"type": "boolean"},
            "status": {"enum": ["queued", "running", "paused", "finished", "stopped", "failed",
                                "interrupted"]},
            "progress": {"type": ["number", "null"]}, "accesses": {"type": "integer"},
            "total": {"type": ["integer", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "urls": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Run": {
        "allOf": [_ref("RunSummary"), {"type": "object", "properties": {
            "owner": {"type": "string"}, "error": {"type": "string"},
            "workload": _ref("Workload"), "tiers": {"type": "array"},
            "variants": {"type": "array", "items": {"type": "string"}},
            "counters": {"type": "object"},
            "result": {"type": ["object", "null"],
                       "description": "RunResult, or {rows, results} for a comparison."},
        }}],
    },
    "RunControl": {
        "type": "object",
        "required": ["action"],
        "properties": {"action": {"enum": ["pause", "resume", "step", "stop", "speed"]},
                       "speed": {"type": ["number", "null"]}},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/runs/": {
        "get": {
            "summary": "List your runs", "operationId": "listRuns", "tags": ["runs"],
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                {"name": "offset", "in": "query", "schema": {"type": "integer"}},
            ],
            "responses": {
                "200": _json({"type": "object", "properties": {
                    "count": {"type": "integer"},
                    "runs": {"type": "array", "items": _ref("RunSummary")}}}, "Your runs."),
                "401": _ERRORS["401"],
            },
        },
        "post": {
            "summary": "Create and start a run (or a comparison)", "operationId": "createRun",
            "tags": ["runs"],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("RunCreate")}}},
            "responses": {"201": _json(_ref("RunSummary"), "Created; it starts at once."),
                          "400": _ERRORS["400"], "401": _ERRORS["401"]},
        },
    },
    "/api/runs/{run_id}/": {
        "get": {
            "summary": "A run's status, counters and results", "operationId": "getRun",
            "tags": ["runs"], "parameters": [_RUN_ID],
            "responses": {"200": _json(_ref("Run"), "The run."), "404": _ERRORS["404"]},
        },
    },
    "/api/runs/{run_id}/control": {
        "post": {
            "summary": "Pause, resume, step, stop, or change the speed of your run",
            "operationId": "controlRun", "tags": ["runs"], "parameters": [_RUN_ID],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _ref("RunControl")}}},
            "responses": {
                "200": _json({"type": "object"}, "Accepted; the runner applies it within "
                                                 "a tenth of a second."),
                "400": _ERRORS["400"], "401": _ERRORS["401"],
                "403": _json(_ref("Error"), "A public run of someone else."),
                "404": _ERRORS["404"],
                "409": _json(_ref("Error"), "The run is already over."),
            },
        },
    },
    "/api/runs/{run_id}/windows": {
        "get": {
            "summary": "Windowed metrics as JSON (one list of points per variant)",
            "operationId": "getRunWindows", "tags": ["runs"], "parameters": [_RUN_ID],
            "responses": {"200": _json({"type": "object"}, "Points per variant."),
                          "404": _ERRORS["404"]},
        },
    },
    "/api/runs/{run_id}/windows.csv": {
        "get": {
            "summary": "Windowed metrics as CSV", "operationId": "getRunWindowsCsv",
            "tags": ["runs"], "parameters": [_RUN_ID],
            "responses": {"200": {"description": "CSV, one row per window and variant.",
                                  "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "404": _ERRORS["404"]},
        },
    },
}
