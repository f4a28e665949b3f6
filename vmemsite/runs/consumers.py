"""The live-run websocket (docs/architecture.md §6): ``/ws/runs/<id>/``.

On connect: the run must be visible to the user (owner, or public); otherwise the handshake is
refused the same way whether the run exists or not. The consumer joins the group ``run.<id>``
first, then sends the current state, so no frame falls between the two. After that it forwards
the runner's messages (frames with sequence numbers, status changes) as they come.

From the browser it accepts control messages ``{"action": "pause"|"resume"|"step"|"stop"|
"speed", "speed": …}``. Anything else (not JSON, not an object, an unknown action, a viewer who
is not the owner) gets ``{"type": "error", "error": …}`` back and changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from vmemsite.errors import LabError, ws_reply
from vmemsite.live.consumers import LiveConsumer

from .executor import group_name
from .frames import state_messages
from .models import Run
from .selectors import run_can_control, run_get_visible, run_state
from .services import run_control

logger = logging.getLogger(__name__)


@database_sync_to_async
def _load(user, run_id: int) -> Run | None:
    return run_get_visible(user, run_id)


@database_sync_to_async
def _state(user, run_id: int) -> dict[str, Any] | None:
    run = run_get_visible(user, run_id)
    return None if run is None else run_state(run, user)


@database_sync_to_async
def _control(user, run_id: int, action: str, speed: Any) -> dict[str, Any]:
    run = run_get_visible(user, run_id)
    if run is None:
        return {"type": "error", "error": "this run is gone"}
    try:
        run = run_control(run=run, user=user, action=action, speed=speed)
    except LabError as exc:
        return ws_reply(exc)
    except Exception:  # a bug must not take the viewer's connection down with it
        logger.exception("control %r of run %s failed", action, run_id)
        return {"type": "error", "error": "internal error: the control was not applied"}
    return {"type": "ack", "action": action, "desired": run.desired, "speed": run.speed}


class RunConsumer(LiveConsumer):
    expected = 'expected an object like {"action": "pause"}'

    def state_texts(self, state: dict[str, Any]) -> list[str]:
        return state_messages(state)  # no message over 256 KiB, whatever the run's length

    async def connect(self) -> None:
        self.run_id = int(self.scope["url_route"]["kwargs"]["run_id"])
        self.user = self.scope.get("user")
        run = await _load(self.user, self.run_id)
        if run is None:
            await self.close()  # refused: unknown and private look the same
            return
        self.can_control = run_can_control(run, self.user)
        await self.join(group_name(self.run_id), lambda: _state(self.user, self.run_id))

    async def handle(self, message: dict[str, Any]) -> None:
        if not isinstance(message.get("action"), str):
            await self.send_error(self.expected)
            return
        if not self.can_control:
            await self.send_error("read-only: only the owner of this run can control it")
            return
        reply = await _control(self.user, self.run_id, message["action"], message.get("speed"))
        await self.send(text_data=json.dumps(reply))

    async def run_message(self, event: dict[str, Any]) -> None:
        """A frame or status change from the runner, already encoded once by publish()."""
        await self.send(text_data=event["text"])

    async def run_private(self, event: dict[str, Any]) -> None:
        """The owner made the run private: anyone else watching loses the live view (close
        code 4403; the page then finds the run gone)."""
        if self.can_control:
            await self.send(text_data=event["text"])
            return
        await self.channel_layer.group_discard(self.group, self.channel_name)
        self.group = None
        await self.close(code=4403)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Every other websocket path: the handshake is refused (Channels' router would raise)."""

    async def connect(self) -> None:
        await self.close(code=4404)
