"""The run specification (vmemsite/runs/specs.py): workload specs, literal sequences and
comparison variants, every error naming its field."""

import pytest

from simulator.engine.config import SimConfig
from simulator.engine.sources import SequenceSource, SessionSource
from vmemsite.errors import Invalid
from vmemsite.runs.specs import expected_accesses, parse_pages, run_spec, workload_source

BASE = SimConfig.classic("lru", 3)


def workload_clean(data, *, allow_sessions=True):
    """The stored workload of a run on ``data`` (single run, or a comparison when sessions
    are not allowed)."""
    body = {"config": BASE.to_dict(), "workload": data}
    if not allow_sessions:
        body["variants"] = [{"policy": "lru"}, {"policy": "fifo"}]
    return run_spec(body).stored_workload()


def variants_clean(base, variants):
    return list(run_spec({"config": base.to_dict(), "workload": {"kind": "sequence",
                                                                   "pages": [1]},
                          "variants": variants}).variants)


def test_parse_pages_reads_ints_and_names():
    assert parse_pages(" 1,2, 3 4;doc#1\n5 ") == [1, 2, 3, 4, "doc#1", 5]
    assert parse_pages("") == []


def test_sequence_source_yields_reads_in_order_and_reopens():
    source = SequenceSource([1, 2, 1], tokens=2)
    first = list(source.open())
    assert [a.page_id for a in first] == [1, 2, 1]
    assert {a.tokens for a in first} == {2}
    assert list(source.open()) == first
    assert source.finite and source.length == 3


def test_generator_spec_errors_name_the_parameter():
    with pytest.raises(Invalid) as err:
        workload_clean({"kind": "generator", "name": "zipf", "params": {"n_pages": 0,
                                                                          "alpha": 1.0}})
    assert err.value.field == "workload.n_pages"
    with pytest.raises(Invalid) as err:
        workload_clean({"kind": "generator", "name": "nope"})
    assert err.value.field == "workload.name"


def test_engine_workload_dicts_are_accepted_as_generators():
    spec = workload_clean({"name": "loop", "params": {"n_pages": 3, "n": 9}})
    assert spec == {"kind": "generator", "name": "loop", "params": {"n_pages": 3, "n": 9},
                    "sessions": 1}
    assert workload_source(spec).length == 9


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "sequence", "pages": []}, "workload.pages"),
    ({"kind": "sequence", "pages": [1, True]}, "workload.pages"),
    ({"kind": "sequence", "pages": [1], "tokens": 0}, "workload.tokens"),
    ({"kind": "trace"}, "workload.trace_id"),
    ({"kind": "movie"}, "workload.kind"),
    ({"kind": "sequence", "pages": [1], "extra": 1}, "workload"),
    ({"kind": "sequence", "pages": [1], "sessions": 0}, "workload.sessions"),
    ("zipf", "workload"),
])
def test_bad_workload_specs(data, field):
    with pytest.raises(Invalid) as err:
        workload_clean(data)
    assert err.value.field == field


def test_sessions_deal_accesses_round_robin():
    spec = workload_clean({"kind": "sequence", "pages": [1, 2, 3, 4], "sessions": 2})
    source = workload_source(spec)
    assert isinstance(source, SessionSource)
    assert [a.session for a in source.open()] == ["s0", "s1", "s0", "s1"]
    with pytest.raises(Invalid):
        workload_clean({"kind": "sequence", "pages": [1], "sessions": 2}, allow_sessions=False)


def test_variants_override_l0_and_get_labels():
    base = SimConfig.classic("lru", 3)
    variants = variants_clean(base, [{"policy": "fifo"}, {"capacity_tokens": 4, "label": "big"}])
    assert [v.label for v in variants] == ["fifo @ 3", "big"]
    assert variants[0].config.tiers[0].policy == "fifo"
    assert variants[1].config.tiers[0].capacity_tokens == 4
    assert base.tiers[0].policy == "lru"  # the base is not touched


@pytest.mark.parametrize(("variants", "field"), [
    ([{"policy": "lru"}], "variants"),
    ([{"policy": "lru"}] * 9, "variants"),
    ([{"policy": "lru"}, {"policy": "lru"}], "variants"),
    ([{"policy": "lru"}, {"policy": "nope"}], "variants[1].policy"),
    ([{"policy": "lru"}, {"capacity_tokens": 0}], "variants[1].capacity_tokens"),
    ([{"policy": "lru"}, {"label": "OPT @ 3", "policy": "fifo"}], "variants[1].label"),
])
def test_bad_variants(variants, field):
    with pytest.raises(Invalid) as err:
        variants_clean(SimConfig.classic("lru", 3), variants)
    assert err.value.field == field


# --- one specification, three faces --------------------------------------------------------

