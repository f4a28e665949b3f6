"""The virtual memory of one LLM session, on top of a :class:`~.simulation.Simulation`.

Messages, documents and summaries become pages; every use of a page is an :class:`Access` fed
to a live Simulation whose L0 is the model's context budget, so the very same tiers, policies,
pinning, anti-thrash, compression and metrics as any simulator run decide what stays in context.
Everything fed to the Simulation is kept in a journal, so the session state is plain data
(:meth:`SessionMemory.to_dict`) and comes back identical (:meth:`SessionMemory.from_dict`), and
the accesses alone are a trace (:attr:`SessionMemory.trace`) that the simulator can replay under
other policies — open-loop: the replay assumes the same pages would have been asked for.

Pure Python, no I/O: token counts come from a ``count(text)`` callable and shorter versions of
pages from a :class:`~.compression.Compressor`, both given by the caller.

One turn, as the session runner drives it::

    plan = memory.begin_turn(user_text)       # user pages written, demand paging, compaction
    ctx = memory.context()                    # the pages in L0, in prompt order, with text
    entries = memory.manifest(query=user_text)   # pages outside L0 with a one-line hint
    ... call the model; on a page_fault tool call: memory.fault(page_id) ...
    memory.add_answer(answer_text)            # the answer's pages
"""

from __future__ import annotations

import heapq
import inspect
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.engine import Access, ConfigError, Event, Observer, Op, SimConfig, Simulation
from simulator.engine.events import EVICT, FAULT
from simulator.engine.policies import make_policy

from .bm25 import BM25Index
from .compression import CompressionModel, CompressionSettings, Compressor, ExtractiveCompressor
from .memory_presets import MemoryPreset, get_preset
from .pages import DEFAULT_IMPORTANCE, PageKind, PageRecord, page_id, split_text

__all__ = [
    "ContextPage",
    "ManifestEntry",
    "MemorySettings",
    "MessageTooLarge",
    "SessionMemory",
    "TurnPlan",
    "TurnStats",
]

_KIND_ORDER = {PageKind.SYSTEM: 0, PageKind.SUMMARY: 1, PageKind.DOCUMENT: 2, PageKind.TOOL: 3,
               PageKind.MESSAGE: 4}


