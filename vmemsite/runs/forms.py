"""The run and compare forms.

Their fields are derived from the engine's descriptions of the settings (``SIM_PARAMS``,
``TIER_PARAMS``, ``LATENCY_PARAMS``), of every generator's parameters (``GENERATORS``) and of
a run's own settings (``specs.RUN_PARAMS``): label, help with the sane range, widget. A form
only shapes its inputs into the run's data (:meth:`RunForm.run_data`, the JSON the API takes)
and remembers which input each part came from; the one validation (``specs.run_spec``) judges
it, and :meth:`RunForm.add_invalid` puts *every* problem next to its field at once.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from simulator.engine.config import LATENCY_PARAMS, SIM_PARAMS, TIER_NAMES, TIER_PARAMS
from simulator.engine.params import Param
from simulator.engine.policies import policy_names
from simulator.engine.workloads import GENERATORS
from vmemsite.errors import Invalid
from vmemsite.traces.selectors import trace_list_visible

from .specs import (
    MAX_VARIANT_LABEL,
    MAX_VARIANTS,
    MAX_WINDOW_ACCESSES,
    RUN_PARAMS,
    RunSpec,
    expected_accesses,
    parse_pages,
    policy_label,
    run_spec,
)

POLICY_CHOICES = [(name, policy_label(name)) for name in policy_names()]
# Paced speed = simulated ms per wall-clock second; every access counts as at least 1 ms, so
# when nothing costs time (hits, zero-latency tiers) it is accesses per second.
SPEED_CHOICES = [
    ("", "as fast as possible"),
    ("1", "very slow: 1 ms/s"),
    ("2", "slow: 2 ms/s"),
    ("10", "10 ms/s"),
    ("100", "100 ms/s"),
    ("1000", "real time: 1 s/s"),
    ("10000", "10 s/s"),
    ("100000", "100 s/s"),
]
SPEED_HELP = ("Simulated time per second of wall-clock time (ms/s). Every access counts as "
              "at least 1 ms, so when accesses cost no time (L0 hits, zero-latency tiers, "
              "classic mode) it is the number of accesses per second: at 2 ms/s, two steps a "
              "second. "
              "You can change it while the run goes (the + and - keys on its page).")
#: how a tier's settings are called in the form (``t{k}_<name>``)
TIER_FIELD_NAMES = {"capacity_tokens": "capacity", "kind": "latency"}
TIER_COLUMNS = ("capacity", "policy", "latency", "ms", "low_ms", "high_ms", "sigma",
                "per_token_ms", "concurrency")
#: what a text input of these kinds expects
SYNTAX = {
    "tokens": "A size (e.g. 1) or a range (e.g. 40-400).",
    "pair": "A range, e.g. 15-250.",
    "phases": "pages:accesses:alpha; one phase after another.",
}
_SIZES = re.compile(r"(\d{1,18})\s*(?:[-,:]\s*(\d{1,18}))?")
#: what the form offers for parameters that have no default (or another one than the engine's)
FORM_EXAMPLES = {"n": 100_000, "n_pages": 10_000, "alpha": 1.0, "hot_pages": 200,
                 "scan_pages": 5000, "phases": "300:20000:0.9; 300:20000:0.9"}
_BLANK = object()  # a field left empty: the setting takes its default
_LAST_PART = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


# --- fields from descriptions ----------------------------------------------------------------


def param_field(param: Param, *, label: str | None = None) -> forms.Field:
    """The form field of a described setting: its widget, label, help (with the range) and
    initial value. Ranges are hints for the browser only: the run's validation judges."""
    bounds = {key: value for key, value in (("min", param.minimum), ("max", param.maximum))
              if value is not None and param.kind in ("int", "number")}
    if param.kind == "int":
        field: forms.Field = forms.IntegerField(widget=forms.NumberInput(attrs=bounds))
    elif param.kind in ("number", "fraction"):
        field = forms.FloatField(widget=forms.NumberInput(attrs={**bounds, "step": "any"}))
    elif param.kind == "bool":
        field = forms.BooleanField()
    elif param.kind == "choice":
        field = forms.ChoiceField(choices=[(option, option) for option in param.options()])
    else:
        field = forms.CharField()
    field.required = False
    field.label = label or param.title
    help_text = param.describe().replace("(null:", "(blank:")
    help_text = help_text[:1].upper() + help_text[1:]
    help_text = f"{help_text} {SYNTAX.get(param.kind, '')}".strip()
    field.widget.attrs.setdefault("title", help_text)
    # a check box's label says it all; other inputs show their range
    field.help_text = "" if param.kind == "bool" else help_text
    if not param.required and param.default is not None:
        field.initial = as_text(param, param.default) if param.kind in SYNTAX \
            else param.default
    return field


