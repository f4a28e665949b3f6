"""JSON API of the trace library, under ``/api/traces/`` (Django Ninja).

Authentication: ``Authorization: Bearer <token>`` (tokens from /accounts/tokens/) or the
session cookie; session calls that change something need the CSRF token like any form
(``vmemsite.api.auth``). Errors are JSON objects with an ``error`` message (and
``line``/``field`` for a malformed trace): 400 bad input, 401 not authenticated, 403 not the
owner (of a public trace), 404 no such trace *or a private trace of somebody else* (never
revealed), 405 method, 413 too large.

The upload itself is ``traces.services.trace_upload`` (streamed and validated line by line);
this module only hands it the request's stream and options (:data:`UPLOAD_OPTIONS`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router
from ninja.responses import Status
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
)

from simulator.engine.traces import FORMAT_ALIASES, MAX_TOKENS
from vmemsite.api.auth import SIGNED_IN
from vmemsite.api.paging import DEFAULT_LIMIT, page_of
from vmemsite.api.schemas import Error
from vmemsite.errors import Busy, Forbidden, Invalid, NotFound, TooLarge

from . import models
from .analyses import trace_analysis_request
from .disconnect import client_gone
from .selectors import (
    trace_analysis_state,
    trace_get_visible,
    trace_list_visible,
    trace_reuse_histogram,
    trace_size_summary,
)
from .services import (
    MAX_NAME_CHARS,
    TraceRejected,
    clean_csv_layout,
    trace_delete,
    trace_import_server_file,
    trace_update,
    trace_upload,
)
from .views import trace_file_response

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: the options of an upload (multipart fields, or the query string of a raw-body upload)
UPLOAD_OPTIONS = ("name", "format", "public", "size_unit", "bytes_per_token", "columns",
                  "delimiter", "header")

router = Router(tags=["traces"], auth=SIGNED_IN)


# --- schemas --------------------------------------------------------------------------------

Count = Annotated[int, Field(ge=0)]
TraceFormat = Annotated[str, WithJsonSchema({"type": "string", "enum": list(FORMAT_ALIASES)})]
SizeUnit = Annotated[str, WithJsonSchema({"type": "string", "enum": list(models.SIZE_UNITS)})]
_DATE = {"type": "string", "format": "date-time"}


class CsvLayoutOut(BaseModel):
    columns: dict[str, int | str] = Field(description="field -> 1-based column number, or "
                                          "the header's name for it")
    delimiter: str
    header: bool


class Trace(BaseModel):
    id: int
    name: str
    format: TraceFormat
    owner: str = Field(description="the owner's user name")
    owned: bool = Field(description="whether the caller owns it")
    public: bool
    size_bytes: Count = Field(description="the file as uploaded (compressed or not)")
    gzipped: bool
    compression: Annotated[str, WithJsonSchema({"type": "string", "enum": ["gzip", "zstd"]})] \
        | None = Field(None, description="gzip, zstd, or null for an uncompressed file")
    csv_layout: CsvLayoutOut | None = Field(None, description="how a CSV of another shape is "
                                            "read; null for our header or another format")
    requests: Count
    distinct_pages: Count
    total_tokens: Count = Field(description="in tokens, as replays count them")
    size_unit: SizeUnit
    bytes_per_token: Annotated[int, Field(ge=1)] | None = None
    total_bytes: Count | None = Field(None, description="the size column's total, for sizes "
                                      "in bytes")
    created_at: Annotated[str, WithJsonSchema(_DATE)]
    url: str
    file_url: str
    html_url: str


class ReuseBin(BaseModel):
    distance: str
    count: Count


class TraceStats(BaseModel):
    """Computed in the upload's single pass (simulator.engine.traces.TraceStats). Reuse
    distance = distinct other pages accessed since the previous access to the same page; log2
    bins: '0', '1', '2-3', '4-7', ...; 'cold' = first accesses."""

    model_config = ConfigDict(extra="allow")

    requests: Count
    distinct_pages: Count
    one_hit_wonders: Count | None = None
    total_tokens: Count | None = None
    distinct_tokens: Count | None = None
    reads: Count | None = None
    writes: Count | None = None
    pins: Count | None = None
    unpins: Count | None = None
    reuse_cold: Count | None = None
    reuse_bins: list[Count] | None = None
    reuse_sampled_requests: Count | None = None
    reuse_histogram: list[ReuseBin]


class TraceDetail(Trace):
    stats: TraceStats


class TraceList(BaseModel):
    count: Count
    limit: Count
    offset: Count
    traces: list[Trace]


class TracePatch(BaseModel):
    """Rename a trace or make it public/private: only these two can change."""

    model_config = ConfigDict(extra="forbid")

    public: StrictBool | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=MAX_NAME_CHARS)] | None = None


# --- helpers --------------------------------------------------------------------------------


def trace_to_dict(trace: models.Trace, user: Any, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": trace.pk,
        "name": trace.name,
        "format": trace.fmt,
        "owner": trace.owner.get_username(),
        "owned": trace.owner_id == getattr(user, "pk", None),
        "public": trace.public,
        "size_bytes": trace.size_bytes,
        "gzipped": trace.compression == "gzip",
        "compression": trace.compression,
        "csv_layout": trace.csv_layout,
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


@contextlib.contextmanager
def _rejections() -> Iterator[None]:
    """The upload service's refusals in the lab's error vocabulary."""
    try:
        yield
    except TraceRejected as exc:
        if exc.status == 429:
            raise Busy(exc.message, retry_after=exc.retry_after) from None
        kind = TooLarge if exc.too_large else Invalid
        raise kind(exc.message, exc.field, line=exc.line) from None
    except PermissionDenied as exc:
        raise Forbidden(str(exc) or "only the owner of a trace can change or delete it") \
            from None


def _flag(value: str | None, field: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"expected true or false, got {value!r}", field=field)


def _visible(request: HttpRequest, trace_id: int) -> models.Trace:
    trace = trace_get_visible(request.auth.user, trace_id)
    if trace is None:
        raise NotFound("no such trace")
    return trace


def _curl(*parts: str, label: str = "curl") -> dict[str, str]:
    return {"lang": "curl", "label": label, "source": " \\\n  ".join(parts)}


_TOKEN = 'curl -H "Authorization: Bearer $VMEM_TOKEN"'
_FORMAT = {"$ref": "#/components/schemas/TraceFormat"}
_SIZE_UNIT = {"$ref": "#/components/schemas/SizeUnit"}
_BYTES_PER_TOKEN = {"type": "integer", "minimum": 1, "maximum": MAX_TOKENS}
_COLUMNS = {"type": "string", "maxLength": 500, "description": "field=column pairs (a 1-based "
            "number, or the header's name): time, page_id/obj_id (required), tokens/size, op, "
            "session, turn"}
_DELIMITER = {"type": "string", "description": "one character, or comma, tab, semicolon, "
              "space, pipe", "default": ","}


# --- operations -------------------------------------------------------------------------------


@router.get("/", url_name="list", operation_id="traces_list",
            summary="List traces: yours and the public ones, newest first",
            response={200: TraceList, 400: Error, 401: Error},
            openapi_extra={"x-codeSamples": [_curl(_TOKEN, "$VMEM_URL/api/traces/")]})
def list_traces(request: HttpRequest,
                limit: Annotated[int, Query(ge=0)] = DEFAULT_LIMIT,
                offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    visible = trace_list_visible(request.auth.user).select_related("owner")
    return page_of(visible, limit, offset, "traces",
                   lambda trace: trace_to_dict(trace, request.auth.user))


@router.post(
    "/", url_name="list", operation_id="traces_upload",
    summary="Upload a trace (plain, CSV, JSON Lines or oracleGeneral; gzip or zstd)",
    description=(
        "Either a multipart form (field `file`, plus optional `name`, `format`, `public`, "
        "`size_unit`, `bytes_per_token`, and `columns`/`delimiter`/`header` for a CSV of "
        "another shape) or "
        "the raw file as the request body with the same options in the query string. The "
        "file is streamed and validated line by line; on any error nothing is stored and the "
        "response names the line and the field; an option not listed here is a 400 naming "
        "it, never ignored. Limits (413): the server's "
        "`VMEM_MAX_TRACE_BYTES` (default 200 MB) on the file as sent and on its decompressed "
        "text, the compression ratio, accesses, distinct pages and validation time; 429 with "
        "`Retry-After` when too many uploads are being validated (docs/traces.md)."
    ),
    response={201: TraceDetail, 400: Error, 401: Error, 403: Error, 413: Error, 429: Error},
    openapi_extra={
        "parameters": [
            {"name": "name", "in": "query", "description": "raw-body uploads: the trace's "
             "name (required for them)", "schema": {"type": "string",
                                                    "maxLength": MAX_NAME_CHARS}},
            {"name": "format", "in": "query", "description": "raw-body uploads; default: "
             "detected from the first line", "schema": _FORMAT},
            {"name": "public", "in": "query", "schema": {"type": "boolean", "default": False}},
            {"name": "size_unit", "in": "query", "description": "raw-body uploads: what the "
             "size column holds", "schema": _SIZE_UNIT},
            {"name": "bytes_per_token", "in": "query", "description": "raw-body uploads: with "
             "sizes in bytes, how many make a token", "schema": _BYTES_PER_TOKEN},
            {"name": "columns", "in": "query", "description": "raw-body uploads: a CSV of "
             "another shape, e.g. time=1,obj_id=2,size=3", "schema": _COLUMNS},
            {"name": "delimiter", "in": "query", "schema": _DELIMITER},
            {"name": "header", "in": "query", "description": "with columns: whether the first "
             "row names the columns", "schema": {"type": "boolean", "default": True}},
        ],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {
                    "file": {"type": "string",
                             "contentMediaType": "application/octet-stream"},
                    "name": {"type": "string", "maxLength": MAX_NAME_CHARS,
                             "description": "default: the file's name"},
                    "format": _FORMAT,
                    "public": {"type": "boolean", "default": False},
                    "size_unit": _SIZE_UNIT,
                    "bytes_per_token": _BYTES_PER_TOKEN,
                    "columns": _COLUMNS,
                    "delimiter": _DELIMITER,
                    "header": {"type": "boolean", "default": True},
                },
            }},
            "text/plain": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {
                "type": "string", "contentMediaType": "application/octet-stream"}},
            "application/gzip": {"schema": {
                "type": "string", "contentMediaType": "application/gzip"}},
            "application/zstd": {"schema": {
                "type": "string", "contentMediaType": "application/zstd"}},
        }},
        "x-codeSamples": [
            _curl(_TOKEN, '-F file=@trace.csv -F name="my trace"', "$VMEM_URL/api/traces/"),
            _curl(_TOKEN, '-H "Content-Type: application/octet-stream" '
                  "--data-binary @trace.jsonl.gz",
                  '"$VMEM_URL/api/traces/?name=session-42&format=jsonl"',
                  label="curl (raw body)"),
        ],
    },
)
def upload_trace(request: HttpRequest, response: HttpResponse) -> Status:
    if request.content_type == "multipart/form-data":
        fields = request.POST
        upload = request.FILES.get("file")
        if upload is None:
            raise Invalid("send the trace as the multipart field 'file' (or as the raw "
                          "request body)", field="file")
        stream, filename, size = upload, upload.name or "", upload.size
    else:
        # The raw body, read as a stream (request.body would load it whole into memory).
        fields = request.GET
        length = request.META.get("CONTENT_LENGTH") or ""
        stream, filename = request, ""
        size = int(length) if length.isdigit() else None
    unknown = sorted(set(fields) - set(UPLOAD_OPTIONS))
    if unknown:  # a misspelt option would otherwise be ignored: "fromat=csv" read as plain
        raise Invalid(f"unknown upload option '{unknown[0]}'; the options are "
                      f"{', '.join(UPLOAD_OPTIONS)}", field=unknown[0])
    options = {name: fields.get(name) for name in UPLOAD_OPTIONS}
    header = None if options["header"] in (None, "") else _flag(options["header"], "header")
    with _rejections():
        layout = clean_csv_layout(options["columns"], options["delimiter"], header)
        trace = trace_upload(
            owner=request.auth.user, stream=stream, filename=filename, size_hint=size,
            name=options["name"] or "", fmt=options["format"] or None,
            public=_flag(options["public"], "public"),
            size_unit=options["size_unit"], bytes_per_token=options["bytes_per_token"],
            csv_layout=layout, stop=client_gone(),
        )
    response["Location"] = reverse("traces_api:detail", args=[trace.pk])
    return Status(201, trace_to_dict(trace, request.auth.user, detail=True))


class TraceImport(BaseModel):
    """A file already on the server (relative to VMEM_TRACE_IMPORT_DIR), imported with the
    import's bounds (docs/traces.md, "Server-side import"); staff only."""

    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    name: Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)] = ""
    format: str | None = None
    public: StrictBool = False
    size_unit: str | None = None
    bytes_per_token: int | None = None
    columns: str | None = None
    delimiter: str | None = None
    header: StrictBool | None = None


