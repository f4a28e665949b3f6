"""The run specification: one typed object, validated once, that every way of starting a run
builds — the form, the JSON API, the presets, "run again".

:func:`run_spec` takes the plain data of a run (what ``POST /api/runs/`` receives) and
returns a :class:`RunSpec`, or raises :class:`~vmemsite.errors.Invalid` holding *every*
problem, each with the path of its field (``config.tiers[0].capacity_tokens``,
``workload.n_pages``, ``variants[1].policy``, ``label``). Each face maps those paths to its
own inputs (the form to its fields, the API returns them as they are). The engine's
descriptions of settings and workload parameters (``SIM_PARAMS``, ``GENERATORS``…) do the
checking; this module adds what a run of the lab has on top (:data:`RUN_PARAMS`: sessions,
speed, label…), and derives the JSON Schema of the API from the same descriptions
(:func:`json_schemas`). Nothing here touches the database: whether a trace exists and may be
read is checked by ``services.run_create``, the one place a spec becomes a run.

Stored runs keep the JSON they always had (``Run.config`` and ``Run.workload``)::

    {"kind": "generator", "name": "zipf", "params": {...}, "sessions": 1}
    {"kind": "trace", "trace_id": 7, "name": "...", "unit_pages": false, "sessions": 1}
    {"kind": "sequence", "pages": [1, 2, 3, 4, 1, 2, 5], "tokens": 1, "sessions": 1}

(``tokens`` of a sequence may be a ``[min, max]`` range; ``"sessions": N`` deals the accesses
round-robin to N sessions sharing the tiers, single runs only).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.engine.compare import REFERENCE_PREFIX, Variant, is_reference_label
from simulator.engine.config import LATENCY_PARAMS, SIM_PARAMS, TIER_PARAMS, SimConfig
from simulator.engine.errors import ConfigError
from simulator.engine.params import INVALID, Param, Problems, figure, json_schema, show
from simulator.engine.simulation import split_bounds, split_count
from simulator.engine.sources import SequenceSource, SessionSource, Source, WorkloadSource
from simulator.engine.workloads import GENERATORS, TOKENS, Workload
from vmemsite.errors import Invalid

MAX_SEQUENCE = 100_000  # ids in a literal sequence
MAX_PAGE_NAME = 200  # characters of a page id given as a name
MAX_SESSIONS = 64
MIN_VARIANTS, MAX_VARIANTS = 2, 8
MAX_LABEL = 200
MAX_VARIANT_LABEL = 60
MAX_SPEED = 1e9
WORKLOAD_KINDS = ("generator", "trace", "sequence")
#: the largest page id given as a number (a database integer)
MAX_PAGE_ID = 2**63 - 1
#: the widest window a run may have (the engine's own bound on ``window_accesses``)
MAX_WINDOW_ACCESSES = next(p.maximum for p in SIM_PARAMS if p.name == "window_accesses")
#: how policies are named to people (forms, default run titles); others show their engine name
POLICY_LABELS = {
    "lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "clock": "CLOCK", "arc": "ARC", "2q": "2Q",
    "sieve": "SIEVE", "s3fifo": "S3-FIFO", "random": "Random", "opt": "OPT (Belady)",
    "ws": "Working set", "mru": "MRU", "eclock": "Enhanced CLOCK", "nru": "NRU",
    "aging": "Aging", "worst": "Worst (UNOPT)", "importance": "Importance-weighted LRU",
    "cacheaware": "Cache-aware importance",
}


def policy_label(name: str) -> str:
    """A policy's name as people read it (``lru`` → ``LRU``)."""
    return POLICY_LABELS.get(name, name)
_ID = re.compile(r"^-?\d{1,19}$")


# --- the settings a run has besides the engine's ------------------------------------------


def _check_int(param: Param, value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"expected an integer, got {show(value)}", field=name)
    low, high = int(param.minimum), int(param.maximum)
    if not low <= value <= high:
        raise ConfigError(f"must be between {low} and {high:,}, got {show(value)}",
                          field=name)
    return value


