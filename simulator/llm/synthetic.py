"""Long scripted sessions made to measure (docs/sessions.md, "Long sessions").

:func:`long_script` writes a deterministic conversation of any length: a long system prompt
(above every provider's minimum cacheable prefix), user messages of made-up words drawn as a
text's words are (a Zipf law over 4,000 of them: a few very common, most rare), some carrying
a labelled fact ("the code name of project 12 is …") that a later probe turn asks for, and
scripted answers. It is what the cost-vs-recall comparison, the tests and ``bench/`` replay when
no real transcript is given.
"""

from __future__ import annotations

import itertools
import random

from .scripts import ScriptTurn, SessionScript

__all__ = ["long_script"]

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zen", "pri", "sto", "dal", "fen", "gor",
              "hul", "jas", "kel", "mor", "nid", "pax", "quo", "ril", "sut", "tam", "vex")
#: a vocabulary as text has one: a few words very common, most of them rare (Zipf, s = 1)
_VOCABULARY = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in ("", "s", "er")
               if a != b][:4000]
_WEIGHTS = [1.0 / rank for rank in range(1, len(_VOCABULARY) + 1)]
_CUMULATIVE = list(itertools.accumulate(_WEIGHTS))
_CODES = ("amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo",
          "juniper", "kestrel", "lagoon", "marble", "nimbus", "onyx", "prairie", "quartz",
          "raven", "sierra", "tundra")


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_VOCABULARY, cum_weights=_CUMULATIVE, k=words)
                    ).capitalize() + "."


def _text(rng: random.Random, words: int) -> str:
    parts, left = [], words
    while left > 0:
        n = min(left, rng.randint(8, 16))
        parts.append(_sentence(rng, n))
        left -= n
    return " ".join(parts)


def long_script(turns: int = 100, *, seed: int = 0, message_words: int = 60,
                answer_words: int = 30, system_words: int = 600, fact_every: int = 10,
                probe_after: int = 25, context_window: int = 8192, page_size: int = 256,
                max_tokens: int = 64, document_words: int = 0) -> SessionScript:
    """A conversation of ``turns`` user turns. Every ``fact_every``-th turn states a fact
    (label ``fact<k>``); the turn ``probe_after`` turns later asks for it (a probe needing that
    label, expecting the code word). ``document_words`` adds a handbook of about that many
    words in sections of 300 (to fill the context from the first turn)."""
    if turns < 1:
        raise ValueError("a session has at least one turn")
    rng = random.Random(seed)
    system = ("You are a careful engineering assistant. " + _text(rng, system_words)).strip()
    script = SessionScript(title=f"Long session, {turns} turns", system=system,
                           settings={"context_window": context_window, "page_size": page_size,
                                     "max_tokens": max_tokens},
                           source=f"synthetic:{turns}:{seed}")
    if document_words > 0:
        sections = [{"text": _text(rng, min(300, document_words - k))}
                    for k in range(0, document_words, 300)]
        script.documents.append({"id": "handbook", "title": "Team handbook",
                                 "sections": sections})
    probes: dict[int, tuple[str, int, str]] = {}
    for t in range(1, turns + 1):
        answer = _text(rng, answer_words)
        if t in probes:
            label, project, code = probes.pop(t)
            script.turns.append(ScriptTurn(
                f"Remind me: what is the code name of project {project}? " +
                _text(rng, message_words // 3), needs=[label], fact=code, expect=code,
                reply=f"The code name of project {project} is {code}. {answer}"))
            continue
        text = _text(rng, message_words)
        labels: list[str] = []
        if t % fact_every == 0:
            project, code = t, rng.choice(_CODES) + str(rng.randint(10, 99))
            label = f"fact{t}"
            text = f"Note that the code name of project {project} is {code}. {text}"
            labels.append(label)
            if t + probe_after <= turns:
                probes[t + probe_after] = (label, project, code)
        script.turns.append(ScriptTurn(text, labels=labels, reply=answer))
    return script
