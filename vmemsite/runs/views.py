"""Pages of the lab. Thin: forms shape input, services write, selectors read."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vmemsite.errors import Conflict, Invalid
from vmemsite.traces.selectors import trace_get_visible

from .filters import RunListFilter
from .forms import (
    DEFAULT_CONFIG,
    DEFAULT_VARIANTS,
    DEFAULT_WORKLOAD,
    CompareForm,
    RunForm,
    initial_from,
    trace_comparison_config,
)
from .models import Run
from .overview import PAGE_ROWS
from .presets import PRESETS, preset_get
from .selectors import (
    run_export,
    run_get_visible,
    run_list_owned,
    run_list_owned_filtered,
    run_list_public,
    run_meta,
    run_state,
    run_windows_page,
)
from .selectors import run_windows_csv as windows_csv_lines
from .services import RunPermissionError, run_again, run_create, run_set_public


def _visible_or_404(request: HttpRequest, run_id: int) -> Run:
    run = run_get_visible(request.user, run_id)
    if run is None:
        raise Http404("No such run.")
    return run


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "runs/home.html", {
        "presets": list(PRESETS.values()),
        **_my_runs_context(request),
        "public_runs": run_list_public(limit=10, exclude_user=request.user),
    })


@require_GET
def my_runs(request: HttpRequest) -> HttpResponse:
    """The home page's "Your recent runs" card, polled by htmx while a run is going."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    return render(request, "runs/_my_runs.html", _my_runs_context(request))


RUNS_PER_PAGE = 25


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """All of one's runs, newest first, a page at a time, filtered by status and kind."""
    filters = RunListFilter(request.GET)
    filters.is_valid()
    runs = run_list_owned_filtered(request.user, **filters.chosen())
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "runs/list.html", {"filters": filters, "page": page})


def _my_runs_context(request: HttpRequest) -> dict[str, Any]:
    runs = list(run_list_owned(request.user, limit=10))
    return {"my_runs": runs, "any_active": any(r.status in Run.ACTIVE for r in runs)}


@login_required
@require_POST
def preset_start(request: HttpRequest, key: str) -> HttpResponse:
    preset = preset_get(key)
    if preset is None:
        raise Http404("No such preset.")
    run = run_create(owner=request.user, **preset.run_kwargs())
    return redirect("simulator:run", run_id=run.pk)


def _initial(request: HttpRequest, compare: bool) -> dict:
    preset = preset_get(request.GET.get("preset"))
    if preset is not None:
        return initial_from(preset.config, preset.workload, preset.variants,
                            speed=preset.speed, label=preset.title)
    initial = initial_from(DEFAULT_CONFIG, DEFAULT_WORKLOAD,
                           DEFAULT_VARIANTS if compare else None)
    trace_id = request.GET.get("trace", "")
    if trace_id.isdigit():
        trace = trace_get_visible(request.user, int(trace_id))
        if trace is not None and compare:
            return initial_from(trace_comparison_config(trace.distinct_pages),
                                {"kind": "trace", "trace_id": trace.pk}, DEFAULT_VARIANTS)
        if trace is not None:
            initial.update(source="trace", trace=trace.pk)
    return initial


def _run_form_view(request: HttpRequest, form_class: type[RunForm], template: str,
                   ) -> HttpResponse:
    compare = form_class is CompareForm
    if request.method == "POST":
        form = form_class(request.POST, user=request.user)
        spec = form.run_spec()  # None: every problem is on the form
        if spec is not None:
            try:
                run = run_create(owner=request.user, spec=spec)
            except Invalid as exc:
                form.add_invalid(exc)
            else:
                return redirect("simulator:run", run_id=run.pk)
        status = 400
    else:
        form = form_class(initial=_initial(request, compare), user=request.user)
        status = 200
    # the presets of this form only (a comparison's, or a single run's)
    presets = [p for p in PRESETS.values() if p.is_compare == compare]
    return render(request, template, {"form": form, "compare": compare, "presets": presets},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    return _run_form_view(request, RunForm, "runs/run_form.html")


@login_required
@require_http_methods(["GET", "POST"])
def compare_new(request: HttpRequest) -> HttpResponse:
    return _run_form_view(request, CompareForm, "runs/run_form.html")


@require_GET
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_or_404(request, run_id)
    return render(request, "runs/run.html", {
        "run": run,
        "meta": run_meta(run, request.user, brief=True),
    })


@require_GET
def run_state_json(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _visible_or_404(request, run_id)
    return JsonResponse(run_state(run, request.user))


def _int_param(request: HttpRequest, name: str, default: int | None, low: int, high: int,
               ) -> int | None:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    if not raw.lstrip("-").isdigit() or len(raw) > 20:
        raise ValueError(f"{name}: expected an integer, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low:,} and {high:,}, got {value:,}")
    return value


@require_GET
def run_windows_page_json(request: HttpRequest, run_id: int) -> JsonResponse:
    """``?after=<access>&limit=<rows>&until=<access>&series=<label>``: full-resolution
    windows a page at a time (docs/architecture.md §6); ``next`` is the next page's ``after``."""
    run = _visible_or_404(request, run_id)
    try:
        after = _int_param(request, "after", 0, 0, 2**62)
        limit = _int_param(request, "limit", 1000, 1, PAGE_ROWS)
        until = _int_param(request, "until", None, 0, 2**62)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        return JsonResponse({"error": message, "field": field}, status=400)
    series = request.GET.get("series") or None
    return JsonResponse(run_windows_page(run, after=after, limit=limit, until=until,
                                         series=series))


@require_GET
def run_windows_csv(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    run = _visible_or_404(request, run_id)
    response = StreamingHttpResponse(windows_csv_lines(run), content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, f"run-{run.pk}-windows.csv")
    return response


@require_GET
def run_export_json(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_or_404(request, run_id)
    response = HttpResponse(json.dumps(run_export(run), indent=2),
                            content_type="application/json")
    response["Content-Disposition"] = content_disposition_header(True, f"run-{run.pk}.json")
    return response


@login_required
@require_POST
def run_share(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_or_404(request, run_id)
    try:
        run_set_public(run=run, user=request.user, public=request.POST.get("public") == "1")
    except RunPermissionError as exc:
        return HttpResponse(str(exc), status=403)
    messages.success(request, "The run is public now: anyone with the link can watch it."
                     if run.public else "The run is private now.")
    return redirect("simulator:run", run_id=run.pk)


@login_required
@require_POST
def run_again_view(request: HttpRequest, run_id: int) -> HttpResponse:
    """Start a new run with the same configuration and workload as a finished one."""
    run = _visible_or_404(request, run_id)
    try:
        again = run_again(run=run, user=request.user)
    except RunPermissionError as exc:
        return HttpResponse(str(exc), status=403)
    except (Invalid, Conflict) as exc:
        messages.error(request, f"Could not start it again: {exc.message}")
        return redirect("simulator:run", run_id=run.pk)
    messages.success(request, f"Started again from run {run.pk}.")
    return redirect("simulator:run", run_id=again.pk)
