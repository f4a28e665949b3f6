"""Chats whose server process died or stopped mid-turn (docs/architecture.md, "The live
executor"): the chat pool stamps ``heartbeat_at`` of the chats it holds; a busy chat whose
heartbeat (or, without one, its last change) is older than ``vmemsite.live.workers.stale_s()``
has no live process behind it and becomes usable again, with a message saying so. Nothing is
lost: the user's message and every finished turn are in the database."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vmemsite.live import workers

from .models import Chat, ChatMessage

NOTE = "interrupted: the server stopped while this was running"


def _stale() -> Q:
    cutoff = timezone.now() - timedelta(seconds=workers.stale_s())
    return Q(status__in=Chat.BUSY) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff))


def chat_interrupt(*, chat: Chat) -> Chat:
    """Make a busy chat usable again at once: a chat goes back to idle with an error message
    after the user's (kept) message; a script fails with the reason."""
    if chat.kind == Chat.Kind.CHAT:
        status, error = Chat.Status.IDLE, ""
        last = ChatMessage.objects.filter(chat_id=chat.pk).order_by("-id").first()
        with transaction.atomic():
            if not Chat.objects.filter(pk=chat.pk, status=chat.status).update(
                    status=status, updated_at=timezone.now()):
                return chat
            if last is not None and last.role == ChatMessage.Role.USER:
                ChatMessage.objects.create(
                    chat=chat, turn=last.turn, role=ChatMessage.Role.ERROR,
                    text=f"{NOTE}; your message is kept — send it again for an answer.",
                    metrics={"error": {"kind": "interrupted", "message": NOTE}})
    else:
        status, error = Chat.Status.FAILED, f"{NOTE}; start the script again"
        Chat.objects.filter(pk=chat.pk, status=chat.status).update(
            status=status, error=error, updated_at=timezone.now())
    chat.status, chat.error = status, error
    return chat


def chat_recover_stale(*, chat: Chat) -> Chat:
    """``chat``, made usable again first if it is busy with no live process behind it."""
    if chat.is_busy and Chat.objects.filter(_stale(), pk=chat.pk).exists():
        return chat_interrupt(chat=chat)
    return chat


class ChatKeeper:
    """Heartbeats, sweeps and a stopping server's leftovers for chats (a
    :class:`vmemsite.live.workers.Keeper`)."""

    def beat(self, ids: set[int]) -> None:
        Chat.objects.filter(pk__in=list(ids), status__in=Chat.BUSY).update(
            heartbeat_at=timezone.now())

    def sweep(self, exclude: set[int]) -> list[int]:
        stale = Chat.objects.filter(_stale()).exclude(pk__in=list(exclude))
        return [chat_interrupt(chat=chat).pk for chat in stale]

    def abandon(self, ids: set[int]) -> None:
        for chat in Chat.objects.filter(pk__in=list(ids), status__in=Chat.BUSY):
            chat_interrupt(chat=chat)
