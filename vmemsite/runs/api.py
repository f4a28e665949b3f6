"""The runs JSON API under ``/api/runs/`` (Django Ninja; token or session auth).

* ``GET  /api/runs/`` — the caller's runs (``?limit=&offset=``)
* ``POST /api/runs/`` — create a run: ``{config, workload, label?, public?, speed?}``, plus
  ``variants`` (2 to 8 overrides of L0) and ``with_opt`` for a comparison → 201
* ``GET  /api/runs/<id>/`` — status, counters and results (public runs: anyone)
* ``POST /api/runs/<id>/control`` — ``{action: pause|resume|step|stop|speed, speed?}``
* ``GET  /api/runs/<id>/windows`` (JSON) and ``/windows.csv`` — the windowed metrics

The body of ``POST /api/runs/`` is the run specification: Django Ninja hands it to
``specs.run_spec``, the one validation, and documents it with the JSON Schema derived from the
same descriptions (``RunCreate`` in ``/api/openapi.json``). Errors are JSON ``{"error",
"field"}`` (``vmemsite.errors``): 400 invalid input (``field`` names it, e.g.
``config.tiers[0].capacity_tokens``; ``errors`` lists them all), 401 not authenticated, 403
not the owner of a visible run, 404 unknown *or not visible* run (the two are
indistinguishable), 405 wrong method, 409 the run is already over, 413 a body over 2 MB.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from ninja import Body, Router
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import CoreSchema, core_schema

from vmemsite.api.auth import ANONYMOUS_READS, SIGNED_IN
from vmemsite.api.schemas import Error
from vmemsite.errors import NotFound

from . import models
from .selectors import run_get_visible, run_list_owned, run_meta, run_windows
from .selectors import run_windows_csv as windows_csv_lines
from .services import ACTIONS, run_control, run_create
from .specs import RUN_PARAMS, RunSpec, inlined, run_spec

MAX_LIMIT = 200
MAX_OFFSET = 10**12  # beyond what a database column holds, nothing is found anyway

#: complete bodies of ``POST /api/runs/``, shown on /api/ (tests/web/test_api_runs.py
#: starts both)
EXAMPLE_RUN: dict[str, Any] = {
    "config": {
        "tiers": [
            {"name": "L0", "capacity_tokens": 8192, "policy": "arc",
             "latency": {"kind": "constant", "ms": 0}},
            {"name": "L1", "capacity_tokens": None, "policy": "lru", "concurrency": 8,
             "latency": {"kind": "uniform", "low_ms": 1, "high_ms": 9, "per_token_ms": 0}},
        ],
        "page_size": 512, "unit_pages": False, "write_policy": "write-back",
        "pinning": True, "anti_thrash": 0, "prefetch": 0, "thrash_window": 1000,
        "window_accesses": 200, "window_ms": None, "seed": 1,
    },
    "workload": {"kind": "generator", "name": "chat",
                 "params": {"n": 20000, "seed": 1, "topics": 8, "revisit": 0.3}},
    "label": "ARC on a chat, 8k context",
    "public": False,
    "speed": None,
}
EXAMPLE_COMPARISON: dict[str, Any] = {
    "config": {"tiers": [{"name": "L0", "capacity_tokens": 3, "policy": "fifo"}],
               "unit_pages": True, "window_accesses": 1},
    "workload": {"kind": "sequence", "pages": [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]},
    "variants": [{"label": "FIFO, 3 frames", "capacity_tokens": 3},
                 {"label": "FIFO, 4 frames", "capacity_tokens": 4}],
    "with_opt": True,
    "label": "Belady's anomaly",
}

router = Router(tags=["runs"], auth=SIGNED_IN)


# --- schemas --------------------------------------------------------------------------------


class RunCreate:
    """The body of POST /api/runs/ as Django Ninja sees it: validated by the run
    specification itself (``specs.run_spec``, into a :class:`RunSpec`) and documented by the
    JSON Schema derived from the same descriptions (``specs.json_schemas``)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(run_spec, ref="RunCreate")

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema, handler: Any) -> dict[str, Any]:
        # self-contained for pydantic; the document lists the parts as components
        # (vmemsite.openapi puts specs.json_schemas() in)
        return inlined("RunCreate")


#: the body of a control: checked by ``services.run_control`` (the websocket sends the same)
ControlAction = Annotated[str, WithJsonSchema({"enum": list(ACTIONS)})]
ControlSpeed = Annotated[Any, WithJsonSchema(RUN_PARAMS["speed"].json_schema())]
_STATUSES = [choice for choice, _ in models.Run.Status.choices]
_DATE = {"type": "string", "format": "date-time"}


class RunSummary(BaseModel):
    id: int
    label: str
    kind: Annotated[str, WithJsonSchema({"enum": [k for k, _ in models.Run.Kind.choices]})]
    public: bool
    status: Annotated[str, WithJsonSchema({"enum": _STATUSES})]
    progress: float | None
    accesses: int
    total: int | None
    created_at: Annotated[str, WithJsonSchema(_DATE)]
    finished_at: Annotated[str | None, WithJsonSchema({"anyOf": [_DATE, {"type": "null"}]})]
    urls: dict[str, str]


class Run(RunSummary):
    """A run with what its page shows: owner, error, workload, tiers, variants, counters and
    the result (``RunResult``, or ``{rows, results}`` for a comparison)."""

    model_config = ConfigDict(extra="allow")

    owner: str
    error: str
    workload: dict[str, Any]
    counters: dict[str, Any]
    result: dict[str, Any] | None


