"""The live chat websocket: ``/ws/chat/<id>/`` (docs/architecture.md §6, the run page's pattern).

On connect the chat must be the user's own; otherwise the handshake is refused the same way
whether the chat exists or not. The consumer joins the group ``chat.<id>`` first, then sends the
current state, so nothing falls between the two. After that it forwards what the services
publish: ``message`` (the user's message, saved), ``turn`` (the answer or the error, the memory
view, the turn's events), ``status`` (scripts: progress, totals).

From the browser it accepts ``{"action": "send", "text": "..."}`` (the same service as the
HTTP form); anything else gets ``{"type": "error", "error": ...}`` back.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async

from simulator.engine.errors import ConfigError
from vmemsite.live.consumers import LiveConsumer

from . import runners
from .selectors import chat_get_owned, chat_state
from .services import ChatError, chat_turn_send

MAX_MESSAGE = 16 * 1024


@database_sync_to_async
def _state(user, chat_id: int) -> dict[str, Any] | None:
    chat = chat_get_owned(user, chat_id)
    return None if chat is None else chat_state(chat)


@database_sync_to_async
def _send(user, chat_id: int, text: Any) -> dict[str, Any]:
    chat = chat_get_owned(user, chat_id)
    if chat is None:
        return {"type": "error", "error": "this chat is gone"}
    try:
        message = chat_turn_send(chat=chat, user=user, text=text)
    except ConfigError as exc:
        return {"type": "error", "error": exc.message, "field": exc.field}
    except ChatError as exc:
        return {"type": "error", "error": exc.message}
    return {"type": "ack", "message": message.pk}


class ChatConsumer(LiveConsumer):
    max_message = MAX_MESSAGE
    expected = 'expected {"action": "send", "text": "..."}'

    async def connect(self) -> None:
        self.chat_id = int(self.scope["url_route"]["kwargs"]["chat_id"])
        self.user = self.scope.get("user")
        if await _state(self.user, self.chat_id) is None:
            await self.close()  # refused: unknown and someone else's look the same
            return
        await self.join(runners.group_name(self.chat_id), lambda: _state(self.user, self.chat_id))

    async def handle(self, message: dict[str, Any]) -> None:
        if message.get("action") != "send":
            await self.send_error(self.expected)
            return
        reply = await _send(self.user, self.chat_id, message.get("text"))
        await self.send(text_data=json.dumps(reply))

    async def chat_message(self, event: dict[str, Any]) -> None:
        """News from a service, already encoded once by runners.publish()."""
        await self.send(text_data=event["text"])
