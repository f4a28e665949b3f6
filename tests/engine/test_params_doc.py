"""docs/parameters.md says what the descriptions say: every setting's row (range, default,
meaning) is the one derived from its Param, so the page cannot drift from the checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine.config import LATENCY_PARAMS, SIM_PARAMS, TIER_PARAMS
from simulator.engine.params import markdown_rows
from simulator.engine.workloads import GENERATORS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "parameters.md").read_text()
GROUPS = {"config": SIM_PARAMS, "tier": TIER_PARAMS, "latency": LATENCY_PARAMS,
          **{f"generator {name}": g.params for name, g in GENERATORS.items()}}


@pytest.mark.parametrize("group", GROUPS)
def test_every_row_of_the_page_is_derived_from_the_descriptions(group):
    missing = [row for row in markdown_rows(GROUPS[group]) if row not in DOC]
    assert not missing, "docs/parameters.md is out of date:\n" + "\n".join(missing)