@dataclass
class MemorySettings:
    """Plain data describing a session's memory.

    The L0 budget is ``context_window - reserve_tokens - prompt_reserve``: the model's context
    minus the answer's tokens minus room for the manifest, warnings and tool instructions. Every
    page costs its text's tokens plus ``page_overhead`` (chat-template tokens around it).
    """

    context_window: int = 2048
    reserve_tokens: int = 128
    prompt_reserve: int = 160
    page_size: int = 128
    page_overhead: int = 4
    preset: MemoryPreset = field(default_factory=lambda: get_preset("vmem"))
    #: capacity of L1 (None: the hierarchy's 1M tokens); small values show deeper tiers
    l1_tokens: int | None = None
    l2_tokens: int | None = None
    manifest_entries: int = 8
    #: demand paging keeps pages scoring at least this share of the best score...
    relevance_share: float = 0.5
    #: ...and at least this BM25 score
    min_score: float = 1.0
    #: at most this many relevant pages are read per turn (hits and faults)
    max_relevant: int = 6
    seed: int = 0
    session: str = "s1"

    @property
    def budget(self) -> int:
        return self.context_window - self.reserve_tokens - self.prompt_reserve

    def validate(self) -> MemorySettings:
        for name in ("context_window", "page_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError("must be at least 1", field=name)
        for name in ("reserve_tokens", "prompt_reserve", "page_overhead", "manifest_entries",
                     "max_relevant"):
            if int(getattr(self, name)) < 0:
                raise ConfigError("must be >= 0", field=name)
        if self.budget < self.page_size + self.page_overhead:
            raise ConfigError(
                f"the L0 budget ({self.context_window} - {self.reserve_tokens} reserved for the "
                f"answer - {self.prompt_reserve} for the manifest = {self.budget} tokens) is "
                f"smaller than one page ({self.page_size} + {self.page_overhead} tokens)",
                field="context_window")
        self.preset.validate()
        return self

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["preset"] = self.preset.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemorySettings:
        data = dict(data)
        preset = data.pop("preset", None)
        if isinstance(preset, str):
            data["preset"] = get_preset(preset)
        elif isinstance(preset, dict):
            data["preset"] = MemoryPreset.from_dict(preset)
        return cls(**data).validate()

    def sim_config(self) -> SimConfig:
        p = self.preset
        config = SimConfig.hierarchy(l0_tokens=self.budget, policy=p.policy,
                                     anti_thrash=p.anti_thrash, seed=self.seed,
                                     thrash_window=1000, window_accesses=10_000)
        config.tiers[0].policy_params = _admitting_every_page(p.policy, p.policy_params)
        if self.l1_tokens is not None:
            config.tiers[1].capacity_tokens = self.l1_tokens
        if self.l2_tokens is not None:
            config.tiers[2].capacity_tokens = self.l2_tokens
        return config.validate()


def _admitting_every_page(policy: str, params: dict[str, Any]) -> dict[str, Any]:
    """The L0 policy's parameters for a context window, which must take any page that fits.

    S3-FIFO and 2Q refuse, by default, pages larger than their small queue (libCacheSim's
    strict admission, right for cache studies): in a context of 600 tokens with pages of 68,
    S3-FIFO's 60-token probation queue would keep every full page out of the prompt. A session
    turns that rule off unless its preset sets ``strict`` itself."""
    params = dict(params)
    accepted = inspect.signature(type(make_policy(policy, 100, **params))).parameters
    if "strict" in accepted:
        params.setdefault("strict", False)
    return params


@dataclass
class TurnStats:
    turn: int
    faults: int = 0
    demand_faults: int = 0
    tool_faults: int = 0
    relevant_hits: int = 0
    evictions: int = 0
    compactions: int = 0
    summaries: int = 0
    warned: bool = False
    fault_budget_left: int = 0
    refused_faults: int = 0
    l0_used: int = 0


@dataclass
class TurnPlan:
    turn: int
    user_pages: list[str]
    faulted: list[str]
    relevant: list[str]
    warning: str | None


@dataclass
class ContextPage:
    id: str
    kind: str
    role: str
    turn: int
    text: str
    tokens: int
    level: int
    pinned: bool
    message: str


@dataclass
class ManifestEntry:
    id: str
    tier: str
    kind: str
    tokens: int
    level: int
    hint: str
    score: float = 0.0

    def line(self) -> str:
        return f"{self.id} [{self.tier}, {self.tokens} tok] {self.hint}"


class MessageTooLarge(ConfigError):
    """A message that cannot be whole in the context even with every page but the system
    prompt evicted. Raised before anything changes; ``message`` names the sizes."""

    def __init__(self, message: str, *, tokens: int, room: int) -> None:
        super().__init__(message, field="text")
        self.tokens = tokens
        self.room = room


class _Feed:
    """The Simulation's access stream: whatever the session queued, nothing more."""

    def __init__(self) -> None:
        self.queue: deque[Access] = deque()

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> Access:
        if self.queue:
            return self.queue.popleft()
        raise StopIteration


class _Events(Observer):
    wants_events = True

    def __init__(self) -> None:
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)


