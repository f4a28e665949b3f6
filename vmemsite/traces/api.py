"""JSON API of the trace library, under ``/api/traces/``.

Authentication: ``Authorization: Bearer <token>`` (tokens from /accounts/tokens/) or the
session cookie; session calls that change something need the CSRF token like any form
(``accounts.auth.api_endpoint``). Errors are JSON objects with an ``error`` message (and
``line``/``field`` for a malformed trace): 400 bad input, 401 not authenticated, 403 not the
owner (of a public trace), 404 no such trace *or a private trace of somebody else* (never
revealed), 405 method, 413 too large.

``OPENAPI_PATHS`` and ``OPENAPI_SCHEMAS`` describe these endpoints for ``/api/openapi.json``
(assembled by ``vmemsite.openapi``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from simulator.engine.traces import MAX_TOKENS
from vmemsite.accounts.auth import ERROR_SCHEMA, api_endpoint

from .disconnect import client_gone
from .models import SIZE_UNITS, Trace
from .selectors import (
    trace_get_visible,
    trace_list_visible,
    trace_reuse_histogram,
    trace_size_summary,
)
from .services import (
    MAX_NAME_CHARS,
    TraceRejected,
    trace_delete,
    trace_update,
    trace_upload,
)
from .views import trace_file_response

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _error(status: int, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _not_found() -> JsonResponse:
    return _error(404, "no such trace")


def trace_to_dict(trace: Trace, user: Any, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": trace.pk,
        "name": trace.name,
        "format": trace.fmt,
        "owner": trace.owner.get_username(),
        "owned": trace.owner_id == getattr(user, "pk", None),
        "public": trace.public,
        "size_bytes": trace.size_bytes,
        "gzipped": trace.file.endswith(".gz"),
        "requests": trace.requests,
        "distinct_pages": trace.distinct_pages,
        "total_tokens": trace.total_tokens,
        **{key: value for key, value in trace_size_summary(trace).items() if key != "note"},
        "created_at": trace.created_at.isoformat(),
        "url": reverse("traces_api:detail", args=[trace.pk]),
        "file_url": reverse("traces_api:file", args=[trace.pk]),
        "html_url": reverse("traces:detail", args=[trace.pk]),
    }
    if detail:
        stats = dict(trace.stats or {})
        stats.pop("reuse_histogram", None)  # an object: key order is not kept by jsonb
        stats["reuse_histogram"] = [
            {"distance": label, "count": count} for label, count in trace_reuse_histogram(trace)
        ]
        data["stats"] = stats
    return data


def _flag(value: str | None, field: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TraceRejected(f"expected true or false, got {value!r}", field=field)


def _int_param(request: HttpRequest, name: str, default: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not raw.isascii():
        raise TraceRejected(f"expected a non-negative integer, got {raw!r}", field=name)
    return min(int(raw), maximum)


@api_endpoint("GET", "POST")
def trace_collection(request: HttpRequest) -> HttpResponse:
    try:
        if request.method == "POST":
            return _upload(request)
        return _list(request)
    except TraceRejected as exc:
        return _rejected(exc)


def _list(request: HttpRequest) -> HttpResponse:
    limit = _int_param(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    offset = _int_param(request, "offset", 0, 10**12)
    visible = trace_list_visible(request.api_user).select_related("owner")
    count = visible.count()
    page = visible[offset:offset + limit] if limit else []
    return JsonResponse({
        "count": count,
        "limit": limit,
        "offset": offset,
        "traces": [trace_to_dict(trace, request.api_user) for trace in page],
    })


def _upload(request: HttpRequest) -> HttpResponse:
    if request.content_type == "multipart/form-data":
        fields = request.POST
        upload = request.FILES.get("file")
        if upload is None:
            raise TraceRejected("send the trace as the multipart field 'file' (or as the raw "
                                "request body)", field="file")
        stream, filename, size = upload, upload.name or "", upload.size
    else:
        # The raw body, read as a stream (request.body would load it whole into memory).
        fields = request.GET
        length = request.META.get("CONTENT_LENGTH") or ""
        stream, filename = request, ""
        size = int(length) if length.isdigit() else None
    fmt = fields.get("format") or None
    trace = trace_upload(
        owner=request.api_user,
        stream=stream,
        name=fields.get("name", ""),
        filename=filename,
        fmt=fmt,
        public=_flag(fields.get("public"), "public"),
        size_hint=size,
        size_unit=fields.get("size_unit"),
        bytes_per_token=fields.get("bytes_per_token"),
        stop=client_gone(),
    )
    response = JsonResponse(trace_to_dict(trace, request.api_user, detail=True), status=201)
    response["Location"] = reverse("traces_api:detail", args=[trace.pk])
    return response


def _rejected(exc: TraceRejected) -> JsonResponse:
    extra = {key: value for key, value in (("line", exc.line), ("field", exc.field))
             if value is not None}
    response = _error(exc.status, exc.message, **extra)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api_endpoint("GET", "PATCH", "DELETE")
def trace_item(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = trace_get_visible(request.api_user, trace_id)
    if trace is None:
        return _not_found()
    if request.method == "GET":
        return JsonResponse(trace_to_dict(trace, request.api_user, detail=True))
    try:
        if request.method == "DELETE":
            trace_delete(trace=trace, user=request.api_user)
            return HttpResponse(status=204)
        changes = _patch_body(request)
        trace_update(trace=trace, user=request.api_user, **changes)
    except PermissionDenied:
        return _error(403, "only the owner of a trace can change or delete it")
    except TraceRejected as exc:
        return _rejected(exc)
    return JsonResponse(trace_to_dict(trace, request.api_user, detail=True))


def _patch_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except RequestDataTooBig:
        raise TraceRejected("the request body is too large") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TraceRejected("the body must be a JSON object, e.g. {\"public\": true}") from None
    if not isinstance(body, dict):
        raise TraceRejected("the body must be a JSON object, e.g. {\"public\": true}")
    unknown = sorted(set(body) - {"public", "name"})
    if unknown:
        raise TraceRejected(f"unknown field(s) {', '.join(map(repr, unknown))}: only 'public' "
                            f"and 'name' can be changed", field=unknown[0])
    changes: dict[str, Any] = {}
    if "public" in body:
        if not isinstance(body["public"], bool):
            raise TraceRejected(f"expected true or false, got {json.dumps(body['public'])}",
                                field="public")
        changes["public"] = body["public"]
    if "name" in body:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise TraceRejected("expected a non-empty string", field="name")
        changes["name"] = body["name"]
    return changes


@api_endpoint("GET")
def trace_file(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = trace_get_visible(request.api_user, trace_id)
    if trace is None:
        return _not_found()
    return trace_file_response(trace)


# --------------------------------------------------------------------------------------------
# OpenAPI 3.1 description (merged into /api/openapi.json by vmemsite.openapi)

_REF = "#/components/schemas/"
_ERROR = {"application/json": {"schema": {"$ref": _REF + "Error"}}}
_UPLOAD_ERROR = {"application/json": {"schema": {"$ref": _REF + "TraceUploadError"}}}
_TRACE_ID = {"name": "trace_id", "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1}}
_401 = {"description": "Not authenticated", "content": _ERROR}
_404 = {"description": "No such trace (or another user's private trace)", "content": _ERROR}
_TRACE_DETAIL = {"application/json": {"schema": {"$ref": _REF + "TraceDetail"}}}
_BYTES_PER_TOKEN = {"type": "integer", "minimum": 1, "maximum": MAX_TOKENS}


def _curl(*parts: str, label: str = "curl") -> list[dict[str, str]]:
    return [{"lang": "curl", "label": label, "source": " \\\n  ".join(parts)}]


OPENAPI_PATHS: dict[str, Any] = {
    "/api/traces/": {
        "get": {
            "tags": ["traces"],
            "operationId": "traces_list",
            "summary": "List traces: yours and the public ones, newest first",
            "parameters": [
                {"name": "limit", "in": "query", "schema": {
                    "type": "integer", "minimum": 0, "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT}},
                {"name": "offset", "in": "query", "schema": {
                    "type": "integer", "minimum": 0, "default": 0}},
            ],
            "responses": {
                "200": {"description": "A page of traces", "content": {
                    "application/json": {"schema": {"$ref": _REF + "TraceList"}}}},
                "400": {"description": "Bad limit or offset", "content": _ERROR},
                "401": _401,
            },
            "x-codeSamples": _curl('curl -H "Authorization: Bearer $VMEM_TOKEN"',
                                   "$VMEM_URL/api/traces/"),
        },
        "post": {
            "tags": ["traces"],
            "operationId": "traces_upload",
            "summary": "Upload a trace (plain, CSV or JSON Lines, optionally gzipped)",
            "description": (
                "Either a multipart form (field `file`, plus optional `name`, `format`, "
                "`public`) or the raw file as the request body with the same options in the "
                "query string. The file is streamed and validated line by line; on any error "
                "nothing is stored and the response names the line and the field. Limit: "
                "the server's `VMEM_MAX_TRACE_BYTES` (default 200 MB), on the file as sent "
                "and on its decompressed text."
            ),
            "parameters": [
                {"name": "name", "in": "query", "description": "raw-body uploads: the "
                 "trace's name (required for them)", "schema": {"type": "string",
                                                                "maxLength": MAX_NAME_CHARS}},
                {"name": "format", "in": "query", "description": "raw-body uploads; "
                 "default: detected from the first line", "schema": {"$ref": _REF +
                                                                     "TraceFormat"}},
                {"name": "public", "in": "query", "schema": {"type": "boolean",
                                                             "default": False}},
                {"name": "size_unit", "in": "query", "description": "raw-body uploads: "
                 "what the size column holds", "schema": {"$ref": _REF + "SizeUnit"}},
                {"name": "bytes_per_token", "in": "query", "description": "raw-body uploads: "
                 "with sizes in bytes, how many make a token", "schema": _BYTES_PER_TOKEN},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {"schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "contentMediaType":
                                     "application/octet-stream"},
                            "name": {"type": "string", "maxLength": MAX_NAME_CHARS,
                                     "description": "default: the file's name"},
                            "format": {"$ref": _REF + "TraceFormat"},
                            "public": {"type": "boolean", "default": False},
                            "size_unit": {"$ref": _REF + "SizeUnit"},
                            "bytes_per_token": _BYTES_PER_TOKEN,
                        },
                    }},
                    "text/plain": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                    "application/octet-stream": {"schema": {
                        "type": "string", "contentMediaType": "application/octet-stream"}},
                    "application/gzip": {"schema": {
                        "type": "string", "contentMediaType": "application/gzip"}},
                },
            },
            "responses": {
                "201": {"description": "Stored; the trace with its statistics",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": _TRACE_DETAIL},
                "400": {"description": "Malformed trace (with line and field), empty file, "
                                       "bad name or format", "content": _UPLOAD_ERROR},
                "401": _401,
                "403": {"description": "CSRF check failed (session calls only)",
                        "content": _ERROR},
                "413": {"description": "Past a limit: bytes, gzip ratio, accesses, distinct "
                                       "pages or validation time", "content": _UPLOAD_ERROR},
                "429": {"description": "Too many uploads being validated; retry after the "
                                       "Retry-After header's seconds", "content": _ERROR},
            },
            "x-codeSamples": [
                *_curl('curl -H "Authorization: Bearer $VMEM_TOKEN"',
                       '-F file=@trace.csv -F name="my trace"',
                       "$VMEM_URL/api/traces/"),
                *_curl('curl -H "Authorization: Bearer $VMEM_TOKEN"',
                       '-H "Content-Type: application/octet-stream" '
                       "--data-binary @trace.jsonl.gz",
                       '"$VMEM_URL/api/traces/?name=session-42&format=jsonl"',
                       label="curl (raw body)"),
            ],
        },
    },
    "/api/traces/{trace_id}/": {
        "parameters": [_TRACE_ID],
        "get": {
            "tags": ["traces"],
            "operationId": "traces_detail",
            "summary": "One trace with its statistics and reuse-distance histogram",
            "responses": {"200": {"description": "The trace", "content": _TRACE_DETAIL},
                          "401": _401, "404": _404},
            "x-codeSamples": _curl('curl -H "Authorization: Bearer $VMEM_TOKEN"',
                                   "$VMEM_URL/api/traces/1/"),
        },
        "patch": {
            "tags": ["traces"],
            "operationId": "traces_update",
            "summary": "Rename a trace or make it public/private (owner only)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "additionalProperties": False,
                "properties": {"public": {"type": "boolean"},
                               "name": {"type": "string", "minLength": 1,
                                        "maxLength": MAX_NAME_CHARS}},
            }}}},
            "responses": {
                "200": {"description": "The updated trace", "content": _TRACE_DETAIL},
                "400": {"description": "Bad body", "content": _ERROR},
                "401": _401,
                "403": {"description": "Not the owner (public trace of another user), or "
                                       "CSRF check failed", "content": _ERROR},
                "404": _404,
            },
            "x-codeSamples": _curl('curl -X PATCH -H "Authorization: Bearer $VMEM_TOKEN"',
                                   """-H "Content-Type: application/json" -d '{"public": true}'""",
                                   "$VMEM_URL/api/traces/1/"),
        },
        "delete": {
            "tags": ["traces"],
            "operationId": "traces_delete",
            "summary": "Delete a trace and its file (owner only)",
            "responses": {
                "204": {"description": "Deleted"},
                "401": _401,
                "403": {"description": "Not the owner (public trace of another user), or "
                                       "CSRF check failed", "content": _ERROR},
                "404": _404,
            },
            "x-codeSamples": _curl('curl -X DELETE -H "Authorization: Bearer $VMEM_TOKEN"',
                                   "$VMEM_URL/api/traces/1/"),
        },
    },
    "/api/traces/{trace_id}/file": {
        "parameters": [_TRACE_ID],
        "get": {
            "tags": ["traces"],
            "operationId": "traces_file",
            "summary": "Download the trace file as uploaded",
            "responses": {
                "200": {"description": "The file", "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                    "application/gzip": {"schema": {
                        "type": "string", "contentMediaType": "application/gzip"}},
                }},
                "401": _401, "404": _404,
            },
            "x-codeSamples": _curl('curl -OJ -H "Authorization: Bearer $VMEM_TOKEN"',
                                   "$VMEM_URL/api/traces/1/file"),
        },
    },
}

_COUNT = {"type": "integer", "minimum": 0}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Error": ERROR_SCHEMA,
    "TraceUploadError": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "examples": [
                "line 17, field 'tokens': expected a positive integer, got '-3'"]},
            "line": {"type": "integer", "minimum": 1, "description": "1-based, in the file"},
            "field": {"type": "string"},
        },
    },
    "TraceFormat": {"type": "string", "enum": ["plain", "csv", "jsonl", "ndjson"],
                    "description": "ndjson is another name of jsonl"},
    "SizeUnit": {"type": "string", "enum": list(SIZE_UNITS), "default": "tokens",
                 "description": "what the size column (tokens, or size) holds: tokens; "
                                "bytes (bytes_per_token of them make a token, rounded up per "
                                "access); or ignore (every access is 1 token)"},
    "Trace": {
        "type": "object",
        "required": ["id", "name", "format", "owner", "owned", "public", "size_bytes",
                     "gzipped", "requests", "distinct_pages", "total_tokens", "created_at",
                     "url", "file_url", "html_url"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "format": {"$ref": _REF + "TraceFormat"},
            "owner": {"type": "string", "description": "the owner's user name"},
            "owned": {"type": "boolean", "description": "whether the caller owns it"},
            "public": {"type": "boolean"},
            "size_bytes": {**_COUNT, "description": "the file as uploaded (gzipped or not)"},
            "gzipped": {"type": "boolean"},
            "requests": _COUNT,
            "distinct_pages": _COUNT,
            "total_tokens": {**_COUNT, "description": "in tokens, as replays count them"},
            "size_unit": {"$ref": _REF + "SizeUnit"},
            "bytes_per_token": {"type": ["integer", "null"], "minimum": 1},
            "total_bytes": {"type": ["integer", "null"], "minimum": 0,
                            "description": "the size column's total, for sizes in bytes"},
            "created_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string"},
            "file_url": {"type": "string"},
            "html_url": {"type": "string"},
        },
    },
    "TraceStats": {
        "type": "object",
        "description": "Computed in the upload's single pass (simulator.engine.traces."
                       "TraceStats). Reuse distance = distinct other pages accessed since the "
                       "previous access to the same page; log2 bins: '0', '1', '2-3', '4-7', "
                       "...; 'cold' = first accesses.",
        "properties": {
            "requests": _COUNT, "distinct_pages": _COUNT, "one_hit_wonders": _COUNT,
            "total_tokens": _COUNT, "distinct_tokens": _COUNT, "reads": _COUNT,
            "writes": _COUNT, "pins": _COUNT, "unpins": _COUNT, "reuse_cold": _COUNT,
            "reuse_bins": {"type": "array", "items": _COUNT},
            "reuse_sampled_requests": _COUNT,
            "reuse_histogram": {"type": "array", "items": {
                "type": "object", "required": ["distance", "count"],
                "properties": {"distance": {"type": "string"}, "count": _COUNT}}},
        },
    },
    "TraceDetail": {
        "allOf": [
            {"$ref": _REF + "Trace"},
            {"type": "object", "required": ["stats"],
             "properties": {"stats": {"$ref": _REF + "TraceStats"}}},
        ],
    },
    "TraceList": {
        "type": "object",
        "required": ["count", "limit", "offset", "traces"],
        "properties": {
            "count": _COUNT, "limit": _COUNT, "offset": _COUNT,
            "traces": {"type": "array", "items": {"$ref": _REF + "Trace"}},
        },
    },
}