@router.post("/import", url_name="import", operation_id="traces_import",
             summary="Import a trace too large for an upload from a file on the server "
                     "(staff only)",
             response={201: TraceDetail, 400: Error, 401: Error, 403: Error, 413: Error,
                       429: Error},
             openapi_extra={"x-codeSamples": [_curl(
                 f"{_TOKEN} -X POST", """-H "Content-Type: application/json" -d """
                 """'{"path": "twitter/cluster52.oracleGeneral.zst", "size_unit": "ignore"}'""",
                 "$VMEM_URL/api/traces/import")]})
def import_trace(request: HttpRequest, response: HttpResponse, payload: TraceImport) -> Status:
    with _rejections():
        layout = clean_csv_layout(payload.columns, payload.delimiter, payload.header)
        trace = trace_import_server_file(
            user=request.auth.user, path=payload.path, name=payload.name, fmt=payload.format,
            public=payload.public, size_unit=payload.size_unit,
            bytes_per_token=payload.bytes_per_token, csv_layout=layout, stop=client_gone())
    response["Location"] = reverse("traces_api:detail", args=[trace.pk])
    return Status(201, trace_to_dict(trace, request.auth.user, detail=True))


@router.get("/{int:trace_id}/", url_name="detail", operation_id="traces_detail",
            summary="One trace with its statistics and LRU stack-distance histogram",
            response={200: TraceDetail, 401: Error, 404: Error},
            openapi_extra={"x-codeSamples": [_curl(_TOKEN, "$VMEM_URL/api/traces/1/")]})
