"""`/runs/`: all of one's runs, a page at a time, filtered by status and kind."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from vmemsite.runs.models import Run
from vmemsite.runs.selectors import run_list_owned_filtered
from vmemsite.runs.services import run_create
from vmemsite.runs.views import RUNS_PER_PAGE

from .conftest import classic, sequence

URL = "/runs/"


def make_runs(owner, n: int, **fields) -> list[Run]:
    runs = [run_create(owner=owner, config=classic("fifo", 3), workload=sequence(), submit=False)
            for _ in range(n)]
    if fields:
        Run.objects.filter(pk__in=[r.pk for r in runs]).update(**fields)
    return runs


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/runs/(\d+)/"', html)]


def test_the_page_is_at_runs_and_needs_a_sign_in(client, db):
    assert reverse("simulator:run_list") == URL
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_lists_only_ones_own_runs_newest_first_a_page_at_a_time(client, user, other):
    mine = make_runs(user, RUNS_PER_PAGE + 3)
    theirs = make_runs(other, 2, public=True)
    client.force_login(user)
    first = client.get(URL).content.decode()
    newest_first = [r.pk for r in reversed(mine)]
    assert listed_ids(first) == newest_first[:RUNS_PER_PAGE]
    assert f"{RUNS_PER_PAGE + 3} runs" in first and "page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = client.get(URL, {"page": 2}).content.decode()
    assert listed_ids(second) == newest_first[RUNS_PER_PAGE:]
    assert not set(listed_ids(first) + listed_ids(second)) & {r.pk for r in theirs}
    # a page number out of range or not a number shows a page, never an error
    assert client.get(URL, {"page": 99}).status_code == 200
    assert client.get(URL, {"page": "x"}).status_code == 200


def test_filters_by_status_and_kind_and_keep_them_across_pages(client, user):
    finished = make_runs(user, RUNS_PER_PAGE + 1, status=Run.Status.FINISHED)
    failed = make_runs(user, 2, status=Run.Status.FAILED)
    comparison = make_runs(user, 1, status=Run.Status.FAILED, kind=Run.Kind.COMPARE)
    client.force_login(user)
    html = client.get(URL, {"status": "failed"}).content.decode()
    assert sorted(listed_ids(html)) == sorted(r.pk for r in failed + comparison)
    html = client.get(URL, {"status": "failed", "kind": "compare"}).content.decode()
    assert listed_ids(html) == [comparison[0].pk]
    html = client.get(URL, {"status": "finished"}).content.decode()
    assert 'href="?status=finished&amp;page=2"' in html
    html = client.get(URL, {"status": "finished", "page": 2}).content.decode()
    assert listed_ids(html) == [finished[0].pk]
    html = client.get(URL, {"status": "queued"}).content.decode()
    assert listed_ids(html) == [] and "None of your runs matches these filters." in html


def test_a_bad_filter_value_is_an_error_on_its_field(client, user):
    make_runs(user, 2)
    client.force_login(user)
    response = client.get(URL, {"status": "bogus", "kind": "single"})
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="id_status_error">Status: Select a valid choice', html)
    assert len(listed_ids(html)) == 2  # the valid filter (kind) still applies


@pytest.mark.django_db
def test_the_selector_filters(user, other):
    a = make_runs(user, 1, status=Run.Status.RUNNING)
    make_runs(user, 1, status=Run.Status.FINISHED, kind=Run.Kind.COMPARE)
    make_runs(other, 1, status=Run.Status.RUNNING)
    assert list(run_list_owned_filtered(user, status="running")) == a
    assert run_list_owned_filtered(user, kind="compare").count() == 1
    assert run_list_owned_filtered(user).count() == 2


def test_linked_from_the_header_and_the_recent_runs_card(client, user):
    client.force_login(user)
    home = client.get(reverse("simulator:home")).content.decode()
    header = home.split("</header>")[0]
    assert f'href="{URL}"' in header
    card = home.split('id="mine-title"')[1].split("</section>")[0]
    assert f'href="{URL}"' in card