def _check_speed(param: Param, value: Any, name: str) -> float | None:
    if value == "" or value == "max":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SPEED:
        raise ConfigError(f"must be above 0 and at most {MAX_SPEED:g}", field=name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"expected a number of simulated ms per second or 'max', got "
                          f"{show(value)}", field=name)
    if not 0 < value <= MAX_SPEED:
        raise ConfigError(f"must be above 0 and at most {MAX_SPEED:g}", field=name)
    return float(value)


def _check_label(param: Param, value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigError("expected text", field=name)
    if "\x00" in value:
        raise ConfigError("must not contain NUL characters", field=name)
    return value.strip()[: int(param.maximum)]


def _check_flag(param: Param, value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("expected true or false", field=name)
    return value


#: what a run has on top of the engine's settings, described like them
RUN_PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("label", "text", "a name for the run (made from the settings when empty)",
          _check_label, default="", maximum=MAX_LABEL, label="Label"),
    Param("public", "bool", "anyone with the link may watch it (read-only)", _check_flag,
          default=False, label="Public (read-only link for anyone)"),
    Param("speed", "number", "simulated ms per wall-clock second; null or \"max\": as fast "
          "as possible (every access counts as at least 1 ms)", _check_speed, default=None,
          nullable=True, minimum=0, exclusive_minimum=True, maximum=MAX_SPEED, unit="ms/s",
          label="Speed"),
    Param("with_opt", "bool", "comparisons: add OPT (Belady) as the reference line "
          "(finite workloads)", _check_flag, default=True,
          label="Add OPT as a reference line (finite workloads)"),
    Param("sessions", "int", "deal the accesses round-robin to this many sessions sharing "
          "the tiers (single runs)", _check_int, default=1, minimum=1, maximum=MAX_SESSIONS,
          label="Concurrent sessions"),
)}
SESSIONS = RUN_PARAMS["sessions"]
TRACE_ID = Param("trace_id", "int", "a trace of your library (or a public one)", _check_int,
                 minimum=1, maximum=2**62, label="Trace")
RUN_KEYS = ("config", "workload", "label", "public", "speed", "variants", "with_opt")
#: what a comparison's variant overrides of L0
_VARIANT_PARAMS = {p.name: p for p in TIER_PARAMS if p.name in ("policy", "capacity_tokens")}