def get_trace(request: HttpRequest, trace_id: int) -> dict[str, Any]:
    return trace_to_dict(_visible(request, trace_id), request.auth.user, detail=True)


@router.patch("/{int:trace_id}/", url_name="detail", operation_id="traces_update",
              summary="Rename a trace or make it public/private (owner only)",
              response={200: TraceDetail, 400: Error, 401: Error, 403: Error, 404: Error},
              openapi_extra={"x-codeSamples": [_curl(
                  f"{_TOKEN} -X PATCH",
                  """-H "Content-Type: application/json" -d '{"public": true}'""",
                  "$VMEM_URL/api/traces/1/")]})
def update_trace(request: HttpRequest, trace_id: int, payload: TracePatch) -> dict[str, Any]:
    trace = _visible(request, trace_id)
    with _rejections():
        trace_update(trace=trace, user=request.auth.user, **payload.model_dump(
            exclude_none=True))
    return trace_to_dict(trace, request.auth.user, detail=True)


@router.delete("/{int:trace_id}/", url_name="detail", operation_id="traces_delete",
               summary="Delete a trace and its file (owner only)",
               response={204: None, 401: Error, 403: Error, 404: Error},
               openapi_extra={"x-codeSamples": [_curl(f"{_TOKEN} -X DELETE",
                                                      "$VMEM_URL/api/traces/1/")]})
