"""Run titles and workload descriptions read as a person would write them (issue 7.9)."""

from __future__ import annotations

import pytest

from vmemsite.runs.presets import PRESETS
from vmemsite.runs.services import run_create
from vmemsite.runs.specs import workload_describe

from .conftest import classic, zipf


@pytest.mark.parametrize(("spec", "text"), [
    ({"kind": "generator", "name": "zipf", "params": {
        "n_pages": 2000, "alpha": 0.9, "n": 100_000, "shuffle": False, "seed": 0}},
     "Zipf (alpha 0.9) over 2,000 pages, 100,000 accesses"),
    ({"kind": "generator", "name": "uniform", "params": {"n_pages": 10}, "sessions": 4},
     "uniform over 10 pages, endless, shared by 4 concurrent sessions"),
    (PRESETS["scan-vs-lru"].workload,
     "a hot set of 200 pages and a scan over 5,000 pages, 50 % hot, 200,000 accesses"),
    (PRESETS["llm-chat-8k"].workload,
     "3 phases of shifting Zipf working sets, pages of 40 to 400 tokens, 60,000 accesses"),
    (PRESETS["thrashing"].workload, "a loop over 1,100 pages, 100,000 accesses"),
    ({"kind": "trace", "trace_id": 3, "name": "cloudPhysicsIO"}, "trace “cloudPhysicsIO”"),
])
def test_workloads_in_words(spec, text):
    assert workload_describe(spec) == text


@pytest.mark.django_db
def test_a_run_title_is_no_python_repr(user):
    run = run_create(owner=user, submit=False, config=classic("lru", 50),
                     workload=zipf(n=5000))
    assert run.label == "LRU on Zipf (alpha 0.9) over 300 pages, 5,000 accesses"
    assert "=" not in run.label and "(" not in run.label.split("Zipf")[0]
