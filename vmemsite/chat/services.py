"""Services: every write of the chat app goes through a function here (HackSoft style: writes in
``services.py``, reads in ``selectors.py``, named ``<entity>_<action>``, keyword arguments).

* :func:`chat_create` — a new chat: checks the settings, builds the session (system prompt
  pinned in L0) and stores its state.
* :func:`chat_turn_send` — saves the user's message at once, marks the chat *thinking* and hands
  the turn to a worker thread; :func:`chat_turn_execute` (in that thread) restores the session
  from the database (``ChatSession.from_dict``), calls the model, stores the answer — or the
  error, which never loses the user's message — and publishes the result to ``chat.<id>``.
* :func:`chat_script_start` / :func:`chat_script_execute` — a scripted conversation (a shipped
  file or an upload) played turn by turn, with progress and the final recall success.
* :func:`chat_replay_create` — the session's recorded trace into the trace library and an
  open-loop comparison run in the simulator.

Model keys come from the environment only (``VMEM_LLM_*``): nothing here stores, logs or
publishes them; provider errors carry messages meant for people (``ProviderError.kind``).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import tomllib
import uuid
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from simulator.engine.errors import ConfigError, VMemError
from simulator.engine.traces import write_trace
from simulator.llm.costing import SessionCost
from simulator.llm.providers import Provider, ProviderError, ScriptedProvider
from simulator.llm.scripts import ScriptError, SessionScript, load_script, scripted_provider_for
from simulator.llm.scripts import settings_for as script_settings
from simulator.llm.session import DEFAULT_SYSTEM_PROMPT, ChatSession, TurnResult
from simulator.llm.transcripts import TranscriptError, load_transcript
from simulator.memory.cost import DEFAULT_THINK_TIME
from simulator.memory.memory_presets import get_preset
from simulator.memory.pricing import PricingError, parse_profile
from simulator.memory.session_memory import MemorySettings

from . import runners
from .models import Chat, ChatMessage, UserPricingProfile
from .recovery import chat_recover_stale
from .selectors import (
    CHAT_POLICIES,
    REPLAY_POLICIES,
    chat_trace,
    message_data,
    pricing_profile_find,
    script_path_shipped,
)

logger = logging.getLogger(__name__)

#: the embedded model's context window (one llama.cpp context per process)
EMBEDDED_CONTEXT = 4096
#: seconds a model call may take before the turn reports a timeout
TURN_TIMEOUT = 120.0
MAX_MESSAGE_CHARS = 8000
MAX_SCRIPT_BYTES = 1_000_000
MAX_TITLE = 200
#: notable events kept per turn (on the answer's metrics) and sent per frame
TURN_EVENTS = 40
#: where the events list ends (``events_since`` with it returns the current length)
_END = 1 << 62

PROVIDER_LABELS = {"embedded": "embedded model", "http": "HTTP endpoint",
                   "scripted": "scripted provider"}


class ChatError(Exception):
    """A request that cannot be done; ``message`` is for people, ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ChatBusy(ChatError):
    """The chat is answering (or playing its script): try again when it is done."""


class ChatPermissionError(ChatError):
    """Only the owner of a chat may do that."""


def _require_owner(chat: Chat, user) -> None:
    if chat.owner_id != getattr(user, "pk", None):
        raise ChatPermissionError("only the owner of a chat can do that")


# --- providers and settings ----------------------------------------------------------------


def _scripted_echo(messages: list[dict[str, Any]]) -> str:
    """The scripted provider's answer in a live chat: no model, a deterministic reply that
    shows what the memory gave it."""
    user = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"),
                "")
    context = sum(1 for m in messages if m.get("role") in ("user", "assistant"))
    return f"(scripted) Noted: {' '.join(str(user).split())[:160]} [{context} messages in context]"


