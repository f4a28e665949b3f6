"""Pages, state, exports and visibility over HTTP."""

import csv
import io
import json

import pytest
from django.urls import reverse

from vmemsite.runs.models import Run
from vmemsite.runs.selectors import run_get_visible, run_list_public, run_list_visible
from vmemsite.runs.services import run_create, run_execute

from .conftest import classic, sequence


@pytest.fixture
def finished_run(user, recorder):
    run = run_create(owner=user, config=classic("fifo", 3), workload=sequence(), submit=False)
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    return run


def test_visibility_rules(user, other, finished_run):
    from django.contrib.auth.models import AnonymousUser

    assert run_get_visible(user, finished_run.pk) == finished_run
    assert run_get_visible(other, finished_run.pk) is None
    assert run_get_visible(AnonymousUser(), finished_run.pk) is None
    assert run_get_visible(user, "nonsense") is None
    Run.objects.filter(pk=finished_run.pk).update(public=True)
    assert run_get_visible(other, finished_run.pk) is not None
    assert run_get_visible(AnonymousUser(), finished_run.pk) is not None
    assert list(run_list_visible(AnonymousUser())) == [finished_run]
    assert list(run_list_public(exclude_user=user)) == []


def test_home_lists_presets_and_my_runs(client, user, finished_run):
    client.force_login(user)
    html = client.get("/").content.decode()
    for title in ("LLM chat, 8k context", "Belady&#x27;s anomaly (FIFO, 3 vs 4 frames)",
                  "Scan vs LRU", "Thrashing: working set larger than L0"):
        assert title in html
    assert f'href="/runs/{finished_run.pk}/"' in html
    assert "Your recent runs" in html


def test_anonymous_home_asks_to_sign_in(client, db):
    html = client.get("/").content.decode()
    assert "Sign in to start" in html
    assert "Your recent runs" not in html


def test_preset_start_creates_and_redirects(client, user, settings):
    settings.VMEM_RUNNER = "local"
    client.force_login(user)
    response = client.post(reverse("simulator:preset_start", args=["thrashing"]))
    run = Run.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert client.post("/presets/nope/start").status_code == 404


def test_forms_need_a_login(client, db):
    response = client.get("/runs/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/runs/new/")


def test_form_prefills_from_a_preset_and_from_a_trace(client, user):
    client.force_login(user)
    html = client.get("/compare/new/?preset=belady").content.decode()
    assert "1,2,3,4,1,2,5,1,2,3,4,5" in html
    assert 'value="FIFO, 3 frames"' in html
    html = client.get("/runs/new/?trace=999").content.decode()  # unknown: plain defaults
    assert "Configure a run" in html


@pytest.mark.parametrize(("url", "compare"), [("/runs/new/", False), ("/compare/new/", True)])
def test_each_form_offers_its_own_presets_between_separators(client, user, url, compare):
    from vmemsite.runs.presets import PRESETS

    client.force_login(user)
    html = client.get(url).content.decode()
    links = html.split('<p class="preset-links">', 1)[1].split("</p>", 1)[0]
    mine = [p for p in PRESETS.values() if p.is_compare == compare]
    assert mine and links.count("<a ") == len(mine) and links.count(" · ") == len(mine) - 1
    assert links.rstrip().endswith("</a>")  # no separator after the last one


def test_comparing_policies_on_a_trace_starts_in_classic_mode_at_a_tenth_of_its_pages(
        client, user, data_dir):
    from tests.web.library_data import upload

    trace = upload(user, "".join(f"{k % 250}\n" for k in range(1_000)))
    assert trace.distinct_pages == 250
    client.force_login(user)
    initial = client.get(f"/compare/new/?trace={trace.pk}").context["form"].initial
    assert (initial["source"], initial["trace"]) == ("trace", trace.pk)
    assert initial["unit_pages"] is True and initial["t0_capacity"] == 25
    assert not initial.get("t1_enabled") and [initial[f"v{i}_policy"] for i in range(3)] == [
        "lru", "arc", "s3fifo"]
    # a single run's replay keeps the hierarchy
    initial = client.get(f"/runs/new/?trace={trace.pk}").context["form"].initial
    assert initial["trace"] == trace.pk and initial["t1_enabled"] is True


