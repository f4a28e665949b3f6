"""Reads of the teaching page: an exercise from the query string, its frame tables and the
classic experiments (docs/teaching.md). Nothing is stored: an exercise is its URL.

Every number comes from :mod:`simulator.engine.explain`, the engine's classic mode; this
module only chooses what to ask for and shapes it for the template and the page's script.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from simulator.engine.access import Op
from simulator.engine.errors import ConfigError, TraceError
from simulator.engine.explain import (
    MAX_FRAMES,
    MAX_PAGES,
    MAX_REFS,
    Explanation,
    Ref,
    explain,
    faults_by_frames,
    format_refs,
    parse_refs,
    random_refs,
    thrashing_curve,
)
from simulator.engine.policies import POLICIES, Policy, refuses_new_pages
from vmemsite.chat.selectors import chat_get_owned, chat_trace
from vmemsite.errors import Invalid
from vmemsite.traces.selectors import trace_get_visible, trace_source

MAX_POLICIES = 4
"""Policies side by side on one page (the issue's bar: 60 references x 4 policies)."""
DEFAULT_POLICIES = ("fifo", "lru", "opt")
DEFAULT_TAU = 4
MAX_TAU = MAX_REFS
CURVE_FRAMES = 8
"""The faults-versus-frames curve goes from 1 frame to at least this many."""

POLICY_LABELS = {
    "fifo": "FIFO", "lru": "LRU", "opt": "OPT", "mru": "MRU", "lfu": "LFU", "clock": "CLOCK",
    "random": "Random", "worst": "Worst (UNOPT)", "eclock": "Enhanced CLOCK", "nru": "NRU",
    "aging": "Aging", "ws": "Working set", "sieve": "SIEVE", "arc": "ARC", "2q": "2Q",
    "s3fifo": "S3-FIFO",
}
TEACHING_POLICIES = [p for p in POLICY_LABELS if p in POLICIES]


@dataclass(frozen=True)
class Preset:
    """A classic experiment: what it loads and the paragraph the page shows with it."""

    key: str
    title: str
    refs: str
    policies: tuple[str, ...]
    frames: int
    explanation: str
    tau: int = DEFAULT_TAU


PRESETS: dict[str, Preset] = {p.key: p for p in (
    Preset("belady", "Belady's anomaly", "1,2,3,4,1,2,5,1,2,3,4,5", ("fifo", "lru", "opt"), 3,
           "FIFO faults 9 times with 3 frames and 10 times with 4: more memory, more faults. "
           "Set frames to 4 and compare, or read the curve below: FIFO's line goes up between "
           "3 and 4 frames, LRU's and OPT's never do."),
    Preset("stack", "Stack algorithms never show it", "1,2,3,4,1,2,5,1,2,3,4,5",
           ("fifo", "lru", "opt"), 4,
           "LRU and OPT are stack algorithms: the pages they hold with n frames are always "
           "among those they hold with n + 1, so a bigger memory never faults more. FIFO is "
           "not: with 4 frames it no longer holds 1 and 2 when they come back."),
    Preset("loop", "A loop one page too big: MRU", "1,2,3,4,1,2,3,4,1,2,3,4,1,2,3,4",
           ("lru", "fifo", "mru", "opt"), 3,
           "A loop over 4 pages with 3 frames: LRU and FIFO always evict the page needed next "
           "and fault on every reference; MRU keeps most of the loop and faults about once "
           "in three, close to OPT."),
    Preset("scan", "Scan resistance", "1,2,1,2,1,2,3,4,5,6,1,2,7,8,9,1,2,1,2",
           ("lru", "lfu", "clock", "opt"), 3,
           "Pages 1 and 2 are hot; 3 to 9 are a scan used once. LRU lets the scan push the hot "
           "pages out; LFU keeps them for their counts; CLOCK only as long as their reference "
           "bits are set."),
    Preset("lru-opt", "LRU against OPT", "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1",
           ("lru", "opt", "fifo"), 3,
           "The reference string of Silberschatz's textbook: OPT 9 faults, LRU 12, FIFO 15. "
           "OPT looks ahead (its next-use distances are under each column); LRU looks back."),
    Preset("working-set", "The working set W(t, τ)", "1,2,1,2,1,3,4,3,4,3,4,5,6,5,6,5,1,2,1,2",
           ("ws", "lru"), 4,
           "With τ = 4 the working set holds the pages referenced in the last 4 references: "
           "it grows and shrinks with the program's locality (count the pages in each column) "
           "and faults as a phase changes.", tau=4),
    Preset("thrashing", "Thrashing (Denning)",
           "a1,b1,c1,a2,b2,c2,a1,b1,c1,a2,b2,c2,a1,b1,c1,a2,b2,c2,a1,b1,c1,a2,b2,c2",
           ("lru", "fifo", "opt"), 5,
           "Three programs a, b and c, each looping over 2 pages, share 5 frames: together they "
           "need 6, and LRU faults on every reference. The chart below runs the engine with "
           "1 to 10 concurrent sessions, each looping over 5 pages, sharing 24 frames, a fault "
           "waiting 10 ms for one of 4 paging channels: throughput rises while the sessions' "
           "pages fit, then collapses to what the paging device can serve."),
    Preset("dirty", "Second chance with a dirty bit", "1*,2,3,1,4,2*,5,1,3,4*,2,5",
           ("clock", "eclock", "nru"), 3,
           "A * is a write. Enhanced CLOCK and NRU prefer to evict clean pages, which cost "
           "no write-back; CLOCK looks only at the reference bit."),
)}


@dataclass
class Exercise:
    """What the page shows, read from the query string."""

    refs: list[Ref]
    policies: list[str]
    frames: int
    tau: int = DEFAULT_TAU
    seed: int = 0
    step: int = 0
    predict: bool = False
    preset: Preset | None = None
    origin: dict[str, Any] = field(default_factory=dict)  # how refs were made (typed, drawn…)

    def query(self, **changes: Any) -> str:
        """The query string that reopens this exercise (``changes`` replace fields)."""
        data: dict[str, Any] = {**self.origin}
        data.update(policies=",".join(self.policies), frames=self.frames)
        if "ws" in self.policies:
            data["tau"] = self.tau
        if "random" in self.policies and "seed" not in data:
            data["seed"] = self.seed
        if self.step:
            data["step"] = self.step
        if self.predict:
            data["predict"] = 1
        data.update(changes)
        return urlencode({k: v for k, v in data.items() if v is not None})


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int,
         problems: list[ConfigError]) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        shown = raw if len(raw) <= 12 else raw[:12] + "…"
        problems.append(ConfigError(f"must be a whole number from {low} to {high}, got "
                                    f"{shown!r}", field=name))
        return default
    return value


