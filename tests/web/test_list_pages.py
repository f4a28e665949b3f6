"""The trace library, one's chats and one's sweeps list a page at a time (as /runs/ does):
however many there are, a page holds a bounded number of rows, and every one is reachable."""

from __future__ import annotations

import re

import pytest

from vmemsite.chat.models import Chat
from vmemsite.chat.views import CHATS_PER_PAGE
from vmemsite.sweeps.models import Sweep
from vmemsite.sweeps.views import SWEEPS_PER_PAGE
from vmemsite.traces.models import Trace
from vmemsite.traces.views import TRACES_PER_PAGE


def make_traces(owner, n: int, public: bool = False) -> list[int]:
    return [Trace.objects.create(owner=owner, name=f"t{i}", fmt="plain", file=f"x/{i}.txt",
                                 size_bytes=2, requests=1, distinct_pages=1, total_tokens=1,
                                 public=public).pk for i in range(n)]


def make_chats(owner, n: int) -> list[int]:
    return [Chat.objects.create(owner=owner, title=f"c{i}").pk for i in range(n)]


def make_sweeps(owner, n: int) -> list[int]:
    return [Sweep.objects.create(owner=owner, name=f"s{i}", policies=["lru"], sizes=[1]).pk
            for i in range(n)]


CASES = [
    ("/traces/", make_traces, TRACES_PER_PAGE, r'href="/traces/(\d+)/"'),
    ("/chat/", make_chats, CHATS_PER_PAGE, r'href="/chat/(\d+)/"'),
    ("/sweeps/", make_sweeps, SWEEPS_PER_PAGE, r'href="/sweeps/(\d+)/"'),
]


@pytest.mark.parametrize(("url", "make", "per_page", "link"), CASES,
                         ids=[case[0] for case in CASES])
def test_a_list_shows_a_page_at_a_time_and_reaches_every_row(alice_client, alice, bob, url,
                                                              make, per_page, link):
    mine = set(make(alice, per_page + 3))
    make(bob, 2)  # not alice's (and private): never listed
    first = alice_client.get(url).content.decode()
    second = alice_client.get(url, {"page": 2}).content.decode()
    on_first = {int(i) for i in re.findall(link, first)}
    on_second = {int(i) for i in re.findall(link, second)}
    assert len(on_first) == per_page and len(on_second) == 3
    assert on_first | on_second == mine
    assert "page 1 of 2" in first and 'href="?page=2"' in first
    assert 'href="?page=1"' in second
    for page in ("99", "x", "-1"):  # out of range or not a number: a page, never an error
        assert alice_client.get(url, {"page": page}).status_code == 200
