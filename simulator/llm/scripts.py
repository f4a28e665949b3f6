"""Scripted sessions: conversation files with labelled recall probes.

A script is JSON Lines (one JSON object per line; blank lines and lines starting with ``#`` are
skipped). The first object may be a header; then documents and turns, in order::

    {"type": "session", "title": "Pets and plans", "system": "You are ...",
     "context_window": 1024, "page_size": 96, "max_tokens": 48}
    {"type": "document", "id": "manual", "title": "Router manual",
     "sections": [{"text": "...", "label": "reset"}, {"text": "..."}]}
    {"role": "user", "text": "My cat is called Miso.", "label": "cat_name"}
    {"role": "assistant", "text": "Miso is a lovely name."}
    {"role": "user", "text": "What is my cat called?",
     "probe": {"needs": ["cat_name"], "fact": "Miso", "expect": "Miso"}}

* ``label`` (or ``labels``) on a user message or a document section names the fact it carries.
* ``probe.needs`` lists the labels the turn needs in context; the pages needed are the labelled
  message's pages (only those containing ``fact``, when given). **Recall success** is the share
  of probe turns for which every needed page was in L0 when the model was called (docs/metrics.md).
* ``probe.expect`` is text the answer should contain; reported as ``answer_hits`` (it depends on
  the model, unlike recall).
* An ``assistant`` line is the scripted reply to the user line before it: the scripted provider
  answers with it, real models answer for themselves.
* ``at`` on a user line: its time in seconds from the session's start (an imported
  transcript's timestamps), used by the pricing (docs/cost.md §5).
* Header settings (all optional): ``context_window``, ``page_size``, ``max_tokens``,
  ``reserve_tokens``, ``prompt_reserve``, ``l1_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.engine.errors import VMemError
from simulator.memory.memory_presets import get_preset
from simulator.memory.session_memory import MemorySettings

from .costing import SessionCost
from .providers import Provider, ScriptedProvider
from .session import DEFAULT_SYSTEM_PROMPT, ChatSession

__all__ = ["ScriptError", "ScriptTurn", "SessionScript", "load_script", "run_script"]

_SETTINGS = ("context_window", "page_size", "max_tokens", "reserve_tokens", "prompt_reserve",
             "l1_tokens")


class ScriptError(VMemError):
    """A malformed conversation file; the message names the line."""


@dataclass
class ScriptTurn:
    text: str
    labels: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)
    fact: str | None = None
    expect: str | None = None
    reply: str | None = None
    #: seconds from the session's start (a transcript's timestamp), for the pricing
    at: float | None = None


@dataclass
class SessionScript:
    title: str = ""
    system: str = DEFAULT_SYSTEM_PROMPT
    settings: dict[str, int] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    turns: list[ScriptTurn] = field(default_factory=list)
    source: str = ""

    @property
    def probes(self) -> int:
        return sum(1 for t in self.turns if t.needs)

    def times(self) -> list[float] | None:
        """Every user turn's time, when every one has one (None otherwise)."""
        if not self.turns or any(t.at is None for t in self.turns):
            return None
        return [float(t.at) for t in self.turns]  # type: ignore[arg-type]

    def to_jsonl(self) -> str:
        """The script as a file :func:`load_script` reads back the same."""
        header: dict[str, Any] = {"type": "session", "title": self.title, "system": self.system,
                                  **self.settings}
        lines = [header]
        for doc in self.documents:
            lines.append({"type": "document", **doc})
        for turn in self.turns:
            line: dict[str, Any] = {"role": "user", "text": turn.text}
            if turn.labels:
                line["labels"] = turn.labels
            if turn.needs:
                line["probe"] = {"needs": turn.needs, "fact": turn.fact, "expect": turn.expect}
            if turn.at is not None:
                line["at"] = turn.at
            lines.append(line)
            if turn.reply is not None:
                lines.append({"role": "assistant", "text": turn.reply})
        return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def _labels(obj: dict[str, Any], where: str) -> list[str]:
    raw = obj.get("labels", [obj["label"]] if "label" in obj else [])
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise ScriptError(f"{where}: labels must be non-empty strings")
    return raw


def _turn_time(obj: dict[str, Any], where: str, before: list[ScriptTurn]) -> float | None:
    at = obj.get("at")
    if at is None:
        return None
    if isinstance(at, bool) or not isinstance(at, int | float) or not 0 <= at < 1e12:
        raise ScriptError(f"{where}: at must be seconds from the session's start, got {at!r}")
    last = next((t.at for t in reversed(before) if t.at is not None), None)
    if last is not None and at < last:
        raise ScriptError(f"{where}: at ({at:g}) is before the previous turn's ({last:g})")
    return float(at)