def provider_make(kind: str) -> Provider:
    """The provider of a chat. The HTTP provider reads ``VMEM_LLM_*`` from the environment
    every time (the key is never stored). Raises :class:`ProviderError`."""
    if kind == Chat.Provider.EMBEDDED:
        from simulator.llm.embedded import EmbeddedProvider

        return EmbeddedProvider(context_window=EMBEDDED_CONTEXT)
    if kind == Chat.Provider.HTTP:
        from simulator.llm.openai_http import HTTPProvider

        return HTTPProvider.from_env()
    if kind == Chat.Provider.SCRIPTED:
        return ScriptedProvider(default=_scripted_echo)
    raise ProviderError("bad_request", f"unknown provider {kind!r}; use embedded, http or "
                                       f"scripted")


def _int_in(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ConfigError("expected a whole number", field=field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError("expected a whole number", field=field) from None
    if not low <= number <= high:
        raise ConfigError(f"must be between {low:,} and {high:,}", field=field)
    return number


def _preset_with(preset: str, policy: str):
    try:
        chosen = get_preset(preset or "vmem")
    except ConfigError as exc:
        raise ConfigError(exc.message, field="preset") from None
    if policy:
        if policy not in CHAT_POLICIES:
            raise ConfigError(f"unknown policy {policy!r}; use one of {', '.join(CHAT_POLICIES)}",
                              field="policy")
        if policy != chosen.policy:
            chosen.policy = policy
            chosen.policy_params = {}
            chosen.validate()
    return chosen


def memory_settings(*, preset: str, policy: str, context_window: int, page_size: int,
                    max_tokens: int) -> MemorySettings:
    """Checked memory settings (``ConfigError`` naming the field)."""
    context_window = _int_in(context_window, "context_window", 256, 131_072)
    page_size = _int_in(page_size, "page_size", 8, 4096)
    max_tokens = _int_in(max_tokens, "max_tokens", 8, 2048)
    memory = MemorySettings(context_window=context_window, page_size=page_size,
                            reserve_tokens=max_tokens, preset=_preset_with(preset, policy))
    return memory.validate()


def pricing_make(name: str, owner: Any = None, think_time: float | None = None
                 ) -> SessionCost | None:
    """The cost model of a chat billed with the profile ``name`` (None for ""): a shipped
    profile or one of ``owner``'s own; ``think_time`` the seconds between calls given no time.
    A ``ConfigError`` on field ``pricing`` when there is no such profile."""
    if not name:
        return None
    return SessionCost(pricing_profile_find(name, owner),
                       think_time=DEFAULT_THINK_TIME if think_time is None else think_time)


#: the longest think time a chat may set: a day (every cache has expired long before)
MAX_THINK_TIME = 86_400.0


def _think_time(value: Any) -> float | None:
    """None (no setting) or seconds in [0, a day]; ``ConfigError`` on field ``think_time``."""
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError("a number of seconds", field="think_time") from None
    if not 0.0 <= seconds <= MAX_THINK_TIME:  # NaN fails too
        raise ConfigError(f"between 0 and {MAX_THINK_TIME:,.0f} seconds", field="think_time")
    return seconds


#: a user's own pricing profiles: at most this many, each at most this many characters
MAX_USER_PROFILES = 50
MAX_PROFILE_CHARS = 20_000


def _profile_decode(text: str) -> dict[str, Any]:
    """TOML or JSON (a text starting with ``{`` is JSON); ``ConfigError`` on field ``text``."""
    if len(text) > MAX_PROFILE_CHARS:
        raise ConfigError(f"at most {MAX_PROFILE_CHARS:,} characters", field="text")
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"neither valid TOML nor JSON: {exc}", field="text") from None
    if not isinstance(data, dict):
        raise ConfigError("a profile is a table of fields", field="text")
    return data


def pricing_profile_save(*, owner: Any, text: str, profile_id: int | None = None
                         ) -> UserPricingProfile:
    """Validate ``text`` as the shipped profiles are (``parse_profile``) and store it as the
    owner's. ``ConfigError`` names the profile's field (``prices.input``, ``name``…)."""
    from simulator.memory.pricing import shipped_profiles

    data = _profile_decode(text)
    try:
        profile = parse_profile(data)
    except PricingError as exc:  # every bad field of the profile, not only the first
        raise ConfigError.of([ConfigError(error.message, field=error.field or "text")
                              for error in exc.errors]) from None
    if profile.name in shipped_profiles():
        raise ConfigError(f"{profile.name!r} is a shipped profile; choose another name",
                          field="name")
    mine = UserPricingProfile.objects.filter(owner=owner)
    entry = mine.filter(pk=profile_id).first() if profile_id is not None else None
    if profile_id is not None and entry is None:
        raise ConfigError("no such profile of yours", field="profile")
    if mine.filter(name=profile.name).exclude(pk=profile_id).exists():
        raise ConfigError(f"you already have a profile named {profile.name!r}", field="name")
    if entry is None and mine.count() >= MAX_USER_PROFILES:
        raise ConfigError(f"at most {MAX_USER_PROFILES} profiles; delete one first",
                          field="text")
    if entry is not None and entry.name != profile.name and _profile_in_use(owner, entry.name):
        raise ConfigError("chats are billed with this profile: keep its name", field="name")
    entry = entry or UserPricingProfile(owner=owner)
    entry.name, entry.text, entry.data = profile.name, text, data
    entry.save()
    return entry


def _profile_in_use(owner: Any, name: str) -> bool:
    return Chat.objects.filter(owner=owner, pricing=name).exists()


def pricing_profile_delete(*, owner: Any, profile_id: int) -> None:
    """Delete one of the owner's profiles, unless a chat of theirs is billed with it."""
    entry = UserPricingProfile.objects.filter(owner=owner, pk=profile_id).first()
    if entry is None:
        raise ConfigError("no such profile of yours", field="profile")
    if _profile_in_use(owner, entry.name):
        raise ConfigError(f"chats are billed with {entry.name!r}: delete them first",
                          field="profile")
    entry.delete()


#: cache breaks the chat page lists (the latest)
COST_BREAKS = 10


def cost_view(session: ChatSession) -> dict[str, Any] | None:
    """The cost panel: the session's totals, the last turn's bill and the latest cache breaks
    with the turn they happened in."""
    if session.pricing is None:
        return None
    breaks: list[dict[str, Any]] = []
    last = None
    for result in reversed(session.results):
        if result.cost is None:
            continue
        last = last or dict(result.cost, turn=result.turn)
        breaks += [dict(b, turn=result.turn) for b in result.cost["breaks"]]
        if len(breaks) >= COST_BREAKS:
            break
    profile = session.pricing.profile
    return {"profile": profile.name, "title": profile.title or profile.name,
            "totals": session.pricing.totals(), "last": last, "breaks": breaks[:COST_BREAKS]}


def memory_view(session: ChatSession) -> dict[str, Any]:
    """What the chat page shows of the memory: the L0 pages (tokens, kind, level, pinned), the
    budget, the pages outside L0 by tier, the manifest, faults, evictions, thrash index, and
    which tokenizer counts the budget."""
    memory = session.memory
    view = memory.snapshot()
    tiers: dict[str, int] = {}
    for pid in memory.pages:
        name = memory.tier_name(pid)
        if name != "-":
            tiers[name] = tiers.get(name, 0) + 1
    view.update(
        tiers=tiers,
        pages=len(memory.pages),
        manifest=[asdict(e) for e in memory.manifest(limit=12)],
        pinned_tokens=sum(p["tokens"] for p in view["l0"] if p["pinned"]),
        preset=memory.preset.name,
        policy=memory.preset.policy,
        tools=session.tools_mode,
        tokenizer=session.provider.tokenizer,
        summaries=memory.summaries,
        accesses=len(memory.trace),
        packing=memory.preset.packing,
        cost=cost_view(session),
    )
    return view


# --- creating chats ------------------------------------------------------------------------


def chat_create(*, owner, title: str = "", provider: str = "embedded", preset: str = "vmem",
                policy: str = "", context_window: int = 1024, page_size: int = 64,
                max_tokens: int = 64, system_prompt: str = "", pricing: str = "",
                think_time: float | None = None) -> Chat:
    """Check the settings, build the session (the system prompt pinned in L0) and store it.
    Raises :class:`ConfigError` naming the field (``provider`` when the model cannot be used:
    not installed, no endpoint configured, no key)."""
    if provider not in Chat.Provider.values:
        raise ConfigError("choose embedded, http or scripted", field="provider")
    title = " ".join((title or "").split())[:MAX_TITLE]
    think_time = _think_time(think_time)
    memory = memory_settings(preset=preset, policy=policy, context_window=context_window,
                             page_size=page_size, max_tokens=max_tokens)
    try:
        model = provider_make(provider)
    except ProviderError as exc:
        raise ConfigError(f"the {PROVIDER_LABELS[provider]} cannot be used: {exc.message}",
                          field="provider") from None
    if memory.context_window > model.context_window:
        raise ConfigError(f"at most the model's context window ({model.context_window:,} "
                          f"tokens)", field="context_window")
    session = ChatSession(model, memory, system_prompt=system_prompt.strip()
                          or DEFAULT_SYSTEM_PROMPT, max_tokens=memory.reserve_tokens,
                          timeout=TURN_TIMEOUT,
                          pricing=pricing_make(pricing, owner, think_time))
    chat = Chat.objects.create(
        owner=owner,
        title=title or f"Chat with the {PROVIDER_LABELS[provider]}",
        kind=Chat.Kind.CHAT,
        provider=provider,
        model_name=str(getattr(model, "model", provider))[:200],
        tokenizer=model.tokenizer[:200],
        preset=memory.preset.name,
        policy=policy or "",
        context_window=memory.context_window,
        page_size=memory.page_size,
        max_tokens=memory.reserve_tokens,
        pricing=pricing or "",
        think_time=think_time,
        state=session.to_dict(),
        snapshot=memory_view(session),
    )
    logger.info("chat %s created by %s (%s, preset %s)", chat.pk, owner, provider, chat.preset)
    return chat


def chat_delete(*, chat: Chat, user) -> None:
    _require_owner(chat, user)
    chat.delete()


# --- a turn --------------------------------------------------------------------------------


def _clean_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("write a message first", field="text")
    text = text.strip()
    if len(text) > MAX_MESSAGE_CHARS:
        raise ConfigError(f"a message is at most {MAX_MESSAGE_CHARS:,} characters (this one "
                          f"has {len(text):,})", field="text")
    return text


def _count(chat: Chat) -> int:
    return ChatMessage.objects.filter(chat_id=chat.pk).count()


def chat_turn_send(*, chat: Chat, user, text: str, submit: bool = True) -> ChatMessage:
    """Save the user's message, mark the chat *thinking* and hand the turn to a worker thread
    (never the event loop). Raises :class:`ChatBusy` while the previous turn is answered,
    :class:`ChatPermissionError` for anyone but the owner, :class:`ConfigError` (field
    ``text``) for an empty or oversized message."""
    _require_owner(chat, user)
    if chat.kind != Chat.Kind.CHAT:
        raise ChatError("a scripted session plays its conversation file; start a chat to talk")
    text = _clean_text(text)
    chat_recover_stale(chat=chat)
    with transaction.atomic():
        taken = Chat.objects.filter(pk=chat.pk, status=Chat.Status.IDLE).update(
            status=Chat.Status.THINKING, error="", updated_at=timezone.now())
        if not taken:
            raise ChatBusy("the model is still answering the previous message; wait for it")
        turn = ChatMessage.objects.filter(chat_id=chat.pk, role=ChatMessage.Role.USER).count()
        message = ChatMessage.objects.create(chat=chat, turn=turn + 1,
                                             role=ChatMessage.Role.USER, text=text)
    chat.status = Chat.Status.THINKING
    runners.publish(chat.pk, {"type": "message", "status": chat.status,
                              "messages": [message_data(message)], "count": _count(chat)})
    if submit:
        chat_id, message_id = chat.pk, message.pk
        transaction.on_commit(lambda: runners.submit(
            chat_id, lambda: chat_turn_execute(chat_id=chat_id, message_id=message_id)))
    return message


def _turn_metrics(result: TurnResult, events: list[dict[str, Any]]) -> dict[str, Any]:
    data = result.to_dict()
    for key in ("user", "answer", "timings"):
        data.pop(key, None)
    data["memory_turn"] = data.pop("turn")
    data["timings"] = {k: round(v, 6) for k, v in result.timings.items()}
    data["events"] = events[-TURN_EVENTS:]
    data["events_total"] = len(events)
    return data


def _answer_message(chat: Chat, turn: int, result: TurnResult | None,
                    events: list[dict[str, Any]], error: dict[str, str] | None = None
                    ) -> ChatMessage:
    metrics = _turn_metrics(result, events) if result is not None else {"error": error}
    error = error or (result.error if result is not None else None)
    if error:
        metrics["error"] = error
        return ChatMessage(chat=chat, turn=turn, role=ChatMessage.Role.ERROR,
                           text=error["message"], metrics=metrics)
    return ChatMessage(chat=chat, turn=turn, role=ChatMessage.Role.ASSISTANT,
                       text=result.answer or "(no answer)", metrics=metrics)


def _save_turn(chat: Chat, answer: ChatMessage, session: ChatSession | None,
               **fields: Any) -> bool:
    """Store the answer and the session state in one transaction; False when the chat was
    deleted meanwhile."""
    updates: dict[str, Any] = dict(fields, updated_at=timezone.now())
    revision = uuid.uuid4().hex
    if session is not None:
        updates.update(state=session.to_dict() | {"revision": revision},
                       snapshot=memory_view(session))
    with transaction.atomic():
        if not Chat.objects.filter(pk=chat.pk).update(**updates):
            live_sessions.drop(chat.pk)
            return False
        answer.save()
    for key, value in updates.items():
        setattr(chat, key, value)
    if session is not None and chat.kind == Chat.Kind.CHAT:
        live_sessions.keep(chat.pk, revision, session)
    return True


def _events_mark(session: ChatSession) -> int:
    return session.memory.events_since(_END)[1]


def chat_turn_execute(*, chat_id: int, message_id: int, publisher=None) -> None:
    """Answer one user message (in a worker thread). Never raises: a provider failure becomes
    an error message in the chat, the user's message stays (in the transcript and in the
    memory), and the chat is ready for the next message."""
    publish = publisher or runners.publish
    chat = Chat.objects.filter(pk=chat_id).first()
    message = ChatMessage.objects.filter(pk=message_id, chat_id=chat_id).first()
    if chat is None or message is None:
        return
    session: ChatSession | None = None
    try:
        try:
            session = session_restore(chat)
        except ProviderError as exc:
            answer = _answer_message(chat, message.turn, None, [], error=exc.to_dict())
        else:
            mark = _events_mark(session)
            # the pricing's clock: seconds since the chat began, when the message was sent
            # (or, with a think time set, the previous call's plus that think time)
            at = (message.created_at - chat.created_at).total_seconds()
            result = session.send(message.text, at=None if chat.think_time is not None
                                  else _after(session, at))
            events, _ = session.memory.events_since(mark)
            answer = _answer_message(chat, message.turn, result, events)
    except Exception as exc:  # a bug must not leave the chat thinking forever
        logger.exception("chat %s: turn %s failed", chat_id, message.turn)
        session = None
        answer = _answer_message(chat, message.turn, None, [], error={
            "kind": "internal", "message": f"internal error: {type(exc).__name__}: {exc}"})
    if not _save_turn(chat, answer, session, status=Chat.Status.IDLE):
        return
    publish(chat.pk, {"type": "turn", "status": chat.status, "messages": [message_data(answer)],
                      "snapshot": chat.snapshot, "events": answer.metrics.get("events", []),
                      "count": _count(chat)})


class _LiveSessions:
    """The sessions this process answered last, kept alive between turns so that a turn does
    not rebuild its memory by replaying the whole journal (docs/sessions.md, "Long
    sessions"). Each is valid for one revision of the chat's stored state: a state written by
    another process (or restored after a restart) does not match, and the session is rebuilt
    from the database once. At most ``size`` sessions are kept (the least recently used go)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._sessions: OrderedDict[int, tuple[str, ChatSession]] = OrderedDict()

    def take(self, chat: Chat) -> ChatSession | None:
        """The live session for the chat's stored state, removed from the cache (a turn that
        fails half-way must not leave a session ahead of the database)."""
        with self._lock:
            entry = self._sessions.pop(chat.pk, None)
        if entry is None or entry[0] != chat.state.get("revision"):
            return None
        return entry[1]

    def keep(self, chat_id: int, revision: str, session: ChatSession) -> None:
        with self._lock:
            self._sessions[chat_id] = (revision, session)
            self._sessions.move_to_end(chat_id)
            while len(self._sessions) > self.size:
                self._sessions.popitem(last=False)

    def drop(self, chat_id: int) -> None:
        with self._lock:
            self._sessions.pop(chat_id, None)


live_sessions = _LiveSessions()


def session_restore(chat: Chat) -> ChatSession:
    """The chat's session: the live one when this process holds its current state, else
    rebuilt from the database (``ChatSession.from_dict``). Raises :class:`ProviderError`."""
    provider = provider_make(chat.provider)
    session = live_sessions.take(chat)
    if session is None:
        return ChatSession.from_dict(
            chat.state, provider, lambda name: pricing_profile_find(name, chat.owner))
    session.provider = provider
    return session


def _after(session: ChatSession, at: float) -> float | None:
    """``at``, or the previous call's time when a clock went back (None without pricing)."""
    if session.pricing is None:
        return None
    now = session.pricing.model.now
    return at if now is None else max(at, now)


