"""The streaming vocabulary (docs/architecture.md §6), described once: points, events,
counters and the messages that carry them, as plain data with readable names.

A **point** is one engine window in a JSON-ready form (what the charts plot, what the CSV export
lists and what the windows pages return). A **frame** is what the executor publishes at most ~10
times a second: every point closed since the previous frame (per series), the last few notable
events, the counters and the run's status. Frames carry a sequence number; the same windows are
stored as a :class:`~vmemsite.runs.models.RunChunk`, so ``state`` + later frames = the run.

Everything that crosses the wire is bounded (docs/architecture.md §6): a frame's points are
downsampled to fit :data:`FRAME_BYTES` (:func:`frame_points`), a state carries an overview of at
most :data:`SERIES_POINTS` points per series (:mod:`vmemsite.runs.overview`) and goes out as
messages of at most :data:`MAX_MESSAGE_BYTES` each (:func:`state_messages`).

The field tables below are the single description: :func:`window_point`, :func:`event_row` and
:func:`counters_of` build their dicts from them, the CSV columns come from them, and
:func:`wire_schema` turns them into the JSON Schema that ``static/js/run/schema.js`` carries
for the browser (``python manage.py wire_schema`` writes it; a test checks it is up to date).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from simulator.engine.events import Event, WindowSnapshot
from simulator.engine.simulation import Simulation

from .downsample import downsample

#: the events kept in a frame, and in the rolling log of a state message
FRAME_EVENTS = 12
STATE_EVENTS = 50
#: no websocket message is larger than this (Daphne refuses 1 MiB; browsers choke long before)
MAX_MESSAGE_BYTES = 256 * 1024
#: what a frame's points may take (the rest of the frame is a few KiB of counters and events)
FRAME_BYTES = 224 * 1024
#: the most points a series has in a state (an overview of buckets, min and max kept)
SERIES_POINTS = 2000
#: the most points of all series together in a state (a comparison has up to 16 series)
STATE_POINTS = 6000
#: a page id longer than this is cut in event rows (ids come from uploaded traces)
PAGE_ID_CHARS = 120


@dataclass(frozen=True)
class Field:
    """One key of the vocabulary: its JSON type, what it means, and its CSV column if any."""

    name: str
    type: str  # a JSON Schema type; "array" holds ``items``
    text: str
    items: str | None = None
    csv: str | None = None
    nullable: bool = False
    optional: bool = False

    def schema(self) -> dict[str, Any]:
        kind: Any = [self.type, "null"] if self.nullable else self.type
        out: dict[str, Any] = {"type": kind, "description": self.text}
        if self.items:
            out["items"] = {"type": self.items}
        return out


#: one window (or, in an overview, the low or high edge of a bucket of windows); the order is
#: the CSV's column order
POINT_FIELDS: tuple[Field, ...] = (
    Field("seq", "integer", "the window's number in its series, from 0 (a bucket: the first "
          "window's for its low point, the last one's for its high point)", csv="window"),
    Field("end", "integer", "accesses done when the window closed: the x of every chart",
          csv="end_access"),
    Field("time_ms", "number", "simulated time when the window closed", csv="time_ms"),
    Field("accesses", "integer", "accesses in the window", csv="accesses"),
    Field("hits", "integer", "requests served by L0 in the window", csv="hits"),
    Field("faults", "integer", "reads that missed L0 in the window", csv="faults"),
    Field("evictions", "integer", "pages that left L0 in the window", csv="evictions"),
    Field("refaults", "integer", "faults of recently evicted pages in the window",
          csv="refaults"),
    Field("thrash_index", "number", "refaults per access over the thrash window",
          csv="thrash_index"),
    Field("latency_mean_ms", "number", "mean latency per access in the window",
          csv="latency_mean_ms"),
    Field("latency_p50_ms", "number", "median latency per access in the window",
          csv="latency_p50_ms"),
    Field("latency_p95_ms", "number", "95th percentile latency in the window",
          csv="latency_p95_ms"),
    Field("latency_p99_ms", "number", "99th percentile latency in the window",
          csv="latency_p99_ms"),
    Field("cumulative_hit_ratio", "number", "hits / requests of the run so far",
          csv="cumulative_hit_ratio"),
    Field("miss_ratio", "number", "faults / reads of the run so far", csv="miss_ratio"),
    Field("tier_hit_ratio", "array", "each tier's hit ratio in the window, L0 first",
          items="number"),
    Field("tier_used_tokens", "array", "each tier's tokens in use when the window closed",
          items="integer"),
    Field("tier_pages", "array", "each tier's resident pages when the window closed",
          items="integer"),
    Field("windows", "integer", "overview points only: how many windows the bucket holds",
          optional=True),
)

EVENT_FIELDS: tuple[Field, ...] = (
    Field("variant", "string", "the series (variant or reference) it happened in"),
    Field("kind", "string", "fault, evict, demote, promote or writeback"),
    Field("access", "integer", "the 0-based access at which it happened"),
    Field("time_ms", "number", "simulated time"),
    Field("page", "string", "the page id (cut to a bounded length)"),
    Field("src", "string", "where the page came from: a tier, 'new' (first touch) or 'store' "
          "(read back after it had left every tier)"),
    Field("dst", "string", "where it went ('' when dropped)"),
    Field("latency_ms", "number", "what it cost"),
    Field("refault", "boolean", "a fault of a recently evicted page (docs/metrics.md)"),
)

COUNTER_FIELDS: tuple[Field, ...] = (
    Field("accesses", "integer", "accesses done"),
    Field("requests", "integer", "reads + writes"),
    Field("hits", "integer", "requests served by L0"),
    Field("faults", "integer", "reads that missed L0"),
    Field("evictions", "integer", "pages that left L0"),
    Field("refaults", "integer", "faults of recently evicted pages"),
    Field("hit_ratio", "number", "hits / requests"),
    Field("miss_ratio", "number", "faults / reads"),
    Field("thrash_index", "number", "refaults per access over the thrash window"),
    Field("time_ms", "number", "simulated time"),
    Field("used", "array", "each tier's tokens in use", items="integer"),
)


def _r(value: float, digits: int = 4) -> float:
    return round(float(value), digits)


def window_point(snapshot: WindowSnapshot) -> dict[str, Any]:
    """One window as a point (:data:`POINT_FIELDS`)."""
    lat = snapshot.latency_ms
    cumulative = snapshot.cumulative
    return {
        "seq": snapshot.seq,
        "end": snapshot.end,
        "time_ms": _r(snapshot.time_ms, 3),
        "accesses": snapshot.accesses,
        "hits": snapshot.hits,
        "faults": snapshot.faults,
        "evictions": snapshot.evictions,
        "refaults": snapshot.refaults,
        "thrash_index": _r(snapshot.thrash_index),
        "latency_mean_ms": _r(lat.mean, 3),
        "latency_p50_ms": _r(lat.p50, 3),
        "latency_p95_ms": _r(lat.p95, 3),
        "latency_p99_ms": _r(lat.p99, 3),
        "cumulative_hit_ratio": _r(cumulative.get("hit_ratio", 0.0)),
        "miss_ratio": _r(cumulative.get("miss_ratio", 0.0)),
        "tier_hit_ratio": [_r(t.hit_ratio) for t in snapshot.tiers],
        "tier_used_tokens": [t.used_tokens for t in snapshot.tiers],
        "tier_pages": [t.pages for t in snapshot.tiers],
    }


def event_row(event: Event, variant: str) -> dict[str, Any]:
    """One notable event (:data:`EVENT_FIELDS`)."""
    page = str(event.page_id)
    if len(page) > PAGE_ID_CHARS:
        page = page[:PAGE_ID_CHARS - 1] + "…"
    return {
        "variant": variant,
        "kind": event.kind,
        "access": event.index,
        "time_ms": _r(event.time_ms, 3),
        "page": page,
        "src": event.src,
        "dst": event.dst,
        "latency_ms": _r(event.latency_ms, 3),
        "refault": bool(event.refault),
    }


def counters_of(snapshot: WindowSnapshot) -> dict[str, Any]:
    """The run's totals at the end of ``snapshot`` (:data:`COUNTER_FIELDS`)."""
    return _counters(snapshot.end, snapshot.cumulative, snapshot.thrash_index,
                     snapshot.time_ms, [t.used_tokens for t in snapshot.tiers])


