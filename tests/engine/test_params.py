"""Settings described as data (simulator/engine/params.py): every number has a sane range
enforced by the one check that reads its description (issue 8.2), every problem is reported
at once, and a config is validated once however many simulations run it (issue 9.3)."""

from __future__ import annotations

import threading

import pytest

from simulator.engine.config import (
    LATENCY_PARAMS,
    SIM_PARAMS,
    TIER_PARAMS,
    LatencyModel,
    SimConfig,
    TierConfig,
)
from simulator.engine.errors import ConfigError
from simulator.engine.params import Param
from simulator.engine.simulation import Simulation
from simulator.engine.sources import SequenceSource
from simulator.engine.workloads import GENERATORS, Workload, loop

NUMERIC = ("int", "number", "tokens", "pair")


def _all_params() -> list[tuple[str, Param]]:
    found = [(f"config.{p.name}", p) for p in SIM_PARAMS]
    found += [(f"tier.{p.name}", p) for p in TIER_PARAMS]
    found += [(f"latency.{p.name}", p) for p in LATENCY_PARAMS]
    for name, generator in GENERATORS.items():
        found += [(f"{name}.{p.name}", p) for p in generator.params]
    return found


ALL = _all_params()


@pytest.mark.parametrize(("where", "param"), ALL, ids=[where for where, _ in ALL])
def test_every_number_has_a_range_and_the_check_enforces_it(where, param):
    if param.kind not in NUMERIC:
        return
    assert param.minimum is not None and param.maximum is not None, where
    top = int(param.maximum) if param.kind != "number" else param.maximum
    if param.kind in ("tokens", "pair"):
        assert param.check([1, top]) == (1, top)
        with pytest.raises(ConfigError) as caught:
            param.check([1, top + 1])
    else:
        assert param.check(top) == top
        with pytest.raises(ConfigError) as caught:
            param.check(top * 2 + 1 if top > 0 else 1)
    assert caught.value.field == param.name
    assert param.range_text() and param.range_text() in param.describe()


def test_prefetch_and_windows_are_bounded():
    """``"prefetch": 1000000000`` built a list that big on every fault (issue 8.2)."""
    for name, value in (("prefetch", 10**9), ("window_accesses", 10**9),
                        ("thrash_window", 10**9), ("anti_thrash", 10**12)):
        data = SimConfig.classic("lru", 10).to_dict()
        data[name] = value
        with pytest.raises(ConfigError) as caught:
            SimConfig.from_dict(data)
        assert caught.value.field == name and "at most" in caught.value.message


def test_every_bad_setting_is_reported_at_once():
    data = SimConfig.hierarchy(l0_tokens=1000).to_dict()
    data["prefetch"] = -1
    data["tiers"][1]["latency"]["ms"] = -5
    data["tiers"][2]["concurrency"] = 0
    data["tiers"][0]["policy"] = "nope"
    with pytest.raises(ConfigError) as caught:
        SimConfig.from_dict(data)
    assert {e.field for e in caught.value.errors} == {
        "prefetch", "tiers[1].latency.ms", "tiers[2].concurrency", "tiers[0].policy"}
    text = str(caught.value)  # one line naming every problem
    assert "\n" not in text and all(e.field in text for e in caught.value.errors)


def test_every_bad_workload_parameter_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        Workload("zipf", {"n_pages": 0, "alpha": -1, "n": 2**63, "colour": 1}).validate()
    assert {e.field for e in caught.value.errors} == {"n_pages", "alpha", "n", "colour"}


def test_a_config_is_validated_once_however_many_simulations_run_it(monkeypatch):
    config = SimConfig.classic("lru", 3)
    calls = []
    original = SimConfig.validate
    monkeypatch.setattr(SimConfig, "validate", lambda self: calls.append(1) or original(self))
    for _ in range(3):
        Simulation(config, loop(5, 20)).run()
    assert calls == []
    config.tiers[0].capacity_tokens = 0  # a change is checked again
    with pytest.raises(ConfigError):
        Simulation(config, loop(5, 20))
    assert calls == [1]


def test_restored_configs_are_not_checked_again(monkeypatch):
    stored = SimConfig.hierarchy(l0_tokens=4096).to_dict()
    monkeypatch.setattr(SimConfig, "validate", lambda self: pytest.fail("validated again"))
    config = SimConfig.restore(stored)
    assert config.to_dict() == stored
    Simulation(config, loop(5, 20)).run()


def test_time_windows_skip_long_transfers_at_once():
    """``window_ms`` of 1 with transfers of an hour used to step through every empty window,
    one millisecond at a time (about 3.6 million loops per fault)."""
    config = SimConfig(tiers=[
        TierConfig("L0", 1, "lru", LatencyModel("constant", 0.0)),
        TierConfig("L1", None, "lru", LatencyModel("constant", 3_600_000.0)),
    ], unit_pages=True, window_ms=1.0, window_accesses=10**6).validate()
    done = []
    worker = threading.Thread(
        target=lambda: done.append(Simulation(config, loop(2, 400)).run()), daemon=True)
    worker.start()
    worker.join(timeout=60)  # a hang detector, not a speed target
    assert done and done[0].faults == 400


def test_a_sequence_takes_a_size_range_drawn_once_per_page():
    source = SequenceSource([1, 2, 1, "doc#1", 2], (50, 400))
    sizes = [a.tokens for a in source.open()]
    assert sizes == [a.tokens for a in source.open()]  # the same every pass
    assert sizes[0] == sizes[2] and sizes[1] == sizes[4]
    assert all(50 <= size <= 400 for size in sizes)
