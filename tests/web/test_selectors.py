"""Reads of runs (vmemsite/runs/selectors.py): a comparison's lines by role, stored with it."""

from __future__ import annotations

import pytest

from vmemsite.runs.models import Run
from vmemsite.runs.presets import PRESETS
from vmemsite.runs.selectors import run_meta, run_plan, run_series
from vmemsite.runs.services import run_create

pytestmark = pytest.mark.django_db


def test_a_comparison_stores_its_lines_with_their_roles(user):
    run = run_create(owner=user, submit=False, **PRESETS["belady"].run_kwargs())
    stored = Run.objects.get(pk=run.pk).config["series"]
    assert [(s["label"], s["role"], s["reference"]) for s in stored] == [
        ("FIFO, 3 frames", "variant", "OPT @ 3"), ("FIFO, 4 frames", "variant", "OPT @ 4"),
        ("OPT @ 3", "reference", None), ("OPT @ 4", "reference", None)]
    meta = run_meta(run)
    assert meta["roles"] == stored and meta["variants"] == ["FIFO, 3 frames", "FIFO, 4 frames"]
    # a comparison stored before the roles were: the same lines, worked out the same way
    del run.config["series"]
    assert run_plan(run) == run_plan(Run.objects.get(pk=run.pk))
    assert run_series(run) == ["FIFO, 3 frames", "FIFO, 4 frames", "OPT @ 3", "OPT @ 4"]