def _policies(raw: str, problems: list[ConfigError]) -> list[str]:
    names = [p.strip().lower() for p in raw.split(",") if p.strip()]
    unknown = [p for p in names if p not in TEACHING_POLICIES]
    if unknown:
        shown = ", ".join(repr(p[:12]) for p in unknown[:3])
        problems.append(ConfigError(f"unknown policy {shown}; choose from "
                                    f"{', '.join(TEACHING_POLICIES)}", field="policies"))
    names = list(dict.fromkeys(p for p in names if p in TEACHING_POLICIES))
    if len(names) > MAX_POLICIES:
        problems.append(ConfigError(f"at most {MAX_POLICIES} policies side by side, got "
                                    f"{len(names)}", field="policies"))
        names = names[:MAX_POLICIES]
    return names or list(DEFAULT_POLICIES)


def _first_refs(accesses: Iterable[Any], n: int) -> list[Any]:
    """The first ``n`` reads and writes of ``accesses``."""
    return list(islice((a for a in accesses if a.op in (Op.READ, Op.WRITE)), n))


def _named_refs(picked: list[Any], what: str) -> list[Ref]:
    """References named as on the board: page ids kept when they are short names, otherwise
    renamed 1, 2, 3… by first appearance."""
    if not picked:
        raise ConfigError(f"the {what} has no reads or writes", field=what)
    names = [str(a.page_id) for a in picked]
    if not all(name.isalnum() and name.isascii() and len(name) <= 8 for name in names):
        renamed: dict[str, str] = {}
        names = [renamed.setdefault(name, str(len(renamed) + 1)) for name in names]
    return [Ref(name, a.op == Op.WRITE) for name, a in zip(names, picked, strict=True)]