class SessionMemory:
    """Pages, the live Simulation behind them, BM25 over their text, and the preset's rules."""

    def __init__(self, settings: MemorySettings, *, count: Callable[[str], int],
                 compressor: Compressor | None = None) -> None:
        self.settings = settings.validate()
        self.preset = settings.preset
        self.count = count
        self.compressor: Compressor = compressor or ExtractiveCompressor()
        levels = self.preset.compression_levels
        self.compression = CompressionModel(CompressionSettings(
            level_by_tier={k + 1: lv for k, lv in enumerate(levels)},
            full_copy=self.preset.full_copy))
        self._feed = _Feed()
        self._events = _Events()
        self.sim = Simulation(settings.sim_config(), self._feed, observers=[self._events],
                              max_events=0, compression=self.compression)
        self.capacity = self.settings.budget
        self._tiers = len(settings.sim_config().tiers)
        self.pages: dict[str, PageRecord] = {}
        #: page id -> its place in creation order (the order of ``pages``)
        self._order: dict[str, int] = {}
        self.index = BM25Index()
        self.labels: dict[str, list[str]] = {}
        self.journal: list[list[Any]] = []
        self.trace: list[Access] = []
        self.turn = 0
        self.summary_id: str | None = None
        self.summaries = 0
        self.turns: list[TurnStats] = []
        self.current = TurnStats(0)
        self._event_mark = 0
        self._compacting = False
        #: the pages of the message being answered, pinned until its answer is written
        self.held: list[str] = []
        #: pages evicted by a compaction since the last model call (why a prompt cache broke;
        #: the session clears it after each call)
        self.compacted: set[str] = set()
        #: the pages in L0 in the order they (last) came into it: the ``stable`` packing's
        #: order (docs/sessions.md, "Packing")
        self.arrival: dict[str, int] = {}
        self._arrivals = 0

    # --- plain state ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        # the packing order as of now, whether or not a prompt was packed since the last change
        self._arrived(self.resident())
        return {
            "version": 1,
            "settings": self.settings.to_dict(),
            "pages": [p.to_dict() for p in self.pages.values()],
            "labels": self.labels,
            "journal": self.journal,
            "turn": self.turn,
            "summary_id": self.summary_id,
            "summaries": self.summaries,
            "held": self.held,
            "turns": [asdict(t) for t in self.turns],
            "current": asdict(self.current),
            "arrival": list(self.arrival),
            "compacted": sorted(self.compacted),
            "arrivals": self._arrivals,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, count: Callable[[str], int],
                  compressor: Compressor | None = None) -> SessionMemory:
        """Rebuild a session from :meth:`to_dict` by replaying its journal (same tiers, same
        decisions: the policies are deterministic and seeded)."""
        if data.get("version") != 1:
            raise ConfigError(f"unknown session state version {data.get('version')!r}")
        memory = cls(MemorySettings.from_dict(data["settings"]), count=count,
                     compressor=compressor)
        for raw in data["pages"]:
            record = PageRecord.from_dict(raw)
            memory._keep(record)
            if record.kind != PageKind.SYSTEM:
                memory.index.add(record.id, record.text)
            memory._meta(record)
        memory.labels = {k: list(v) for k, v in data.get("labels", {}).items()}
        for entry in data["journal"]:
            memory._replay(entry)
        # _replay feeds the Simulation without journaling: keep the journal itself, or the
        # next to_dict() would hold only what happens after this restore
        memory.journal = [list(entry) for entry in data["journal"]]
        memory.turn = data["turn"]
        memory.summary_id = data.get("summary_id")
        memory.summaries = data.get("summaries", 0)
        memory.held = list(data.get("held", []))
        memory.turns = [TurnStats(**t) for t in data.get("turns", [])]
        memory.current = TurnStats(**data.get("current", {"turn": memory.turn}))
        memory._event_mark = len(memory._events.events)
        memory.compacted = set(data.get("compacted", []))
        memory.arrival = {pid: k for k, pid in enumerate(data.get("arrival", []))}
        memory._arrivals = int(data.get("arrivals", len(memory.arrival)))
        return memory

    def _replay(self, entry: list[Any]) -> None:
        kind = entry[0]
        if kind == "a":
            _, pid, tokens, op, turn = entry
            self._feed_access(pid, tokens, Op(op), turn)
        elif kind == "evict":
            self.sim.compact(entry[1])
        elif kind == "discard":
            self.sim.forget(entry[1])
        else:
            raise ConfigError(f"unknown journal entry {kind!r}")

    # --- the Simulation ---------------------------------------------------------------

    def _feed_access(self, pid: str, tokens: int, op: Op, turn: int) -> None:
        # one access per step: the trace's length is the Simulation's access index
        acc = Access(float(len(self.trace)), pid, tokens, op, self.settings.session, turn)
        self._feed.queue.append(acc)
        self.sim.step(1)
        self.trace.append(acc)

    def _access(self, pid: str, op: Op) -> None:
        tokens = self.pages[pid].tokens
        self.journal.append(["a", pid, tokens, op.value, self.turn])
        self._feed_access(pid, tokens, op, self.turn)

    def _evict_to(self, target: int) -> list[Hashable]:
        self.journal.append(["evict", target])
        return self.sim.compact(target)

    def _discard(self, pid: str) -> None:
        self.journal.append(["discard", pid])
        self.sim.forget(pid)

    @property
    def l0_used(self) -> int:
        return self.sim.usage(0).used

    def tier_of(self, pid: str) -> int | None:
        return self.sim.tier_of(pid)

    def in_l0(self, pid: str) -> bool:
        return self.sim.tier_of(pid) == 0

    def is_pinned(self, pid: str) -> bool:
        place = self.sim.locate(pid)
        return place is not None and place.pinned

    def level(self, pid: str) -> int:
        return self.compression.level(pid)

    def tier_name(self, pid: str) -> str:
        place = self.sim.locate(pid)
        return "-" if place is None else place.tier_name

    def stored_tokens(self, pid: str) -> int:
        """The page's size where it is now (smaller than its full size when compressed)."""
        place = self.sim.locate(pid)
        return self.pages[pid].tokens if place is None else place.size

    # --- pages --------------------------------------------------------------------------

    def _keep(self, record: PageRecord) -> None:
        self.pages[record.id] = record
        self._order.setdefault(record.id, len(self._order))

    def resident(self) -> list[str]:
        """The pages in L0, in creation order (work proportional to L0, not to the session)."""
        order = self._order
        return sorted((str(pid) for pid in self.sim.residents(0) if pid in order),
                      key=order.__getitem__)

    def _meta(self, record: PageRecord) -> None:
        self.sim.annotate(record.id, kind=record.kind, importance=record.importance)

    def _cut(self, text: str) -> list[tuple[str, int]]:
        """``text`` in pieces of at most a page, each with its cost in the prompt."""
        overhead = self.settings.page_overhead
        return [(piece, self.count(piece) + overhead)
                for piece in split_text(text, self.settings.page_size, self.count)]

    def add_page_texts(self, kind: str, name: str, text: str, *, role: str = "",
                       importance: float = DEFAULT_IMPORTANCE,
                       labels: Iterable[str] = ()) -> list[str]:
        """Cut ``text`` into pages of ``kind`` named ``kind:name[#k]`` and write them."""
        return self._write_pages(kind, name, self._cut(text), role=role, importance=importance,
                                 labels=labels)

    def _write_pages(self, kind: str, name: str, pieces: list[tuple[str, int]], *, role: str,
                     importance: float, labels: Iterable[str], hold: bool = False
                     ) -> list[str]:
        """Write the pieces as pages; with ``hold`` each page is pinned as soon as it is
        written, so that nothing this message causes (compaction, a summary, the policy making
        room for its next page) can evict its first pages."""
        ids = [page_id(kind, name, k if len(pieces) > 1 else None) for k in range(len(pieces))]
        for pid in ids:
            if pid in self.pages:
                raise ConfigError(f"page {pid} exists already")
        labels = list(labels)
        remaining = sum(tokens for _, tokens in pieces)
        for k, (pid, (piece, tokens)) in enumerate(zip(ids, pieces, strict=True)):
            record = PageRecord(
                id=pid, kind=str(kind), text=piece, tokens=tokens, turn=self.turn, role=role,
                message=f"{kind}:{name}", chunk=k, importance=importance, labels=list(labels))
            self._keep(record)
            self._meta(record)
            if kind != PageKind.SYSTEM:
                self.index.add(pid, piece)
            for label in record.labels:
                self.labels.setdefault(label, []).append(pid)
            self._pressure(tokens)
            if hold:
                self._unpin_for(remaining)
            self._access(pid, Op.WRITE)
            if hold:
                self._access(pid, Op.PIN)
                self.held.append(pid)
            remaining -= tokens
        return ids

    def add_system(self, text: str) -> list[str]:
        """The system prompt: pinned in L0 for the whole session."""
        ids = self.add_page_texts(PageKind.SYSTEM, "prompt", text, role="system",
                                  importance=1.0)
        for pid in ids:
            self._access(pid, Op.PIN)
        return ids

    def add_document(self, doc_id: str, text: str, *, labels: Iterable[str] = (),
                     importance: float = DEFAULT_IMPORTANCE) -> list[str]:
        return self.add_page_texts(PageKind.DOCUMENT, doc_id, text, role="document",
                                   importance=importance, labels=labels)

    # --- pressure, compaction, pins -----------------------------------------------------

    def _pressure(self, incoming: int) -> None:
        p = self.preset
        if p.compact_at is None or self._compacting:
            return
        if self.l0_used + incoming > p.compact_at * self.capacity:
            self.compact(int(p.compact_to * self.capacity))

    def compact(self, target: int) -> list[str]:
        """Evict down to ``target`` tokens; with ``summarize`` fold the evicted messages into a
        new recursive summary page (pinned) that replaces the previous one."""
        self._compacting = True
        try:
            victims = [str(v) for v in self._evict_to(target)]
            self.current.compactions += 1
            self.compacted.update(victims)
            folded = [v for v in victims
                      if self.pages.get(v) and self.pages[v].kind == PageKind.MESSAGE]
            if self.preset.summarize and folded:
                self._summarize(folded)
            return victims
        finally:
            self._compacting = False

    def _summarize(self, victims: list[str]) -> None:
        parts = []
        if self.summary_id:
            parts.append(self.text_of(self.summary_id))
        for pid in victims:
            record = self.pages[pid]
            parts.append(f"{record.role or record.kind} (turn {record.turn}): "
                         f"{self.text_of(pid)}")
        target = max(16, int(self.preset.summary_share * self.capacity)
                     - self.settings.page_overhead)
        text = self.compressor.compress(" ".join(parts), 1, target, page_id="summary",
                                        count=self.count).text
        self.summaries += 1
        self.current.summaries += 1
        old = self.summary_id
        name = f"r{self.summaries}"
        pid = page_id(PageKind.SUMMARY, name)
        record = PageRecord(id=pid, kind=PageKind.SUMMARY.value, text=text,
                            tokens=self.count(text) + self.settings.page_overhead,
                            turn=self.turn, role="summary", message=pid, importance=0.9)
        self._keep(record)
        self._meta(record)
        if old:
            self._discard(old)
            self.index.remove(old)
        self.index.add(pid, text)
        self._access(pid, Op.WRITE)
        self._access(pid, Op.PIN)
        self.summary_id = pid

    def _system_tokens(self) -> int:
        return sum(self.stored_tokens(pid) for pid in self.resident()
                   if self.pages[pid].kind == PageKind.SYSTEM)

    def _check_fits(self, pieces: list[tuple[str, int]]) -> None:
        """Refuse, before anything changes, a message that could not be whole in the context
        even with every page but the system prompt evicted."""
        need = sum(tokens for _, tokens in pieces)
        system = self._system_tokens()
        room = self.capacity - system
        if need <= room:
            return
        s = self.settings
        raise MessageTooLarge(
            f"this message is {need:,} tokens ({len(pieces)} page{'s' * (len(pieces) != 1)} "
            f"of at most {s.page_size} tokens, plus {s.page_overhead} each for the chat "
            f"template), but one message can take at most {room:,}: the context budget of "
            f"{self.capacity:,} tokens (window {s.context_window:,} - {s.reserve_tokens:,} for "
            f"the answer - {s.prompt_reserve:,} for the manifest) less {system:,} for the "
            f"pinned system prompt. Send it in shorter parts, or use a larger context window.",
            tokens=need, room=room)

    def _unpin_for(self, tokens: int) -> None:
        """Make ``tokens`` of pinnable room in L0 for the message being written: the preset's
        pins (recent turns, then the summary) give way, oldest first. They stay in L0 until
        the policy evicts them; the system prompt and the message itself stay pinned."""
        usage = self.sim.usage(0)
        free = (usage.capacity or 0) - usage.pinned
        if tokens <= free:
            return
        held = set(self.held)
        optional = [pid for pid in self.resident()
                    if self.pages[pid].kind != PageKind.SYSTEM and pid not in held
                    and self.is_pinned(pid)]
        optional.sort(key=lambda pid: self.pages[pid].kind != PageKind.MESSAGE)
        for pid in optional:
            free += self.stored_tokens(pid)
            self._access(pid, Op.UNPIN)
            if tokens <= free:
                return

    def _keeps_pinned(self, record: PageRecord) -> bool:
        """Whether the preset pins this page (the messages of its last ``pin_last_turns``)."""
        n = self.preset.pin_last_turns
        return bool(n) and record.kind == PageKind.MESSAGE and record.turn > self.turn - n

    def _release_held(self) -> None:
        """The answer is written (or the turn ended without one): the message being answered
        goes back to its policy, newest, unless the preset keeps it pinned."""
        for pid in self.held:
            if (pid in self.pages and self.is_pinned(pid)
                    and not self._keeps_pinned(self.pages[pid])):
                self._access(pid, Op.UNPIN)
        self.held = []

    def _update_pins(self) -> None:
        if not self.preset.pin_last_turns:
            return
        held = set(self.held)
        # pinned pages are in L0, and only pages in L0 get pinned: L0 is all there is to do
        # (pins and unpins move no page, so the list stays true while they run)
        for pid in self.resident():
            record = self.pages[pid]
            if record.kind != PageKind.MESSAGE or pid in held:
                continue
            recent = self._keeps_pinned(record)
            pinned = self.is_pinned(pid)
            if recent and not pinned:
                self._access(pid, Op.PIN)
            elif not recent and pinned:
                self._access(pid, Op.UNPIN)

    # --- a turn -------------------------------------------------------------------------

    def _start_turn(self) -> None:
        self._release_held()  # a turn that ended without an answer
        if self.current.turn:
            self._close_turn()
        else:
            self._count_events()  # set-up (system prompt, documents) is not a turn
        self.turn += 1
        self.current = TurnStats(self.turn, fault_budget_left=self.preset.max_faults_per_turn)

    def _close_turn(self) -> None:
        self._count_events()
        self.current.l0_used = self.l0_used
        if self.current.turn:
            self.turns.append(self.current)

    def _count_events(self) -> None:
        for event in self._events.events[self._event_mark:]:
            if event.kind == FAULT:
                self.current.faults += 1
            elif event.kind == EVICT:
                self.current.evictions += 1
        self._event_mark = len(self._events.events)

    def begin_turn(self, user_text: str, *, labels: Iterable[str] = (),
                   importance: float = DEFAULT_IMPORTANCE) -> TurnPlan:
        """Write the user's message, read the recent turns, demand-page what the message needs
        (BM25, within the fault budget), apply the preset's pins and thresholds.

        The message is held whole in L0 (pinned) until :meth:`add_answer`: whatever else is
        evicted, the model is asked the question. A message that cannot fit even alone raises
        :class:`MessageTooLarge` and changes nothing."""
        pieces = self._cut(user_text)
        self._check_fits(pieces)
        self._start_turn()
        user = self._write_pages(PageKind.MESSAGE, f"t{self.turn:03d}-user", pieces,
                                 role="user", importance=importance, labels=labels, hold=True)
        self._update_pins()
        recent_from = self.turn - self.preset.recent_turns
        for pid in self.resident():  # hits: reading them moves no page
            record = self.pages[pid]
            if record.kind == PageKind.MESSAGE and recent_from <= record.turn < self.turn:
                self._access(pid, Op.READ)
        relevant: list[str] = []
        faulted: list[str] = []
        if self.preset.demand_paging:
            relevant = self.relevant(user_text, exclude=set(user))
            for pid in relevant:
                if self.in_l0(pid):
                    self._access(pid, Op.READ)
                    self.current.relevant_hits += 1
                elif self._take_fault(pid):
                    faulted.append(pid)
                    self.current.demand_faults += 1
        warning = None
        warn_at = self.preset.warn_at
        if warn_at is not None and self.l0_used >= warn_at * self.capacity:
            share = self.l0_used / self.capacity
            warning = (f"Memory pressure: the context is {share:.0%} full. Older messages "
                       f"will be folded into a summary soon; keep what matters short.")
            self.current.warned = True
        self._count_events()
        return TurnPlan(self.turn, user, faulted, relevant, warning)

    def relevant(self, query: str, *, exclude: set[str] = frozenset(), k: int | None = None
                 ) -> list[str]:
        """Pages relevant to ``query``: BM25 score at least ``min_score`` and at least
        ``relevance_share`` of the best score, best first, at most ``max_relevant``."""
        s = self.settings
        ranked = self._search(query, k or s.max_relevant, exclude)
        if not ranked:
            return []
        floor = max(s.min_score, s.relevance_share * ranked[0][1])
        return [str(pid) for pid, score in ranked if score >= floor]

    def _search(self, query: str, k: int, exclude: set[str] = frozenset()
                ) -> list[tuple[str, float]]:
        """The ``k`` best pages for ``query`` outside ``exclude`` scoring at least
        ``min_score``. The index holds exactly the pages some tier holds, system pages aside (a
        forgotten summary leaves it); the work is bounded by the MaxScore rule of
        :meth:`BM25Index.top_scores` (docs/sessions.md, "Long sessions")."""
        def accept(pid: Any) -> bool:
            return pid not in exclude and self.tier_of(pid) is not None

        scores = self.index.top_scores(query, k, accept, self.settings.min_score)
        return [(str(pid), score) for pid, score in self.index.best(scores, k)]

    def _take_fault(self, pid: str) -> bool:
        if self.current.fault_budget_left <= 0:
            self.current.refused_faults += 1
            return False
        self.current.fault_budget_left -= 1
        self._pressure(self.pages[pid].tokens)
        self._access(pid, Op.READ)
        return True

    def fault(self, pid: str) -> tuple[bool, str]:
        """A ``page_fault(page_id)`` tool call: (ok, the page's text or why not)."""
        record = self.pages.get(pid)
        if record is None or self.tier_of(pid) is None:
            return False, f"no page {pid!r}; use search_pages to find page ids"
        if self.in_l0(pid):
            self._access(pid, Op.READ)
            return True, self.text_of(pid)
        if not self._take_fault(pid):
            return False, (f"fault budget of {self.preset.max_faults_per_turn} pages for this "
                           f"turn is used up")
        self.current.tool_faults += 1
        self._count_events()
        return True, self.text_of(pid)

    def search(self, query: str, k: int = 5) -> list[ManifestEntry]:
        """A ``search_pages(query)`` tool call: the best pages anywhere (no fault)."""
        return [self._entry(pid, score) for pid, score in self._search(query, k)]

    def add_answer(self, text: str, *, importance: float = DEFAULT_IMPORTANCE) -> list[str]:
        """The answer's pages; the question it answers is no longer held."""
        self._release_held()
        ids = self.add_page_texts(PageKind.MESSAGE, f"t{self.turn:03d}-assistant", text,
                                  role="assistant", importance=importance)
        self._update_pins()
        self._count_events()
        return ids

    def finish(self) -> None:
        """Close the last turn's statistics."""
        if self.current.turn and (not self.turns or self.turns[-1] is not self.current):
            self._close_turn()
            self.current = TurnStats(0)

    # --- what the model sees ------------------------------------------------------------

    def text_of(self, pid: str) -> str:
        """The page's text at its current fidelity (the compressed version when it came back
        compressed)."""
        record = self.pages[pid]
        level = self.compression.level(pid)
        if level == 0:
            return record.text
        if level not in record.compressed:
            stored = self.compression.stored_size(record.tokens, level)
            target = max(1, stored - self.settings.page_overhead)
            out = self.compressor.compress(record.text, level, target, page_id=pid,
                                           count=self.count)
            record.compressed[level] = out.text
            record.dropped[level] = out.dropped
        return record.compressed[level]

    def dropped_of(self, pid: str) -> list[str]:
        """What the compression of ``pid`` at its current level left out (empty when full)."""
        level = self.compression.level(pid)
        return list(self.pages[pid].dropped.get(level, [])) if level else []

    def _arrived(self, resident: list[str]) -> None:
        """Keep :attr:`arrival` to the pages now in L0: the ones that left are dropped, the
        ones that came (written, faulted back) go last, in creation order."""
        here = set(resident)
        for pid in [p for p in self.arrival if p not in here]:
            del self.arrival[pid]
        held = set(self.held)
        # the message being answered goes after pages faulted in for it: it ends the prompt
        for pid in sorted((p for p in resident if p not in self.arrival), key=held.__contains__):
            self.arrival[pid] = self._arrivals
            self._arrivals += 1

    def context(self) -> list[ContextPage]:
        """The pages in L0, in prompt order (docs/sessions.md, "Packing"). ``kinds`` packing:
        system, summary, documents, tool results, then messages, each group in creation order.
        ``stable`` packing: system pages, then every other page in the order it came into L0,
        so that what was in the previous prompt stays its prefix and new pages are appended."""
        order = self._order
        resident = self.resident()
        self._arrived(resident)
        if self.preset.packing == "stable":
            arrival = self.arrival
            resident.sort(key=lambda pid: (self.pages[pid].kind != PageKind.SYSTEM,
                                           arrival[pid]))
        else:
            resident.sort(key=lambda pid: (_KIND_ORDER.get(self.pages[pid].kind, 9),
                                           order[pid]))
        out = []
        for pid in resident:
            record = self.pages[pid]
            out.append(ContextPage(pid, record.kind, record.role, record.turn, self.text_of(pid),
                                   self.stored_tokens(pid), self.level(pid),
                                   self.is_pinned(pid), record.message))
        return out

    def _entry(self, pid: str, score: float = 0.0) -> ManifestEntry:
        record = self.pages[pid]
        return ManifestEntry(pid, self.tier_name(pid), record.kind,
                             self.stored_tokens(pid), self.level(pid),
                             record.hint(), round(score, 3))

    def manifest(self, query: str | None = None, limit: int | None = None
                 ) -> list[ManifestEntry]:
        """Pages outside L0: the most relevant to ``query`` first (then the most recent)."""
        limit = self.settings.manifest_entries if limit is None else limit
        if limit <= 0:
            return []
        order = self._order

        def outside(pid: str) -> bool:
            return self.tier_of(pid) not in (None, 0) and self.pages[pid].kind != PageKind.SYSTEM

        # not kept between calls: which pages are outside L0 changes within a turn
        scores = self.index.top_scores(query, limit, lambda pid: outside(str(pid))
                                       ) if query else {}
        scored = [(str(pid), score) for pid, score in scores.items()]
        chosen = heapq.nsmallest(limit, scored, key=lambda kv: (-kv[1], -order[kv[0]]))
        taken = {pid for pid, _ in chosen}
        # then the most recent pages outside L0: newest first, stopping once there are enough
        for pid in reversed(self.pages):
            if len(chosen) >= limit:
                break
            if pid not in taken and outside(pid):
                chosen.append((pid, 0.0))
        return [self._entry(pid, score) for pid, score in chosen]

    def pages_for(self, labels: Iterable[str], fact: str | None = None) -> list[str]:
        """Pages carrying ``labels`` (narrowed to those containing ``fact`` when given and
        found)."""
        out: list[str] = []
        for label in labels:
            ids = self.labels.get(label, [])
            if fact:
                narrowed = [p for p in ids if fact.lower() in self.pages[p].text.lower()]
                ids = narrowed or ids
            out += [p for p in ids if p not in out]
        return out

    def snapshot(self) -> dict[str, Any]:
        """Plain data for a live view: L0 pages, budget, counters, thrash index."""
        result = self.sim.result()
        return {
            "turn": self.turn,
            "budget": self.capacity,
            "context_window": self.settings.context_window,
            "l0_used": self.l0_used,
            "l0": [asdict(p) | {"text": p.text[:200], "dropped": self.dropped_of(p.id)}
                   for p in self.context()],
            "outside": sum(self.sim.usage(t).pages for t in range(1, self._tiers)),
            "faults": result.faults,
            "evictions": result.tiers[0].evictions,
            "thrash_index": result.thrash_index,
            "summary": self.summary_id,
        }

    def events_since(self, mark: int) -> tuple[list[dict[str, Any]], int]:
        """Notable events (fault, evict, demote, writeback) after position ``mark``."""
        events = self._events.events
        return [e.to_dict() for e in events[mark:]], len(events)
