"""Pages of the trace library. Thin: forms check input, services write, selectors read.

A private trace is visible only to its owner: anybody else gets the same 404 as for a trace
that does not exist. Public traces are readable by everyone and changed by their owner only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vmemsite.csv_safe import CsvLines

from .analyses import trace_analysis_request
from .disconnect import client_gone
from .forms import TraceUploadForm, TraceVisibilityForm
from .models import Trace
from .selectors import (
    ANALYSIS_CHARTS,
    trace_analysis_rows,
    trace_analysis_state,
    trace_get_visible,
    trace_list_visible,
    trace_path,
    trace_reuse_histogram,
    trace_size_summary,
)
from .services import (
    TraceRejected,
    UploadLimits,
    clean_csv_layout,
    human_bytes,
    trace_delete,
    trace_update,
)
from .services import trace_upload as trace_upload_service

#: the service's field names -> the upload form's (anything else is about the file)
_FORM_FIELDS = {"name": "name", "format": "fmt", "size_unit": "size_unit",
                "bytes_per_token": "bytes_per_token", "columns": "columns",
                "delimiter": "delimiter"}


def _visible_or_404(request: HttpRequest, trace_id: int) -> Trace:
    trace = trace_get_visible(request.user, trace_id)
    if trace is None:
        raise Http404("No such trace.")
    return trace


TRACES_PER_PAGE = 25


@require_GET
def trace_list(request: HttpRequest) -> HttpResponse:
    traces = trace_list_visible(request.user).select_related("owner")
    page = Paginator(traces, TRACES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "traces/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def trace_upload(request: HttpRequest) -> HttpResponse:
    form = TraceUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status, retry_after = 200, None
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                layout = clean_csv_layout(form.cleaned_data["columns"],
                                          form.cleaned_data["delimiter"],
                                          header=not form.cleaned_data["no_header"])
                trace = trace_upload_service(
                    owner=request.user,
                    stream=upload,
                    name=form.cleaned_data["name"],
                    filename=upload.name or "",
                    fmt=form.cleaned_data["fmt"] or None,
                    public=form.cleaned_data["public"],
                    size_hint=upload.size,
                    size_unit=form.cleaned_data["size_unit"] or None,
                    bytes_per_token=form.cleaned_data["bytes_per_token"],
                    csv_layout=layout,
                    stop=client_gone(),
                )
            except TraceRejected as exc:
                form.add_error(_FORM_FIELDS.get(exc.field or "", "file"), exc.message)
                status, retry_after = exc.status, exc.retry_after
            else:
                messages.success(request, f"Trace “{trace.name}” uploaded and validated.")
                return redirect("traces:detail", trace_id=trace.pk)
    limits = UploadLimits.from_settings()
    response = render(
        request,
        "traces/upload.html",
        {"form": form, "max_bytes": human_bytes(limits.bytes), "limits": limits},
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@require_GET
def trace_detail(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = _visible_or_404(request, trace_id)
    histogram = trace_reuse_histogram(trace)
    stats = trace.stats or {}
    context = {
        "trace": trace,
        "stats": stats,
        "sizes": trace_size_summary(trace),
        "layout": trace.layout.describe() if trace.layout else "",
        "is_owner": request.user.is_authenticated and trace.owner_id == request.user.pk,
        "histogram": {"labels": [label for label, _ in histogram],
                      "counts": [count for _, count in histogram]},
        "reuses": sum(count for label, count in histogram if label != "cold"),
        "sampled_all": stats.get("reuse_sampled_requests", trace.requests) >= trace.requests,
        "analysis_charts": ANALYSIS_CHARTS,
        "analysis_status": trace_analysis_state(trace)["status"],
        "replay_url": f"/runs/new/?trace={trace.pk}",
        "compare_url": f"/compare/new/?trace={trace.pk}",
    }
    return render(request, "traces/detail.html", context)


@login_required
@require_POST
def trace_visibility(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = _visible_or_404(request, trace_id)
    form = TraceVisibilityForm(request.POST)
    form.is_valid()  # a lone optional checkbox is always valid
    trace_update(trace=trace, user=request.user, public=form.cleaned_data["public"])
    messages.success(
        request,
        "The trace is now public: anyone can see and replay it." if trace.public
        else "The trace is now private: only you can see it.",
    )
    return redirect("traces:detail", trace_id=trace.pk)


@login_required
@require_POST
def trace_delete_view(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = _visible_or_404(request, trace_id)
    name = trace.name
    trace_delete(trace=trace, user=request.user)
    messages.success(request, f"Trace “{name}” deleted.")
    return redirect("traces:list")


@require_GET
def trace_download(request: HttpRequest, trace_id: int) -> HttpResponse:
    trace = _visible_or_404(request, trace_id)
    return trace_file_response(trace)


def trace_file_response(trace: Trace) -> FileResponse:
    path = trace_path(trace)
    if not path.is_file():
        raise Http404("The file of this trace is missing.")
    compression = trace.compression
    extension = "oracleGeneral" if trace.fmt == "oracle" else trace.fmt
    suffix = {"gzip": ".gz", "zstd": ".zst"}.get(compression or "", "")
    filename = f"{_safe_filename(trace.name)}.{extension}{suffix}"
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=filename)  # noqa: SIM115
    if compression == "gzip":
        response["Content-Type"] = "application/gzip"
    elif compression == "zstd":
        response["Content-Type"] = "application/zstd"
    elif trace.fmt == "oracle":
        response["Content-Type"] = "application/octet-stream"
    elif trace.fmt == "csv":
        response["Content-Type"] = "text/csv; charset=utf-8"
    else:
        response["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _safe_filename(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name).strip("-.")
    return cleaned[:80] or "trace"


@require_GET
def trace_analysis_json(request: HttpRequest, trace_id: int) -> JsonResponse:
    """The analysis's state and, once done, its result (the page polls this while it runs)."""
    trace = _visible_or_404(request, trace_id)
    response = JsonResponse(trace_analysis_state(trace))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def trace_analysis_start(request: HttpRequest, trace_id: int) -> HttpResponse:
    """Start the analysis (again, if it failed or was lost) of a trace one can see."""
    trace = _visible_or_404(request, trace_id)
    trace_analysis_request(trace, restart=request.POST.get("restart") == "1"
                           and trace.owner_id == request.user.pk)
    return redirect("traces:detail", trace_id=trace.pk)


@require_GET
def trace_analysis_csv(request: HttpRequest, trace_id: int, chart: str) -> HttpResponse:
    """One chart of the analysis as CSV (404 until the analysis is done)."""
    trace = _visible_or_404(request, trace_id)
    result = trace_analysis_state(trace)["analysis"]
    if chart not in ANALYSIS_CHARTS or result is None:
        raise Http404("No such chart, or the analysis is not done.")
    header, rows = trace_analysis_rows(result, chart)
    lines = CsvLines(lineterminator="\n")
    response = HttpResponse(lines.row(header) + lines.rows(rows),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"{_safe_filename(trace.name)}-{chart}.csv")
    return response
