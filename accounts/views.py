"""Placeholder views; the accounts work fills these in."""

from django.http import HttpRequest, HttpResponse


def signup(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Sign-up is being built.", status=501)


def tokens(request: HttpRequest) -> HttpResponse:
    return HttpResponse("API tokens are being built.", status=501)
