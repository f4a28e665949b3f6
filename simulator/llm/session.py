"""A chat session whose context is built by the virtual memory, turn by turn.

    session = ChatSession(provider, MemorySettings(context_window=2048, preset=get_preset("chuk")))
    result = session.send("My cat is called Miso.")
    result.answer, result.faults, session.memory.snapshot()

Each :meth:`ChatSession.send`:

1. the user's message becomes pages (written to L0); the preset pins and compacts; demand
   paging reads the pages most relevant to the message (BM25), faulting them in within the
   turn's fault budget;
2. the prompt is packed from L0 — system pages, summary, documents, then the conversation in
   order — with the manifest of pages outside L0 (id, tier, one-line hint) in the system message;
3. the provider is called. If it asks for ``page_fault(page_id)`` or ``search_pages(query)``
   (as tool calls, or written as text by models without tool syntax), the calls are run within
   the fault budget and the prompt is rebuilt with the results, up to ``max_tool_rounds``;
4. the answer becomes pages.

A provider failure (endpoint down, key refused, timeout, prompt too long, tool syntax ignored
or garbled) never raises out of :meth:`send`: the turn records the error, the user's message
stays in memory, and the session can go on. Every access is in ``session.memory.trace``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.memory.pages import PageKind
from simulator.memory.pricing import PricingProfile
from simulator.memory.session_memory import MemorySettings, MessageTooLarge, SessionMemory

from .compressor import TimedCompressor, make_compressor
from .costing import SessionCost
from .providers import Completion, Provider, ProviderError, parse_text_tool_calls

__all__ = ["DEFAULT_SYSTEM_PROMPT", "TOOLS", "ChatSession", "TurnResult"]

DEFAULT_SYSTEM_PROMPT = ("You are a helpful assistant. Answer briefly, using the conversation "
                         "and the memory pages you are given.")

TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "page_fault",
        "description": "Load a memory page that is listed in the manifest into your context.",
        "parameters": {"type": "object", "properties": {
            "page_id": {"type": "string", "description": "the page id from the manifest"}},
            "required": ["page_id"]}}},
    {"type": "function", "function": {
        "name": "search_pages",
        "description": "Search all memory pages by keywords; returns page ids with hints.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "keywords"}},
            "required": ["query"]}}},
]


@dataclass
class TurnResult:
    turn: int
    user: str
    answer: str = ""
    error: dict[str, str] | None = None
    faults: int = 0
    demand_faults: int = 0
    tool_faults: int = 0
    evictions: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    memory_seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    l0_used: int = 0
    budget: int = 0
    l0_pages: list[str] = field(default_factory=list)
    warning: str | None = None
    recall: bool | None = None
    needed: list[str] = field(default_factory=list)
    answer_hit: bool | None = None
    #: why the model stopped (the provider's finish reason: ``stop``, ``length``, ``tool_calls``)
    finish_reason: str = ""
    #: the answer was cut at the token limit (``max_tokens``): finish reason ``length``
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    #: with a pricing profile: the turn's calls billed with the prompt cache
    #: (:class:`~simulator.llm.costing.TurnCost` as a dict), cache breaks and their causes
    cost: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ChatSession:
    """A provider, a :class:`SessionMemory`, and the transcript."""

    def __init__(self, provider: Provider, settings: MemorySettings | None = None, *,
                 system_prompt: str = DEFAULT_SYSTEM_PROMPT, max_tokens: int | None = None,
                 timeout: float = 120.0, max_tool_rounds: int = 2,
                 compressor: str = "extractive", pricing: SessionCost | None = None,
                 _memory: SessionMemory | None = None) -> None:
        self.provider = provider
        settings = settings or MemorySettings()
        if max_tokens is None:
            max_tokens = settings.reserve_tokens
        if max_tokens > settings.reserve_tokens:
            settings.reserve_tokens = max_tokens
        if settings.context_window > provider.context_window:
            raise ProviderError("bad_request",
                                f"the session's context window ({settings.context_window}) is "
                                f"larger than the model's ({provider.context_window})")
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_tool_rounds = max_tool_rounds
        self.compressor_name = compressor
        self.compressor = TimedCompressor(make_compressor(compressor, provider))
        self.system_prompt = system_prompt
        if _memory is None:
            self.memory = SessionMemory(settings, count=provider.count_tokens,
                                        compressor=self.compressor)
            self.memory.add_system(system_prompt)
        else:
            self.memory = _memory
        self.results: list[TurnResult] = []
        #: the prompt-cache bill (docs/cost.md §5), when the session has a pricing profile
        self.pricing = pricing
        self._packed: tuple[list, str] = ([], "")

    # --- state ----------------------------------------------------------------------------

    @property
    def tools_mode(self) -> str:
        """``native`` (tool calls offered), ``text`` (the model may write page_fault(...)),
        or ``off`` (the preset has no tools)."""
        if not self.memory.preset.tools:
            return "off"
        return "native" if self.provider.supports_tools else "text"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) from which :meth:`from_dict` rebuilds the session."""
        return {"version": 1, "memory": self.memory.to_dict(),
                "system_prompt": self.system_prompt, "max_tokens": self.max_tokens,
                "timeout": self.timeout, "max_tool_rounds": self.max_tool_rounds,
                "compressor": self.compressor_name,
                "results": [r.to_dict() for r in self.results],
                "pricing": self.pricing.to_dict() if self.pricing else None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], provider: Provider,
                  profiles: Callable[[str], PricingProfile] | None = None) -> ChatSession:
        """Rebuild a session; ``profiles`` finds its pricing profile by name (shipped ones by
        default)."""
        compressor = TimedCompressor(make_compressor(data.get("compressor", "extractive"),
                                                     provider))
        memory = SessionMemory.from_dict(data["memory"], count=provider.count_tokens,
                                         compressor=compressor)
        session = cls(provider, memory.settings, system_prompt=data["system_prompt"],
                      max_tokens=data["max_tokens"], timeout=data["timeout"],
                      max_tool_rounds=data["max_tool_rounds"],
                      compressor=data.get("compressor", "extractive"), _memory=memory)
        session.compressor = compressor
        session.results = [TurnResult(**r) for r in data.get("results", [])]
        if data.get("pricing"):
            session.pricing = SessionCost.from_dict(data["pricing"], profiles)
        return session

    # --- the prompt -----------------------------------------------------------------------

    def build_messages(self, query: str, warning: str | None = None,
                       notes: list[str] | None = None) -> list[dict[str, Any]]:
        """The chat messages for the model, packed from L0."""
        memory = self.memory
        context = memory.context()
        system_parts: list[str] = []
        conversation: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for page in context:
            if page.kind == PageKind.SYSTEM:
                system_parts.append(page.text)
            elif page.kind == PageKind.SUMMARY:
                system_parts.append(f"Summary of earlier conversation: {page.text}")
            elif page.kind in (PageKind.DOCUMENT, PageKind.TOOL):
                system_parts.append(f"[{page.id}] {page.text}")
            else:
                role = page.role if page.role in ("user", "assistant") else "user"
                if current is not None and current["_message"] == page.message:
                    current["content"] += " " + page.text
                else:
                    current = {"role": role, "content": page.text, "_message": page.message}
                    conversation.append(current)
        mode = self.tools_mode
        entries = memory.manifest(query=query)
        lines = []
        if entries and mode != "off":
            lines.append("Memory pages outside your context (id [tier, tokens] hint):")
            lines += [e.line() for e in entries]
            if mode == "text":
                lines.append("To load one, write page_fault(<id>).")
        if warning:
            lines.append(warning)
        if notes:
            lines += notes
        extra = "\n".join(lines)
        budget = memory.settings.prompt_reserve
        if extra and self.provider.count_tokens(extra) > budget:
            while lines and self.provider.count_tokens("\n".join(lines)) > budget:
                lines.pop(-2 if len(lines) > 1 else -1)
            extra = "\n".join(lines)
        self._packed = (context, extra)
        stable = memory.preset.packing == "stable" and conversation
        system = "\n\n".join(p for p in [*system_parts, "" if stable else extra] if p)
        messages = [{"role": "system", "content": system}]
        asked = {memory.pages[pid].message for pid in memory.held if pid in memory.pages}
        for item in conversation:
            if stable and extra and item["_message"] in asked:
                # just before the question: what came before stays the cached prefix
                messages.append({"role": "system", "content": extra})
                extra = ""
            messages.append({"role": item["role"], "content": item["content"]})
        if stable and extra:
            messages.append({"role": "system", "content": extra})
        return messages

    # --- a turn ---------------------------------------------------------------------------

    def send(self, text: str, *, labels: tuple[str, ...] | list[str] = (),
             needs: list[str] | None = None, fact: str | None = None,
             expect: str | None = None, at: float | None = None) -> TurnResult:
        """One user turn. ``labels`` name facts this message carries (for probes); ``needs``
        are labels a probe turn needs in context (recall), ``expect`` text the answer should
        contain (reported, model-dependent); ``at`` the turn's time in seconds for the
        pricing (the previous call's plus the think time when None)."""
        memory = self.memory
        compress_before = self.compressor.seconds
        compress_model_before = self.compressor.model_seconds
        t0 = time.perf_counter()
        try:
            plan = memory.begin_turn(text, labels=labels)
        except MessageTooLarge as exc:  # nothing changed: the model is not asked
            result = TurnResult(turn=memory.turn + 1, user=text, budget=memory.capacity,
                                error={"kind": "too_long", "message": exc.message})
            self.results.append(result)
            return result
        t_paging = time.perf_counter() - t0
        result = TurnResult(turn=plan.turn, user=text, budget=memory.capacity,
                            warning=plan.warning)
        if needs:
            result.needed = memory.pages_for(needs, fact)
        t_pack = 0.0
        t_tools = 0.0
        t_cost = 0.0
        notes: list[str] = []
        mode = self.tools_mode
        tools = TOOLS if mode == "native" else None
        completion: Completion | None = None
        retried_context = False
        rounds = 0
        if self.pricing is not None:
            self.pricing.start_turn()
        while True:
            start = time.perf_counter()
            messages = self.build_messages(text, plan.warning, notes)
            if result.needed:
                result.recall = all(memory.in_l0(p) for p in result.needed)
            result.l0_pages = [p.id for p in memory.context()]
            t_pack += time.perf_counter() - start
            try:
                completion = self.provider.chat(messages, max_tokens=self.max_tokens,
                                                tools=tools, timeout=self.timeout)
            except ProviderError as exc:
                if exc.kind == "context" and not retried_context:
                    retried_context = True
                    result.notes.append("prompt too long for the model: compacted and retried")
                    start = time.perf_counter()
                    memory.compact(int(0.6 * memory.capacity))
                    t_paging += time.perf_counter() - start
                    continue
                if exc.kind == "bad_request" and tools and "tool" in exc.message.lower():
                    result.notes.append("the model rejected tools: continuing without them")
                    tools = None
                    continue
                result.error = exc.to_dict()
                completion = None
                break
            result.model_calls += 1
            start = time.perf_counter()
            at = self._bill(completion, at)
            t_cost += time.perf_counter() - start
            result.prompt_tokens += completion.prompt_tokens
            result.completion_tokens += completion.completion_tokens
            result.model_seconds += completion.seconds
            calls = completion.tool_calls
            if not calls and mode != "off":
                calls = parse_text_tool_calls(completion.text)
            if not calls or mode == "off" or rounds >= self.max_tool_rounds:
                break
            rounds += 1
            start = time.perf_counter()
            notes = self._run_tools(calls, result)
            t_tools += time.perf_counter() - start
            if not notes:
                break
        answer = completion.text.strip() if completion is not None else ""
        if completion is not None and not answer and completion.tool_calls:
            answer = "(the model only asked for memory pages; no answer text)"
            result.notes.append("the model's last reply held only tool calls")
        result.answer = answer
        if completion is not None:
            result.finish_reason = completion.finish_reason
            result.truncated = completion.finish_reason == "length"
        start = time.perf_counter()
        if completion is not None and answer:
            memory.add_answer(answer)
        t_answer = time.perf_counter() - start
        stats = memory.current
        result.faults = stats.faults
        result.demand_faults = stats.demand_faults
        result.tool_faults = stats.tool_faults
        result.evictions = stats.evictions
        result.l0_used = memory.l0_used
        if self.pricing is not None and self.pricing.turn.calls:
            result.cost = self.pricing.turn.to_dict()
        if expect and answer:
            result.answer_hit = expect.lower() in answer.lower()
        compress = self.compressor.seconds - compress_before
        compress_model = self.compressor.model_seconds - compress_model_before
        result.model_seconds += compress_model
        memory_total = t_paging + t_pack + t_tools + t_answer + t_cost
        result.memory_seconds = max(0.0, memory_total - compress_model)
        result.timings = {"paging": t_paging + t_tools, "packing": t_pack,
                          "answer_pages": t_answer, "compression": compress - compress_model,
                          "cost": t_cost}
        self.results.append(result)
        return result

    def _bill(self, completion: Completion, at: float | None) -> float | None:
        """Bill the call just made (with a pricing profile); returns the time of the turn's
        next call. The pages compacted before it are its cache break's cause, then
        forgotten."""
        if self.pricing is None:
            self.memory.compacted.clear()
            return at
        context, notes = self._packed
        self.pricing.bill(self.memory, context, notes, self.provider.count_tokens,
                          output_tokens=completion.completion_tokens, at=at)
        self.memory.compacted.clear()
        return self.pricing.next_time(at, completion.seconds)

    def _run_tools(self, calls: list, result: TurnResult) -> list[str]:
        """Run page_fault/search_pages; returns notes for the next prompt (empty: nothing
        useful happened, stop asking the model)."""
        notes: list[str] = []
        useful = False
        for call in calls:
            result.tool_calls += 1
            if call.error:
                result.tool_errors += 1
                result.notes.append(f"ignored a malformed tool call: {call.error}")
                continue
            if call.name == "page_fault":
                pid = str(call.arguments.get("page_id", "")).strip()
                ok, text = self.memory.fault(pid)
                if ok:
                    useful = True
                    notes.append(f"Loaded page {pid}.")
                else:
                    result.tool_errors += 1
                    notes.append(f"page_fault({pid}) failed: {text}")
            elif call.name == "search_pages":
                query = str(call.arguments.get("query", ""))
                hits = self.memory.search(query, k=5)
                useful = True
                found = "; ".join(f"{e.id} [{e.tier}] {e.hint}" for e in hits) or "nothing"
                notes.append(f"search_pages({query!r}): {found}")
            else:
                result.tool_errors += 1
                result.notes.append(f"ignored an unknown tool {call.name!r}")
        return notes if useful else []

    # --- totals ---------------------------------------------------------------------------

    def totals(self) -> dict[str, Any]:
        """Counters over the whole session (the CLI's and the benchmark's figures)."""
        memory = self.memory
        memory.finish()
        run = memory.sim.result()
        probes = [r for r in self.results if r.needed]
        recalled = [r for r in probes if r.recall]
        answered = [r for r in self.results if r.answer_hit is not None]
        hits = sum(1 for r in answered if r.answer_hit)
        return {
            "turns": len(self.results),
            "faults": run.faults,
            "demand_faults": sum(r.demand_faults for r in self.results),
            "tool_faults": sum(r.tool_faults for r in self.results),
            "evictions": run.tiers[0].evictions,
            "refaults": run.refaults,
            "thrash_index": run.thrash_index,
            "recall_success": (len(recalled) / len(probes)) if probes else None,
            "probes": len(probes),
            "probes_recalled": len(recalled),
            "answer_hits": hits,
            "answers_checked": len(answered),
            "answer_hit_rate": (hits / len(answered)) if answered else None,
            "truncated": sum(1 for r in self.results if r.truncated),
            "max_tokens": self.max_tokens,
            "prompt_tokens": sum(r.prompt_tokens for r in self.results),
            "completion_tokens": sum(r.completion_tokens for r in self.results),
            "model_calls": sum(r.model_calls for r in self.results),
            "model_seconds": sum(r.model_seconds for r in self.results),
            "memory_seconds": sum(r.memory_seconds for r in self.results),
            "tool_calls": sum(r.tool_calls for r in self.results),
            "tool_errors": sum(r.tool_errors for r in self.results),
            "errors": sum(1 for r in self.results if r.error),
            "compactions": sum(t.compactions for t in memory.turns),
            "summaries": memory.summaries,
            "compressions": memory.compression.compressions,
            "sim_time_ms": run.sim_time_ms,
            "accesses": len(memory.trace),
            "budget": memory.capacity,
            "context_window": memory.settings.context_window,
            "page_size": memory.settings.page_size,
            "preset": memory.preset.name,
            "policy": memory.preset.policy,
            "provider": self.provider.name,
            "model": getattr(self.provider, "model", self.provider.name),
            "tokenizer": self.provider.tokenizer,
            "tools": self.tools_mode,
            "compressor": self.compressor_name,
            "cost": self.pricing.totals() if self.pricing else None,
        }
