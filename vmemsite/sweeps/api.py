"""JSON API of sweeps, under ``/api/sweeps/`` (Django Ninja): start a sweep, list yours, read
its cells as they finish, cancel it, re-run the failed ones. Sweeps are private: another
user's is a 404."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from vmemsite.api.auth import SIGNED_IN
from vmemsite.api.paging import DEFAULT_LIMIT, page_of
from vmemsite.api.schemas import Error
from vmemsite.errors import NotFound

from .models import Sweep
from .selectors import sweep_get_owned, sweep_list_owned, sweep_state, sweep_summary
from .services import MAX_CELLS, sweep_cancel, sweep_create, sweep_retry_failed
from .views import sweep_csv_response

router = Router(tags=["sweeps"], auth=SIGNED_IN)

_TOKEN = 'curl -H "Authorization: Bearer $VMEM_TOKEN"'


class AxisIn(BaseModel):
    """One policy parameter at several values: each policy that has it gets a curve per
    value (docs/sweeps.md)."""

    model_config = ConfigDict(extra="forbid")

    param: Annotated[str, Field(max_length=64, description="a policy parameter, e.g. "
                                "small_ratio (S3-FIFO), kin_ratio (2Q), tau (ws)")]
    values: list[bool | int | float] | str = Field(
        description="2 to 10 values: a list, or text '0.05, 0.1, 0.2'")


class RelativeSizesIn(BaseModel):
    """Each trace's sizes log-spaced from a percentage of its footprint (distinct pages) to
    all of it."""

    model_config = ConfigDict(extra="forbid")

    count: StrictInt = Field(20, description="how many sizes (1 to 50)")
    low_percent: float = Field(0.1, description="the smallest, in % of the footprint")


class SweepIn(BaseModel):
    """Traces (ids) by policies by cache sizes (pages), at most MAX_CELLS cells; optionally
    by the values of one policy parameter (``axis``)."""

    model_config = ConfigDict(extra="forbid")

    traces: list[StrictInt] = Field(description="ids of traces you can see (1 to 8)")
    policies: list[str] = Field(description="engine policy names, e.g. lru, arc, opt")
    sizes: list[StrictInt] | str | RelativeSizesIn = Field(
        description="cache sizes in pages: a list, text '100, 1000', or {\"count\": 20, "
                    "\"low_percent\": 0.1} for each trace's own sizes from 0.1 % of its "
                    "footprint to all of it, log-spaced")
    name: Annotated[str, Field(max_length=200)] = ""
    axis: AxisIn | None = None
    sample: float | None = Field(None, description="sample pages at this rate in (0, 1), "
                                 "e.g. 0.01: estimates with their standard error, faster; "
                                 "null: exact")


def _owned(request: HttpRequest, sweep_id: int) -> Sweep:
    sweep = sweep_get_owned(request.auth.user, sweep_id)
    if sweep is None:
        raise NotFound("no such sweep")
    return sweep


@router.post("/", url_name="list", operation_id="sweeps_create",
             summary=f"Start a sweep (at most {MAX_CELLS:,} cells), computed in parallel",
             response={201: dict[str, Any], 400: Error, 401: Error},
             openapi_extra={"x-codeSamples": [{"lang": "curl", "label": "curl", "source": (
                 f"{_TOKEN} -H 'Content-Type: application/json' \\\n  -d '{{\"traces\": [1], "
                 "\"policies\": [\"lru\", \"arc\", \"opt\"], \"sizes\": [100, 1000, 10000]}' "
                 "\\\n  $VMEM_URL/api/sweeps/")}]})
def create(request: HttpRequest, response: HttpResponse, payload: SweepIn) -> Status:
    sizes = payload.sizes
    sweep = sweep_create(owner=request.auth.user, trace_ids=payload.traces,
                         policies=payload.policies, name=payload.name,
                         sizes=sizes.model_dump() if isinstance(sizes, BaseModel) else sizes,
                         axis=payload.axis.model_dump() if payload.axis else None,
                         sample=payload.sample)
    response["Location"] = reverse("sweeps_api:detail", args=[sweep.pk])
    return Status(201, sweep_state(sweep))


@router.get("/", url_name="list", operation_id="sweeps_list",
            summary="Your sweeps, newest first, each with its cells counted",
            response={200: dict[str, Any], 401: Error})
def list_sweeps(request: HttpRequest,
                limit: Annotated[int, Query(ge=0)] = DEFAULT_LIMIT,
                offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    return page_of(sweep_list_owned(request.auth.user), limit, offset, "sweeps",
                   sweep_summary)


@router.get("/{int:sweep_id}/", url_name="detail", operation_id="sweeps_detail",
            summary="A sweep: cells by status, and its curves with the gap to OPT",
            response={200: dict[str, Any], 401: Error, 404: Error})
def detail(request: HttpRequest, sweep_id: int) -> dict[str, Any]:
    return sweep_state(_owned(request, sweep_id))


@router.post("/{int:sweep_id}/retry", url_name="retry", operation_id="sweeps_retry",
             summary="Queue the failed cells again",
             response={202: dict[str, Any], 401: Error, 404: Error, 409: Error})
def retry(request: HttpRequest, sweep_id: int) -> Status:
    sweep = _owned(request, sweep_id)
    sweep_retry_failed(sweep=sweep, user=request.auth.user)
    return Status(202, sweep_state(sweep))


@router.post("/{int:sweep_id}/cancel", url_name="cancel", operation_id="sweeps_cancel",
             summary="Cancel a sweep: cells not started fail as cancelled, cells under way "
                     "stop (on Celery workers they finish)",
             response={202: dict[str, Any], 401: Error, 404: Error, 409: Error})
def cancel(request: HttpRequest, sweep_id: int) -> Status:
    sweep = _owned(request, sweep_id)
    sweep_cancel(sweep=sweep, user=request.auth.user)
    sweep.refresh_from_db()
    return Status(202, sweep_state(sweep))


@router.get("/{int:sweep_id}/cells.csv", url_name="csv", operation_id="sweeps_csv",
            summary="Every cell as CSV", response={200: None, 401: Error, 404: Error})
def cells_csv(request: HttpRequest, sweep_id: int) -> HttpResponse:
    return sweep_csv_response(_owned(request, sweep_id))