def counters_now(sim: Simulation) -> dict[str, Any]:
    """The same totals now, between two slices of a window (progress inside a long one)."""
    return _counters(sim.index, sim.totals(), sim.thrash.index_at(sim.index), sim.clock_ms,
                     [tier.used for tier in sim.tiers])


def _counters(end: int, c: dict[str, Any], thrash_index: float, time_ms: float,
              used: list[int]) -> dict[str, Any]:
    return {
        "accesses": end,
        "requests": c.get("requests", 0),
        "hits": c.get("hits", 0),
        "faults": c.get("faults", 0),
        "evictions": c.get("evictions", 0),
        "refaults": c.get("refaults", 0),
        "hit_ratio": _r(c.get("hit_ratio", 0.0)),
        "miss_ratio": _r(c.get("miss_ratio", 0.0)),
        "thrash_index": _r(thrash_index),
        "time_ms": _r(time_ms, 3),
        "used": used,
    }


# --- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = ["variant", *(f.csv for f in POINT_FIELDS if f.csv)]


def csv_header(tier_names: list[str]) -> list[str]:
    return [
        *CSV_COLUMNS,
        *(f"{name}_hit_ratio" for name in tier_names),
        *(f"{name}_used_tokens" for name in tier_names),
    ]


def csv_row(variant: str, point: dict[str, Any], n_tiers: int) -> list[Any]:
    pad = [""] * n_tiers
    hit_ratio = [*point.get("tier_hit_ratio", []), *pad][:n_tiers]
    used = [*point.get("tier_used_tokens", []), *pad][:n_tiers]
    return [variant, *(point[f.name] for f in POINT_FIELDS if f.csv), *hit_ratio, *used]


