"""The live chat websocket: ``/ws/chat/<id>/`` (DESIGN §6, the run page's pattern).

On connect the chat must be the user's own; otherwise the handshake is refused the same way
whether the chat exists or not. The consumer joins the group ``chat.<id>`` first, then sends the
current state, so nothing falls between the two. After that it forwards what the services
publish: ``message`` (the user's message, saved), ``turn`` (the answer or the error, the memory
view, the turn's events), ``status`` (scripts: progress, totals).

From the browser it accepts ``{"action": "send", "text": "..."}`` (the same service as the
HTTP form); anything else gets ``{"type": "error", "error": ...}`` back.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from simulator.engine.errors import ConfigError

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


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.chat_id = int(self.scope["url_route"]["kwargs"]["chat_id"])
        self.user = self.scope.get("user")
        runners.set_loop(asyncio.get_running_loop())
        if await _state(self.user, self.chat_id) is None:
            await self.close()  # refused: unknown and someone else's look the same
            return
        self.group = runners.group_name(self.chat_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        state = await _state(self.user, self.chat_id)
        if state is None:
            await self.close()
            return
        await self.send(text_data=json.dumps(state, separators=(",", ":")))

    async def disconnect(self, code: int) -> None:
        group = getattr(self, "group", None)
        if group:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      ) -> None:
        if text_data is None or len(text_data) > MAX_MESSAGE:
            await self._error("send a JSON object of at most 16 KB as text")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("not valid JSON")
            return
        if not isinstance(message, dict) or message.get("action") != "send":
            await self._error('expected {"action": "send", "text": "..."}')
            return
        reply = await _send(self.user, self.chat_id, message.get("text"))
        await self.send(text_data=json.dumps(reply))

    async def _error(self, text: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "error": text}))

    async def chat_message(self, event: dict[str, Any]) -> None:
        """News from a service, already encoded once by runners.publish()."""
        await self.send(text_data=event["text"])