def _trace_refs(user: Any, trace_id: int, n: int) -> list[Ref]:
    """The first ``n`` reads and writes of a stored trace the user may see."""
    trace = trace_get_visible(user, trace_id)
    if trace is None:
        raise ConfigError("no such trace, or it is not public", field="trace")
    try:
        picked = _first_refs(trace_source(trace, unit_pages=True).open(), n)
    except (ConfigError, TraceError, OSError):  # a file gone or damaged since its upload
        # (the engine's message names the server's path: not for a visitor's eyes)
        raise ConfigError("the trace cannot be read any more", field="trace") from None
    return _named_refs(picked, "trace")


def _chat_refs(user: Any, chat_id: int, n: int) -> list[Ref]:
    """The first ``n`` reads and writes of one of the user's chat sessions (its pages, the
    messages' pieces, renamed 1, 2, 3… in the order the session first touched them)."""
    chat = chat_get_owned(user, chat_id) if getattr(user, "is_authenticated", False) else None
    if chat is None:
        raise ConfigError("no such chat session of yours", field="chat")
    return _named_refs(_first_refs(chat_trace(chat), n), "chat")


def _refs(query: Mapping[str, str], user: Any, preset: Preset | None,
          problems: list[ConfigError]) -> tuple[list[Ref], dict[str, Any]]:
    """The reference string: typed, drawn at random, from a trace, or the preset's."""
    seed = _int(query, "seed", 0, 0, 2**31 - 1, problems)
    try:
        if query.get("gen"):
            n = _int(query, "gen", 12, 1, MAX_REFS, problems)
            pages = _int(query, "pages", 5, 1, MAX_PAGES, problems)
            return random_refs(n, pages, seed), {"gen": n, "pages": pages, "seed": seed}
        if query.get("trace"):
            trace_id = _int(query, "trace", 0, 1, 2**62, problems)
            n = _int(query, "n", 20, 1, MAX_REFS, problems)
            if trace_id:
                return _trace_refs(user, trace_id, n), {"trace": trace_id, "n": n}
            return [], {}
        if query.get("chat"):
            chat_id = _int(query, "chat", 0, 1, 2**62, problems)
            n = _int(query, "n", 20, 1, MAX_REFS, problems)
            if chat_id:
                return _chat_refs(user, chat_id, n), {"chat": chat_id, "n": n}
            return [], {}
        text = query.get("refs") or (preset.refs if preset else "1,2,3,4,1,2,5,1,2,3,4,5")
        refs = parse_refs(text)
        return refs, {"refs": format_refs(refs)}
    except ConfigError as exc:
        problems.append(exc)
        return [], {"refs": query.get("refs", "")[:2000]}


def exercise_from_query(query: Mapping[str, str], user: Any) -> Exercise:
    """Read an exercise; every problem at once as :class:`Invalid` naming its field."""
    problems: list[ConfigError] = []
    preset = PRESETS.get(query.get("preset") or "")
    if query.get("preset") and preset is None:
        problems.append(ConfigError(f"no such experiment; choose from {', '.join(PRESETS)}",
                                    field="preset"))
    refs, origin = _refs(query, user, preset, problems)
    default_policies = ",".join(preset.policies) if preset else ",".join(DEFAULT_POLICIES)
    policies = _policies(query.get("policies") or default_policies, problems)
    frames = _int(query, "frames", preset.frames if preset else 3, 1, MAX_FRAMES, problems)
    tau = _int(query, "tau", preset.tau if preset else DEFAULT_TAU, 1, MAX_TAU, problems)
    seed = origin.get("seed", _int(query, "seed", 0, 0, 2**31 - 1, []))
    step = _int(query, "step", 0, 0, MAX_REFS, problems)
    if problems:
        raise Invalid.of(problems)
    if preset is not None:
        origin = {"preset": preset.key, **origin}
    return Exercise(refs, policies, frames, tau, seed, min(step, len(refs)),
                    query.get("predict") in ("1", "on", "true"), preset, origin)


def _params(policy: str, ex: Exercise) -> dict[str, Any]:
    return {"tau": ex.tau} if policy == "ws" else {}


def explanations(ex: Exercise) -> list[Explanation]:
    """One explanation per policy, computed once: stepping only shows more of it."""
    return [explain(ex.refs, p, ex.frames, seed=ex.seed, params=_params(p, ex))
            for p in ex.policies]