# --- bounding what goes over the wire -------------------------------------------------------


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def frame_points(points: dict[str, list[dict[str, Any]]], max_bytes: int = FRAME_BYTES,
                 ) -> dict[str, list[dict[str, Any]]]:
    """A frame's points, downsampled (min and max kept, :func:`~vmemsite.runs.downsample.
    downsample`) so that together they encode in at most ``max_bytes``: a run at full speed
    with one access per window closes thousands of windows a tick. Frames that fit are
    returned as they are; the stored chunk always keeps every window."""
    total = sum(len(rows) for rows in points.values())
    if not total:
        return points
    # the last rows have the widest numbers; an overview point also counts its windows
    row_bytes = max(_size(rows[-1]) for rows in points.values() if rows) + 20
    if total * row_bytes <= max_bytes:
        return points
    per_series = max(2, max_bytes // row_bytes // max(1, len(points)))
    while True:
        bounded = {label: downsample(rows, per_series) for label, rows in points.items()}
        if per_series == 2 or _size(bounded) <= max_bytes:
            return bounded
        per_series = max(2, per_series * 3 // 4)


def state_messages(state: dict[str, Any], max_bytes: int = MAX_MESSAGE_BYTES) -> list[str]:
    """The state as websocket messages of at most ``max_bytes`` each: a ``state`` message with
    everything and as many points as fit, then ``state_part`` messages with the rest of the
    points, in order. ``parts`` in the first says how many messages there are in all; a client
    draws once it has them all (the consumer sends them before any frame)."""
    points: dict[str, list] = state.get("points") or {}
    head = {**state, "points": {label: [] for label in points}, "parts": 1}
    room = max_bytes - _size(head) - 64
    if room <= 0:
        raise ValueError("the state without its points is larger than a message")
    messages: list[dict[str, Any]] = [head]
    current = head["points"]
    used = 0
    for label, rows in points.items():
        label_bytes = _size(label) + 4
        started = False
        for row in rows:
            size = _size(row) + 1
            if used + size + (0 if started else label_bytes) > room:
                part = {"type": "state_part", "seq": state.get("seq"), "part": len(messages),
                        "points": {}}
                messages.append(part)
                current = part["points"]
                room = max_bytes - _size(part) - 64
                used = 0
                started = False
            if not started:
                current.setdefault(label, [])
                used += label_bytes
                started = True
            current[label].append(row)
            used += size
    head["parts"] = len(messages)
    return [json.dumps(m, separators=(",", ":")) for m in messages]


# --- the schema both sides follow -----------------------------------------------------------


def _object(fields: tuple[Field, ...], text: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": text,
        "properties": {f.name: f.schema() for f in fields},
        "required": [f.name for f in fields if not f.optional],
        "additionalProperties": False,
    }


def _series_of(ref: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": {"type": "array",
                                                       "items": {"$ref": ref}}}


def wire_schema() -> dict[str, Any]:
    """The JSON Schema of what the run websocket and ``state.json`` carry."""
    counters = {"type": "object", "additionalProperties": {"$ref": "#/$defs/counters"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "vmem-lab/run-wire",
        "title": "VMem Lab run stream",
        "description": "docs/architecture.md §6; generated from vmemsite/runs/frames.py",
        "$defs": {
            "point": _object(POINT_FIELDS, "one window, or one edge of a bucket of windows"),
            "event": _object(EVENT_FIELDS, "one notable event"),
            "counters": _object(COUNTER_FIELDS, "a series' totals so far"),
            "frame": {
                "type": "object",
                "required": ["type", "seq", "status", "points", "events", "counters"],
                "properties": {
                    "type": {"const": "frame"},
                    "seq": {"type": "integer"},
                    "status": {"type": "string"},
                    "progress": {"type": ["number", "null"]},
                    "accesses": {"type": "integer"},
                    "total": {"type": ["integer", "null"]},
                    "eta_s": {"type": ["number", "null"]},
                    "speed": {"type": ["number", "null"]},
                    "points": _series_of("#/$defs/point"),
                    "events": {"type": "array", "items": {"$ref": "#/$defs/event"},
                               "maxItems": FRAME_EVENTS},
                    "counters": counters,
                    "windows_at": {"type": ["array", "null"]},
                },
            },
            "progress": {
                "type": "object",
                "description": "inside a window that has not closed, at most once a second",
                "required": ["type", "accesses", "counters"],
                "properties": {
                    "type": {"const": "progress"},
                    "progress": {"type": ["number", "null"]},
                    "accesses": {"type": "integer"},
                    "total": {"type": ["integer", "null"]},
                    "eta_s": {"type": ["number", "null"]},
                    "counters": counters,
                },
            },
            "state": {
                "type": "object",
                "required": ["type", "seq", "run", "points", "events", "counters", "result",
                             "budget"],
                "properties": {
                    "type": {"const": "state"},
                    "seq": {"type": "integer"},
                    "run": {"type": "object"},
                    "points": _series_of("#/$defs/point"),
                    "events": {"type": "array", "items": {"$ref": "#/$defs/event"},
                               "maxItems": STATE_EVENTS},
                    "counters": counters,
                    "result": {"type": ["object", "null"]},
                    "budget": {"type": "integer", "description": "points per series at most"},
                    "parts": {"type": "integer", "minimum": 1,
                              "description": "messages the state comes in (websocket)"},
                },
            },
            "state_part": {
                "type": "object",
                "required": ["type", "seq", "part", "points"],
                "properties": {
                    "type": {"const": "state_part"},
                    "seq": {"type": "integer"},
                    "part": {"type": "integer", "minimum": 1},
                    "points": _series_of("#/$defs/point"),
                },
            },
            "windows_page": {
                "type": "object",
                "required": ["points", "next"],
                "properties": {
                    "points": _series_of("#/$defs/point"),
                    "next": {"type": ["integer", "null"],
                             "description": "the cursor of the next page (an access count)"},
                },
            },
        },
        "limits": {
            "max_message_bytes": MAX_MESSAGE_BYTES,
            "series_points": SERIES_POINTS,
            "state_points": STATE_POINTS,
            "frame_events": FRAME_EVENTS,
            "state_events": STATE_EVENTS,
        },
    }


def schema_module() -> str:
    """``static/js/run/schema.js``: the schema as an ES module for the run page."""
    text = json.dumps(wire_schema(), indent=2, ensure_ascii=False)
    return (
        "// Generated by `python manage.py wire_schema` from vmemsite/runs/frames.py: do not\n"
        "// edit (tests/web/test_frames.py checks it is up to date).\n"
        f"export const SCHEMA = {text};\n"
    )