def _form_data(**overrides):
    data = {
        "source": "generator", "wl_name": "zipf", "wl_n": "3000", "wl_n_pages": "200",
        "wl_alpha": "1.0", "wl_tokens": "1", "wl_seed": "0", "write_policy": "write-back",
        "pinning": "on", "anti_thrash": "0", "prefetch": "0", "thrash_window": "1000",
        "seed": "0", "sessions": "1", "speed": "", "t0_capacity": "50", "t0_policy": "lru",
        "t0_latency": "constant", "t0_ms": "0", "t0_low_ms": "0", "t0_high_ms": "0",
        "t0_sigma": "0.5", "t0_per_token_ms": "0", "unit_pages": "on",
    }
    data.update(overrides)
    return data


def test_form_post_starts_a_run(client, user, settings):
    settings.VMEM_RUNNER = "local"
    client.force_login(user)
    response = client.post("/runs/new/", _form_data(label="my zipf"))
    run = Run.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"
    assert run.label == "my zipf"
    assert run.config["window_accesses"] == 6  # auto: about 500 points
    assert run.workload["params"]["n"] == 3000


def test_the_automatic_window_of_a_sized_trace_counts_its_pages(client, user, settings,
                                                                  data_dir):
    """About 500 points for the accesses the engine will make: a sized trace's requests cut
    into pages (at most requests + (tokens - requests) // page_size), not its requests."""
    from .library_data import upload

    settings.VMEM_RUNNER = "local"
    rows = "".join(f"{i},{i % 7},{100 + 37 * (i % 11)}\n" for i in range(3000))
    trace = upload(user, "time,page_id,tokens\n" + rows, name="sized")
    client.force_login(user)
    data = _form_data(source="trace", trace=str(trace.pk), page_size="64", t0_capacity="640")
    del data["unit_pages"]
    response = client.post("/runs/new/", data)
    run = Run.objects.get(owner=user)
    assert response.status_code == 302, response.content.decode()[:3000]
    bound = 3000 + (trace.total_tokens - 3000) // 64
    assert run.total == bound
    assert run.config["window_accesses"] == bound // 500 > 3000 // 500


def test_a_classic_sequence_ignores_the_token_range(client, user, settings):
    """A new user picks "Literal sequence" in classic mode: the default token range of the
    generator does not matter there, and must not stop the run."""
    settings.VMEM_RUNNER = "local"
    client.force_login(user)
    page = client.get("/runs/new/").content.decode()
    assert "accesses per second" in page  # what the speed means
    response = client.post("/runs/new/", _form_data(
        source="sequence", sequence="1 2 3 4 1 2 5", wl_tokens="50-400", unit_pages="on",
        t0_capacity="3", speed="2"))
    assert response.status_code == 302, response.content.decode()[:2000]
    run = Run.objects.get()
    assert run.workload["tokens"] == 1 and run.speed == 2.0