def parse_pages(text: str) -> list[int | str]:
    """``"1,2,3 4"`` → ``[1, 2, 3, 4]``: ids separated by commas, semicolons or spaces;
    numeric ids (up to 19 digits) become ints, anything else stays a name."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    return [int(p) if _ID.match(p) and abs(int(p)) <= MAX_PAGE_ID else p for p in parts]


# --- the typed specification ---------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorSpec:
    name: str
    params: dict[str, Any]  # as given (JSON-ready), already checked

    def source(self) -> Source:
        return WorkloadSource(Workload(self.name, dict(self.params)))

    def stored(self) -> dict[str, Any]:
        return {"kind": "generator", **Workload(self.name, self.params).to_dict()}



@dataclass(frozen=True)
class TraceSpec:
    trace_id: int
    name: str = ""
    unit_pages: bool = False

    def stored(self) -> dict[str, Any]:
        return {"kind": "trace", "trace_id": self.trace_id, "name": self.name,
                "unit_pages": self.unit_pages}


@dataclass(frozen=True)
class SequenceSpec:
    pages: tuple[int | str, ...]
    tokens: int | tuple[int, int] = 1

    def source(self) -> Source:
        return SequenceSource(list(self.pages), self.tokens)

    def stored(self) -> dict[str, Any]:
        tokens = list(self.tokens) if isinstance(self.tokens, tuple) else self.tokens
        return {"kind": "sequence", "pages": list(self.pages), "tokens": tokens}


WorkloadSpec = GeneratorSpec | TraceSpec | SequenceSpec


@dataclass(frozen=True)
class RunSpec:
    """A valid run, ready to store: the base ``config``, the ``workload``, and for a
    comparison its ``variants`` (None: a single run)."""

    config: SimConfig
    workload: WorkloadSpec
    sessions: int = 1
    label: str = ""
    public: bool = False
    speed: float | None = None
    variants: tuple[Variant, ...] | None = None
    with_opt: bool = True

    @property
    def is_compare(self) -> bool:
        return self.variants is not None

    def stored_config(self) -> dict[str, Any]:
        """``Run.config``: the config, or for a comparison its base and variants."""
        if self.variants is None:
            return self.config.to_dict()
        return {
            "base": self.config.to_dict(),
            "variants": [{"label": v.label, "config": v.config.to_dict()}
                         for v in self.variants],
            "with_opt": self.with_opt,
        }

    def stored_workload(self) -> dict[str, Any]:
        """``Run.workload`` (the JSON the run page and "run again" read back)."""
        return {**self.workload.stored(), "sessions": self.sessions}

    def default_label(self, workload: dict[str, Any] | None = None) -> str:
        """A label made from the settings; ``workload``: the stored workload when the run
        knows more of it than the spec (a trace's name)."""
        what = workload_describe(workload or self.stored_workload())
        if self.variants is None:
            return f"{policy_label(self.config.tiers[0].policy)} on {what}"
        return f"{' vs '.join(v.label for v in self.variants)} on {what}"


# --- validation: every problem at once -----------------------------------------------------


def run_spec(data: Any) -> RunSpec:
    """The :class:`RunSpec` of ``data`` (``{config, workload, label?, public?, speed?,
    variants?, with_opt?}``; ``config`` may be a :class:`SimConfig`). Raises
    :class:`Invalid` with every problem."""
    if not isinstance(data, Mapping):
        raise Invalid("the run must be a JSON object like {\"config\": …, \"workload\": …}")
    problems = Problems()
    for key in data:
        if key not in RUN_KEYS:
            problems.add(f"unknown key {show(key)}; known: {', '.join(sorted(RUN_KEYS))}",
                         str(key))
    for key in ("config", "workload"):
        if key not in data:
            problems.add("is required", key)
    values = {name: problems.check(param.check, data[name], name)
              for name, param in RUN_PARAMS.items() if name in data and name != "sessions"}
    config = _config(data.get("config"), problems) if "config" in data else INVALID
    variants_data = data.get("variants")
    compare = variants_data is not None
    workload, sessions = (_workload(data["workload"], problems, allow_sessions=not compare)
                          if "workload" in data else (INVALID, 1))
    variants = None
    if compare:
        variants = _variants(config, variants_data, problems)
    if isinstance(workload, SequenceSpec) and config is not INVALID and config.unit_pages:
        workload = SequenceSpec(workload.pages, 1)  # classic mode: every page is one token
    if problems:
        raise Invalid.of(problems.errors)
    return RunSpec(config=config, workload=workload, sessions=sessions, variants=variants,
                   label=values.get("label", ""), public=values.get("public", False),
                   speed=values.get("speed"), with_opt=values.get("with_opt", True))


def _config(data: Any, problems: Problems) -> Any:
    if isinstance(data, SimConfig):
        data = data.to_dict()
    if not isinstance(data, Mapping):
        problems.add("expected an object", "config")
        return INVALID
    try:
        return SimConfig.from_dict(dict(data))
    except ConfigError as exc:
        problems.errors.append(exc.within("config"))
        return INVALID


def _workload(data: Any, problems: Problems, *, allow_sessions: bool,
              ) -> tuple[Any, int]:
    """The workload part (fields ``workload.…``) and its sessions."""
    if not isinstance(data, Mapping):
        problems.add("expected an object", "workload")
        return INVALID, 1
    kind = data.get("kind")
    if kind is None and "name" in data:  # the engine's own Workload.to_dict()
        kind = "generator"
    if kind not in WORKLOAD_KINDS:
        problems.add(f"unknown workload kind {show(kind)}; use one of "
                     f"{', '.join(WORKLOAD_KINDS)}", "workload.kind")
        return INVALID, 1
    allowed = {"generator": {"name", "params"}, "trace": {"trace_id", "name", "unit_pages"},
               "sequence": {"pages", "tokens"}}[kind] | {"kind", "sessions"}
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        problems.add(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
                     "workload")
    sessions = data.get("sessions", 1)
    sessions = 1 if sessions is None else problems.check(SESSIONS.check, sessions,
                                                         "workload.sessions")
    if sessions is not INVALID and sessions > 1 and not allow_sessions:
        problems.add("concurrent sessions are for single runs", "workload.sessions")
    spec = {"generator": _generator, "trace": _trace, "sequence": _sequence}[kind](
        data, problems)
    return spec, sessions if sessions is not INVALID else 1


def _generator(data: Mapping, problems: Problems) -> Any:
    name = data.get("name")
    if not isinstance(name, str) or name not in GENERATORS:
        problems.add(f"unknown generator {show(name)}; use one of {', '.join(GENERATORS)}",
                     "workload.name")
        return INVALID
    params = data.get("params", {})
    if not isinstance(params, Mapping):
        problems.add("expected an object", "workload.params")
        return INVALID
    workload = Workload(name, dict(params))
    try:
        workload.validate()
    except ConfigError as exc:
        problems.errors.append(exc.within("workload"))
        return INVALID
    return GeneratorSpec(name, Workload(name, dict(params)).to_dict()["params"])


def _trace(data: Mapping, problems: Problems) -> Any:
    trace_id = problems.check(TRACE_ID.check, data.get("trace_id"), "workload.trace_id")
    unit = data.get("unit_pages", False)
    if not isinstance(unit, bool):
        problems.add("expected true or false", "workload.unit_pages")
    if trace_id is INVALID:
        return INVALID
    return TraceSpec(trace_id)


def _sequence(data: Mapping, problems: Problems) -> Any:
    pages = data.get("pages")
    if isinstance(pages, str):
        pages = parse_pages(pages)
    tokens = problems.check(TOKENS.check, data.get("tokens", 1), "workload.tokens")
    if not isinstance(pages, list) or not pages:
        problems.add("give at least one page id", "workload.pages")
        return INVALID
    if len(pages) > MAX_SEQUENCE:
        problems.add(f"at most {MAX_SEQUENCE:,} ids, got {len(pages):,}", "workload.pages")
        return INVALID
    for index, page in enumerate(pages):
        problem = _page_id_problem(page)
        if problem:
            problems.add(f"page {index + 1}: {problem}", "workload.pages")
            return INVALID
    return INVALID if tokens is INVALID else SequenceSpec(tuple(pages), tokens)


def _page_id_problem(page: Any) -> str | None:
    if isinstance(page, bool) or not isinstance(page, int | str) or page == "":
        return f"page ids are integers or names, got {show(page)}"
    if isinstance(page, int) and abs(page) > MAX_PAGE_ID:
        return f"a numeric page id is at most {figure(MAX_PAGE_ID)} in size"
    if isinstance(page, str) and (len(page) > MAX_PAGE_NAME or "\x00" in page):
        return f"a page name is at most {MAX_PAGE_NAME} characters, without NUL"
    return None


def _variants(base: Any, data: Any, problems: Problems) -> Any:
    """Comparison variants: each overrides L0's ``policy`` and/or ``capacity_tokens`` of the
    base (2 to 8 of them, distinct labels); fields ``variants[i].…``."""
    if not isinstance(data, list):
        problems.add("expected a list of variants", "variants")
        return INVALID
    if not MIN_VARIANTS <= len(data) <= MAX_VARIANTS:
        problems.add(f"compare {MIN_VARIANTS} to {MAX_VARIANTS} variants, got {len(data)}",
                     "variants")
        return INVALID
    variants = [_variant(base, item, f"variants[{i}]", problems) for i, item in enumerate(data)]
    if INVALID in variants or base is INVALID:
        return INVALID
    labels = [v.label for v in variants]
    if len(set(labels)) != len(labels):
        problems.add(f"variants must differ, got {', '.join(labels)}", "variants")
    return tuple(variants)


def _variant(base: Any, item: Any, where: str, problems: Problems) -> Any:
    if not isinstance(item, Mapping):
        problems.add("expected an object", where)
        return INVALID
    unknown = sorted(str(key) for key in item if key not in ("label", "policy",
                                                             "capacity_tokens"))
    if unknown:
        problems.add(f"unknown key(s) {', '.join(unknown)}", where)
        return INVALID
    label = item.get("label")
    if label is not None and (not isinstance(label, str) or "\x00" in label):
        problems.add("expected text (without NUL)", f"{where}.label")
        return INVALID
    if base is INVALID:  # the variant's own values can still be judged
        for key, param in _VARIANT_PARAMS.items():
            if item.get(key) not in (None, ""):
                problems.check(param.check, item[key], f"{where}.{key}")
        return INVALID
    data = base.to_dict()
    l0 = data["tiers"][0]
    if item.get("policy") not in (None, ""):
        l0["policy"], l0["policy_params"] = item["policy"], {}
    if item.get("capacity_tokens") not in (None, ""):
        l0["capacity_tokens"] = item["capacity_tokens"]
    try:
        config = SimConfig.from_dict(data)
    except ConfigError as exc:
        for leaf in exc.errors:
            rest = (leaf.field or "").removeprefix("tiers[0].")
            problems.add(leaf.message, f"{where}.{rest}" if rest else where)
        return INVALID
    l0 = config.tiers[0]
    label = str(label or f"{l0.policy} @ {l0.capacity_tokens}").strip()[:MAX_VARIANT_LABEL]
    if is_reference_label(label):
        problems.add(f"labels starting with {REFERENCE_PREFIX!r} name the reference lines",
                     f"{where}.label")
        return INVALID
    return Variant(label, config)


# --- stored runs back into engine objects --------------------------------------------------


def workload_source(spec: dict[str, Any], trace_source: Source | None = None) -> Source:
    """The engine source of a stored workload spec (``trace_source`` for a trace)."""
    kind = spec["kind"]
    if kind == "generator":
        source: Source = GeneratorSpec(spec["name"], dict(spec["params"])).source()
    elif kind == "trace":
        if trace_source is None:
            raise ConfigError("the trace is no longer available", field="workload.trace_id")
        source = trace_source
    else:
        tokens = spec.get("tokens", 1)
        source = SequenceSpec(tuple(spec["pages"]),
                              tuple(tokens) if isinstance(tokens, list) else tokens).source()
    sessions = spec.get("sessions", 1)
    return SessionSource(source, sessions) if sessions > 1 else source


def expected_accesses(workload: Mapping[str, Any], length: int | None, page_size: Any,
                      unit_pages: Any, total_tokens: int | None = None
                      ) -> tuple[int | None, bool]:
    """How many accesses the engine processes for ``workload`` of ``length`` accesses, and
    whether that is an upper bound rather than the count. With a page size (sizes counted),
    an access of s tokens is cut into ceil(s / page_size) pages, each an access
    (``simulation.split_pages``): a generator or sequence of a fixed size gives the count; a
    range of sizes, its largest; a trace its ``total_tokens`` T — an access of s tokens makes
    at most 1 + (s - 1) // page_size pages, so the trace at most length + (T - length) //
    page_size (the shared block-I/O trace at 512 tokens: at most 8,644,978; it makes
    8,531,329 — its 113,872 requests alone sized the windows of a run that then stopped at
    20,000 windows, half way).
    Chats and other generators whose sizes are their own: ``length``."""
    if not length or page_size is None or unit_pages:
        return length, False
    kind = workload.get("kind")
    if kind == "trace":
        if total_tokens is None or total_tokens <= length:
            return length, False  # every access one token (or sizes ignored)
        fewest, most = split_bounds(length, total_tokens, page_size)
        return most, most != fewest
    tokens = (workload.get("tokens", 1) if kind == "sequence"
              else workload.get("params", {}).get("tokens", 1))
    if isinstance(tokens, int) and not isinstance(tokens, bool):
        return length * split_count(tokens, page_size), False
    if isinstance(tokens, list | tuple) and len(tokens) == 2:
        low, high = (split_count(t, page_size) for t in tokens)
        return length * high, low != high
    return length, False


def stored_config(data: dict[str, Any]) -> SimConfig:
    """A stored run's config (written by ``run_create`` after validation: not checked
    again)."""
    return SimConfig.restore(data)


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


# --- the same descriptions as JSON Schema (the API's request bodies) ------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schemas of a run's parts, named for OpenAPI components, all derived from the
    descriptions the validation uses (so the API document cannot drift from what is
    accepted)."""
    sessions = SESSIONS.json_schema()
    generators = [
        {"type": "object", "title": name, "required": ["kind", "name"],
         "additionalProperties": False, "description": generator.summary,
         "properties": {"kind": {"const": "generator"}, "name": {"const": name},
                        "params": generator.json_schema(), "sessions": sessions}}
        for name, generator in GENERATORS.items()
    ]
    trace = {"type": "object", "title": "trace", "required": ["kind", "trace_id"],
             "additionalProperties": False,
             "properties": {"kind": {"const": "trace"}, "trace_id": TRACE_ID.json_schema(),
                            "unit_pages": {"type": "boolean"}, "sessions": sessions}}
    page_id = {"oneOf": [{"type": "integer", "minimum": -MAX_PAGE_ID, "maximum": MAX_PAGE_ID},
                         {"type": "string", "minLength": 1, "maxLength": MAX_PAGE_NAME}]}
    sequence = {"type": "object", "title": "sequence", "required": ["kind", "pages"],
                "additionalProperties": False,
                "properties": {"kind": {"const": "sequence"},
                               "pages": {"oneOf": [
                                   {"type": "array", "items": page_id, "minItems": 1,
                                    "maxItems": MAX_SEQUENCE},
                                   {"type": "string", "description": "ids separated by "
                                    "commas or spaces"}]},
                               "tokens": TOKENS.json_schema(), "sessions": sessions}}
    tier = json_schema(TIER_PARAMS, extra={"latency": _ref("LatencyModel")})
    config = json_schema(SIM_PARAMS, title="The engine's run configuration (docs/"
                         "parameters.md).", extra={"tiers": {
                             "type": "array", "items": _ref("TierConfig"), "minItems": 1,
                             "maxItems": 5, "description": "L0 first; only the last tier "
                             "may be unlimited"}})
    config["required"] = ["tiers"]
    run = json_schema([p for name, p in RUN_PARAMS.items() if name != "sessions"], extra={
        "config": _ref("SimConfig"), "workload": _ref("Workload"),
        "variants": {"type": "array", "items": _ref("Variant"), "minItems": MIN_VARIANTS,
                     "maxItems": MAX_VARIANTS, "description": "makes it a comparison: each "
                     "overrides L0's policy and/or capacity"}})
    run["required"] = ["config", "workload"]
    capacity = next(p for p in TIER_PARAMS if p.name == "capacity_tokens").json_schema()
    return {
        "LatencyModel": json_schema(LATENCY_PARAMS),
        "TierConfig": tier,
        "SimConfig": config,
        "Workload": {"oneOf": [*generators, trace, sequence]},
        "Variant": {"type": "object", "additionalProperties": False,
                    "description": "Overrides of L0 for one line of a comparison.",
                    "properties": {"label": {"type": "string",
                                             "maxLength": MAX_VARIANT_LABEL},
                                   "policy": {"type": "string"},
                                   "capacity_tokens": capacity}},
        "RunCreate": run,
    }


def inlined(name: str) -> dict[str, Any]:
    """The schema ``name`` of :func:`json_schemas` with every reference replaced by what it
    names (for tools that cannot follow references to components they do not know)."""
    schemas = json_schemas()

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                return resolve(schemas[ref.rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schemas[name])
