"""A run page stays live however long the run (issue 7.1), against the session's real Daphne
server (tests/e2e/conftest.py) with real websocket clients (the ``websockets`` package) and
Chromium: a late viewer of a run whose full state is over 5 MiB gets a small first message and
every message under 256 KiB, the charts draw, and Stop ends the run."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
from websockets.sync.client import connect

from vmemsite.runs.frames import MAX_MESSAGE_BYTES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "a-long-pass-phrase-42"
FIVE_MIB = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def owner(lab):
    token = lab.create_user("wira", PASSWORD, token=True)
    return {"username": "wira", "token": token}


def _session(lab, owner) -> requests.Session:
    """A logged-in browser-like session (its cookie opens the owner's websocket)."""
    session = requests.Session()
    session.get(f"{lab.url}/accounts/login/", timeout=10)
    response = session.post(f"{lab.url}/accounts/login/", timeout=10, data={
        "username": owner["username"], "password": PASSWORD,
        "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{lab.url}/accounts/login/"})
    assert response.ok and "sessionid" in session.cookies
    return session


def _api(lab, owner, method: str, path: str, body: dict | None = None) -> dict:
    response = requests.request(method, f"{lab.url}{path}", json=body, timeout=30,
                                headers={"Authorization": f"Bearer {owner['token']}"})
    assert response.ok, response.text
    return response.json()


def _long_comparison(lab, owner, window: int = 4) -> dict:
    """Four policies on an endless workload, full speed, paused once its windows make a full
    state of more than 5 MiB (what once broke the page: several MiB on connect)."""
    run = _api(lab, owner, "POST", "/api/runs/", {
        "config": {"tiers": [{"name": "L0", "capacity_tokens": 64, "policy": "lru"}],
                   "unit_pages": True, "window_accesses": window},
        "workload": {"kind": "generator", "name": "zipf",
                     "params": {"n_pages": 5000, "alpha": 0.8, "seed": 3}},
        "variants": [{"policy": p} for p in ("lru", "fifo", "clock", "arc")],
        "with_opt": False, "label": "a long comparison",
    })
    deadline = time.monotonic() + 120
    while True:
        detail = _api(lab, owner, "GET", f"/api/runs/{run['id']}/")
        if detail["accesses"] >= 30_000 * window // 4 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    _api(lab, owner, "POST", f"/api/runs/{run['id']}/control", {"action": "pause"})
    full = requests.get(f"{lab.url}/api/runs/{run['id']}/windows", timeout=60,
                        headers={"Authorization": f"Bearer {owner['token']}"})
    assert len(full.content) > FIVE_MIB, len(full.content)
    return run


def _messages(url: str, cookie: str, until, send: dict | None = None,
              timeout: float = 60) -> list[str]:
    """Every message of a websocket until ``until(message)``, sending ``send`` once the
    state is in (the sync client: Playwright's loop runs in this thread)."""
    texts: list[str] = []
    origin = url.replace("ws://", "http://").split("/ws")[0]
    with connect(url, origin=origin, additional_headers={"Cookie": cookie}, max_size=None,
                 open_timeout=30) as ws:
        parts = None
        while True:
            text = ws.recv(timeout=timeout)
            texts.append(text)
            message = json.loads(text)
            if message["type"] == "state":
                parts = message["parts"] - 1
            elif message["type"] == "state_part":
                parts -= 1
            if send is not None and parts == 0:
                ws.send(json.dumps(send))
                send = None
            if until(message):
                return texts


def test_a_late_viewer_of_a_long_run_gets_small_messages_and_can_stop_it(lab, owner):
    run = _long_comparison(lab, owner)
    session = _session(lab, owner)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    url = lab.url.replace("http://", "ws://") + run["urls"]["websocket"]
    started = time.monotonic()
    texts = _messages(
        url, cookie, send={"action": "stop"},
        until=lambda m: m["type"] == "status" and m["status"] == "stopped")
    assert time.monotonic() - started < 30
    sizes = [len(t.encode()) for t in texts]
    assert max(sizes) <= MAX_MESSAGE_BYTES, sizes
    first = json.loads(texts[0])
    assert first["type"] == "state" and sizes[0] <= MAX_MESSAGE_BYTES
    points: dict[str, list] = {}
    for text in texts[:first["parts"]]:
        for label, rows in json.loads(text)["points"].items():
            points.setdefault(label, []).extend(rows)
    assert set(points) == {"lru @ 64", "fifo @ 64", "clock @ 64", "arc @ 64"}
    assert all(0 < len(rows) <= first["budget"] for rows in points.values())
    assert all(any("windows" in p for p in rows) for rows in points.values())  # an overview
    # state.json is bounded the same way
    state = session.get(f"{lab.url}{run['urls']['state']}", timeout=30)
    assert len(state.content) < 3 * 1024 * 1024 and state.json()["run"]["status"] == "stopped"


def test_frames_of_a_full_speed_run_of_one_access_windows_are_bounded(lab, owner):
    run = _api(lab, owner, "POST", "/api/runs/", {
        "config": {"tiers": [{"name": "L0", "capacity_tokens": 64, "policy": "lru"}],
                   "unit_pages": True, "window_accesses": 1},
        "workload": {"kind": "generator", "name": "zipf",
                     "params": {"n_pages": 5000, "alpha": 0.8, "n": 20_000, "seed": 3}},
        "variants": [{"policy": p} for p in ("lru", "fifo", "clock", "arc")],
        "speed": 1.0, "label": "one access per window",
    })
    session = _session(lab, owner)
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    url = lab.url.replace("http://", "ws://") + run["urls"]["websocket"]
    texts = _messages(
        url, cookie, send={"action": "speed", "speed": None}, timeout=120,
        until=lambda m: m["type"] == "status" and m["status"] == "finished")
    frames = [t for t in texts if t.startswith('{"type":"frame"')]
    assert frames and max(len(t.encode()) for t in texts) <= MAX_MESSAGE_BYTES


def test_the_page_of_a_long_run_draws_zooms_and_stops(browser_page, lab, owner, screenshot_dir):
    run = _long_comparison(lab, owner)
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("input[name=username]", owner["username"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(run["urls"]["page"])
    page.wait_for_function("document.getElementById('run-root').dataset.ready === '1'",
                           timeout=30_000)
    assert page.get_attribute("#run-root", "data-status") == "paused"
    lines = page.evaluate("() => document.getElementById('chart-faults').data"
                          ".map(t => [t.name, t.x.length])")
    assert [name for name, _ in lines] == ["lru @ 64", "fifo @ 64", "clock @ 64", "arc @ 64"]
    assert all(0 < n <= 2000 for _, n in lines), lines
    assert page.inner_text("#conn") == "live"
    # zoom into a few hundred accesses: those windows come at full resolution
    page.evaluate("() => Plotly.relayout('chart-faults', {'xaxis.range': [2000, 2400]})")
    page.wait_for_function("Number(document.getElementById('chart-faults').dataset.detail) > 0")
    ends = page.evaluate("() => document.getElementById('chart-faults').data[0].x"
                         ".filter(x => x >= 2000 && x <= 2400)")
    assert ends == list(range(2000, 2401, 4))
    page.screenshot(path=str(screenshot_dir / "run-long-zoomed.png"), full_page=True)
    # the events of one series, newest first
    page.select_option("#event-variant", "fifo @ 64")
    variants = page.eval_on_selector_all("#event-log tr td:first-child",
                                         "cells => cells.map(c => c.textContent)")
    accesses = page.eval_on_selector_all(
        "#event-log tr td:nth-child(2)",
        "cells => cells.map(c => Number(c.textContent.replace(/,/g, '')))")
    assert variants and set(variants) == {"fifo @ 64"}
    assert accesses == sorted(accesses, reverse=True)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#btn-stop")
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'stopped'")
    # no connection badge on a run that has ended: its status says "stopped" beside it
    page.wait_for_selector("#conn", state="hidden")
    assert page.inner_text("#status") == "stopped"
