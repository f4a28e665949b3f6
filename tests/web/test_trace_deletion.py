"""Deleting a trace that runs use, and deleting a user with their trace files."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from vmemsite.accounts.models import ApiToken
from vmemsite.accounts.services import token_create, user_delete
from vmemsite.runs.models import Run, RunChunk
from vmemsite.runs.services import (
    TRACE_DELETED_ERROR,
    run_again,
    run_control,
    run_create,
    run_execute,
)
from vmemsite.traces.models import Trace
from vmemsite.traces.services import trace_delete

from .conftest import classic
from .library_data import upload

LOOP = "".join(f"{i % 7}\n" for i in range(400))


def _trace_run(user, trace, **kwargs):
    return run_create(owner=user, config=classic("lru", 4, window_accesses=10),
                      workload={"kind": "trace", "trace_id": trace.pk}, submit=False, **kwargs)


def test_finished_runs_replay_after_their_trace_is_deleted(alice, data_dir, recorder,
                                                           library_files):
    trace = upload(alice, LOOP, name="loop7")
    run = _trace_run(alice, trace)
    run_execute(run_id=run.pk, publisher=recorder)
    trace_delete(trace=trace, user=alice)
    assert library_files() == []
    run.refresh_from_db()
    assert run.status == "finished" and run.trace is None

    client = Client()
    client.force_login(alice)
    page = client.get(f"/runs/{run.pk}/")
    assert page.status_code == 200 and "loop7" in page.content.decode()
    state = client.get(f"/runs/{run.pk}/state.json").json()
    assert len(state["points"]["lru"]) == 40 and state["result"]["faults"] == 400
    assert client.get(f"/runs/{run.pk}/export.json").json()["result"]["faults"] == 400
    csv = b"".join(client.get(f"/runs/{run.pk}/windows.csv").streaming_content)
    assert csv.count(b"\n") == 41
    assert client.get(f"/api/runs/{run.pk}/").json()["status"] == "finished"
    # "Run again" explains that the trace is gone, and stores nothing
    response = client.post(f"/runs/{run.pk}/again", follow=True)
    assert "no such trace in your library" in response.content.decode()
    assert Run.objects.count() == 1


def test_a_queued_run_on_a_deleted_trace_fails_clearly(alice, data_dir, recorder):
    trace = upload(alice, LOOP)
    run = _trace_run(alice, trace)
    trace_delete(trace=trace, user=alice)
    run_execute(run_id=run.pk, publisher=recorder)
    run.refresh_from_db()
    assert run.status == "failed" and TRACE_DELETED_ERROR in run.error
    assert recorder.of("status")[-1]["error"] == run.error
    client = Client()
    client.force_login(alice)
    assert client.get(f"/runs/{run.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_running_run_fails_when_its_trace_is_deleted(alice, bob, data_dir, recorder):
    # bob's run on alice's public trace, paced so it is still going when she deletes it
    trace = upload(alice, LOOP, public=True)
    run = _trace_run(bob, trace, speed=20.0)
    thread = threading.Thread(target=run_execute, kwargs={"run_id": run.pk,
                                                          "publisher": recorder})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while Run.objects.get(pk=run.pk).accesses < 10:
            assert time.monotonic() < deadline, "the run did not start"
            time.sleep(0.02)
        trace_delete(trace=trace, user=alice)
        thread.join(timeout=20)
        assert not thread.is_alive()
    finally:
        Run.objects.filter(pk=run.pk).update(desired="stopped")
        thread.join(timeout=20)
    run.refresh_from_db()
    assert run.status == "failed" and run.error == TRACE_DELETED_ERROR
    assert run.result is not None and not run.result["finished"]  # what it did is kept
    assert RunChunk.objects.filter(run=run).exists()
    assert recorder.of("status")[-1]["status"] == "failed"
    with pytest.raises(Exception, match="no such trace"):
        run_again(run=run, user=bob)
    with pytest.raises(Exception, match="already failed"):
        run_control(run=run, user=bob, action="pause")


def test_user_delete_removes_their_trace_files_and_keeps_others(alice, bob, data_dir,
                                                                library_files, recorder):
    mine = upload(alice, LOOP, name="alice's")
    shared = upload(alice, LOOP, name="alice's public", public=True)
    theirs = upload(bob, LOOP, name="bob's")
    token_create(user=alice, name="script")
    bob_run = _trace_run(bob, shared)
    run_execute(run_id=bob_run.pk, publisher=recorder)
    _trace_run(alice, mine)
    assert len(library_files()) == 3

    user_delete(user=alice)

    assert not get_user_model().objects.filter(username="alice").exists()
    assert list(Trace.objects.values_list("name", flat=True)) == ["bob's"]
    assert library_files() == [theirs.file.rsplit("/", 1)[-1]]
    assert not ApiToken.objects.filter(user_id=alice.pk).exists()
    assert list(Run.objects.values_list("pk", flat=True)) == [bob_run.pk]
    bob_run.refresh_from_db()
    assert bob_run.status == "finished" and bob_run.trace is None  # still replays


def test_the_admin_deletes_through_the_services(admin_client, alice, data_dir, library_files):
    trace = upload(alice, LOOP)
    response = admin_client.post(f"/admin/traces/trace/{trace.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Trace.objects.count() == 0 and library_files() == []
    upload(alice, LOOP)
    response = admin_client.post(f"/admin/auth/user/{alice.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert library_files() == [] and Trace.objects.count() == 0
