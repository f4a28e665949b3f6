"""Conversations from the formats people have, as one session the lab can replay.

* ``openai`` — an OpenAI chat-completions message list (JSON): ``[{"role", "content"}…]`` or
  ``{"messages": […]}``; ``content`` a string or a list of parts; assistant ``tool_calls`` and
  ``tool`` results included.
* ``sharegpt`` — ShareGPT-style JSON: ``{"conversations": [{"from": "human", "value": …}…]}``
  or a list of such conversations (``index`` picks one).
* ``claude-code`` — a Claude Code session file (JSON Lines): ``user`` and ``assistant`` lines
  with their ``timestamp``; tool calls and tool results become turns of their own; the lines
  of one streamed assistant message are joined; thinking blocks, side chains, summaries and
  bookkeeping lines are left out.
* ``script`` — the lab's own scripted conversations (:mod:`simulator.llm.scripts`).

Every format becomes a :class:`Transcript`: turns with a role (system, user, assistant, tool),
their text and, when the file has them, their time. A malformed file raises
:class:`TranscriptError` naming the line (JSON Lines) or the JSON path (JSON) and what is wrong;
nothing is returned half-read. See docs/cost.md, "Transcripts".
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from simulator.engine.errors import VMemError

from .scripts import ScriptError, ScriptTurn, SessionScript, load_script
from .session import DEFAULT_SYSTEM_PROMPT

__all__ = ["FORMATS", "ROLES", "Transcript", "TranscriptError", "Turn", "load_transcript",
           "parse_transcript"]

FORMATS = ("openai", "sharegpt", "claude-code", "script")
ROLES = ("system", "user", "assistant", "tool")
#: the largest file read
MAX_BYTES = 64 * 1024 * 1024
#: the most turns one transcript may have
MAX_TURNS = 100_000

_OPENAI_ROLES = {"system": "system", "developer": "system", "user": "user",
                 "assistant": "assistant", "tool": "tool", "function": "tool"}
_SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                   "assistant": "assistant", "chatgpt": "assistant", "bard": "assistant",
                   "bing": "assistant", "model": "assistant", "function_call": "assistant",
                   "tool": "tool", "observation": "tool", "function_response": "tool"}
_CLAUDE_MESSAGE_TYPES = {"user", "assistant"}
_CLAUDE_OTHER_TYPES = {"summary", "system", "file-history-snapshot", "queue-operation", "result"}
_TIME_KEYS = ("timestamp", "created_at", "created", "create_time", "time")


class TranscriptError(VMemError):
    """A malformed transcript. ``line`` is 1-based in a JSON Lines file, ``path`` a JSON path
    (``$[3].content``) in a JSON file; ``source`` is the file."""

    def __init__(self, message: str, *, line: int | None = None, path: str | None = None,
                 source: str | None = None) -> None:
        self.message, self.line, self.path, self.source = message, line, path, source
        where = [w for w in (source, f"line {line}" if line else None, path) if w]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


@dataclass(frozen=True)
class Turn:
    """One message. ``at`` is seconds since the epoch (UTC) when the file gives a time;
    ``name`` is the tool of a tool call or result; ``where`` is where it was read."""

    role: str
    text: str
    at: float | None = None
    name: str = ""
    where: str = ""


@dataclass
class Transcript:
    """A conversation read from a file, in order."""

    format: str
    turns: list[Turn]
    title: str = ""
    source: str = ""
    #: documents of a scripted conversation: ``{"id", "title", "sections": [{"text"}…]}``
    documents: list[dict[str, Any]] = field(default_factory=list)
    #: the scripted conversation itself, for the ``script`` format (labels and probes kept)
    script: SessionScript | None = None

    @property
    def system(self) -> str:
        return "\n\n".join(t.text for t in self.turns if t.role == "system")

    def count(self, role: str) -> int:
        return sum(1 for t in self.turns if t.role == role)

    @property
    def timed(self) -> bool:
        return any(t.at is not None for t in self.turns)

    def user_times(self, think_time: float = 30.0) -> list[float]:
        """A time (seconds from the first turn) for every user turn — one model call each:
        the file's time when it has one, else the previous time plus ``think_time``; never
        earlier than the previous one (a clock that went back is held)."""
        times: list[float] = []
        start = next((t.at for t in self.turns if t.at is not None), None)
        for turn in self.turns:
            if turn.role != "user":
                continue
            if turn.at is not None and start is not None:
                at = turn.at - start
            else:
                at = times[-1] + think_time if times else 0.0
            times.append(round(max(at, times[-1]) if times else max(at, 0.0), 3))
        return times

    def to_script(self) -> SessionScript:
        """The conversation as a scripted session (:func:`simulator.llm.scripts.run_script`
        replays it): each user turn with everything the assistant and tools said after it as
        its reply. System turns make the system prompt; turns before the first user turn are
        added to it."""
        if self.script is not None:
            return self.script
        system, turns = [t.text for t in self.turns if t.role == "system"], []
        times = iter(self.user_times()) if self.timed else None
        for turn in self.turns:
            if turn.role == "system":
                continue
            if turn.role == "user":
                turns.append(ScriptTurn(turn.text, reply=None,
                                        at=next(times) if times is not None else None))
                continue
            text = f"[{turn.role} {turn.name}] {turn.text}" if turn.role == "tool" else turn.text
            if not turns:
                system.append(text)
            else:
                last = turns[-1]
                last.reply = text if last.reply is None else f"{last.reply}\n\n{text}"
        return SessionScript(title=self.title or Path(self.source).stem,
                             system="\n\n".join(system) or DEFAULT_SYSTEM_PROMPT,
                             documents=list(self.documents), turns=turns, source=self.source)

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "title": self.title, "source": self.source,
                "turns": [asdict(t) for t in self.turns], "documents": self.documents}


# --- reading -------------------------------------------------------------------------------

def load_transcript(path: str | Path, format: str = "auto", *, index: int = 0) -> Transcript:
    """Read a conversation file; ``format`` one of :data:`FORMATS` or ``auto`` (told from the
    file's content); ``index`` picks the conversation of a ShareGPT list."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TranscriptError(f"larger than {MAX_BYTES // 2**20} MiB", source=name)
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TranscriptError(f"cannot read it ({exc.strerror or exc})", source=name) from None
    except UnicodeDecodeError:
        raise TranscriptError("not UTF-8 text", source=name) from None
    if format == "auto":
        format = _detect(text, name)
    if format == "script":
        return _from_script(path)
    return parse_transcript(text, format, source=name, index=index)


def parse_transcript(text: str, format: str, *, source: str = "", index: int = 0
                     ) -> Transcript:
    """A transcript from a file's text in a known format (``script`` needs a file: use
    :func:`load_transcript`)."""
    parsers: dict[str, Callable[[str, str, int], Transcript]] = {
        "openai": _openai, "sharegpt": _sharegpt, "claude-code": _claude_code}
    if format not in parsers:
        raise TranscriptError(f"unknown format {format!r}; use one of auto, "
                              f"{', '.join(FORMATS)}", source=source or None)
    transcript = parsers[format](text, source, index)
    if not any(t.role == "user" for t in transcript.turns):
        raise TranscriptError("no user turn in it", source=source or None)
    return transcript


def _detect(text: str, source: str) -> str:
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        return _detect_lines(text, source, exc)
    probe = whole[0] if isinstance(whole, list) and whole else whole
    if isinstance(probe, dict):
        if "conversations" in probe or "from" in probe:
            return "sharegpt"
        if "messages" in probe or "role" in probe:
            return "openai"
        if "message" in probe and "type" in probe:
            return "claude-code"
    raise TranscriptError("cannot tell the format (expected an OpenAI message list, a ShareGPT "
                          "conversation, a Claude Code session or a lab script)", source=source)


def _detect_lines(text: str, source: str, whole_error: json.JSONDecodeError) -> str:
    """The format of a file that is not one JSON document: JSON Lines, told by its first line
    (when that line is not JSON either, the file is broken JSON: say where)."""
    first = next((line for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        raise TranscriptError(f"neither JSON nor JSON Lines ({whole_error.msg}, column "
                              f"{whole_error.colno})", line=whole_error.lineno,
                              source=source) from None
    if isinstance(head, dict):
        if "message" in head or "sessionId" in head or "parentUuid" in head or \
                head.get("type") in _CLAUDE_MESSAGE_TYPES | _CLAUDE_OTHER_TYPES:
            return "claude-code"
        if head.get("type") in ("session", "document") or "role" in head:
            return "script"
    raise TranscriptError("cannot tell the format of these JSON lines (expected Claude Code "
                          "session lines or a lab script)", line=1, source=source)


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(f"not JSON ({exc.msg}, column {exc.colno})", line=exc.lineno,
                              source=source) from None


class _Turns:
    """Collects turns, bounded, with the errors located."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.turns: list[Turn] = []

    def add(self, role: str, text: str, at: float | None, where: str, name: str = "") -> None:
        if not text.strip():
            return  # an empty message adds nothing to a prompt
        if len(self.turns) >= MAX_TURNS:
            raise TranscriptError(f"more than {MAX_TURNS:,} turns", source=self.source)
        self.turns.append(Turn(role, text, at, name, where))


# --- OpenAI chat completions ---------------------------------------------------------------

def _openai(text: str, source: str, index: int) -> Transcript:
    data = _json(text, source)
    title, root = "", "$"
    if isinstance(data, dict):
        title = str(data.get("title", "") or "")
        if not isinstance(data.get("messages"), list):
            raise TranscriptError("expected a list of messages", path="$.messages",
                                  source=source)
        data, root = data["messages"], "$.messages"
    if not isinstance(data, list):
        raise TranscriptError("expected a list of messages or {\"messages\": […]}", path="$",
                              source=source)
    out, tool_names = _Turns(source), {}
    for i, message in enumerate(data):
        where = f"{root}[{i}]"
        if not isinstance(message, dict):
            raise TranscriptError("expected a message object", path=where, source=source)
        role = _OPENAI_ROLES.get(message.get("role"))  # type: ignore[arg-type]
        if role is None:
            raise TranscriptError(f"unknown role {message.get('role')!r} (expected "
                                  f"{', '.join(_OPENAI_ROLES)})", path=f"{where}.role",
                                  source=source)
        at = _time(message, where, source)
        content = _openai_content(message.get("content"), f"{where}.content", source)
        calls = _openai_tool_calls(message.get("tool_calls"), f"{where}.tool_calls", source,
                                   tool_names)
        if role == "tool":
            name = str(message.get("name") or tool_names.get(message.get("tool_call_id"), ""))
            out.add("tool", content, at, where, name)
        elif content or calls:
            out.add(role, "\n".join(x for x in (content, *calls) if x), at, where)
        elif role == "user":
            raise TranscriptError("a user message needs some content", path=f"{where}.content",
                                  source=source)
    return Transcript("openai", out.turns, title=title, source=source)


def _openai_content(content: Any, where: str, source: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise TranscriptError("expected a string or a list of parts", path=where,
                              source=source)
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise TranscriptError("expected a part with a type", path=f"{where}[{j}]",
                                  source=source)
        if part["type"] in ("text", "input_text", "output_text"):
            if not isinstance(part.get("text"), str):
                raise TranscriptError("a text part needs a text", path=f"{where}[{j}].text",
                                      source=source)
            texts.append(part["text"])
        else:
            texts.append(f"[{part['type']}]")
    return "\n".join(texts)


def _openai_tool_calls(calls: Any, where: str, source: str, names: dict[Any, str]) -> list[str]:
    if calls is None:
        return []
    if not isinstance(calls, list):
        raise TranscriptError("expected a list", path=where, source=source)
    texts = []
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise TranscriptError("a tool call needs function.name", path=f"{where}[{j}]",
                                  source=source)
        names[call.get("id")] = fn["name"]
        texts.append(f"[tool_call {fn['name']}] {fn.get('arguments', '')}".rstrip())
    return texts


# --- ShareGPT --------------------------------------------------------------------------------

def _sharegpt(text: str, source: str, index: int) -> Transcript:
    data = _json(text, source)
    root = "$"
    if isinstance(data, list) and data and isinstance(data[0], dict) and "from" in data[0]:
        data = {"conversations": data}
    elif isinstance(data, list):
        if not 0 <= index < len(data):
            raise TranscriptError(f"no conversation {index} (the file has {len(data)})",
                                  path="$", source=source)
        data, root = data[index], f"$[{index}]"
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise TranscriptError("expected {\"conversations\": [{\"from\", \"value\"}…]}",
                              path=f"{root}.conversations", source=source)
    out = _Turns(source)
    if isinstance(data.get("system"), str) and data["system"].strip():
        out.add("system", data["system"], None, f"{root}.system")
    for i, item in enumerate(data["conversations"]):
        where = f"{root}.conversations[{i}]"
        if not isinstance(item, dict):
            raise TranscriptError("expected {\"from\", \"value\"}", path=where, source=source)
        speaker = item.get("from", item.get("role"))
        role = _SHAREGPT_ROLES.get(speaker)  # type: ignore[arg-type]
        if role is None:
            raise TranscriptError(f"unknown speaker {speaker!r} (expected "
                                  f"{', '.join(sorted(_SHAREGPT_ROLES))})",
                                  path=f"{where}.from", source=source)
        value = item.get("value", item.get("content"))
        if not isinstance(value, str):
            raise TranscriptError("expected the message's text", path=f"{where}.value",
                                  source=source)
        out.add(role, value, _time(item, where, source), where,
                "function" if speaker in ("function_call", "function_response") else "")
    title = str(data.get("title") or data.get("id") or "")
    return Transcript("sharegpt", out.turns, title=title, source=source)


# --- Claude Code -----------------------------------------------------------------------------

def _claude_code(text: str, source: str, index: int) -> Transcript:
    out, tool_names, title = _Turns(source), {}, ""
    last_message_id = None
    for number, obj in _json_lines(text, source):
        kind = obj.get("type")
        if kind == "summary" and not title:
            title = str(obj.get("summary") or "")
        if kind not in _CLAUDE_MESSAGE_TYPES:
            if kind not in _CLAUDE_OTHER_TYPES and "message" in obj:
                raise TranscriptError(f"unknown line type {kind!r}", line=number, source=source)
            continue
        if obj.get("isSidechain"):
            continue
        message = obj.get("message")
        if not isinstance(message, dict):
            raise TranscriptError("a user or assistant line needs a message object",
                                  line=number, source=source)
        at = _time(obj, "timestamp", source, line=number)
        where = f"line {number}"
        parts = _claude_parts(message.get("content"), number, source, tool_names)
        if kind == "assistant":
            text_ = "\n".join(p for part_kind, p, _ in parts if part_kind == "said")
            same = message.get("id") is not None and message.get("id") == last_message_id
            if same and out.turns and out.turns[-1].role == "assistant":
                prev = out.turns.pop()
                text_ = "\n".join(x for x in (prev.text, text_) if x)
                at, where = prev.at, prev.where
            if text_:
                out.add("assistant", text_, at, where)
            last_message_id = message.get("id")
            continue
        last_message_id = None
        for part_kind, part_text, name in parts:
            out.add("user" if part_kind == "said" else "tool", part_text, at, where, name)
    return Transcript("claude-code", out.turns, title=title, source=source)


def _claude_parts(content: Any, line: int, source: str, tool_names: dict[str, str]
                  ) -> list[tuple[str, str, str]]:
    """(kind, text, tool name) of a message's content: kind ``said`` for what the line's
    speaker said (text, tool calls, images), ``tool`` for a tool's result."""
    if isinstance(content, str):
        return [("said", content, "")] if content else []
    if not isinstance(content, list):
        raise TranscriptError("message.content must be a string or a list of blocks",
                              line=line, source=source)
    parts = []
    for block in content:
        if not isinstance(block, dict):
            raise TranscriptError("a content block must be an object", line=line, source=source)
        kind = block.get("type")
        if kind == "text":
            parts.append(("said", str(block.get("text", "")), ""))
        elif kind == "tool_use":
            name = str(block.get("name", ""))
            tool_names[str(block.get("id"))] = name
            args = json.dumps(block.get("input", {}), ensure_ascii=False, sort_keys=True)
            parts.append(("said", f"[tool_use {name}] {args}", ""))
        elif kind == "tool_result":
            result = block.get("content", "")
            if isinstance(result, list):
                result = "\n".join(str(b.get("text", f"[{b.get('type')}]"))
                                   for b in result if isinstance(b, dict))
            parts.append(("tool", str(result), tool_names.get(str(block.get("tool_use_id")), "")))
        elif kind == "image":
            parts.append(("said", "[image]", ""))
        # thinking and redacted_thinking blocks are the model's own scratch: left out
    return [part for part in parts if part[1]]


def _json_lines(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"not JSON ({exc.msg}, column {exc.colno})", line=number,
                                  source=source) from None
        if not isinstance(obj, dict):
            raise TranscriptError("expected an object", line=number, source=source)
        yield number, obj


# --- the lab's scripts, times --------------------------------------------------------------

def _from_script(path: Path) -> Transcript:
    try:
        script = load_script(path)
    except ScriptError as exc:
        raise TranscriptError(str(exc)) from None
    turns = [Turn("system", script.system, where="header")]
    for i, turn in enumerate(script.turns):
        turns.append(Turn("user", turn.text, at=turn.at, where=f"turn {i + 1}"))
        if turn.reply is not None:
            turns.append(Turn("assistant", turn.reply, where=f"turn {i + 1}"))
    return Transcript("script", turns, title=script.title, source=path.name,
                      documents=script.documents, script=script)


def _time(obj: dict[str, Any], where: str, source: str, line: int | None = None
          ) -> float | None:
    """Seconds since the epoch of an object's time field, if it has one."""
    key = next((k for k in _TIME_KEYS if obj.get(k) is not None), None)
    if key is None:
        return None
    value = obj[key]
    path = None if line else f"{where}.{key}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return value / 1000 if value > 1e11 else float(value)  # milliseconds or seconds
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return round(moment.timestamp(), 3)
    raise TranscriptError(f"expected an ISO 8601 time or seconds since 1970, got {value!r}",
                          line=line, path=path, source=source)
