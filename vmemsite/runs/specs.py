"""What a run is made of, as plain data: the workload spec, comparison variants, and the
engine sources they turn into. No database access here; errors are the engine's
:class:`ConfigError` with a ``field`` path (``workload.n_pages``, ``variants[1].policy``) that
forms and the API map back to their inputs.

Workload specs (stored in ``Run.workload``)::

    {"kind": "generator", "name": "zipf", "params": {...}}     # an engine Workload
    {"kind": "trace", "trace_id": 7, "name": "...", "unit_pages": false}
    {"kind": "sequence", "pages": [1, 2, 3, 4, 1, 2, 5], "tokens": 1}   # a literal id list

plus an optional ``"sessions": N`` (single runs): the accesses are dealt round-robin to N
sessions that share the tiers, and the run uses the engine's concurrent mode.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simulator.engine.compare import Variant
from simulator.engine.config import SimConfig
from simulator.engine.errors import ConfigError
from simulator.engine.sources import SequenceSource, SessionSource, Source, WorkloadSource
from simulator.engine.workloads import WORKLOADS, Workload

MAX_SEQUENCE = 100_000  # ids in a literal sequence
MAX_SESSIONS = 64
MIN_VARIANTS, MAX_VARIANTS = 2, 8
WORKLOAD_KINDS = ("generator", "trace", "sequence")
_ID = re.compile(r"^-?\d+$")


def parse_pages(text: str) -> list[int | str]:
    """``"1,2,3 4"`` → ``[1, 2, 3, 4]``: ids separated by commas or spaces; numeric ids become
    ints, anything else stays a string."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    return [int(p) if _ID.match(p) else p for p in parts]


def _int(value: Any, field: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {value!r}", field=field)
    if not minimum <= value <= maximum:
        raise ConfigError(f"must be between {minimum} and {maximum:,}, got {value}", field=field)
    return value


def workload_clean(data: Any, *, allow_sessions: bool = True) -> dict[str, Any]:
    """Validate a workload spec and return it normalised (fields named ``workload.…``).

    A trace spec is checked for shape only; whether the trace exists and may be read is the
    caller's business (it needs the user)."""
    if not isinstance(data, dict):
        raise ConfigError("expected an object", field="workload")
    kind = data.get("kind")
    if kind is None and "name" in data:  # the engine's own Workload.to_dict()
        kind = "generator"
    if kind not in WORKLOAD_KINDS:
        raise ConfigError(
            f"unknown workload kind {kind!r}; use one of {', '.join(WORKLOAD_KINDS)}",
            field="workload.kind",
        )
    allowed = {
        "generator": {"kind", "name", "params", "sessions"},
        "trace": {"kind", "trace_id", "name", "unit_pages", "sessions"},
        "sequence": {"kind", "pages", "tokens", "sessions"},
    }[kind]
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
            field="workload",
        )
    clean: dict[str, Any] = {"kind": kind}
    if kind == "generator":
        name = data.get("name")
        if name not in WORKLOADS:
            raise ConfigError(
                f"unknown generator {name!r}; use one of {', '.join(WORKLOADS)}",
                field="workload.name",
            )
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError("expected an object", field="workload.params")
        workload = Workload(name, dict(params))
        try:
            workload.validate()
        except ConfigError as exc:
            raise ConfigError(exc.message, field=f"workload.{exc.field or 'params'}") from None
        clean.update(workload.to_dict())
    elif kind == "trace":
        clean["trace_id"] = _int(data.get("trace_id"), "workload.trace_id", 1, 2**62)
        clean["name"] = str(data.get("name", ""))[:200]
        unit = data.get("unit_pages", False)
        if not isinstance(unit, bool):
            raise ConfigError("expected true or false", field="workload.unit_pages")
        clean["unit_pages"] = unit
    else:
        pages = data.get("pages")
        if isinstance(pages, str):
            pages = parse_pages(pages)
        if not isinstance(pages, list) or not pages:
            raise ConfigError("give at least one page id", field="workload.pages")
        if len(pages) > MAX_SEQUENCE:
            raise ConfigError(
                f"at most {MAX_SEQUENCE:,} ids, got {len(pages):,}", field="workload.pages"
            )
        for page in pages:
            if isinstance(page, bool) or not isinstance(page, int | str) or page == "":
                raise ConfigError(f"page ids are integers or names, got {page!r}",
                                  field="workload.pages")
        clean["pages"] = pages
        clean["tokens"] = _int(data.get("tokens", 1), "workload.tokens", 1, 10**9)
    sessions = data.get("sessions", 1)
    if sessions is None:
        sessions = 1
    clean["sessions"] = _int(sessions, "workload.sessions", 1, MAX_SESSIONS)
    if clean["sessions"] > 1 and not allow_sessions:
        raise ConfigError("concurrent sessions are for single runs", field="workload.sessions")
    return clean