def delete_trace(request: HttpRequest, trace_id: int) -> Status:
    trace = _visible(request, trace_id)
    with _rejections():
        trace_delete(trace=trace, user=request.auth.user)
    return Status(204, None)


@router.get("/{int:trace_id}/file", url_name="file", operation_id="traces_file",
            summary="Download the trace file as uploaded",
            response={200: None, 401: Error, 404: Error},
            openapi_extra={
                "responses": {200: {"description": "The file", "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "text/csv": {"schema": {"type": "string"}},
                    "application/gzip": {"schema": {
                        "type": "string", "contentMediaType": "application/gzip"}},
                    "application/zstd": {"schema": {
                        "type": "string", "contentMediaType": "application/zstd"}},
                    "application/octet-stream": {"schema": {
                        "type": "string", "contentMediaType": "application/octet-stream"}},
                }}},
                "x-codeSamples": [_curl('curl -OJ -H "Authorization: Bearer $VMEM_TOKEN"',
                                        "$VMEM_URL/api/traces/1/file")]})
def trace_file(request: HttpRequest, trace_id: int) -> HttpResponse:
    return trace_file_response(_visible(request, trace_id))


class AnalysisState(BaseModel):
    """A trace's analysis (docs/analysis.md defines every number of ``analysis``)."""

    status: Annotated[str, WithJsonSchema({"type": "string", "enum": [
        "none", "queued", "running", "done", "failed"]})]
    progress: Annotated[float, Field(ge=0, le=1)]
    error: str
    seconds: float | None = None
    analysis: dict[str, Any] | None = Field(None, description="null until done: references, "
                                            "footprint, one-hit wonders, stack and reuse "
                                            "distance histograms, popularity with the Zipf "
                                            "fit, working set, request rate, heatmap, sizes")


