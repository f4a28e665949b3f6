"""Configuration: validation with clear errors, JSON round trips, ready-made shapes."""

from __future__ import annotations

import json

import pytest

from simulator.engine.config import LatencyModel, SimConfig, TierConfig
from simulator.engine.errors import ConfigError


def test_json_round_trip_keeps_everything(tmp_path):
    config = SimConfig.hierarchy(l0_tokens=4096, policy="arc", anti_thrash=5, prefetch=2,
                                 page_size=512, thrash_window=500, seed=9)
    path = tmp_path / "run.json"
    config.save(path)
    loaded = SimConfig.load(path)
    assert loaded == config
    assert loaded.tiers[2].latency == LatencyModel("lognormal", ms=40, sigma=0.4)
    assert loaded.tiers[4].capacity_tokens is None


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["tiers"][0].update(capacity_tokens=100), "tiers[0].capacity_tokens",
         "smaller than one page"),
        (lambda d: d["tiers"][1]["latency"].update(ms=-1), "tiers[1].latency.ms",
         "at least 0"),
        (lambda d: d["tiers"][0].update(policy="nope"), "tiers[0].policy", "unknown policy"),
        (lambda d: d["tiers"][1]["latency"].update(kind="gamma"), "tiers[1].latency.kind",
         "unknown latency model"),
        (lambda d: d["tiers"][2].update(concurrency=0), "tiers[2].concurrency", "at least 1"),
        (lambda d: d["tiers"][1].update(capacity_tokens=None), "tiers[1].capacity_tokens",
         "only the last tier"),
        (lambda d: d.update(write_policy="sometimes"), "write_policy", "write-back"),
        (lambda d: d.update(thrash_window=0), "thrash_window", "at least 1"),
        (lambda d: d.update(anti_thrash=1.5), "anti_thrash", "integer"),
        (lambda d: d.update(colour="red"), None, "unknown setting(s) colour"),
        (lambda d: d["tiers"][0].update(size=3), "tiers[0]", "unknown setting(s) tiers[0].size"),
        (lambda d: d.update(tiers=[]), "tiers", "at least one tier"),
        (lambda d: d["tiers"][1]["latency"].update(kind="uniform", low_ms=5, high_ms=1),
         "tiers[1].latency.high_ms", "below low_ms"),
        (lambda d: d.update(unit_pages="yes"), "unit_pages", "true or false"),
    ],
)
def test_impossible_configurations_name_the_field(mutate, field, words):
    data = SimConfig.hierarchy(l0_tokens=1000, page_size=512).to_dict()
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        SimConfig.from_dict(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_bad_json_says_where():
    with pytest.raises(ConfigError, match=r"line 1, column \d+"):
        SimConfig.from_json('{"tiers": [}')


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        SimConfig.load(tmp_path / "absent.json")


def test_classic_shape_is_one_unit_page_tier():
    config = SimConfig.classic("lru", 3)
    assert config.unit_pages and len(config.tiers) == 1
    assert config.tiers[0].capacity_tokens == 3


def test_too_many_tiers():
    tiers = [TierConfig(f"T{i}", 10) for i in range(6)]
    with pytest.raises(ConfigError, match="at most 5 tiers"):
        SimConfig(tiers=tiers).validate()


def test_policy_names_are_normalised():
    config = SimConfig(tiers=[TierConfig("L0", 10, " LRU ")]).validate()
    assert config.tiers[0].policy == "lru"


def test_to_json_is_plain_json():
    text = SimConfig.classic("arc", 7).to_json()
    assert json.loads(text)["tiers"][0]["policy"] == "arc"


def test_unknown_policy_parameters_are_named_at_validation():
    data = SimConfig.classic("lru", 10).to_dict()
    data["tiers"][0]["policy_params"] = {"foo": 1}
    with pytest.raises(ConfigError) as caught:
        SimConfig.from_dict(data)
    assert caught.value.field == "tiers[0].policy_params"
    assert "no parameter(s) foo" in str(caught.value)
    data["tiers"][0].update(policy="ws", policy_params={"tau": 0})
    with pytest.raises(ConfigError, match="tau"):
        SimConfig.from_dict(data)