def test_a_sequence_takes_a_token_range_as_the_help_says(client, user, settings):
    """Issue 7.5: the form's default tokens ("50-400") used to make every literal sequence
    fail with "a sequence takes one size". A range gives each page its own size in it."""
    settings.VMEM_RUNNER = "local"
    client.force_login(user)
    response = client.post("/runs/new/", _form_data(
        source="sequence", sequence="1 2 3 1 2 3 doc#1", wl_tokens="50-400", unit_pages="",
        t0_capacity="8192", page_size="512"))
    assert response.status_code == 302, response.content.decode()[:3000]
    run = Run.objects.get()
    assert run.workload["tokens"] == [50, 400]
    from vmemsite.runs.specs import workload_source

    sizes = {a.page_id: a.tokens for a in workload_source(run.workload).open()}
    assert all(50 <= size <= 400 for size in sizes.values()) and len(set(sizes.values())) > 1
    assert [a.tokens for a in workload_source(run.workload).open()][:3] == [
        sizes[1], sizes[2], sizes[3]]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"t0_capacity": "100", "page_size": "512", "unit_pages": ""}, "t0_capacity",
     "smaller than one page"),
    ({"t1_enabled": "on", "t1_capacity": "", "t1_policy": "lru", "t1_latency": "constant",
      "t1_ms": "-3"}, "t1_ms", "must be at least 0"),
    ({"wl_n_pages": "0"}, "wl_n_pages", "must be &gt;= 1"),
    ({"source": "sequence", "sequence": ""}, "sequence", "give at least one page id"),
    ({"source": "trace"}, "trace", "choose a trace"),
    ({"wl_tokens": "big"}, "wl_tokens", "a size like 1"),
    ({"source": "sequence", "sequence": "1 2 3", "wl_tokens": "50-", "unit_pages": ""},
     "wl_tokens", "a size like 1"),
    ({"speed": "-5"}, "speed", "Select a valid choice"),
    ({"speed": "nan"}, "speed", "Select a valid choice"),
    ({"window_accesses": "-1"}, "window_accesses", "must be"),
    ({"wl_n": "1e999"}, "wl_n", "Enter a whole number"),
])
def test_form_errors_show_next_to_their_field(client, user, overrides, field, message):
    client.force_login(user)
    response = client.post("/runs/new/", _form_data(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html, html[:3000]
    assert message in html
    assert Run.objects.count() == 0


def test_compare_form_errors_point_at_the_variant(client, user):
    client.force_login(user)
    data = _form_data(v0_policy="lru", v2_policy="fifo", v2_capacity="0")
    response = client.post("/compare/new/", data)
    assert response.status_code == 400
    assert 'id="id_v2_capacity_error"' in response.content.decode()


def test_run_page_state_and_exports(client, user, finished_run):
    client.force_login(user)
    page = client.get(f"/runs/{finished_run.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="run-meta"' in html and "/static/js/run.js" in html
    assert 'id="btn-pause"' in html

    state = client.get(f"/runs/{finished_run.pk}/state.json").json()
    assert state["type"] == "state" and state["run"]["status"] == "finished"
    assert len(state["points"]["fifo"]) == 12
    assert state["seq"] >= 0 and state["result"]["faults"] == 9

    response = client.get(f"/runs/{finished_run.pk}/windows.csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["variant", "window", "end_access", "time_ms"]
    assert "L0_hit_ratio" in rows[0]
    assert len(rows) == 13 and rows[-1][2] == "12"

    export = json.loads(client.get(f"/runs/{finished_run.pk}/export.json").content)
    assert export["config"]["tiers"][0]["policy"] == "fifo"
    assert export["result"]["faults"] == 9


def test_private_runs_are_404_for_others(client, other, finished_run):
    client.force_login(other)
    for url in ("/", "/state.json", "/windows.csv", "/export.json"):
        assert client.get(f"/runs/{finished_run.pk}{url}").status_code == 404
    assert client.get("/runs/987654/").status_code == 404


def test_public_runs_are_read_only_for_others(client, user, other, finished_run):
    client.force_login(user)
    client.post(f"/runs/{finished_run.pk}/share", {"public": "1"})
    finished_run.refresh_from_db()
    assert finished_run.public
    client.force_login(other)
    html = client.get(f"/runs/{finished_run.pk}/").content.decode()
    assert 'id="read-only"' in html and 'id="btn-pause"' not in html
    assert client.post(f"/runs/{finished_run.pk}/share", {"public": "0"}).status_code == 403
    client.logout()
    assert client.get(f"/runs/{finished_run.pk}/state.json").status_code == 200


@pytest.mark.parametrize("name", ["zipf", "uniform", "loop", "phased", "scan_hotset", "chat"])
def test_every_generator_starts_from_the_form_as_it_is_offered(client, user, settings, name):
    """Switching the generator in a new form and starting: what the form offers is valid
    (a required parameter without an initial value made scan_hotset fail)."""
    from vmemsite.runs.forms import RunForm

    settings.VMEM_RUNNER = "local"
    client.force_login(user)
    form = RunForm(user=user)
    data = {key: ("on" if value is True else "" if value in (None, False) else value)
            for key, field in form.fields.items()
            for value in [form.get_initial_for_field(field, key)]}
    data.update(wl_name=name, wl_n="2000", t0_capacity="300", unit_pages="on")
    response = client.post("/runs/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