# --- scripted sessions ---------------------------------------------------------------------


def script_parse(text: str, name: str = "upload.jsonl") -> SessionScript:
    """A conversation file from its text: a lab script, or a transcript in any format of
    docs/cost.md §4 (``ConfigError`` on field ``script`` with the line or JSON path)."""
    if len(text.encode("utf-8")) > MAX_SCRIPT_BYTES:
        raise ConfigError(f"a conversation file is at most {MAX_SCRIPT_BYTES // 1000:,} kB",
                          field="script")
    safe = "".join(c for c in Path(name).name if c.isalnum() or c in "-_.")[:80] or "script"
    with tempfile.TemporaryDirectory(prefix="vmem-script-") as folder:
        path = Path(folder) / safe
        path.write_text(text, encoding="utf-8")
        try:
            return load_script(path)
        except ScriptError as exc:
            if _is_lab_script(text):
                raise ConfigError(str(exc), field="script") from None
        try:  # another format: an OpenAI message list, ShareGPT, a Claude Code session
            return load_transcript(path).to_script()
        except TranscriptError as exc:
            raise ConfigError(str(exc), field="script") from None


def _is_lab_script(text: str) -> bool:
    """Whether a text looks like the lab's own script (its first object has a ``type`` of
    session or document, or a ``role`` with a ``text``) rather than a transcript."""
    def lab(obj: Any) -> bool:
        return isinstance(obj, dict) and (obj.get("type") in ("session", "document")
                                          or ("role" in obj and "text" in obj))

    try:
        return lab(json.loads(text))  # one JSON document: a lab script only if one line
    except ValueError:
        pass
    first = next((line for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    try:
        return lab(json.loads(first))
    except ValueError:
        return True  # not JSON at all: the lab script's own error names the line


def _script_memory(script: SessionScript, chat: Chat) -> tuple[MemorySettings, int]:
    memory, max_tokens = script_settings(script, chat.preset)
    if chat.policy:
        memory.preset = _preset_with(chat.preset, chat.policy)
    return memory.validate(), max_tokens


def chat_script_start(*, owner, script_name: str = "", upload_text: str | None = None,
                      upload_name: str = "", provider: str = "scripted", preset: str = "vmem",
                      policy: str = "", pricing: str = "", think_time: float | None = None,
                      submit: bool = True) -> Chat:
    """Store a scripted session (a shipped file by name, or an uploaded text) and queue it.
    Raises :class:`ConfigError` (fields ``script``, ``provider``, ``preset``, ``policy``)."""
    if provider not in Chat.Provider.values:
        raise ConfigError("choose scripted, embedded or http", field="provider")
    if upload_text is not None:
        text, name = upload_text, upload_name or "upload.jsonl"
    else:
        path = script_path_shipped(script_name)
        if path is None:
            raise ConfigError("choose one of the shipped conversations", field="script")
        text, name = path.read_text(encoding="utf-8"), path.name
    script = script_parse(text, name)
    if upload_text is not None:
        text = script.to_jsonl()  # a transcript of any format, kept as the lab's script
    _preset_with(preset, policy)
    think_time = _think_time(think_time)
    pricing_make(pricing, owner)
    chat = Chat(owner=owner, kind=Chat.Kind.SCRIPT, provider=provider, preset=preset,
                policy=policy or "", pricing=pricing or "", think_time=think_time,
                title=(script.title or Path(name).stem)[:MAX_TITLE],
                script_name=Path(name).name[:200], script_text=text,
                turns_total=len(script.turns), status=Chat.Status.QUEUED)
    memory, max_tokens = _script_memory(script, chat)
    chat.context_window, chat.page_size, chat.max_tokens = (
        memory.context_window, memory.page_size, max_tokens)
    chat.save()
    if submit:
        chat_id = chat.pk
        transaction.on_commit(lambda: runners.submit(
            chat_id, lambda: chat_script_execute(chat_id=chat_id)))
    return chat


def _labels_of(section: dict[str, Any]) -> list[str]:
    return list(section.get("labels", [section["label"]] if "label" in section else []))


def chat_script_execute(*, chat_id: int, publisher=None) -> None:
    """Play a queued scripted session to its end, storing and publishing every turn, then the
    totals (recall success, faults, evictions, thrash index, tokens, seconds)."""
    publish = publisher or runners.publish
    chat = Chat.objects.filter(pk=chat_id, kind=Chat.Kind.SCRIPT).first()
    if chat is None or not Chat.objects.filter(pk=chat_id, status=Chat.Status.QUEUED).update(
            status=Chat.Status.RUNNING, updated_at=timezone.now()):
        return
    chat.status = Chat.Status.RUNNING
    try:
        script = script_parse(chat.script_text, chat.script_name)
        model = (scripted_provider_for(script) if chat.provider == Chat.Provider.SCRIPTED
                 else provider_make(chat.provider))
        memory, max_tokens = _script_memory(script, chat)
        if memory.context_window > model.context_window:
            raise ConfigError(f"the script's context window ({memory.context_window}) is "
                              f"larger than the model's ({model.context_window})")
        session = ChatSession(model, memory, system_prompt=script.system,
                              max_tokens=max_tokens, timeout=TURN_TIMEOUT,
                              pricing=pricing_make(chat.pricing, chat.owner, chat.think_time))
        for doc in script.documents:
            for k, section in enumerate(doc["sections"]):
                name = doc["id"] if len(doc["sections"]) == 1 else f"{doc['id']}-s{k}"
                session.memory.add_document(name, f"{doc['title']}: {section['text']}",
                                            labels=_labels_of(section))
        Chat.objects.filter(pk=chat.pk).update(
            state=session.to_dict(), snapshot=memory_view(session),
            model_name=str(getattr(model, "model", chat.provider))[:200],
            tokenizer=model.tokenizer[:200], updated_at=timezone.now())
        chat.refresh_from_db()
        publish(chat.pk, {"type": "status", "status": chat.status, "snapshot": chat.snapshot,
                          "progress": {"done": 0, "total": chat.turns_total}})
        for k, turn in enumerate(script.turns, 1):
            probe = ({"needs": turn.needs, "fact": turn.fact, "expect": turn.expect}
                     if turn.needs else None)
            user = ChatMessage(chat=chat, turn=k, role=ChatMessage.Role.USER, text=turn.text,
                               metrics={"labels": turn.labels, "probe": probe})
            with transaction.atomic():
                if not Chat.objects.filter(pk=chat.pk).exists():
                    return  # deleted while playing
                user.save()
            mark = _events_mark(session)
            result = session.send(turn.text, labels=turn.labels, needs=turn.needs or None,
                                  fact=turn.fact, expect=turn.expect, at=turn.at)
            events, _ = session.memory.events_since(mark)
            answer = _answer_message(chat, k, result, events)
            if not _save_turn(chat, answer, session, turns_done=k):
                return
            publish(chat.pk, {"type": "turn", "status": chat.status,
                              "messages": [message_data(user), message_data(answer)],
                              "snapshot": chat.snapshot, "events": events[-TURN_EVENTS:],
                              "progress": {"done": k, "total": chat.turns_total},
                              "count": _count(chat)})
        totals = session.totals()  # closes the last turn's statistics
        _save_turn_totals(chat, session, totals)
    except (VMemError, ProviderError, OSError) as exc:
        message = exc.message if isinstance(exc, ProviderError | ConfigError) else str(exc)
        _script_failed(chat, message)
    except Exception as exc:
        logger.exception("chat %s: script failed", chat_id)
        _script_failed(chat, f"internal error: {type(exc).__name__}: {exc}")
    publish(chat.pk, {"type": "status", "status": chat.status, "totals": chat.totals,
                      "error": chat.error, "snapshot": chat.snapshot,
                      "progress": {"done": chat.turns_done, "total": chat.turns_total}})


def _save_turn_totals(chat: Chat, session: ChatSession, totals: dict[str, Any]) -> None:
    totals = {k: v for k, v in totals.items() if not isinstance(v, float) or v == v}
    updates = {"state": session.to_dict(), "snapshot": memory_view(session), "totals": totals,
               "status": Chat.Status.FINISHED, "updated_at": timezone.now()}
    Chat.objects.filter(pk=chat.pk).update(**updates)
    for key, value in updates.items():
        setattr(chat, key, value)


def _script_failed(chat: Chat, error: str) -> None:
    Chat.objects.filter(pk=chat.pk).update(status=Chat.Status.FAILED, error=error[:2000],
                                           updated_at=timezone.now())
    chat.status, chat.error = Chat.Status.FAILED, error[:2000]


# --- replay under other policies -----------------------------------------------------------


def chat_replay_create(*, chat: Chat, user, policies: list[str] | None = None):
    """Record the session's trace in the trace library and start a comparison run of it under
    other L0 policies, at the session's own budget (open-loop: the replay assumes the same
    pages would have been asked for). Returns the run."""
    from vmemsite.runs.services import run_create
    from vmemsite.traces.services import TraceRejected, trace_delete, trace_import_file, traces_dir

    _require_owner(chat, user)
    if chat.is_busy:
        raise ChatBusy("wait until the session is done, then replay it")
    trace = chat_trace(chat)
    if not chat.state.get("memory") or chat.state["memory"].get("turn", 0) < 1:
        raise ChatError("nothing to replay yet: the session has no turn")
    own = (chat.snapshot or {}).get("policy") or get_preset(chat.preset).policy
    wanted = policies or [own, *REPLAY_POLICIES]
    chosen: list[str] = []
    for policy in wanted:
        if policy not in CHAT_POLICIES:
            raise ConfigError(f"unknown policy {policy!r}", field="policies")
        if policy not in chosen:
            chosen.append(policy)
    if len(chosen) < 2:
        raise ConfigError("compare at least two policies", field="policies")
    chosen = chosen[:8]
    memory = MemorySettings.from_dict(chat.state["memory"]["settings"])
    config = memory.sim_config()
    config.window_accesses = max(1, len(trace) // 40)  # ~40 points per line
    with tempfile.TemporaryDirectory(dir=traces_dir(), prefix=".chat-") as folder:
        path = Path(folder) / f"chat-{chat.pk}.csv"
        write_trace(path, trace, fmt="csv")
        try:
            stored = trace_import_file(owner=user, path=path,
                                       name=f"Chat {chat.pk}: {chat.title}"[:200])
        except TraceRejected as exc:
            raise ChatError(f"the session's trace could not be stored: {exc.message}") from None
    try:
        run = run_create(
            owner=user, config=config.to_dict(),
            workload={"kind": "trace", "trace_id": stored.pk},
            variants=[{"policy": p, "label": p} for p in chosen], with_opt=True,
            label=f"Open-loop replay of chat {chat.pk} “{chat.title}”"[:200],
        )
    except ConfigError:
        trace_delete(trace=stored, user=user)
        raise
    Chat.objects.filter(pk=chat.pk).update(replay_run=run)
    chat.replay_run = run
    return run