def as_text(param: Param, value: Any) -> str:
    """A value of a text-typed parameter as the form shows it."""
    if param.kind == "phases":
        return "; ".join(":".join(f"{x:g}" if isinstance(x, float) else str(x) for x in phase)
                         for phase in value)
    if isinstance(value, list | tuple):
        return f"{value[0]}-{value[1]}"
    return str(value)


def _parse_text(param: Param, text: str) -> Any:
    """A text input's value for the run's data; ``ValueError`` with the message to show."""
    if param.kind == "phases":
        return _parse_phases(text)
    match = _SIZES.fullmatch(text)
    if param.kind == "tokens":
        if not match:
            raise ValueError("a size like 1 or a range like 40-400")
        low = int(match.group(1))
        return [low, int(match.group(2))] if match.group(2) else low
    if param.kind == "pair":
        if not match or not match.group(2):
            raise ValueError("a range like 15-250")
        return [int(match.group(1)), int(match.group(2))]
    return text


def _parse_phases(text: str) -> list[list[float]]:
    phases = []
    for part in (p for p in re.split(r"[;\n]+", text) if p.strip()):
        bits = [b for b in re.split(r"[:,\s]+", part.strip()) if b]
        try:
            if len(bits) > 3 or any(len(bit) > 30 for bit in bits):
                raise ValueError
            pages, accesses = int(bits[0]), int(bits[1])
            alpha = float(bits[2]) if len(bits) > 2 else 0.0
        except (ValueError, IndexError):
            raise ValueError(f"write each phase as pages:accesses:alpha, got {part[:40]!r}"
                             ) from None
        phases.append([pages, accesses, alpha])
    return phases


def _workload_params() -> dict[str, tuple[Param, list[str]]]:
    """Every generator parameter once (``wl_<name>``), with the generators that use it."""
    found: dict[str, tuple[Param, list[str]]] = {}
    for name, generator in GENERATORS.items():
        for param in generator.params:
            if param.name in found:
                known = found[param.name][0]
                assert known.kind == param.kind, f"{param.name}: two kinds of the same name"
                found[param.name][1].append(name)
            else:
                found[param.name] = (param, [name])
    return found


WORKLOAD_PARAMS = _workload_params()