def fault_curves(ex: Exercise) -> dict[str, Any]:
    """Faults with 1 … n frames for each policy (Belady's anomaly shows as a rise)."""
    top = min(MAX_FRAMES, max(CURVE_FRAMES, ex.frames + 2))
    return {"frames": list(range(1, top + 1)),
            "faults": {POLICY_LABELS[p]: faults_by_frames(ex.refs, p, top, seed=ex.seed,
                                                          params=_params(p, ex))
                       for p in ex.policies}}


def anomalies(curves: Mapping[str, Any]) -> list[str]:
    """Sentences naming each rise of a curve: "FIFO: 10 faults with 4 frames, 9 with 3"."""
    out = []
    for label, faults in curves["faults"].items():
        for n in range(1, len(faults)):
            if faults[n] > faults[n - 1]:
                out.append(f"{label}: {faults[n]} faults with {n + 1} frames, "
                           f"{faults[n - 1]} with {n}.")
    return out


# --- the frame table, shaped for the template and the script ------------------------------

#: how the state line shows an empty ghost list
EMPTY_LIST = "\u2013"


def _state_text(step_index: int, state: Any) -> str:
    marks = state.marks
    label = state.marks_label
    parts = []
    for page in state.order:
        if page not in marks:
            parts.append(str(page))
        elif label.startswith("next use"):
            nxt = marks[page]
            parts.append(f"{page}:{'∞' if nxt is None else nxt - step_index}")
        elif label.startswith("last reference"):
            parts.append(f"{page}:#{marks[page] + 1}")
        else:
            parts.append(f"{page}:{marks[page]}")
    # the lists a rule keeps beside its resident pages: ARC's B1/B2, 2Q's A1out, S3-FIFO's ghost
    for name, pages in state.extra.items():
        if isinstance(pages, list):
            parts.append(f"· {name}: {' '.join(map(str, pages)) or EMPTY_LIST}")
    return " ".join(parts)


def _state_label(state: Any) -> str:
    label = state.order_label
    if state.marks_label.startswith("next use"):
        return f"{label}; page:references until its next use"
    if state.marks_label.startswith("last reference"):
        return f"{label}; page:#its last reference"
    return f"{label}; page:{state.marks_label}" if state.marks_label else label


def frame_table(shown: Explanation) -> dict[str, Any]:
    """Rows of the grid (one per frame, then outcome, victim and state) and per-step data
    for the script (hit, victim, why, the pages resident before)."""
    steps = shown.steps
    rows = []
    for k in range(shown.frames):
        cells = []
        for step in steps:
            page = step.frames[k]
            loaded = page is not None and not step.hit and page == step.ref.page
            cells.append({"page": page, "loaded": loaded})
        rows.append(cells)
    last_state = steps[-1].state
    before: list[list[str]] = [[]]
    before += [[p for p in s.frames if p is not None] for s in steps[:-1]]
    return {
        "policy": shown.policy, "label": POLICY_LABELS.get(shown.policy, shown.policy),
        "hits": shown.hits, "misses": shown.misses, "frame_rows": rows, "steps": steps,
        "resident": [sum(p is not None for p in s.frames) for s in steps],
        "states": [_state_text(s.index, s.state) for s in steps],
        "state_label": _state_label(last_state),
        # a strict S3-FIFO below 20 frames or 2Q below 4 keeps no new page: say why it only faults
        "refuses": refuses_new_pages(shown.policy, shown.frames, **shown.params),
        "script": {"policy": shown.policy,
                   "label": POLICY_LABELS.get(shown.policy, shown.policy),
                   "frames": shown.frames,
                   # a policy with an admission rule may serve a page without keeping it
                   "admission": POLICIES[shown.policy].admits is not Policy.admits,
                   "steps": [{"ref": s.ref.page, "hit": s.hit, "victim": s.victim,
                              "kept": s.kept,
                              "why": s.why, "before": before[s.index]} for s in steps]},
    }


def thrashing(ex: Exercise) -> list[dict[str, float]] | None:
    """Denning's curve for the thrashing experiment (None for any other exercise)."""
    if ex.preset is None or ex.preset.key != "thrashing":
        return None
    return thrashing_curve(10)