class RunList(BaseModel):
    count: int
    runs: list[RunSummary]


class RunControl(BaseModel):
    model_config = ConfigDict(extra="allow")

    action: ControlAction
    speed: ControlSpeed = None


class RunControlOut(BaseModel):
    id: int
    status: str
    desired: str
    speed: float | None
    step_requests: int


class RunWindows(BaseModel):
    id: int
    status: str
    points: dict[str, list[dict[str, Any]]] = Field(
        description="Windowed metrics: one list of points per variant (docs/metrics.md).")


# --- operations -------------------------------------------------------------------------------


def _summary(run: models.Run, user: Any) -> dict[str, Any]:
    meta = run_meta(run, user)
    return {key: meta[key] for key in RunSummary.model_fields}


def _visible(request: HttpRequest, run_id: int) -> models.Run:
    run = run_get_visible(request.auth.user, run_id)
    if run is None:
        raise NotFound(f"no run {run_id}")
    return run


def _curl(*parts: str, label: str = "curl") -> dict[str, str]:
    return {"lang": "curl", "label": label, "source": " \\\n  ".join(parts)}


_TOKEN = 'curl -H "Authorization: Bearer $VMEM_TOKEN"'


@router.get("/", url_name="api_runs", operation_id="listRuns", summary="List your runs",
            response={200: RunList, 400: Error, 401: Error})
def list_runs(request: HttpRequest, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    user = request.auth.user
    limit, offset = min(max(limit, 1), MAX_LIMIT), min(max(offset, 0), MAX_OFFSET)
    owned = run_list_owned(user)
    page = owned[offset:offset + limit].select_related("owner")
    return {"count": owned.count(), "runs": [_summary(run, user) for run in page]}


@router.post(
    "/", url_name="api_runs", operation_id="createRun",
    summary="Create and start a run (or a comparison)",
    description="The body is the run specification (schema `RunCreate`): every setting with "
                "its range, every workload generator with its parameters. All bad fields "
                "are reported at once.",
    response={201: RunSummary, 400: Error, 401: Error, 403: Error, 413: Error},
    openapi_extra={"requestBody": {"content": {"application/json": {"examples": {
        "run": {"summary": "A run", "value": EXAMPLE_RUN},
        "comparison": {"summary": "A comparison", "value": EXAMPLE_COMPARISON},
    }}}}, "x-codeSamples": [
        _curl(f"{_TOKEN} -H 'Content-Type: application/json'",
              f"-d '{json.dumps(EXAMPLE_RUN)}'", "$VMEM_URL/api/runs/", label="curl (a run)"),
        _curl(f"{_TOKEN} -H 'Content-Type: application/json'",
              f"-d '{json.dumps(EXAMPLE_COMPARISON)}'", "$VMEM_URL/api/runs/",
              label="curl (a comparison)"),
    ]},
)
def create_run(request: HttpRequest, response: HttpResponse,
               payload: Body[RunCreate]) -> Status:
    spec: RunSpec = payload
    run = run_create(owner=request.auth.user, spec=spec)
    run = models.Run.objects.select_related("owner").get(pk=run.pk)
    response["Location"] = reverse("simulator:api_run", args=[run.pk])
    return Status(201, _summary(run, request.auth.user))


@router.get("/{int:run_id}/", url_name="api_run", auth=ANONYMOUS_READS, operation_id="getRun",
            summary="A run's status, counters and results",
            response={200: Run, 401: Error, 404: Error})
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = _visible(request, run_id)
    return {**run_meta(run, request.auth.user), "counters": run.counters, "result": run.result}


@router.post("/{int:run_id}/control", url_name="api_run_control", operation_id="controlRun",
             summary="Pause, resume, step, stop, or change the speed of your run",
             description="Accepted at once; the runner applies it within a tenth of a second. "
                         "403: a public run of someone else; 409: the run is already over.",
             response={200: RunControlOut, 400: Error, 401: Error, 403: Error, 404: Error,
                       409: Error})
def control_run(request: HttpRequest, run_id: int, payload: RunControl) -> dict[str, Any]:
    run = run_control(run=_visible(request, run_id), user=request.auth.user,
                      action=payload.action, speed=payload.speed)
    return {key: getattr(run, key) if key != "id" else run.pk
            for key in RunControlOut.model_fields}


@router.get("/{int:run_id}/windows", url_name="api_run_windows", auth=ANONYMOUS_READS,
            operation_id="getRunWindows",
            summary="Windowed metrics as JSON (one list of points per variant)",
            response={200: RunWindows, 401: Error, 404: Error})
def run_windows_json(request: HttpRequest, run_id: int) -> dict[str, Any]:
    run = _visible(request, run_id)
    return {"id": run.pk, "status": run.status, "points": run_windows(run)}


@router.get("/{int:run_id}/windows.csv", url_name="api_run_windows_csv", auth=ANONYMOUS_READS,
            operation_id="getRunWindowsCsv", summary="Windowed metrics as CSV",
            response={200: None, 401: Error, 404: Error},
            openapi_extra={"responses": {200: {
                "description": "CSV, one row per window and variant.",
                "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def run_windows_csv(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    run = _visible(request, run_id)
    response = StreamingHttpResponse(windows_csv_lines(run), content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, f"run-{run.pk}-windows.csv")
    return response