class RunForm(forms.Form):
    """A single run: the hierarchy (up to five tiers), the model's knobs and the workload."""

    speed = forms.ChoiceField(choices=SPEED_CHOICES, required=False, label="Speed",
                              help_text=SPEED_HELP)
    source = forms.ChoiceField(
        choices=[("generator", "Generator"), ("trace", "Trace from the library"),
                 ("sequence", "Literal sequence of page ids")],
        widget=forms.RadioSelect, initial="generator", label="Workload", required=False,
    )
    wl_name = forms.ChoiceField(choices=[(n, n) for n in GENERATORS], label="Generator",
                                required=False, initial="zipf")
    trace = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                   label="Trace")
    sequence = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Page ids",
        help_text="e.g. 1,2,3,4,1,2,5,1,2,3,4,5 (numbers, or names like doc#3); their size "
                  "is “Tokens per page”, a range gives each page its own size in it.")

    is_compare = False

    def __init__(self, *args: Any, user=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["label"] = param_field(RUN_PARAMS["label"])
        self.fields["public"] = param_field(RUN_PARAMS["public"])
        for param in SIM_PARAMS:
            self.fields[param.name] = param_field(param)
        self.fields["window_accesses"].help_text = (
            "Blank: about 500 points for the whole run. "
            + self.fields["window_accesses"].help_text)
        if not self.is_compare:
            self.fields["sessions"] = param_field(RUN_PARAMS["sessions"])
        for name, (param, _) in WORKLOAD_PARAMS.items():
            self.fields[f"wl_{name}"] = param_field(param)
        for name, value in FORM_EXAMPLES.items():
            self.fields[f"wl_{name}"].initial = value
        traces = list(trace_list_visible(user).values_list("pk", "name")[:500])
        self.fields["trace"].choices = [("", "— choose a trace —")] + [
            (pk, name) for pk, name in traces
        ]
        for k, name in enumerate(TIER_NAMES):
            if k:
                self.fields[f"t{k}_enabled"] = forms.BooleanField(
                    required=False, label=f"use {name}")
            for param in (*TIER_PARAMS, *LATENCY_PARAMS):
                if param.name in ("name", "policy_params"):
                    continue
                part = TIER_FIELD_NAMES.get(param.name, param.name)
                self.fields[f"t{k}_{part}"] = param_field(param,
                                                          label=f"{name} {param.title}")
            self.fields[f"t{k}_policy"].choices = POLICY_CHOICES
        self.paths: dict[str, str] = {}  # run data path → the field it came from
        self._in_page_order()

    def _in_page_order(self) -> None:
        """Fields (and so the error summary) in the order the page shows them."""
        workload = ["source", "wl_name", *(f"wl_{name}" for name in WORKLOAD_PARAMS), "trace",
                    "sequence"]
        variants = [name for name in self.fields if name[:1] == "v" and name[1:2].isdigit()]
        tiers = [name for name in self.fields if name[:1] == "t" and name[1:2].isdigit()]
        model = [p.name for p in SIM_PARAMS] + ["sessions"]
        self.order_fields([*workload, *variants, "with_opt", *tiers, *model, "label", "speed",
                           "public"])

    # --- for the template -----------------------------------------------------------------

    def tier_rows(self) -> list[dict[str, Any]]:
        """Bound fields per tier row, for the template's table."""
        return [{"name": name, "index": k, "enabled": self[f"t{k}_enabled"] if k else None,
                 "cells": [self[f"t{k}_{part}"] for part in TIER_COLUMNS]}
                for k, name in enumerate(TIER_NAMES)]

    def generator_fields(self) -> list[tuple[forms.BoundField, str]]:
        """The generators' parameter fields and, for each, the generators that use it."""
        return [(self[f"wl_{name}"], " ".join(generators))
                for name, (_, generators) in WORKLOAD_PARAMS.items()]

    def model_fields(self) -> list[forms.BoundField]:
        """The model's settings (check boxes last)."""
        names = [p.name for p in SIM_PARAMS] + ([] if self.is_compare else ["sessions"])
        return sorted((self[name] for name in names),
                      key=lambda bound: bound.widget_type == "checkbox")

    # --- the run's data -------------------------------------------------------------------

    def _value(self, name: str, path: str) -> Any:
        """The cleaned value of field ``name`` for the run's data at ``path`` (:data:`_BLANK`
        when empty or already in error)."""
        self.paths.setdefault(path, name)
        return self._cleaned(name)

    def _cleaned(self, name: str) -> Any:
        if name in self.errors or name not in self.cleaned_data:
            return _BLANK
        value = self.cleaned_data[name]
        return _BLANK if value is None or value == "" else value

    def _put(self, target: dict[str, Any], key: str, name: str, path: str,
             param: Param | None = None) -> None:
        value = self._value(name, path)
        if value is _BLANK:
            return
        if param is not None and param.kind in SYNTAX:
            try:
                value = _parse_text(param, value.strip())
            except ValueError as exc:
                self.add_error(name, str(exc))
                return
        target[key] = value

    def run_data(self) -> dict[str, Any]:
        """The run's data (as ``POST /api/runs/`` takes it) from the fields that cleaned;
        :attr:`paths` then maps each part's path to its field."""
        self.paths = {"workload": "source", "workload.kind": "source",
                      "config.tiers": "t0_capacity"}
        data: dict[str, Any] = {"config": self._config(), "workload": self._workload()}
        for name in ("label", "public", "with_opt"):
            if name in self.fields:
                self._put(data, name, name, name)
        speed = self._value("speed", "speed")
        data["speed"] = None if speed is _BLANK else float(speed)
        window = data["config"].get("window_accesses")
        if window is None and "window_accesses" not in self.errors:
            # never past the largest window: a workload too long to chart at any window is
            # then refused for what it is (run_create), not for a field left blank
            data["config"]["window_accesses"] = min(
                MAX_WINDOW_ACCESSES, max(1, (self._length(data) or 500_000) // 500))
        return data

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"tiers": []}
        for k, name in enumerate(TIER_NAMES):
            if k and not self.cleaned_data.get(f"t{k}_enabled"):
                continue
            where = f"config.tiers[{len(config['tiers'])}]"
            for alias, part in (("", "capacity"), (".name", "capacity"),
                                (".policy_params", "policy"), (".latency", "latency")):
                self.paths[where + alias] = f"t{k}_{part}"
            tier: dict[str, Any] = {"name": name, "latency": {}}
            capacity = self._value(f"t{k}_capacity", f"{where}.capacity_tokens")
            if f"t{k}_capacity" not in self.errors:  # blank: unlimited
                tier["capacity_tokens"] = None if capacity is _BLANK else capacity
            for param in TIER_PARAMS:
                if param.name not in ("name", "capacity_tokens", "policy_params"):
                    self._put(tier, param.name, f"t{k}_{param.name}", f"{where}.{param.name}")
            for param in LATENCY_PARAMS:
                part = TIER_FIELD_NAMES.get(param.name, param.name)
                self._put(tier["latency"], param.name, f"t{k}_{part}",
                          f"{where}.latency.{param.name}")
            config["tiers"].append(tier)
        for param in SIM_PARAMS:
            self._put(config, param.name, param.name, f"config.{param.name}")
        return config

    def _workload(self) -> dict[str, Any]:
        source = self.cleaned_data.get("source") or "generator"
        workload: dict[str, Any] = {"kind": source}
        if source == "trace":
            self._put(workload, "trace_id", "trace", "workload.trace_id")
            self.paths["workload.unit_pages"] = "unit_pages"
            if "trace_id" not in workload and "trace" not in self.errors:
                self.add_error("trace", "choose a trace")
        elif source == "sequence":
            self._put(workload, "pages", "sequence", "workload.pages")
            workload["pages"] = parse_pages(workload.get("pages", ""))
            self._put(workload, "tokens", "wl_tokens", "workload.tokens",
                      WORKLOAD_PARAMS["tokens"][0])
        else:
            name = self.cleaned_data.get("wl_name") or "zipf"
            workload.update(name=name, params={})
            self.paths.update({"workload.name": "wl_name", "workload.params": "wl_name"})
            for param in GENERATORS[name].params:
                self._put(workload["params"], param.name, f"wl_{param.name}",
                          f"workload.{param.name}", param)
        if not self.is_compare:
            self._put(workload, "sessions", "sessions", "workload.sessions")
        return workload

    def _length(self, data: dict[str, Any]) -> int | None:
        """How many accesses the engine will process (at most), for the automatic window
        (None: unknown): the workload's, each cut into pages (``expected_accesses``)."""
        workload, config = data["workload"], data["config"]
        total_tokens = None
        if workload["kind"] == "trace":
            row = trace_list_visible(self.user).filter(pk=workload.get("trace_id")).values_list(
                "requests", "total_tokens").first()
            length, total_tokens = row if row else (None, None)
        elif workload["kind"] == "sequence":
            length = len(workload.get("pages") or ())
        else:
            params = workload.get("params", {})
            if workload.get("name") == "phased":
                phases = params.get("phases") or []
                length = sum(int(phase[1]) for phase in phases) or None
            else:
                length = params.get("n")
        page_size = config.get("page_size")  # absent: pages as the workload gives them
        if not isinstance(length, int) or not isinstance(page_size, int | None):
            return length if isinstance(length, int) else None
        return expected_accesses(workload, length, page_size, config.get("unit_pages"),
                                 total_tokens)[0]

    # --- validation and errors ------------------------------------------------------------

    def run_spec(self) -> RunSpec | None:
        """The run's :class:`RunSpec`, or None with every problem on the form: the fields'
        own (not a number…) and the run's (out of range, L0 smaller than a page…), at once."""
        if not self.is_bound:
            return None
        self.full_clean()
        data = self.run_data()
        try:
            spec = run_spec(data)
        except Invalid as exc:
            self.add_invalid(exc)
            return None
        return None if self.errors else spec

    def field_for(self, path: str | None) -> str | None:
        """The field a run data path came from: the path itself, else its closest parent
        (``workload.phases[1].alpha`` → ``wl_phases``); None: the form as a whole."""
        while path:
            if path in self.paths:
                return self.paths[path]
            path = _LAST_PART.sub("", path) if _LAST_PART.search(path) else ""
        return None

    def add_invalid(self, exc: Invalid) -> None:
        """Every problem of ``exc`` next to its field (one message per field: a field that
        already shows an error keeps it)."""
        for problem in exc.errors:
            name = self.field_for(problem.field)
            if name is not None and name in self.errors:
                continue
            if name is None and problem.message in self.non_field_errors():
                continue
            self.add_error(name, problem.message)


class CompareForm(RunForm):
    """One workload, 2 to 8 variants of L0 (policy and/or capacity), OPT as the reference."""

    is_compare = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["with_opt"] = param_field(RUN_PARAMS["with_opt"])
        capacity = next(p for p in TIER_PARAMS if p.name == "capacity_tokens")
        for i in range(MAX_VARIANTS):
            self.fields[f"v{i}_policy"] = forms.ChoiceField(
                choices=[("", "—"), *POLICY_CHOICES], required=False,
                label=f"Variant {i + 1} policy")
            self.fields[f"v{i}_capacity"] = param_field(
                capacity, label=f"Variant {i + 1} L0 capacity")
            self.fields[f"v{i}_label"] = forms.CharField(
                required=False, max_length=MAX_VARIANT_LABEL, label=f"Variant {i + 1} label")
        self._in_page_order()

    def variant_rows(self) -> list[dict[str, Any]]:
        return [
            {"index": i, "number": i + 1, "policy": self[f"v{i}_policy"],
             "capacity": self[f"v{i}_capacity"], "label": self[f"v{i}_label"]}
            for i in range(MAX_VARIANTS)
        ]

    def run_data(self) -> dict[str, Any]:
        data = super().run_data()
        variants: list[dict[str, Any]] = []
        for i in range(MAX_VARIANTS):
            if self._cleaned(f"v{i}_policy") is _BLANK and self._cleaned(
                    f"v{i}_capacity") is _BLANK and f"v{i}_capacity" not in self.errors:
                continue
            where = f"variants[{len(variants)}]"
            self.paths[where] = f"v{i}_policy"
            item: dict[str, Any] = {}
            for key, part in (("policy", "policy"), ("capacity_tokens", "capacity"),
                              ("label", "label")):
                self._put(item, key, f"v{i}_{part}", f"{where}.{key}")
            variants.append(item)
        data["variants"] = variants
        return data


def initial_from(config: dict[str, Any], workload: dict[str, Any],
                 variants: list[dict[str, Any]] | None = None, *, speed: float | None = None,
                 label: str = "") -> dict[str, Any]:
    """Form initial values from a stored configuration (a preset, or a run to copy)."""
    initial: dict[str, Any] = {"label": label, "speed": "" if speed is None else f"{speed:g}"}
    for param in SIM_PARAMS:
        if param.name in config:
            initial[param.name] = config[param.name]
    for k, tier in enumerate(config.get("tiers", [])[: len(TIER_NAMES)]):
        if k:
            initial[f"t{k}_enabled"] = True
        initial[f"t{k}_capacity"] = tier.get("capacity_tokens")
        initial[f"t{k}_policy"] = tier.get("policy", "lru")
        initial[f"t{k}_concurrency"] = tier.get("concurrency")
        latency = tier.get("latency", {})
        initial[f"t{k}_latency"] = latency.get("kind", "constant")
        for param in LATENCY_PARAMS[1:]:
            if param.name in latency:
                initial[f"t{k}_{param.name}"] = latency[param.name]
    kind = workload.get("kind", "generator")
    initial["source"] = kind
    initial["sessions"] = workload.get("sessions", 1)
    if kind == "generator":
        initial["wl_name"] = workload.get("name")
        for key, value in workload.get("params", {}).items():
            param = WORKLOAD_PARAMS.get(key, (None,))[0]
            if param is not None:
                initial[f"wl_{key}"] = as_text(param, value) if param.kind in SYNTAX else value
        if "n" not in workload.get("params", {}) and workload.get("name") != "phased":
            initial["wl_n"] = None
    elif kind == "trace":
        initial["trace"] = workload.get("trace_id")
    else:
        initial["sequence"] = ",".join(str(p) for p in workload.get("pages", []))
        initial["wl_tokens"] = as_text(WORKLOAD_PARAMS["tokens"][0], workload.get("tokens", 1))
    for i, variant in enumerate((variants or [])[:MAX_VARIANTS]):
        initial[f"v{i}_policy"] = variant.get("policy", "")
        initial[f"v{i}_capacity"] = variant.get("capacity_tokens")
        initial[f"v{i}_label"] = variant.get("label", "")
    return initial


DEFAULT_CONFIG: dict[str, Any] = {
    "tiers": [
        {"name": "L0", "capacity_tokens": 8192, "policy": "lru",
         "latency": {"kind": "constant", "ms": 0.0}},
        {"name": "L1", "capacity_tokens": 1_000_000, "policy": "lru",
         "latency": {"kind": "uniform", "low_ms": 1.0, "high_ms": 9.0}},
        {"name": "L2", "capacity_tokens": None, "policy": "lru",
         "latency": {"kind": "lognormal", "ms": 40.0, "sigma": 0.4}, "concurrency": 64},
    ],
    "page_size": 512,
    "window_accesses": None,
}
DEFAULT_WORKLOAD: dict[str, Any] = {
    "kind": "generator", "name": "zipf",
    "params": {"n_pages": 2000, "alpha": 0.9, "n": 100_000, "tokens": [50, 400], "seed": 0},
}
DEFAULT_VARIANTS = [{"policy": "lru"}, {"policy": "arc"}, {"policy": "s3fifo"}]


def trace_comparison_config(distinct_pages: int) -> dict[str, Any]:
    """A comparison of policies on a trace starts as a miss-ratio cell runs one: classic mode
    (every page one token), L0 alone, holding a tenth of the trace's distinct pages. The
    default hierarchy's 8,192 tokens in 512-token pages held 16 pages, and the accesses of a
    block trace are often larger than that: every policy missed about every access."""
    return {"tiers": [{"name": "L0", "capacity_tokens": max(1, distinct_pages // 10),
                       "policy": "lru", "latency": {"kind": "constant", "ms": 0.0}}],
            "unit_pages": True, "window_accesses": None}