def load_script(path: str | Path) -> SessionScript:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    script = SessionScript(title=path.stem, source=str(path))
    known_labels: set[str] = set()
    for number, line in enumerate(lines, 1):
        where = f"{path.name}, line {number}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScriptError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ScriptError(f"{where}: expected an object")
        kind = obj.get("type") or obj.get("role")
        if kind == "session":
            script.title = str(obj.get("title", script.title))
            script.system = str(obj.get("system", script.system))
            for key in _SETTINGS:
                if key in obj:
                    if not isinstance(obj[key], int) or obj[key] < 1:
                        raise ScriptError(f"{where}: {key} must be a positive integer")
                    script.settings[key] = obj[key]
        elif kind == "document":
            sections = obj.get("sections") or [{"text": obj.get("text", "")}]
            if not isinstance(obj.get("id"), str) or not obj["id"]:
                raise ScriptError(f"{where}: a document needs an id")
            for s in sections:
                if not isinstance(s, dict) or not isinstance(s.get("text"), str):
                    raise ScriptError(f"{where}: every section needs a text")
                known_labels.update(_labels(s, where))
            script.documents.append({"id": obj["id"], "title": obj.get("title", obj["id"]),
                                     "sections": sections})
        elif kind == "user":
            if not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise ScriptError(f"{where}: a user turn needs a text")
            turn = ScriptTurn(obj["text"], labels=_labels(obj, where),
                              at=_turn_time(obj, where, script.turns))
            probe = obj.get("probe")
            if probe is not None:
                needs = probe.get("needs") if isinstance(probe, dict) else None
                if not isinstance(needs, list) or not needs:
                    raise ScriptError(f"{where}: probe.needs must list labels")
                unknown = [n for n in needs if n not in known_labels]
                if unknown:
                    raise ScriptError(f"{where}: probe needs unknown label(s) "
                                      f"{', '.join(map(str, unknown))} (label a message or "
                                      f"document section before the probe)")
                turn.needs = list(needs)
                turn.fact = probe.get("fact")
                turn.expect = probe.get("expect")
            known_labels.update(turn.labels)
            script.turns.append(turn)
        elif kind == "assistant":
            if not script.turns or script.turns[-1].reply is not None:
                raise ScriptError(f"{where}: an assistant line must follow a user line")
            script.turns[-1].reply = str(obj.get("text", ""))
        else:
            raise ScriptError(f"{where}: unknown line type {kind!r} (expected session, "
                              f"document, user or assistant)")
    if not script.turns:
        raise ScriptError(f"{path.name}: no user turns")
    return script


def scripted_provider_for(script: SessionScript, **options: Any) -> ScriptedProvider:
    """A provider that answers each turn with the script's assistant line."""
    return ScriptedProvider([t.reply or "OK." for t in script.turns], **options)


def settings_for(script: SessionScript, preset: str = "vmem", **overrides: Any
                 ) -> tuple[MemorySettings, int]:
    """Memory settings from the script's header (``overrides`` win); returns (settings,
    max_tokens)."""
    values: dict[str, Any] = {k: v for k, v in script.settings.items() if k != "max_tokens"}
    max_tokens = int(overrides.pop("max_tokens", None) or script.settings.get("max_tokens", 64))
    values.update({k: v for k, v in overrides.items() if v is not None})
    values.setdefault("reserve_tokens", max_tokens)
    values["reserve_tokens"] = max(values["reserve_tokens"], max_tokens)
    return MemorySettings(preset=get_preset(preset), **values), max_tokens


def run_script(script: SessionScript, provider: Provider | None = None, *,
               preset: str = "vmem", compressor: str = "extractive", timeout: float = 120.0,
               pricing: SessionCost | None = None, times: Sequence[float] | None = None,
               **overrides: Any) -> ChatSession:
    """Play the script through a :class:`ChatSession` (the scripted provider by default);
    returns the session (``session.totals()``, ``session.results``, ``session.memory.trace``).
    With ``pricing`` every model call is billed; ``times`` gives each user turn's time in
    seconds (a transcript's timestamps), else the pricing's think time separates them.
    """
    provider = provider or scripted_provider_for(script)
    settings, max_tokens = settings_for(script, preset, **overrides)
    if times is None:
        times = script.times()
    if times is not None and len(times) != len(script.turns):
        raise ScriptError(f"{len(times)} times for {len(script.turns)} user turns")
    session = ChatSession(provider, settings, system_prompt=script.system,
                          max_tokens=max_tokens, timeout=timeout, compressor=compressor,
                          pricing=pricing)
    for doc in script.documents:
        for k, section in enumerate(doc["sections"]):
            name = doc["id"] if len(doc["sections"]) == 1 else f"{doc['id']}-s{k}"
            session.memory.add_document(name, f"{doc['title']}: {section['text']}",
                                        labels=_labels(section, doc["id"]))
    for k, turn in enumerate(script.turns):
        session.send(turn.text, labels=turn.labels, needs=turn.needs or None, fact=turn.fact,
                     expect=turn.expect, at=None if times is None else times[k])
    session.memory.finish()
    return session
