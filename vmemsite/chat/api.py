"""The sessions JSON API under ``/api/sessions/`` (Django Ninja; token or session auth).

* ``GET  /api/sessions/pricing`` — the pricing profiles (what ``vmem session pricing --json``
  lists), then the user's own (``"own": true``, written at ``/chat/pricing/``)
* ``POST /api/sessions/import`` — a conversation file's text (a lab script, an OpenAI message
  list, ShareGPT JSON or a Claude Code session, docs/cost.md §4) as a scripted session, queued
  to play: ``{text, name?, provider?, preset?, policy?, pricing?, think_time?}`` → 201
* ``GET  /api/sessions/<id>`` — a session's status, progress, totals (``cost`` included) and
  memory snapshot

Errors are the lab's JSON ``{"error", "field"}``: a malformed file is a 400 on ``script`` whose
message names the line (JSON Lines) or the JSON path; nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, Field

from vmemsite.api.auth import SIGNED_IN
from vmemsite.api.schemas import Error
from vmemsite.errors import NotFound

from .models import Chat
from .services import MAX_SCRIPT_BYTES, chat_script_start

router = Router(tags=["sessions"], auth=SIGNED_IN)


class SessionImport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=MAX_SCRIPT_BYTES,
                      description="the file's text, in any format of docs/cost.md §4")
    name: str = Field("upload.json", max_length=200,
                      description="the file's name (its extension helps tell the format)")
    provider: str = Field("scripted", description="scripted, embedded or http")
    preset: str = Field("vmem", max_length=40)
    policy: str = Field("", max_length=40)
    pricing: str = Field("", max_length=80, description="a pricing profile's name, or none")
    think_time: float | None = Field(None, description="seconds between turns where the file "
                                                       "gives no time (30 by default)")


class Session(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    title: str
    kind: str
    status: str
    preset: str
    pricing: str
    turns_total: int | None
    turns_done: int
    totals: dict[str, Any] | None
    error: str
    urls: dict[str, str]


def _session(chat: Chat, *, snapshot: bool = False) -> dict[str, Any]:
    data = {"id": chat.pk, "title": chat.title, "kind": chat.kind, "status": chat.status,
            "preset": chat.preset, "pricing": chat.pricing, "turns_total": chat.turns_total,
            "turns_done": chat.turns_done, "totals": chat.totals, "error": chat.error,
            "urls": {"page": reverse("chat:detail", args=[chat.pk]),
                     "api": reverse("sessions_api:api_session", args=[chat.pk])}}
    if snapshot:
        data["snapshot"] = chat.snapshot
    return data


@router.get("pricing", url_name="api_pricing", operation_id="listPricing",
            summary="List the pricing profiles", response={200: list[dict[str, Any]], 401: Error})
def list_pricing(request: HttpRequest) -> list[dict[str, Any]]:
    from simulator.memory.pricing import parse_profile, shipped_profiles

    from .selectors import user_pricing_profiles

    profiles = sorted(shipped_profiles().values(), key=lambda p: (p.provider, p.name))
    own = [{**parse_profile(p.data).summary(), "own": True}
           for p in user_pricing_profiles(request.auth.user)]
    return [p.summary() for p in profiles] + own


@router.post("import", url_name="api_session_import", operation_id="importSession",
             summary="Import a conversation as a scripted session",
             response={201: Session, 400: Error, 401: Error, 413: Error})
def import_session(request: HttpRequest, body: SessionImport) -> Status:
    chat = chat_script_start(owner=request.auth.user, upload_text=body.text,
                             upload_name=body.name, provider=body.provider,
                             preset=body.preset, policy=body.policy, pricing=body.pricing,
                             think_time=body.think_time)
    return Status(201, _session(chat))


@router.get("{int:chat_id}", url_name="api_session", operation_id="getSession",
            summary="A session's status, totals and memory", response={200: Session, 401: Error,
                                                                          404: Error})
def get_session(request: HttpRequest, chat_id: int) -> dict[str, Any]:
    chat = Chat.objects.filter(pk=chat_id, owner=request.auth.user).first()
    if chat is None:
        raise NotFound(f"no session {chat_id}")
    return _session(chat, snapshot=True)
