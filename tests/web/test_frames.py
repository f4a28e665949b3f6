"""The wire vocabulary (vmemsite/runs/frames.py): one schema that real messages follow and that
the run page's modules carry, bounded frames and states, and old chunks that still replay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from vmemsite.runs.frames import (
    FRAME_BYTES,
    MAX_MESSAGE_BYTES,
    POINT_FIELDS,
    frame_points,
    schema_module,
    state_messages,
    wire_schema,
)
from vmemsite.runs.models import Run
from vmemsite.runs.selectors import run_state
from vmemsite.runs.services import run_create, run_execute

from .conftest import classic, zipf

ROOT = Path(__file__).resolve().parents[2]
RUN_JS = ROOT / "static" / "js" / "run"


def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = wire_schema()
    return jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{kind}"})


def _point(i: int, tiers: int = 5) -> dict:
    def value(field):
        if field.type == "array":
            return [0.1234 * k if field.items == "number" else 1000 * k for k in range(tiers)]
        return i

    return {f.name: value(f) for f in POINT_FIELDS if not f.optional}


def test_the_run_page_carries_the_schema_as_generated():
    """`python manage.py wire_schema` writes it; this fails when it was not run."""
    assert (RUN_JS / "schema.js").read_text() == schema_module()


def test_the_charts_read_only_fields_the_schema_describes():
    used = set()
    for path in RUN_JS.glob("*.js"):
        used |= set(re.findall(r'field:\s*"([a-z_0-9]+)"', path.read_text()))
    assert used, "the chart definitions name their fields as field: \"...\""
    assert used <= {f.name for f in POINT_FIELDS}, used - {f.name for f in POINT_FIELDS}


@pytest.mark.django_db
def test_real_frames_and_states_follow_the_schema(user, recorder):
    run = run_create(owner=user, submit=False, config=classic("lru", 50, window_accesses=5),
                     workload=zipf(n=20_000))
    run_execute(run_id=run.pk, publisher=recorder)
    frames = recorder.of("frame")
    assert frames
    for frame in frames:
        _validator("frame").validate(json.loads(json.dumps(frame)))
    state = run_state(Run.objects.get(pk=run.pk))
    _validator("state").validate(json.loads(json.dumps(state)))
    assert any("windows" in p for p in state["points"]["lru"])  # 4,000 windows: an overview


def test_a_frame_of_thousands_of_windows_is_bounded_and_keeps_its_extremes():
    points = {f"series {k}": [_point(i) for i in range(4000)] for k in range(16)}
    points["series 3"][1234]["faults"] = 10**6
    bounded = frame_points(points)
    assert len(json.dumps(bounded, separators=(",", ":"))) <= FRAME_BYTES
    assert max(p["faults"] for p in bounded["series 3"]) == 10**6
    small = {"lru": [_point(i) for i in range(50)]}
    assert frame_points(small) is small  # what fits goes as it is


def test_a_large_state_goes_out_in_messages_under_the_limit():
    points = {f"series {k}": [_point(i) for i in range(375)] for k in range(16)}
    state = {"type": "state", "seq": 41, "run": {"id": 1}, "points": points, "events": [],
             "counters": {}, "result": None, "budget": 375}
    texts = state_messages(state)
    assert len(texts) > 1 and all(len(t.encode()) <= MAX_MESSAGE_BYTES for t in texts)
    messages = [json.loads(t) for t in texts]
    assert messages[0]["type"] == "state" and messages[0]["parts"] == len(messages)
    assert [m["part"] for m in messages[1:]] == list(range(1, len(messages)))
    joined: dict[str, list] = {}
    for message in messages:
        _validator("state" if message["type"] == "state" else "state_part").validate(message)
        for label, rows in message["points"].items():
            joined.setdefault(label, []).extend(rows)
    assert joined == points
    small = {**state, "points": {"lru": [_point(1)]}}
    assert [json.loads(t) for t in state_messages(small)] == [{**small, "parts": 1}]