def workload_source(spec: dict[str, Any], trace_source: Source | None = None) -> Source:
    """The engine source of a cleaned spec (``trace_source`` for a trace spec)."""
    kind = spec["kind"]
    if kind == "generator":
        source: Source = WorkloadSource(Workload(spec["name"], dict(spec["params"])))
    elif kind == "trace":
        if trace_source is None:
            raise ConfigError("the trace is no longer available", field="workload.trace_id")
        source = trace_source
    else:
        source = SequenceSource(list(spec["pages"]), spec.get("tokens", 1))
    sessions = spec.get("sessions", 1)
    return SessionSource(source, sessions) if sessions > 1 else source


def _count(n: Any, what: str) -> str:
    if not isinstance(n, int) or isinstance(n, bool):
        return f"{what}s"
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _sizes_text(tokens: Any) -> str:
    if isinstance(tokens, list | tuple) and len(tokens) == 2:
        return f", pages of {tokens[0]:,} to {tokens[1]:,} tokens"
    if isinstance(tokens, int) and not isinstance(tokens, bool) and tokens > 1:
        return f", pages of {tokens:,} tokens"
    return ""


def _generator_text(name: str, params: dict[str, Any]) -> str:
    """A generated workload in words: its pattern and size, not its seed or switches."""
    n = params.get("n")
    length = f"{n:,} accesses" if isinstance(n, int) and not isinstance(n, bool) else "endless"
    if name == "zipf":
        text = f"Zipf (alpha {params.get('alpha')}) over {_count(params.get('n_pages'), 'page')}"
    elif name == "uniform":
        text = f"uniform over {_count(params.get('n_pages'), 'page')}"
    elif name == "loop":
        text = f"a loop over {_count(params.get('n_pages'), 'page')}"
    elif name == "scan_hotset":
        hot = params.get("hot_fraction", 0.5)
        share = f", {100 * hot:g} % hot" if isinstance(hot, int | float) else ""
        text = (f"a hot set of {_count(params.get('hot_pages'), 'page')} and a scan over "
                f"{_count(params.get('scan_pages'), 'page')}{share}")
    elif name == "phased":
        phases = params.get("phases") or []
        total = sum(p[1] for p in phases if isinstance(p, list | tuple) and len(p) == 3
                    and isinstance(p[1], int))
        text = f"{_count(len(phases), 'phase')} of shifting Zipf working sets"
        length = f"{total:,} accesses" if total else length
    else:
        text = str(name)
    return f"{text}{_sizes_text(params.get('tokens'))}, {length}"


def workload_describe(spec: dict[str, Any]) -> str:
    """A short description of a workload spec, as a person would write it ("Zipf (alpha 0.9)
    over 2,000 pages, 100,000 accesses"), for titles and pages."""
    kind = spec.get("kind")
    if kind == "generator":
        text = _generator_text(str(spec.get("name")), spec.get("params") or {})
    elif kind == "trace":
        text = f"trace “{spec.get('name') or spec.get('trace_id')}”"
    else:
        pages = spec.get("pages", [])
        shown = ",".join(str(p) for p in pages[:16])
        text = f"sequence {shown}{'…' if len(pages) > 16 else ''}"
    if spec.get("sessions", 1) > 1:
        text += f", shared by {spec['sessions']} concurrent sessions"
    return text


def config_clean(data: Any) -> SimConfig:
    """A validated :class:`SimConfig` from JSON data (fields named ``config.…`` are left to the
    caller; the engine names them ``tiers[0].capacity_tokens`` etc.)."""
    if not isinstance(data, dict):
        raise ConfigError("expected an object", field="config")
    return SimConfig.from_dict(copy.deepcopy(data))


def variants_clean(base: SimConfig, data: Any) -> list[Variant]:
    """Comparison variants: each overrides L0's ``policy`` and/or ``capacity_tokens`` of
    ``base`` (2 to 8 of them, distinct labels)."""
    if not isinstance(data, list):
        raise ConfigError("expected a list of variants", field="variants")
    if not MIN_VARIANTS <= len(data) <= MAX_VARIANTS:
        raise ConfigError(
            f"compare {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {len(data)}",
            field="variants",
        )
    variants: list[Variant] = []
    for i, item in enumerate(data):
        where = f"variants[{i}]"
        if not isinstance(item, dict):
            raise ConfigError("expected an object", field=where)
        unknown = sorted(set(item) - {"label", "policy", "capacity_tokens"})
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(unknown)}", field=where)
        config = copy.deepcopy(base)
        l0 = config.tiers[0]
        if item.get("policy") not in (None, ""):
            l0.policy = item["policy"]
            l0.policy_params = {}
        if item.get("capacity_tokens") not in (None, ""):
            l0.capacity_tokens = item["capacity_tokens"]
        try:
            config.validate()
        except ConfigError as exc:
            field = (exc.field or "").removeprefix("tiers[0].")
            raise ConfigError(exc.message, field=f"{where}.{field}" if field else where) from None
        if item.get("label") is not None and not isinstance(item["label"], str):
            raise ConfigError("expected text", field=f"{where}.label")
        label = str(item.get("label") or f"{l0.policy} @ {l0.capacity_tokens}").strip()[:60]
        if label.startswith("OPT @"):
            raise ConfigError("labels starting with 'OPT @' name the reference lines",
                              field=f"{where}.label")
        variants.append(Variant(label, config))
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"variants must differ, got {', '.join(labels)}", field="variants")
    return variants
