"""Sign-up, sign-out and API tokens. Thin: forms validate, services write, selectors read."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from .forms import SignupForm, TokenCreateForm
from .selectors import token_list
from .services import token_create, token_revoke, user_signup


def _next_url(request: HttpRequest, default: str) -> str:
    """``next`` from the form or the query string when it points into this site, else
    ``default`` (a URL or a URL name)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request, settings.LOGIN_REDIRECT_URL))
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(_next_url(request, settings.LOGIN_REDIRECT_URL))
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST signs out (never on a GET: a link or an image could
    otherwise sign people out)."""
    if request.method == "POST":
        logout(request)
        return redirect(_next_url(request, settings.LOGOUT_REDIRECT_URL))
    return render(request, "accounts/logout.html")


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the caller's API tokens; POST creates one and shows it in full, this once."""
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    new_token = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row, new_token = token_create(user=request.user, name=form.cleaned_data["name"])
            except ValidationError as exc:
                form.add_error(None, exc)
                status = 400
            else:
                form = TokenCreateForm()
                new_token = {"row": row, "token": new_token}
        else:
            status = 400
    context = {"form": form, "tokens": token_list(request.user), "new_token": new_token}
    response = render(request, "accounts/tokens.html", context, status=status)
    if new_token is not None:
        response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    if token_revoke(user=request.user, token_id=token_id):
        messages.success(request, "Token revoked: scripts using it are now refused.")
    else:
        messages.error(request, "No such token (already revoked?).")
    return redirect("accounts:tokens")
