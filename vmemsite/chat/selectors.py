"""Selectors: every read of the chat app goes through a function here (HackSoft style).

A chat is visible to its owner only: every function that takes an id answers None for a chat
that does not exist *and* for someone else's, so no caller can tell the two apart.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from simulator.engine.errors import ConfigError
from simulator.engine.policies import POLICIES, policy_names
from simulator.llm.scripts import SessionScript
from simulator.memory.memory_presets import PRESETS
from simulator.memory.pricing import PricingProfile
from simulator.memory.session_memory import SessionMemory

from .models import Chat, ChatMessage, UserPricingProfile

#: events shown on a page (state on connect)
STATE_EVENTS = 60
#: policies a chat may use for L0 (OPT needs the future: a live chat has none)
CHAT_POLICIES = [p for p in policy_names() if not POLICIES[p].needs_future]
#: the replay's default policies (besides the session's own)
REPLAY_POLICIES = ["lru", "fifo", "arc", "s3fifo", "importance"]


def chat_list_owned(user) -> QuerySet[Chat]:
    if user is None or not user.is_authenticated:
        return Chat.objects.none()
    return Chat.objects.filter(owner=user).defer("state", "script_text").select_related(
        "replay_run")


def chat_get_owned(user, chat_id: int | str) -> Chat | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        chat_id = int(chat_id)
    except (TypeError, ValueError):
        return None
    return Chat.objects.filter(owner=user, pk=chat_id).select_related("replay_run").first()


def message_data(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.pk,
        "turn": message.turn,
        "role": message.role,
        "text": message.text,
        "metrics": message.metrics,
        "at": message.created_at.isoformat() if message.created_at else None,
    }


def chat_messages(chat: Chat) -> list[dict[str, Any]]:
    return [message_data(m) for m in ChatMessage.objects.filter(chat_id=chat.pk).order_by("id")]


def chat_urls(chat: Chat) -> dict[str, str]:
    return {
        "page": reverse("chat:detail", args=[chat.pk]),
        "state": reverse("chat:state", args=[chat.pk]),
        "send": reverse("chat:send", args=[chat.pk]),
        "replay": reverse("chat:replay", args=[chat.pk]),
        "trace": reverse("chat:trace", args=[chat.pk]),
        "websocket": f"/ws/chat/{chat.pk}/",
    }


def chat_meta(chat: Chat) -> dict[str, Any]:
    """What the page's script needs besides messages and the memory view."""
    return {
        "id": chat.pk,
        "title": chat.title,
        "kind": chat.kind,
        "provider": chat.provider,
        "provider_label": Chat.Provider(chat.provider).label,
        "model": chat.model_name,
        "tokenizer": chat.tokenizer,
        "preset": chat.preset,
        "policy": chat.policy,
        "context_window": chat.context_window,
        "page_size": chat.page_size,
        "max_tokens": chat.max_tokens,
        "status": chat.status,
        "error": chat.error,
        "script": chat.script_name,
        "totals": chat.totals,
        "progress": {"done": chat.turns_done, "total": chat.turns_total},
        "replay_run": chat.replay_run_id,
        "urls": chat_urls(chat),
    }


def chat_state(chat: Chat) -> dict[str, Any]:
    """The whole chat as one message (the websocket sends it on connect; ``state.json``
    answers it over HTTP): meta, every message, the memory view and the latest events."""
    messages = chat_messages(chat)
    events: list[dict[str, Any]] = []
    for m in messages:
        events.extend(m["metrics"].get("events", []) if isinstance(m["metrics"], dict) else [])
    return {
        "type": "state",
        "chat": chat_meta(chat),
        "status": chat.status,
        "messages": messages,
        "count": len(messages),
        "snapshot": chat.snapshot,
        "events": events[-STATE_EVENTS:],
    }


def chat_trace(chat: Chat) -> list:
    """Every access the session made (writes, reads, faults, pins), rebuilt from the stored
    state by replaying its journal (no model needed: every access carries its size)."""
    memory_state = (chat.state or {}).get("memory")
    if not memory_state:
        return []
    memory = SessionMemory.from_dict(memory_state, count=_rough_count)
    return list(memory.trace)


def _rough_count(text: str) -> int:
    # Replaying a journal counts no tokens; this only stands in for the tokenizer.
    return max(1, len(text.split()))


