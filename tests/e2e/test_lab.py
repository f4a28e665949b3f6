"""End to end in a real browser: Debian's chromium driven by Playwright against a real Daphne
server (LocalRunner, in-memory channel layer, a temporary SQLite database).

Screenshots of the main pages go to ``$VMEM_SCREENSHOTS`` (default: the test's tmp dir)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .servers import CHROMIUM, CHROMIUM_ARGS, LabServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (make browser installs it)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with LabServer(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("VMEM_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, lab):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=lab.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors  # no JavaScript errors on any page


def _sign_up(page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", "a-long-pass-phrase-42")
    page.fill("input[name=password2]", "a-long-pass-phrase-42")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator(f"text=Sign out {username}").count() == 1


def _points(page, chart: str = "faults") -> int:
    return page.evaluate(
        f"() => {{ const d = document.getElementById('chart-{chart}');"
        " return d && d.data ? d.data[0].x.length : -1; }")


def _status(page) -> str:
    return page.get_attribute("#run-root", "data-status")


def test_preset_run_live_pause_step_resume_and_reload(page, shots):
    _sign_up(page, "erin")
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    # Belady's anomaly is paced at two accesses a second: slow enough to drive by hand
    page.click("#preset-belady button:has-text('Start')")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.wait_for_function("document.getElementById('run-root').dataset.ready === '1'")
    page.wait_for_function("document.getElementById('chart-faults').data[0].x.length >= 2",
                           timeout=15_000)
    grown_from = _points(page)
    page.wait_for_function(
        f"document.getElementById('chart-faults').data[0].x.length > {grown_from}")

    page.keyboard.press("Space")  # pause
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'paused'")
    held = _points(page)
    page.wait_for_timeout(1200)
    assert _points(page) == held
    page.keyboard.press("ArrowRight")  # one window = one access here
    page.wait_for_function(
        f"document.getElementById('chart-faults').data[0].x.length === {held + 1}")
    assert _status(page) == "paused"

    page.reload()  # mid-run: the same state comes back
    page.wait_for_function("document.getElementById('run-root').dataset.ready === '1'")
    assert _points(page) == held + 1
    assert _status(page) == "paused"
    page.screenshot(path=str(shots / "run-paused.png"), full_page=True)

    page.keyboard.press("Space")  # resume
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'running'")
    page.keyboard.press("+")
    page.wait_for_function("document.getElementById('speed-label').textContent === '5 ms/s'")
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'finished'",
                           timeout=20_000)
    assert _points(page) == 12
    table = page.inner_text("#compare-table")
    assert re.search(r"FIFO, 3 frames\s+9\s+9", table), table
    assert re.search(r"FIFO, 4 frames\s+10\s+10", table), table
    page.screenshot(path=str(shots / "run-belady.png"), full_page=True)


def test_compare_two_policies_from_the_form(page, shots):
    _sign_up(page, "frank")
    page.goto("/compare/new/")
    page.screenshot(path=str(shots / "compare-form.png"), full_page=True)
    page.select_option("select[name=wl_name]", "scan_hotset")
    page.fill("input[name=wl_n]", "40000")
    page.fill("input[name=wl_tokens]", "1")
    page.check("input[name=unit_pages]")
    page.fill("input[name=t0_capacity]", "300")
    page.uncheck("input[name=t1_enabled]")
    page.uncheck("input[name=t2_enabled]")
    page.select_option("select[name=v0_policy]", "lru")
    page.select_option("select[name=v1_policy]", "arc")
    page.select_option("select[name=v2_policy]", "")
    page.fill("input[name=label]", "LRU vs ARC on a scan")
    page.click("#run-form button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'finished'",
                           timeout=30_000)
    table = page.inner_text("#compare-table")
    assert "lru @ 300" in table and "arc @ 300" in table and "OPT @ 300" in table
    lines = page.evaluate("() => document.getElementById('chart-hit').data.map(t => t.name)")
    assert lines == ["lru @ 300", "arc @ 300", "OPT @ 300"]
    page.screenshot(path=str(shots / "run-compare.png"), full_page=True)


def test_form_errors_are_shown_inline(page, shots):
    _sign_up(page, "gina")
    page.goto("/runs/new/")
    page.fill("input[name=t0_capacity]", "100")  # smaller than the 512-token page
    page.click("#run-form button[type=submit]")
    error = page.locator("#id_t0_capacity_error")
    assert "smaller than one page" in error.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.screenshot(path=str(shots / "form-error.png"), full_page=True)


def test_a_private_run_is_not_found_for_others(browser, lab):
    owner = browser.new_context(base_url=lab.url)
    page = owner.new_page()
    _sign_up(page, "hana")
    page.click("#preset-thrashing button:has-text('Start')")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    url = page.url
    owner.close()
    stranger = browser.new_context(base_url=lab.url)
    response = stranger.new_page().goto(url)
    assert response.status == 404
    stranger.close()
