"""The run and compare forms. They only shape input into the JSON a run is made of; the engine
(through ``services.run_create``) validates it, and :meth:`RunForm.add_config_error` puts its
``ConfigError`` next to the field it names."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from simulator.engine.config import LATENCY_KINDS, TIER_NAMES, WRITE_POLICIES
from simulator.engine.errors import ConfigError
from simulator.engine.policies import policy_names
from simulator.engine.workloads import WORKLOADS
from vmemsite.traces.selectors import trace_list_visible

from .specs import MAX_VARIANTS, parse_pages

POLICY_LABELS = {
    "lru": "LRU", "fifo": "FIFO", "lfu": "LFU", "clock": "CLOCK", "arc": "ARC", "2q": "2Q",
    "sieve": "SIEVE", "s3fifo": "S3-FIFO", "random": "Random", "opt": "OPT (Belady)",
    "ws": "Working set",
}
POLICY_CHOICES = [(name, POLICY_LABELS.get(name, name)) for name in policy_names()]
GENERATOR_FIELDS: dict[str, list[str]] = {
    "zipf": ["n", "n_pages", "alpha", "tokens", "shuffle", "seed"],
    "uniform": ["n", "n_pages", "tokens", "seed"],
    "loop": ["n", "n_pages", "tokens", "seed"],
    "phased": ["phases", "shift", "tokens", "seed"],
    "scan_hotset": ["n", "hot_pages", "scan_pages", "hot_fraction", "tokens", "seed"],
}
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
_TIER_ERROR = re.compile(r"^config\.tiers\[(\d+)\](?:\.(.+))?$")
_VARIANT_ERROR = re.compile(r"^variants\[(\d+)\](?:\.(.+))?$")


def _int(required: bool = False, **kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(required=required, **kwargs)


def _float(required: bool = False, **kwargs: Any) -> forms.FloatField:
    return forms.FloatField(required=required, **kwargs)


class RunForm(forms.Form):
    """A single run: the hierarchy (up to five tiers), the model's knobs and the workload."""

    label = forms.CharField(required=False, max_length=200,
                            help_text="Optional; a name is made from the settings otherwise.")
    public = forms.BooleanField(required=False, label="Public (read-only link for anyone)")

    page_size = _int(label="Page size (tokens)",
                     help_text="Larger accesses are cut into pages; blank: as the workload gives.")
    unit_pages = forms.BooleanField(required=False, label="Classic mode (every page 1 token)")
    write_policy = forms.ChoiceField(choices=[(w, w) for w in WRITE_POLICIES], required=False)
    pinning = forms.BooleanField(required=False, initial=True, label="Honour pin / unpin")
    anti_thrash = _int(initial=0, label="Anti-thrash protection (accesses)")
    prefetch = _int(initial=0, label="Prefetch depth (pages)")
    thrash_window = _int(initial=1000, label="Thrash window W (accesses)")
    window_accesses = _int(label="Window (accesses per chart point)",
                           help_text="Blank: about 500 points for the whole run.")
    seed = _int(initial=0, label="Seed")
    sessions = _int(initial=1, label="Concurrent sessions",
                    help_text="Above 1: accesses are dealt to sessions that queue for tiers.")
    speed = forms.ChoiceField(choices=SPEED_CHOICES, required=False, label="Speed",
                              help_text=SPEED_HELP)

    source = forms.ChoiceField(
        choices=[("generator", "Generator"), ("trace", "Trace from the library"),
                 ("sequence", "Literal sequence of page ids")],
        widget=forms.RadioSelect, initial="generator", label="Workload", required=False,
    )
    wl_name = forms.ChoiceField(choices=[(n, n) for n in WORKLOADS], label="Generator",
                                required=False, initial="zipf")
    wl_n = _int(label="Accesses (n)", initial=100_000, help_text="Blank: endless.")
    wl_n_pages = _int(label="Pages", initial=10_000)
    wl_alpha = _float(label="Zipf alpha", initial=1.0)
    wl_hot_pages = _int(label="Hot pages", initial=200)
    wl_scan_pages = _int(label="Scan pages", initial=5000)
    wl_hot_fraction = _float(label="Hot fraction", initial=0.5)
    wl_phases = forms.CharField(
        required=False, label="Phases", initial="300:20000:0.9; 300:20000:0.9",
        help_text="pages:accesses:alpha; one phase after another.",
    )
    wl_shift = _int(label="Phase shift (pages)")
    wl_tokens = forms.CharField(required=False, initial="1", label="Tokens per page",
                                help_text="A size (e.g. 1) or a range (e.g. 40-400).")
    wl_shuffle = forms.BooleanField(required=False, label="Shuffle ranks")
    wl_seed = _int(initial=0, label="Workload seed")
    trace = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                   label="Trace")
    sequence = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               label="Page ids", help_text="e.g. 1,2,3,4,1,2,5,1,2,3,4,5")

    is_compare = False

    def __init__(self, *args: Any, user=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        traces = list(trace_list_visible(user).values_list("pk", "name")[:500])
        self.fields["trace"].choices = [("", "— choose a trace —")] + [
            (pk, name) for pk, name in traces
        ]
        for k, name in enumerate(TIER_NAMES):
            if k:
                self.fields[f"t{k}_enabled"] = forms.BooleanField(
                    required=False, label=f"use {name}")
            self.fields[f"t{k}_capacity"] = _int(label=f"{name} capacity (tokens)")
            self.fields[f"t{k}_policy"] = forms.ChoiceField(
                choices=POLICY_CHOICES, initial="lru", label=f"{name} policy",
                required=False)
            self.fields[f"t{k}_latency"] = forms.ChoiceField(
                choices=[(kind, kind) for kind in LATENCY_KINDS], initial="constant",
                label=f"{name} latency model", required=False)
            self.fields[f"t{k}_ms"] = _float(initial=0.0, label=f"{name} latency ms (median)")
            self.fields[f"t{k}_low_ms"] = _float(initial=0.0, label=f"{name} low ms")
            self.fields[f"t{k}_high_ms"] = _float(initial=0.0, label=f"{name} high ms")
            self.fields[f"t{k}_sigma"] = _float(initial=0.5, label=f"{name} sigma")
            self.fields[f"t{k}_per_token_ms"] = _float(initial=0.0,
                                                       label=f"{name} ms per token")
            self.fields[f"t{k}_concurrency"] = _int(label=f"{name} concurrent transfers")
        self._tier_rows: list[int] = []
        self._length: int | None = None

    # --- shaping --------------------------------------------------------------------------

    def tier_rows(self) -> list[dict[str, Any]]:
        """Bound fields per tier row, for the template's table."""
        rows = []
        for k, name in enumerate(TIER_NAMES):
            row = {"name": name, "index": k,
                   "enabled": self[f"t{k}_enabled"] if k else None}
            row["cells"] = [
                self[f"t{k}_{part}"]
                for part in ("capacity", "policy", "latency", "ms", "low_ms", "high_ms", "sigma",
                             "per_token_ms", "concurrency")
            ]
            rows.append(row)
        return rows

    def _tokens(self) -> int | list[int]:
        text = (self.cleaned_data.get("wl_tokens") or "1").strip()
        match = re.fullmatch(r"(\d+)\s*(?:[-,:]\s*(\d+))?", text)
        if not match:
            raise ConfigError("a size like 1 or a range like 40-400", field="workload.tokens")
        low = int(match.group(1))
        return [low, int(match.group(2))] if match.group(2) else low

    def _phases(self) -> list[list[float]]:
        text = self.cleaned_data.get("wl_phases") or ""
        phases = []
        for part in (p for p in re.split(r"[;\n]+", text) if p.strip()):
            bits = [b for b in re.split(r"[:,\s]+", part.strip()) if b]
            try:
                pages, accesses = int(bits[0]), int(bits[1])
                alpha = float(bits[2]) if len(bits) > 2 else 0.0
            except (ValueError, IndexError):
                raise ConfigError(f"write each phase as pages:accesses:alpha, got {part!r}",
                                  field="workload.phases") from None
            phases.append([pages, accesses, alpha])
        return phases

    def config_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        tiers = []
        self._tier_rows = []
        for k, name in enumerate(TIER_NAMES):
            if k and not data.get(f"t{k}_enabled"):
                continue
            self._tier_rows.append(k)

            def value(part: str, default: Any, k: int = k) -> Any:
                got = data.get(f"t{k}_{part}")
                return default if got is None else got

            tiers.append({
                "name": name,
                "capacity_tokens": data.get(f"t{k}_capacity"),
                "policy": data.get(f"t{k}_policy") or "lru",
                "concurrency": data.get(f"t{k}_concurrency"),
                "latency": {
                    "kind": data.get(f"t{k}_latency") or "constant",
                    "ms": value("ms", 0.0),
                    "low_ms": value("low_ms", 0.0),
                    "high_ms": value("high_ms", 0.0),
                    "sigma": value("sigma", 0.5),
                    "per_token_ms": value("per_token_ms", 0.0),
                },
            })
        config: dict[str, Any] = {
            "tiers": tiers,
            "page_size": data.get("page_size"),
            "unit_pages": bool(data.get("unit_pages")),
            "write_policy": data.get("write_policy") or "write-back",
            "pinning": bool(data.get("pinning")),
            "anti_thrash": data.get("anti_thrash") or 0,
            "prefetch": data.get("prefetch") or 0,
            "thrash_window": data.get("thrash_window") or 1000,
            "seed": data.get("seed") or 0,
        }
        window = data.get("window_accesses")
        config["window_accesses"] = window if window is not None else self._auto_window()
        return config

    def _auto_window(self) -> int:
        length = self._length
        return max(1, (length or 500_000) // 500)

    def workload_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        source = data.get("source") or "generator"
        self._length = None
        spec: dict[str, Any]
        if source == "trace":
            if not data.get("trace"):
                raise ConfigError("choose a trace", field="workload.trace_id")
            spec = {"kind": "trace", "trace_id": data["trace"]}
            self._length = trace_list_visible(self.user).filter(
                pk=data["trace"]).values_list("requests", flat=True).first()
        elif source == "sequence":
            pages = parse_pages(data.get("sequence") or "")
            tokens = self._tokens()
            if isinstance(tokens, list):
                if not data.get("unit_pages"):
                    raise ConfigError("a sequence takes one size (e.g. 1), not a range",
                                      field="workload.tokens")
                tokens = 1  # classic mode: every page is 1 token whatever the size says
            spec = {"kind": "sequence", "pages": pages, "tokens": tokens}
            self._length = len(pages)
        else:
            name = data.get("wl_name") or "zipf"
            params: dict[str, Any] = {}
            for param in GENERATOR_FIELDS.get(name, []):
                if param == "tokens":
                    params["tokens"] = self._tokens()
                elif param == "phases":
                    params["phases"] = self._phases()
                elif param == "shuffle":
                    params["shuffle"] = bool(data.get("wl_shuffle"))
                elif param == "seed":
                    params["seed"] = data.get("wl_seed") or 0
                elif data.get(f"wl_{param}") is not None:
                    params[param] = data[f"wl_{param}"]
            spec = {"kind": "generator", "name": name, "params": params}
            if name == "phased":
                self._length = sum(int(p[1]) for p in params["phases"])
            else:
                self._length = params.get("n")
        if not self.is_compare:
            spec["sessions"] = data.get("sessions") or 1
        return spec

    def run_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``services.run_create`` (raises ConfigError on bad shapes)."""
        workload = self.workload_data()
        speed = self.cleaned_data.get("speed")
        return {
            "config": self.config_data(),
            "workload": workload,
            "label": self.cleaned_data.get("label") or "",
            "public": bool(self.cleaned_data.get("public")),
            "speed": float(speed) if speed else None,
        }

    # --- errors ---------------------------------------------------------------------------

    def field_for(self, path: str | None) -> str | None:
        """The form field an engine error path points at (None: the form as a whole)."""
        if not path:
            return None
        match = _TIER_ERROR.match(path)
        if match:
            index, rest = int(match.group(1)), match.group(2) or "capacity_tokens"
            rows = self._tier_rows or [0]
            row = rows[index] if index < len(rows) else rows[-1]
            part = rest.removeprefix("latency.")
            part = {"capacity_tokens": "capacity", "kind": "latency",
                    "policy_params": "policy", "name": "capacity"}.get(part, part)
            name = f"t{row}_{part}"
            return name if name in self.fields else f"t{row}_capacity"
        if path == "config.tiers":
            return "t0_capacity"
        match = _VARIANT_ERROR.match(path)
        if match:
            rest = match.group(2) or "policy"
            part = {"capacity_tokens": "capacity"}.get(rest, rest)
            name = f"v{match.group(1)}_{part}"
            return name if name in self.fields else None
        if path.startswith("config."):
            name = path.removeprefix("config.")
            return name if name in self.fields else None
        if path.startswith("workload."):
            rest = path.removeprefix("workload.")
            head = re.split(r"[.\[]", rest, maxsplit=1)[0]
            name = {"trace_id": "trace", "pages": "sequence", "sessions": "sessions",
                    "kind": "source", "name": "wl_name", "params": "wl_name",
                    "unit_pages": "unit_pages"}.get(head, f"wl_{head}")
            return name if name in self.fields else None
        return path if path in self.fields else None

    def add_config_error(self, exc: ConfigError) -> None:
        self.add_error(self.field_for(exc.field), exc.message)


class CompareForm(RunForm):
    """One workload, 2 to 8 variants of L0 (policy and/or capacity), OPT as the reference."""

    with_opt = forms.BooleanField(required=False, initial=True,
                                  label="Add OPT as a reference line (finite workloads)")
    is_compare = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["sessions"]
        for i in range(MAX_VARIANTS):
            self.fields[f"v{i}_policy"] = forms.ChoiceField(
                choices=[("", "—"), *POLICY_CHOICES], required=False,
                label=f"Variant {i + 1} policy")
            self.fields[f"v{i}_capacity"] = _int(label=f"Variant {i + 1} L0 capacity")
            self.fields[f"v{i}_label"] = forms.CharField(
                required=False, max_length=60, label=f"Variant {i + 1} label")

    def variant_rows(self) -> list[dict[str, Any]]:
        return [
            {"index": i, "number": i + 1, "policy": self[f"v{i}_policy"],
             "capacity": self[f"v{i}_capacity"], "label": self[f"v{i}_label"]}
            for i in range(MAX_VARIANTS)
        ]

    def run_kwargs(self) -> dict[str, Any]:
        kwargs = super().run_kwargs()
        data = self.cleaned_data
        variants = []
        self._variant_rows = []
        for i in range(MAX_VARIANTS):
            policy = data.get(f"v{i}_policy")
            capacity = data.get(f"v{i}_capacity")
            if not policy and capacity is None:
                continue
            self._variant_rows.append(i)
            item: dict[str, Any] = {}
            if policy:
                item["policy"] = policy
            if capacity is not None:
                item["capacity_tokens"] = capacity
            if data.get(f"v{i}_label"):
                item["label"] = data[f"v{i}_label"]
            variants.append(item)
        kwargs["variants"] = variants
        kwargs["with_opt"] = bool(data.get("with_opt"))
        return kwargs

    def field_for(self, path: str | None) -> str | None:
        match = _VARIANT_ERROR.match(path or "")
        if match and getattr(self, "_variant_rows", None):
            index = int(match.group(1))
            rows = self._variant_rows
            row = rows[index] if index < len(rows) else rows[-1]
            path = f"variants[{row}]" + (f".{match.group(2)}" if match.group(2) else "")
        if path == "variants":
            return None
        return super().field_for(path)


def initial_from(config: dict[str, Any], workload: dict[str, Any],
                 variants: list[dict[str, Any]] | None = None, *, speed: float | None = None,
                 label: str = "") -> dict[str, Any]:
    """Form initial values from a stored configuration (a preset, or a run to copy)."""
    initial: dict[str, Any] = {"label": label, "speed": "" if speed is None else f"{speed:g}"}
    for key in ("page_size", "unit_pages", "write_policy", "pinning", "anti_thrash", "prefetch",
                "thrash_window", "window_accesses", "seed"):
        if key in config:
            initial[key] = config[key]
    for k, tier in enumerate(config.get("tiers", [])[: len(TIER_NAMES)]):
        if k:
            initial[f"t{k}_enabled"] = True
        initial[f"t{k}_capacity"] = tier.get("capacity_tokens")
        initial[f"t{k}_policy"] = tier.get("policy", "lru")
        initial[f"t{k}_concurrency"] = tier.get("concurrency")
        latency = tier.get("latency", {})
        initial[f"t{k}_latency"] = latency.get("kind", "constant")
        for part in ("ms", "low_ms", "high_ms", "sigma", "per_token_ms"):
            if part in latency:
                initial[f"t{k}_{part}"] = latency[part]
    kind = workload.get("kind", "generator")
    initial["source"] = kind
    initial["sessions"] = workload.get("sessions", 1)
    if kind == "generator":
        initial["wl_name"] = workload.get("name")
        for key, value in workload.get("params", {}).items():
            if key == "tokens":
                initial["wl_tokens"] = (f"{value[0]}-{value[1]}" if isinstance(value, list | tuple)
                                        else str(value))
            elif key == "phases":
                initial["wl_phases"] = "; ".join(
                    ":".join(f"{x:g}" if isinstance(x, float) else str(x) for x in phase)
                    for phase in value)
            elif key == "seed":
                initial["wl_seed"] = value
            else:
                initial[f"wl_{key}"] = value
        if "n" not in workload.get("params", {}) and workload.get("name") != "phased":
            initial["wl_n"] = None
    elif kind == "trace":
        initial["trace"] = workload.get("trace_id")
    else:
        initial["sequence"] = ",".join(str(p) for p in workload.get("pages", []))
        initial["wl_tokens"] = str(workload.get("tokens", 1))
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