def replay_policy_choices(chat: Chat) -> list[dict[str, Any]]:
    """The policies offered for a replay, the session's own and the usual rivals checked."""
    own = (chat.snapshot or {}).get("policy") or ""
    checked = {own, *REPLAY_POLICIES}
    return [{"name": p, "checked": p in checked} for p in CHAT_POLICIES]


# --- shipped scripts, presets and providers (for the forms) ---------------------------------


def scripts_dir() -> Path:
    return Path(settings.BASE_DIR) / "fixtures" / "sessions"


def script_path_shipped(name: str) -> Path | None:
    """A shipped conversation file by its file name (None for anything else)."""
    if not name or "/" in name or "\\" in name:
        return None
    path = scripts_dir() / name
    return path if path.suffix == ".jsonl" and path.is_file() else None


@lru_cache(maxsize=1)
def _script_infos(stamp: tuple) -> list[dict[str, Any]]:
    from simulator.llm.scripts import ScriptError, load_script

    infos = []
    for path in sorted(scripts_dir().glob("*.jsonl")):
        try:
            script = load_script(path)
        except ScriptError:
            continue
        infos.append({"name": path.name, "title": script.title, "turns": len(script.turns),
                      "probes": script.probes, "documents": len(script.documents)})
    return infos


def script_list_shipped() -> list[dict[str, Any]]:
    """The conversation files in fixtures/sessions: name, title, turns, probes."""
    paths = sorted(scripts_dir().glob("*.jsonl"))
    return _script_infos(tuple((p.name, p.stat().st_mtime) for p in paths))


#: what each memory preset mirrors, for the new-session form
PRESET_NOTES = {
    "vmem": "Our default: plain LRU over the context, evicting only what the next page needs; "
            "demand paging brings back the pages relevant to your message.",
    "letta": "Like Letta: at 90 % of the budget the oldest messages are folded into a summary "
             "down to 70 %; old facts come back only if the model calls a tool.",
    "memgpt": "Like the MemGPT paper: a memory-pressure warning at 70 %, a flush at 100 % into "
              "a recursive summary; recall through function calls only.",
    "chuk": "Like chuk-ai-session-manager: importance-weighted LRU, last 3 turns pinned, at most "
            "3 faults per turn, anti-thrash and compression on demotion.",
    "stable": "For prompt caches: the default's LRU with a stable prefix — old pages first, new "
              "ones and the manifest appended — so a provider reads more from its cache.",
    "batch": "For prompt caches: at 90 % of the budget, compact down to 60 % in one go (a "
             "high/low-water mark), so the cached prefix breaks once per batch, not each turn.",
    "cacheaware": "For prompt caches: batch compaction whose victims weigh their recall value "
                  "against the cached tokens their eviction would make unreadable.",
}


#: replays one comparison page may ask for (the page waits for them)
WEB_COMPARE_MAX = 24
#: turns of a synthetic session on the comparison page
WEB_SYNTHETIC_MAX = 200


def compare_sources(user) -> list[tuple[str, str]]:
    """What the comparison page can replay: a synthetic session, the shipped conversations
    and the user's own scripted sessions (uploads and imported transcripts)."""
    sources = [("synthetic", "Synthetic long session (facts and probes)")]
    sources += [(f"shipped:{s['name']}", f"{s['title']} ({s['turns']} turns)")
                for s in script_list_shipped()]
    mine = Chat.objects.filter(owner=user, kind=Chat.Kind.SCRIPT).order_by("-id")[:50]
    sources += [(f"chat:{c.pk}", f"Your session {c.pk}: {c.title[:60]}") for c in mine]
    return sources


def session_compare(*, user, source: str, turns: int, presets: list[str],
                    pricing: list[str], windows: list[int | None]) -> dict[str, Any]:
    """Cost against recall for a source of :func:`compare_sources` (docs/cost.md §6);
    ``ConfigError`` naming the field."""
    from simulator.engine.errors import ConfigError
    from simulator.llm.compare import compare_sessions
    from simulator.llm.synthetic import long_script

    count = len(presets) * len(pricing) * len(windows)
    if count > WEB_COMPARE_MAX:
        raise ConfigError(f"{count} replays; at most {WEB_COMPARE_MAX} here (the command line "
                          f"takes more)", field="presets")
    if source == "synthetic":
        if not 1 <= turns <= WEB_SYNTHETIC_MAX:
            raise ConfigError(f"between 1 and {WEB_SYNTHETIC_MAX}", field="turns")
        script = long_script(turns, context_window=4096, page_size=128)
    else:
        script = _compare_script(user, source)
    profiles = [pricing_profile_find(name, user) for name in pricing]
    return compare_sessions(script, presets, profiles, windows)


