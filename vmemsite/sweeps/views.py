"""Pages of sweeps. Thin: the form's fields go to the service, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from simulator.engine.policies import policy_names
from vmemsite.csv_safe import CsvLines
from vmemsite.errors import Conflict, Invalid
from vmemsite.runs.selectors import policy_label
from vmemsite.traces.selectors import trace_list_visible

from .models import Sweep
from .selectors import (
    listed_status,
    policy_parameter_list,
    sweep_get_owned,
    sweep_list_owned,
    sweep_rows,
    sweep_state,
)
from .services import (
    MAX_AXIS_VALUES,
    MAX_CELLS,
    processes,
    sweep_cancel,
    sweep_create,
    sweep_retry_failed,
)

DEFAULT_POLICIES = ("lru", "fifo", "arc", "s3fifo", "sieve", "opt")


def _owned_or_404(request: HttpRequest, sweep_id: int) -> Sweep:
    sweep = sweep_get_owned(request.user, sweep_id)
    if sweep is None:
        raise Http404("No such sweep.")
    return sweep


@login_required
@require_http_methods(["GET", "POST"])
def sweep_new(request: HttpRequest) -> HttpResponse:
    traces = trace_list_visible(request.user)[:200]
    errors: dict[str, str] = {}
    values = {"traces": [str(t) for t in request.GET.getlist("trace")],
              "policies": list(DEFAULT_POLICIES), "sizes": "10, 100, 1000, 10000", "name": "",
              "axis_param": "", "axis_values": "",
              "sizes_mode": "relative" if request.GET.get("sizes_mode") == "relative" else "pages",
              "log_count": "20",
              "low_percent": "0.1", "sample": ""}
    if request.method == "POST":
        values = {"traces": request.POST.getlist("traces"),
                  "policies": request.POST.getlist("policies"),
                  "sizes": request.POST.get("sizes", ""), "name": request.POST.get("name", ""),
                  "axis_param": request.POST.get("axis_param", "")[:64],
                  "axis_values": request.POST.get("axis_values", "")[:400],
                  "sizes_mode": request.POST.get("sizes_mode", "pages"),
                  "log_count": request.POST.get("log_count", "")[:10],
                  "low_percent": request.POST.get("low_percent", "")[:30],
                  "sample": request.POST.get("sample", "")[:30]}
        ids = [int(v) for v in values["traces"] if v.isascii() and v.isdigit() and len(v) < 19]
        axis = {"param": values["axis_param"], "values": values["axis_values"]}
        sizes = values["sizes"] if values["sizes_mode"] != "relative" else {
            "count": values["log_count"], "low_percent": values["low_percent"]}
        try:
            sweep = sweep_create(owner=request.user, trace_ids=ids,
                                 policies=values["policies"], sizes=sizes,
                                 name=values["name"], axis=axis, sample=values["sample"])
        except Invalid as exc:
            for problem in exc.errors:  # every field named at once, the first of each kept
                errors.setdefault(problem.field or "sizes", problem.message)
        else:
            return redirect("sweeps:detail", sweep_id=sweep.pk)
    return render(request, "sweeps/new.html", {
        "traces": traces, "values": values, "errors": errors,
        "policies": [(name, policy_label(name)) for name in policy_names()],
        "max_cells": MAX_CELLS, "processes": processes(), "parameters": policy_parameter_list(),
        "max_axis_values": MAX_AXIS_VALUES,
    }, status=400 if errors else 200)


SWEEPS_PER_PAGE = 25


@login_required
@require_GET
def sweep_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(sweep_list_owned(request.user), SWEEPS_PER_PAGE).get_page(
        request.GET.get("page"))
    rows = [(sweep, listed_status(sweep)) for sweep in page.object_list]
    return render(request, "sweeps/list.html", {"page": page, "rows": rows})


@login_required
@require_GET
def sweep_detail(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = _owned_or_404(request, sweep_id)
    return render(request, "sweeps/detail.html", {"sweep": sweep, "state": sweep_state(sweep)})


@login_required
@require_GET
def sweep_json(request: HttpRequest, sweep_id: int) -> JsonResponse:
    state = sweep_state(_owned_or_404(request, sweep_id))
    response = JsonResponse(state)
    response["Cache-Control"] = "no-store"
    if request.GET.get("download"):
        response["Content-Disposition"] = content_disposition_header(True, f"sweep-{sweep_id}.json")
    return response


@login_required
@require_GET
def sweep_csv(request: HttpRequest, sweep_id: int) -> HttpResponse:
    return sweep_csv_response(_owned_or_404(request, sweep_id))


def sweep_csv_response(sweep: Sweep) -> HttpResponse:
    """Every cell of the sweep as a CSV attachment (the page's export and the API's)."""
    sweep_id = sweep.pk
    header, rows = sweep_rows(sweep)
    lines = CsvLines(lineterminator="\n")
    response = HttpResponse(lines.row(header) + lines.rows(rows),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"sweep-{sweep_id}.csv")
    return response


@login_required
@require_POST
def sweep_retry(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = _owned_or_404(request, sweep_id)
    try:
        count = sweep_retry_failed(sweep=sweep, user=request.user)
    except Conflict as exc:
        messages.info(request, exc.message)
    else:
        messages.success(request, f"{count} failed cell{'s' if count != 1 else ''} queued again.")
    return redirect("sweeps:detail", sweep_id=sweep.pk)


@login_required
@require_POST
def sweep_cancel_view(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = _owned_or_404(request, sweep_id)
    try:
        count = sweep_cancel(sweep=sweep, user=request.user)
    except Conflict as exc:
        messages.info(request, exc.message)
    else:
        under_way = ("cells under way stop within a second" if sweep.backend == "local"
                     else "cells under way on workers finish")
        messages.info(request, f"Cancelled: {count} cell{'s' if count != 1 else ''} not "
                               f"started; {under_way}.")
    return redirect("sweeps:detail", sweep_id=sweep.pk)