@router.get("/{int:trace_id}/analysis", url_name="analysis", operation_id="traces_analysis",
            summary="The trace's analysis: its state and progress, and the result once done",
            response={200: AnalysisState, 401: Error, 404: Error},
            openapi_extra={"x-codeSamples": [_curl(_TOKEN,
                                                   "$VMEM_URL/api/traces/1/analysis")]})
def get_analysis(request: HttpRequest, trace_id: int) -> dict[str, Any]:
    return trace_analysis_state(_visible(request, trace_id))


@router.post("/{int:trace_id}/analysis", url_name="analysis",
             operation_id="traces_analysis_start",
             summary="Start the trace's analysis (again, if it failed or was lost); "
                     "restart=true redoes a finished one (owner only)",
             response={202: AnalysisState, 401: Error, 403: Error, 404: Error},
             openapi_extra={"x-codeSamples": [_curl(f"{_TOKEN} -X POST",
                                                    "$VMEM_URL/api/traces/1/analysis")]})
def start_analysis(request: HttpRequest, trace_id: int, restart: bool = False) -> Status:
    trace = _visible(request, trace_id)
    if restart and trace.owner_id != request.auth.user.pk:
        raise Forbidden("only the owner of a trace can redo its analysis")
    trace_analysis_request(trace, restart=restart)
    return Status(202, trace_analysis_state(trace))


#: components of the OpenAPI document that no operation's type names by itself
OPENAPI_COMPONENTS: dict[str, Any] = {
    "TraceFormat": {"type": "string", "enum": list(FORMAT_ALIASES),
                    "description": "ndjson is another name of jsonl; oracle (alias "
                                   "oraclegeneral) is libCacheSim's oracleGeneral binary"},
    "SizeUnit": {"type": "string", "enum": list(models.SIZE_UNITS), "default": "tokens",
                 "description": "what the size column (tokens, or size) holds: tokens; bytes "
                                "(bytes_per_token of them make a token, rounded up per access); "
                                "or ignore (every access is 1 token)"},
}
