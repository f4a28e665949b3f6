"""Pages of the chat app. Thin: forms shape input, services write, selectors read.

Every chat page is its owner's only: anyone else gets 404, as for a chat that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from simulator.engine.errors import ConfigError
from vmemsite.csv_safe import CsvLines

from .forms import ChatForm, CompareForm, ProfileForm, ScriptForm
from .models import Chat
from .selectors import (
    chat_get_owned,
    chat_list_owned,
    chat_meta,
    chat_state,
    chat_trace,
    compare_sources,
    preset_infos,
    provider_infos,
    replay_policy_choices,
    script_list_shipped,
    session_compare,
    user_pricing_profiles,
)
from .services import (
    ChatBusy,
    ChatError,
    chat_create,
    chat_delete,
    chat_recover_stale,
    chat_replay_create,
    chat_script_start,
    chat_turn_send,
    pricing_profile_delete,
    pricing_profile_save,
)


def _owned_or_404(request: HttpRequest, chat_id: int) -> Chat:
    chat = chat_get_owned(request.user, chat_id)
    if chat is None:
        raise Http404("No such chat.")
    return chat


CHATS_PER_PAGE = 25


def _list_page(request: HttpRequest, chat_form: ChatForm | None = None,
               script_form: ScriptForm | None = None, status: int = 200) -> HttpResponse:
    return render(request, "chat/list.html", {
        "page": Paginator(chat_list_owned(request.user), CHATS_PER_PAGE).get_page(
            request.GET.get("page")),
        "form": chat_form or ChatForm(user=request.user),
        "script_form": script_form or ScriptForm(user=request.user),
        "presets": preset_infos(),
        "providers": provider_infos(),
        "scripts": script_list_shipped(),
    }, status=status)


@login_required
@require_GET
def chat_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
@require_POST
def chat_new(request: HttpRequest) -> HttpResponse:
    form = ChatForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            chat = chat_create(owner=request.user, **form.chat_kwargs())
        except ConfigError as exc:
            form.add_config_error(exc)
        else:
            return redirect("chat:detail", chat_id=chat.pk)
    return _list_page(request, chat_form=form, status=400)


@login_required
@require_POST
def script_new(request: HttpRequest) -> HttpResponse:
    form = ScriptForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        try:
            chat = chat_script_start(owner=request.user, **form.script_kwargs())
        except ConfigError as exc:
            form.add_config_error(exc)
        else:
            return redirect("chat:detail", chat_id=chat.pk)
    return _list_page(request, script_form=form, status=400)


@login_required
@require_GET
def chat_detail(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = chat_recover_stale(chat=_owned_or_404(request, chat_id))
    return render(request, "chat/detail.html", {
        "chat": chat,
        "meta": chat_meta(chat),
        "state": chat_state(chat),
        "replay_policies": replay_policy_choices(chat),
    })


@login_required
@require_GET
def chat_state_json(request: HttpRequest, chat_id: int) -> JsonResponse:
    return JsonResponse(chat_state(_owned_or_404(request, chat_id)))


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def chat_send(request: HttpRequest, chat_id: int) -> HttpResponse:
    """Accept a message (the answer comes over the websocket): 202 with the saved message,
    400 for an empty or oversized one, 409 while the previous turn is being answered."""
    chat = _owned_or_404(request, chat_id)
    try:
        message = chat_turn_send(chat=chat, user=request.user, text=request.POST.get("text"))
    except ConfigError as exc:
        error, status = exc.message, 400
    except ChatBusy as exc:
        error, status = exc.message, 409
    except ChatError as exc:
        error, status = exc.message, 400
    else:
        if _wants_json(request):
            return JsonResponse({"message": message.pk, "status": Chat.Status.THINKING},
                                status=202)
        return redirect("chat:detail", chat_id=chat.pk)
    if _wants_json(request):
        return JsonResponse({"error": error}, status=status)
    messages.error(request, error)
    return redirect("chat:detail", chat_id=chat.pk)


@login_required
@require_POST
def chat_replay(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _owned_or_404(request, chat_id)
    policies = [p for p in request.POST.getlist("policies") if p] or None
    try:
        run = chat_replay_create(chat=chat, user=request.user, policies=policies)
    except (ConfigError, ChatError) as exc:
        messages.error(request, f"Replay not started: {exc.message}")
        return redirect("chat:detail", chat_id=chat.pk)
    return redirect("simulator:run", run_id=run.pk)


@login_required
@require_GET
def chat_trace_csv(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _owned_or_404(request, chat_id)
    lines = CsvLines(lineterminator="\n")  # cells a spreadsheet would evaluate: neutralised
    text = lines.row(["time", "page_id", "tokens", "op", "session", "turn"]) + lines.rows(
        [int(a.time), a.page_id, a.tokens, a.op.value, a.session, a.turn]
        for a in chat_trace(chat))
    response = HttpResponse(text, content_type="text/csv")
    response["Content-Disposition"] = content_disposition_header(True, f"chat-{chat.pk}-trace.csv")
    return response


@login_required
@require_POST
def chat_delete_view(request: HttpRequest, chat_id: int) -> HttpResponse:
    chat = _owned_or_404(request, chat_id)
    chat_delete(chat=chat, user=request.user)
    messages.success(request, f"Deleted “{chat.title}”.")
    return redirect("chat:list")


@login_required
def chat_compare(request: HttpRequest) -> HttpResponse:
    """Cost against recall: the form, and with it submitted the replays' table and chart."""
    sources = compare_sources(request.user)
    submitted = request.method == "POST"
    form = CompareForm(request.POST if submitted else None, sources=sources,
                       initial={"source": "synthetic"}, user=request.user)
    result = None
    status = 200
    if submitted:
        if form.is_valid():
            try:
                result = session_compare(user=request.user, **form.compare_kwargs())
            except ConfigError as exc:
                form.add_config_error(exc)
        if result is None:
            status = 400
    return render(request, "chat/compare.html", {"form": form, "result": result},
                  status=status)


