"""Compression on demotion: stored sizes, faults on compressed pages, extractive texts."""

from __future__ import annotations

import pytest

from simulator.engine.access import Access, Op
from simulator.engine.config import LatencyModel, SimConfig, TierConfig
from simulator.engine.errors import ConfigError
from simulator.engine.simulation import Simulation
from simulator.memory.compression import (
    CompressionModel,
    CompressionSettings,
    ExtractiveCompressor,
)


def words(text: str) -> int:
    return len(text.split())


def three_tiers(full_copy: bool) -> tuple[Simulation, CompressionModel]:
    config = SimConfig(tiers=[
        TierConfig("L0", 100, "lru"),
        TierConfig("L1", 1000, "lru", LatencyModel("constant", 5.0)),
        TierConfig("L2", None, "lru", LatencyModel("constant", 50.0)),
    ]).validate()
    model = CompressionModel(CompressionSettings(level_by_tier={1: 1, 2: 2},
                                                 full_copy=full_copy))
    return Simulation(config, iter(()), compression=model), model


def feed(sim: Simulation, accesses: list[Access]) -> None:
    sim._stream = iter(accesses)
    sim.step(len(accesses))


def test_demotion_shrinks_by_the_level_ratio_and_a_fault_brings_back_the_short_page():
    sim, model = three_tiers(full_copy=False)
    feed(sim, [Access(0, "a", 80), Access(1, "b", 80)])  # b evicts a into L1
    assert sim.tier_of("a") == 1 and model.level("a") == 1
    assert sim.sizes["a"] == 40  # 80 x 0.5
    assert sim.tiers[1].used == 40
    before = sim.clock_ms
    feed(sim, [Access(2, "a", 80)])  # fault: comes back reduced, 40 tokens
    assert sim.tier_of("a") == 0 and sim.sizes["a"] == 40 and model.level("a") == 1
    assert sim.clock_ms - before == pytest.approx(5.0)  # served by L1
    assert model.compressions == 2 and model.tokens_saved == 80  # a, then b (pushed out by a)


def test_a_full_copy_below_brings_back_the_full_page_at_the_archive_latency():
    sim, model = three_tiers(full_copy=True)
    feed(sim, [Access(0, "a", 80), Access(1, "b", 80)])
    before = sim.clock_ms
    feed(sim, [Access(2, "a", 80)])
    assert sim.sizes["a"] == 80 and model.level("a") == 0
    assert model.full_fetches == 1
    assert sim.clock_ms - before == pytest.approx(50.0)  # the last tier's latency


def test_deeper_tiers_compress_more_and_a_write_restores_full_fidelity():
    sim, model = three_tiers(full_copy=False)
    model.settings.level_by_tier = {1: 1, 2: 3}
    sim.tiers[1].capacity = 40
    feed(sim, [Access(0, "a", 80), Access(1, "b", 80), Access(2, "c", 80)])
    # a: L0 -> L1 (40 tokens, level 1); b arrives in L1 and pushes a to L2 (level 3)
    assert sim.tier_of("a") == 2 and model.level("a") == 3 and sim.sizes["a"] == 4
    feed(sim, [Access(3, "a", 80, Op.WRITE)])
    assert model.level("a") == 0


def test_settings_are_checked():
    with pytest.raises(ConfigError):
        CompressionSettings(ratios=(0.9, 0.5, 0.2, 0.1)).validate()
    with pytest.raises(ConfigError):
        CompressionSettings(ratios=(1.0, 0.2, 0.5, 0.1)).validate()
    with pytest.raises(ConfigError):
        CompressionSettings(level_by_tier={1: 7}).validate()
    data = CompressionSettings(level_by_tier={1: 2}, full_copy=True).to_dict()
    assert CompressionSettings.from_dict(data).level_by_tier == {1: 2}


TEXT = ("Miso is a grey cat. She was adopted in May. Miso likes tuna and sleeping on the "
        "radiator. The weather was rainy. Miso the cat hates the vacuum cleaner.")


@pytest.mark.parametrize("level,ratio", [(1, 0.5), (2, 0.25), (3, 0.05)])
def test_extractive_compression_stays_within_the_target(level, ratio):
    target = max(3, int(words(TEXT) * ratio))
    out = ExtractiveCompressor().compress(TEXT, level, target, page_id="p1", count=words)
    assert words(out.text) <= target
    assert out.dropped


def test_extractive_keeps_salient_sentences_in_order_and_says_what_it_dropped():
    out = ExtractiveCompressor().compress(TEXT, 1, 20, count=words)
    assert "Miso" in out.text
    assert "The weather was rainy." in out.dropped
    kept = [s for s in TEXT.split(". ") if s.rstrip(".") + "." in out.text]
    assert kept == sorted(kept, key=TEXT.index)
    ref = ExtractiveCompressor().compress(TEXT, 3, 8, page_id="message:t1", count=words)
    assert ref.text.startswith("[ref message:t1: miso")
    assert ExtractiveCompressor().compress(TEXT, 0, 1, count=words).text == TEXT