def _stored_script(text: str) -> SessionScript:
    """A scripted session's stored text (always the lab's script: uploads of other formats
    are stored converted) as a script."""
    import tempfile

    from simulator.engine.errors import ConfigError
    from simulator.llm.scripts import ScriptError, load_script

    with tempfile.TemporaryDirectory(prefix="vmem-compare-") as folder:
        path = Path(folder) / "session.jsonl"
        path.write_text(text, encoding="utf-8")
        try:
            return load_script(path)
        except ScriptError as exc:
            raise ConfigError(str(exc), field="source") from None


def _compare_script(user, source: str) -> SessionScript:
    from simulator.engine.errors import ConfigError
    from simulator.llm.scripts import load_script

    kind, _, name = source.partition(":")
    if kind == "shipped" and (path := script_path_shipped(name)) is not None:
        return load_script(path)
    if kind == "chat" and name.isdigit():
        chat = Chat.objects.filter(owner=user, kind=Chat.Kind.SCRIPT, pk=int(name)).first()
        if chat is not None:
            return _stored_script(chat.script_text)
    raise ConfigError("choose one of the listed sessions", field="source")


def preset_infos() -> list[dict[str, Any]]:
    return [{"name": p.name, "title": p.title, "description": p.description,
             "note": PRESET_NOTES.get(p.name, ""), "policy": p.policy}
            for p in PRESETS.values()]


def provider_infos() -> list[dict[str, Any]]:
    """Which providers can be used here, with a note — the HTTP endpoint's host and model,
    and whether a key is set, never the key itself."""
    from simulator.llm.embedded import model_path
    from simulator.llm.providers import ProviderError

    try:
        model_path()
        embedded = {"ready": True, "note": "SmolLM2-135M-Instruct in this process, offline; "
                                           "counts tokens with its own tokenizer."}
    except ProviderError as exc:
        embedded = {"ready": False, "note": exc.message}
    base = os.environ.get("VMEM_LLM_BASE_URL", "")
    if base:
        host = urlparse(base).hostname or base
        key = bool(os.environ.get("VMEM_LLM_API_KEY") or os.environ.get("OPENAI_API_KEY"))
        model = os.environ.get("VMEM_LLM_MODEL") or "default"
        http = {"ready": True, "note": f"{host}, model {model}"
                                       f" (API key {'set' if key else 'not set'}); tokens "
                                       f"estimated with tiktoken."}
    else:
        http = {"ready": False, "note": "not configured: set VMEM_LLM_BASE_URL (and "
                                        "VMEM_LLM_MODEL, VMEM_LLM_API_KEY) in the server's "
                                        "environment."}
    scripted = {"ready": True, "note": "no model: a deterministic reply, for trying the "
                                       "memory quickly."}
    return [{"value": Chat.Provider.EMBEDDED.value, "label": Chat.Provider.EMBEDDED.label,
             **embedded},
            {"value": Chat.Provider.HTTP.value, "label": Chat.Provider.HTTP.label, **http},
            {"value": Chat.Provider.SCRIPTED.value, "label": Chat.Provider.SCRIPTED.label,
             **scripted}]


# --- pricing profiles ----------------------------------------------------------------------


def user_pricing_profiles(owner: Any) -> list[UserPricingProfile]:
    """The owner's own pricing profiles, by name (at most services.MAX_USER_PROFILES)."""
    return list(UserPricingProfile.objects.filter(owner=owner).order_by("name"))


def pricing_profile_find(name: str, owner: Any = None) -> PricingProfile:
    """A shipped profile, else ``owner``'s own profile ``name`` (``ConfigError`` on field
    ``pricing`` when neither exists)."""
    from simulator.memory.pricing import parse_profile, shipped_profiles

    shipped = shipped_profiles().get(name)
    if shipped is not None:
        return shipped
    own = (UserPricingProfile.objects.filter(owner=owner, name=name).first()
           if owner is not None and getattr(owner, "pk", None) else None)
    if own is None:
        raise ConfigError(f"no pricing profile {name!r}", field="pricing")
    return parse_profile(own.data, path=f"your profile {name}")