# --- one's own pricing profiles ------------------------------------------------------------


def _profiles_page(request: HttpRequest, form: ProfileForm, editing: Any = None,
                   status: int = 200) -> HttpResponse:
    return render(request, "chat/pricing.html", {
        "form": form, "editing": editing, "profiles": user_pricing_profiles(request.user),
        "example": PROFILE_EXAMPLE}, status=status)


@login_required
def pricing_profiles(request: HttpRequest) -> HttpResponse:
    """Your pricing profiles: the list and a form to add one."""
    if request.method != "POST":
        return _profiles_page(request, ProfileForm(initial={"text": PROFILE_EXAMPLE}))
    return _profile_submit(request, None)


@login_required
def pricing_profile_edit(request: HttpRequest, profile_id: int) -> HttpResponse:
    entry = next((p for p in user_pricing_profiles(request.user) if p.pk == profile_id), None)
    if entry is None:
        raise Http404("no such profile")
    if request.method != "POST":
        return _profiles_page(request, ProfileForm(initial={"text": entry.text}), entry)
    return _profile_submit(request, entry)


def _profile_submit(request: HttpRequest, entry: Any) -> HttpResponse:
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            saved = pricing_profile_save(owner=request.user, text=form.cleaned_data["text"],
                                         profile_id=entry.pk if entry else None)
        except ConfigError as exc:
            form.add_config_error(exc)
        else:
            messages.success(request, f"Saved “{saved.name}”.")
            return redirect("chat:pricing")
    return _profiles_page(request, form, entry, status=400)


@login_required
@require_POST
def pricing_profile_delete_view(request: HttpRequest, profile_id: int) -> HttpResponse:
    try:
        pricing_profile_delete(owner=request.user, profile_id=profile_id)
    except ConfigError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Deleted the profile.")
    return redirect("chat:pricing")


#: what the form starts from: a profile without a cache, every required field
PROFILE_EXAMPLE = """name = "my-model"
provider = "example"
model = "my-model-1"
title = "My model"

[prices]  # USD per million tokens
input = 1.0
output = 4.0
"""