FACES = [
    # (form field, form value, API field, API body change, CLI arguments, CLI flag)
    ("prefetch", "100000", "config.prefetch", ("config", "prefetch", 100_000),
     ["--prefetch", "100000"], "--prefetch"),
    ("wl_n_pages", "0", "workload.n_pages", ("workload", "params", "n_pages", 0),
     ["--pages", "0"], "--pages"),
    ("t0_capacity", "0", "config.tiers[0].capacity_tokens",
     ("config", "tiers", 0, "capacity_tokens", 0), ["--l0-tokens", "0"], "--l0-tokens"),
    ("wl_alpha", "11", "workload.alpha", ("workload", "params", "alpha", 11),
     ["--alpha", "11"], "--alpha"),
]


def _form_data(**overrides):
    data = {"source": "generator", "wl_name": "zipf", "wl_n": "3000", "wl_n_pages": "200",
            "wl_alpha": "1.0", "wl_tokens": "1", "wl_seed": "0", "write_policy": "write-back",
            "pinning": "on", "anti_thrash": "0", "prefetch": "0", "thrash_window": "1000",
            "seed": "0", "sessions": "1", "t0_capacity": "50", "t0_policy": "lru",
            "t0_latency": "constant", "unit_pages": "on"}
    return {**data, **overrides}


def _api_body(*path_and_value):
    body = {"config": BASE.to_dict(),
            "workload": {"kind": "generator", "name": "zipf",
                         "params": {"n_pages": 200, "alpha": 1.0, "n": 3000}}}
    *path, value = path_and_value
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize(("form_field", "form_value", "api_field", "api_change", "argv",
                          "flag"), FACES, ids=[face[0] for face in FACES])
def test_a_bad_field_is_named_by_the_form_the_api_and_the_cli(
        client, user, capsys, form_field, form_value, api_field, api_change, argv, flag):
    """Issue 9.3: one validation, each face naming the field in its own terms."""
    import io

    from simulator.cli.main import main
    from vmemsite.accounts.services import token_create
    from vmemsite.runs.models import Run

    client.force_login(user)
    page = client.post("/runs/new/", _form_data(**{form_field: form_value}))
    assert page.status_code == 400
    assert f'id="id_{form_field}_error"' in page.content.decode()

    _, token = token_create(user=user, name="faces")
    response = client.post("/api/runs/", _api_body(*api_change),
                           content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert response.json()["field"] == api_field

    code = main(["simulate", "--workload", "zipf", "--pages", "200", "-n", "300",
                 "--no-progress", *argv], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"vmem: error: {flag}"), err
    assert Run.objects.count() == 0


def test_the_parameters_page_lists_what_a_run_adds():
    from pathlib import Path

    from simulator.engine.params import markdown_rows
    from vmemsite.runs.specs import RUN_PARAMS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "parameters.md").read_text()
    assert all(row in doc for row in markdown_rows(RUN_PARAMS.values()))


def _split(tokens, page_size):
    """The accesses split_pages makes of accesses of ``tokens`` tokens (hand-counted)."""
    return sum(-(-t // page_size) for t in tokens)


@pytest.mark.parametrize(("workload", "length", "page_size", "unit", "total_tokens", "want"), [
    # no page size, unit pages, or a trace whose sizes are ignored: the workload's length
    ({"kind": "trace"}, 4, None, False, 85, (4, False)),
    ({"kind": "trace"}, 4, 16, True, 85, (4, False)),
    ({"kind": "trace"}, 4, 16, False, 4, (4, False)),
    # a trace of 10, 20, 30 and 25 tokens at 16: 1 + 2 + 2 + 2 = 7 pages; at most
    # 4 + (85 - 4) // 16 = 9, at least ceil(85 / 16) = 6: an upper bound, said so
    ({"kind": "trace"}, 4, 16, False, 85, (9, True)),
    # 19 tokens in 4 accesses at 16: none can reach 17 tokens, so none makes two pages
    ({"kind": "trace"}, 4, 16, False, 19, (4, False)),
    # a generator of 2,000-token accesses at 512: 4 pages each, exactly
    ({"kind": "generator", "name": "zipf", "params": {"tokens": 2000}}, 10, 512, False, None,
     (40, False)),
    # a range of sizes: its largest, an upper bound
    ({"kind": "generator", "name": "zipf", "params": {"tokens": [100, 2000]}}, 10, 512, False,
     None, (40, True)),
    ({"kind": "sequence", "pages": [1, 2], "tokens": 700}, 2, 512, False, None, (4, False)),
    # a chat's sizes are its own: its length
    ({"kind": "generator", "name": "chat", "params": {"n": 10}}, 10, 512, False, None,
     (10, False)),
])
def test_expected_accesses(workload, length, page_size, unit, total_tokens, want):
    assert expected_accesses(workload, length, page_size, unit, total_tokens) == want
    if workload["kind"] == "trace" and total_tokens == 85 and page_size == 16 and not unit:
        assert _split([10, 20, 30, 25], 16) == 7 <= want[0]
