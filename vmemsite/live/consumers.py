"""The websocket consumer base of live pages (runs and chats; docs/architecture.md §6)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer


class LiveConsumer(AsyncWebsocketConsumer):
    """What the run and chat websockets share: join the topic's group *before* sending the
    state (so no frame falls between the two), forward what is published to the group, and
    turn the browser's text into a JSON object or an error reply — never a dropped socket.

    Subclasses set ``max_message`` and ``expected`` (shown when a message is not an object)
    and implement :meth:`handle`."""

    max_message = 4096
    expected = "expected a JSON object"
    group: str | None = None

    async def join(self, group: str, load_state: Callable[[], Awaitable[Any]]) -> None:
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        state = await load_state()
        if state is None:  # gone or made private meanwhile
            await self.close()
            return
        for text in self.state_texts(state):
            await self.send(text_data=text)

    def state_texts(self, state: Any) -> list[str]:
        """The state as the messages to send (one unless a subclass splits it)."""
        return [json.dumps(state, separators=(",", ":"))]

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      ) -> None:
        if text_data is None or len(text_data) > self.max_message:
            await self.send_error(
                f"send a JSON object of at most {self.max_message // 1024} KB as text")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self.send_error("not valid JSON")
            return
        except RecursionError:  # nested deeper than the parser's stack (e.g. "[" * 1500)
            await self.send_error("JSON nested too deeply")
            return
        if not isinstance(message, dict):
            await self.send_error(self.expected)
            return
        await self.handle(message)

    async def handle(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    async def send_error(self, text: str) -> None:
        await self.send(text_data=json.dumps({"type": "error", "error": text}))
