"""Pricing profiles: the shipped ones carry a dated public source for every figure and agree
with the providers' published multipliers; user files (TOML or JSON) load, and bad ones are
refused with the field named."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from simulator.memory.cost import CostModel
from simulator.memory.pricing import (
    SHIPPED_DIR,
    PricingError,
    load_profile,
    load_profiles,
    parse_profile,
    shipped_profile,
    shipped_profiles,
)

from .cost_profiles import ANTHROPIC, OPENAI

SHIPPED = shipped_profiles()


def test_the_lab_ships_profiles_for_each_provider_shape():
    assert {"claude-sonnet-4.5", "claude-haiku-4.5", "gpt-4.1", "gpt-5", "gemini-2.5-pro",
            "gemini-2.5-flash"} <= set(SHIPPED)
    modes = {(p.provider, p.cache.mode) for p in SHIPPED.values()}
    assert {("anthropic", "breakpoints"), ("openai", "automatic"),
            ("google", "automatic")} <= modes
    assert any(p.explicit_cache and p.explicit_cache.storage_per_mtok_hour
               for p in SHIPPED.values())


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_figure_has_a_dated_public_source(name):
    profile = SHIPPED[name]
    assert profile.unsourced() == []
    for figure in profile.figures():
        source = profile.source_of(figure)
        assert source.url.startswith("https://")
        assert dt.date(2025, 1, 1) <= source.checked <= dt.date.today()
        if not source.confirmed:  # an assumption is explained
            assert source.note
    if profile.unconfirmed():
        assert profile.notes  # and the profile's notes say so
    json.dumps(profile.summary())  # what the CLI and API will list


@pytest.mark.parametrize("name", [n for n in sorted(SHIPPED) if n.startswith("claude")])
def test_anthropic_profiles_follow_the_published_multipliers(name):
    # 5-minute writes 1.25x, 1-hour writes 2x, reads 0.1x the base input price
    profile = SHIPPED[name]
    assert profile.cache_read == pytest.approx(0.1 * profile.input)
    assert [(o.name, o.seconds, o.write_factor) for o in profile.cache.ttl] == [
        ("5m", 300, 1.25), ("1h", 3600, 2.0)]
    assert profile.cache.max_breakpoints == 4


@pytest.mark.parametrize(("name", "read_share"), [("gpt-5", 0.1), ("gpt-4.1", 0.25)])
def test_openai_profiles_cache_in_128_token_steps_above_1024_without_premium(name, read_share):
    profile = SHIPPED[name]
    assert (profile.cache.min_tokens, profile.cache.granularity) == (1024, 128)
    assert all(o.write_factor == 1.0 for o in profile.cache.ttl)
    assert profile.cache_read == pytest.approx(read_share * profile.input)


def test_every_shipped_profile_prices_a_session():
    for profile in SHIPPED.values():
        model = CostModel(profile)
        model.call([{"id": "system", "tokens": 5000}], output_tokens=100)
        second = model.call([{"id": "system", "tokens": 5000}, {"id": "u", "tokens": 50}],
                            at=10, output_tokens=100)
        assert second.cache_read_tokens > 0 and 0 < second.usd < second.usd_no_cache


def test_shipped_profile_by_name_and_unknown_names():
    assert shipped_profile("gpt-5").model == "gpt-5"
    with pytest.raises(PricingError) as err:
        shipped_profile("gpt-99")
    assert err.value.field == "pricing" and "gpt-5" in str(err.value)


MINIMAL = {"name": "mine", "provider": "local", "model": "m",
           "prices": {"input": 1, "output": 2}}


def test_a_user_profile_in_toml_or_json_loads_and_overrides_a_shipped_one(tmp_path):
    toml = tmp_path / "mine.toml"
    toml.write_text('name = "gpt-5"\nprovider = "openai"\nmodel = "gpt-5"\n'
                    '[prices]\ninput = 1.0\noutput = 2.0\ncache_read = 0.1\n'
                    '[cache]\nmode = "automatic"\nmin_tokens = 1024\n'
                    'ttl = [{ name = "24h", seconds = 86400 }]\n')
    (tmp_path / "other.json").write_text(json.dumps(MINIMAL))
    (tmp_path / "README.txt").write_text("not a profile")
    profiles = load_profiles(SHIPPED_DIR, tmp_path)
    assert profiles["gpt-5"].input == 1.0 and profiles["gpt-5"].cache.ttl[0].seconds == 86400
    assert profiles["mine"].cache.mode == "none" and profiles["mine"].cache_read is None
    assert profiles["mine"].unsourced() == ["prices.input", "prices.output"]
    assert shipped_profile("gpt-5", extra=[tmp_path]).input == 1.0
    assert load_profile(toml).path == str(toml)


def test_the_shipped_folder_has_no_duplicate_names(tmp_path):
    folder = tmp_path / "twice"
    folder.mkdir()
    shutil.copy(SHIPPED_DIR / "openai-gpt-5.toml", folder / "a.toml")
    shutil.copy(SHIPPED_DIR / "openai-gpt-5.toml", folder / "b.toml")
    with pytest.raises(PricingError, match=r"also defined in a\.toml") as err:
        load_profiles(folder)
    assert err.value.field == "name"


def with_(**changes):
    data = json.loads(json.dumps(MINIMAL))
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = data
        for p in parents:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(key)
        else:
            node[key] = value
    return data


DELETE = object()
CACHE = {"mode": "automatic", "min_tokens": 1024, "ttl": [{"name": "t", "seconds": 60}]}


@pytest.mark.parametrize(("data", "field"), [
    (with_(prices__input=DELETE), "prices.input"),
    (with_(prices__input=-1), "prices.input"),
    (with_(prices__output="cheap"), "prices.output"),
    (with_(prices__cache_read=True), "prices.cache_read"),
    (with_(name=DELETE), "name"),
    (with_(name="My Profile!"), "name"),
    (with_(provider=""), "provider"),
    (with_(colour="red"), None),
    (with_(currency="EUR"), "currency"),
    (with_(prices__discount=1), "prices"),
    (with_(cache={"mode": "magic"}), "cache.mode"),
    (with_(cache=CACHE), "prices.cache_read"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "ttl": []}), "cache.ttl"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "ttl": [{"name": "t", "seconds": 0}]}),
     "cache.ttl[0].seconds"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "ttl": [{"seconds": 5}]}),
     "cache.ttl[0].name"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "granularity": 0}), "cache.granularity"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "min_tokens": 10.5}), "cache.min_tokens"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "mode": "breakpoints"}),
     "cache.max_breakpoints"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "max_breakpoints": 4}),
     "cache.max_breakpoints"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "refresh_on_hit": "yes"}),
     "cache.refresh_on_hit"),
    (with_(prices__cache_read=0.1, cache={**CACHE, "storage_per_mtok_hour": 1}),
     "cache.storage_per_mtok_hour"),
    (with_(cache={"mode": "none", "min_tokens": 5}), "cache.min_tokens"),
    (with_(prices__cache_read=0.1, explicit_cache={"ttl": [{"name": "1h", "seconds": 3600}]}),
     "explicit_cache.storage_per_mtok_hour"),
    (with_(long_prompt={"above_tokens": 0, "input": 1, "output": 1}), "long_prompt.above_tokens"),
    (with_(sources={"prices": {"url": "ftp://x", "checked": "2026-01-01"}}),
     "sources.prices.url"),
    (with_(sources={"prices": {"url": "https://x.org", "checked": "yesterday"}}),
     "sources.prices.checked"),
    (with_(sources={"prices": {"url": "https://x.org"}}), "sources.prices.checked"),
])
def test_bad_profiles_are_refused_with_the_field_named(data, field):
    with pytest.raises(PricingError) as err:
        parse_profile(data, path="mine.json")
    assert err.value.field == field
    assert str(err.value).startswith("mine.json: ")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("a.json", '{"name": "x",\n "prices": }', "line 2"),
    ("a.json", json.dumps(with_(prices__input=float("nan"))), "prices.input: must be finite"),
    ("a.toml", "name = \n", "not valid TOML"),
    ("a.toml", 'name = "x"\nprovider = "p"\nmodel = "m"\n[prices]\ninput = inf\noutput = 1\n',
     "must be finite"),
    ("a.yaml", "name: x", ".toml or .json"),
])
def test_bad_files_are_refused_with_where(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PricingError, match=message) as err:
        load_profile(path)
    assert str(path) in str(err.value)


def test_a_file_too_large_or_missing_is_refused(tmp_path):
    big = tmp_path / "big.json"
    big.write_text(" " * 300_000 + json.dumps(MINIMAL))
    with pytest.raises(PricingError, match="larger than"):
        load_profile(big)
    with pytest.raises(PricingError, match="cannot read"):
        load_profile(tmp_path / "missing.toml")
    with pytest.raises(PricingError, match="not a folder"):
        load_profiles(tmp_path / "nowhere")


@pytest.mark.parametrize(("tokens", "anthropic", "openai"), [
    (0, 0, 0), (1023, 0, 0), (1024, 1024, 1024), (1100, 1100, 1024), (1280, 1280, 1280),
    (1281, 1281, 1280)])
def test_cacheable_lengths(tokens, anthropic, openai):
    assert ANTHROPIC.cache.cacheable(tokens) == anthropic
    assert OPENAI.cache.cacheable(tokens) == openai


def test_a_profile_with_several_bad_fields_names_every_one():
    """One pass names every bad part (each with its field), the first being the error's own."""
    from simulator.memory.pricing import PricingError, parse_profile

    with pytest.raises(PricingError) as info:
        parse_profile({"name": "Bad Name", "currency": "EUR",
                       "prices": {"input": -1, "output": 1}}, path="mine.toml")
    fields = [error.field for error in info.value.errors]
    assert fields == ["currency", "provider", "model", "prices.input", "name"]
    assert info.value.field == "currency" and str(info.value).startswith("mine.toml: ")
    assert all(error.source == "mine.toml" for error in info.value.errors)
