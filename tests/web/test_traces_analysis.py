"""A trace's analysis in the library: computed after the upload (inline for a small trace, a
background job with progress for a big one), shown as JSON on the page and the API, each chart
as CSV; private traces stay private."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.test import Client
from django.urls import reverse

from simulator.engine.analysis import analyse
from simulator.engine.traces import open_trace
from tests.engine.conftest import shared_trace_candidates
from vmemsite.accounts.services import token_create
from vmemsite.traces.analyses import trace_analysis_request
from vmemsite.traces.models import TraceAnalysis
from vmemsite.traces.selectors import trace_path

from .library_data import PLAIN, upload


@pytest.fixture
def cloudphysics():
    path = next((p for p in shared_trace_candidates("cloudPhysicsIO.plain.csv")
                 if p.is_file()), None)
    if path is None:
        pytest.skip("the shared trace cloudPhysicsIO.plain.csv is not here")
    return path


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_small_trace_is_analysed_with_its_upload_hand_worked(alice, alice_client, data_dir):
    # a b a c b a: references 0..5. Stack distances of the re-references: a@2 {b} 1,
    # b@4 {a, c} 2, a@5 {c, b} 2; reuse distances (references between): 1, 2, 2.
    trace = upload(alice, PLAIN, name="abacba")
    state = alice_client.get(reverse("traces:analysis_json", args=[trace.pk])).json()
    assert state["status"] == "done" and state["progress"] == 1.0
    result = state["analysis"]
    assert (result["references"], result["footprint"]["pages"], result["one_hit_wonders"]) == (
        6, 3, 1)
    stack = alice_client.get(reverse("traces:analysis_csv", args=[trace.pk, "stack_distance"]))
    assert stack["Content-Type"].startswith("text/csv")
    assert rows(stack) == [["distance", "references"], ["cold", "3"], ["0", "0"], ["1", "1"],
                           ["2-3", "2"]]
    popularity = alice_client.get(reverse("traces:analysis_csv", args=[trace.pk, "popularity"]))
    assert rows(popularity) == [["rank", "frequency"], ["1", "3"], ["2", "2"], ["3", "1"]]
    assert alice_client.get(reverse("traces:analysis_csv", args=[trace.pk, "nope"])).status_code \
        == 404


@pytest.mark.django_db
def test_real_trace_analysis_is_the_engines_on_the_stored_file(alice, data_dir, cloudphysics):
    trace = upload(alice, cloudphysics.read_bytes(), name="cp")
    _, token = token_create(user=alice, name="t")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    state = api.get(f"/api/traces/{trace.pk}/analysis").json()
    assert state["status"] == "done"
    expected = analyse(open_trace(cloudphysics)).to_dict()
    assert state["analysis"] == expected
    assert (expected["references"], expected["footprint"]["pages"],
            expected["one_hit_wonders"]) == (113_872, 48_974, 21_049)
    client = Client()
    client.force_login(alice)
    for chart in ("working_set", "request_rate", "heatmap", "sizes", "reuse_distance"):
        table = rows(client.get(reverse("traces:analysis_csv", args=[trace.pk, chart])))
        assert len(table) > 2 and all(len(r) == len(table[0]) for r in table)
    heat = rows(client.get(reverse("traces:analysis_csv", args=[trace.pk, "heatmap"])))
    assert sum(int(c) for r in heat[1:] for c in r[1:]) == 113_872


@pytest.mark.django_db
def test_private_analysis_is_hidden(alice, bob_client, data_dir):
    trace = upload(alice, PLAIN)
    assert bob_client.get(reverse("traces:analysis_json", args=[trace.pk])).status_code == 404
    assert bob_client.get(reverse("traces:analysis_csv", args=[trace.pk, "sizes"])
                          ).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_big_trace_is_a_background_job_with_progress(alice, alice_client, data_dir, settings,
                                                      cloudphysics):
    settings.VMEM_TRACE_ANALYSIS_INLINE = 1_000  # this trace is "big"
    trace = upload(alice, cloudphysics.read_bytes(), name="cp")
    url = reverse("traces:analysis_json", args=[trace.pk])
    seen = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = alice_client.get(url).json()
        seen.append(state["status"])
        if state["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert state["status"] == "done", state
    assert seen[0] in ("queued", "running")  # the upload did not wait for it
    assert state["analysis"]["references"] == 113_872


@pytest.mark.django_db
def test_a_failed_analysis_says_why_and_starts_again(alice, alice_client, data_dir):
    trace = upload(alice, PLAIN)
    path = trace_path(trace)
    content = path.read_bytes()
    path.unlink()
    analysis = trace_analysis_request(trace, restart=True)
    assert analysis.status == TraceAnalysis.Status.FAILED
    assert "no such trace file" in analysis.error
    page = alice_client.get(reverse("traces:detail", args=[trace.pk])).content.decode()
    assert 'id="analyse"' in page
    path.write_bytes(content)
    response = alice_client.post(reverse("traces:analysis_start", args=[trace.pk]))
    assert response.status_code == 302
    assert TraceAnalysis.objects.get(trace=trace).status == TraceAnalysis.Status.DONE


@pytest.mark.django_db
def test_api_restart_is_for_the_owner(alice, bob, data_dir):
    trace = upload(alice, PLAIN)
    trace.public = True
    trace.save()
    _, token = token_create(user=bob, name="t")
    bob_api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bob_api.post(f"/api/traces/{trace.pk}/analysis?restart=true").status_code == 403
    again = bob_api.post(f"/api/traces/{trace.pk}/analysis")
    assert again.status_code == 202 and again.json()["status"] == "done"
