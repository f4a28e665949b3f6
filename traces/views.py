"""Placeholder views; the trace library work fills these in."""

from django.http import HttpRequest, HttpResponse


def trace_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("The trace library is being built.", status=501)


def trace_upload(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Trace upload is being built.", status=501)


def trace_detail(request: HttpRequest, trace_id: int) -> HttpResponse:
    return HttpResponse("The trace library is being built.", status=501)
