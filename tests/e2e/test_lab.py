"""End to end in a real browser: Debian's chromium driven by Playwright against the session's
real Daphne server (tests/e2e/conftest.py: LocalRunner, in-memory channel layer, a temporary
SQLite database).

Screenshots of the main pages go to ``screenshot_dir`` ($VMEM_E2E_SCREENSHOTS or a temporary
folder)."""

from __future__ import annotations

import itertools
import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def page(browser_page):
    return browser_page


@pytest.fixture
def shots(screenshot_dir):
    return screenshot_dir


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
    # the run's refaults beside the thrash index of its last window
    headers = page.eval_on_selector_all("#compare-table thead th", "t => t.map(h => h.textContent)")
    assert headers[-2:] == ["Refaults", "Thrash index at the end"]
    lru = page.eval_on_selector_all("#compare-table tbody tr:first-child td",
                                    "t => t.map(d => d.textContent)")
    assert re.fullmatch(r"[\d,]+", lru[-2]), lru
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


def test_every_bad_field_is_shown_at_once(page, shots):
    """Issue 7.4: the run and compare forms show every field's error in one go, not the
    first one only; the summary lists them all and links to each."""
    _sign_up(page, "iris")
    page.goto("/runs/new/")
    page.fill("input[name=t0_capacity]", "100")  # smaller than the 512-token page
    page.fill("input[name=prefetch]", "100000")  # above its range
    page.fill("input[name=wl_n_pages]", "0")
    page.fill("input[name=wl_tokens]", "big")
    page.click("#run-form button[type=submit]")
    expected = {"t0_capacity": "smaller than one page", "prefetch": "at most 256",
                "wl_n_pages": ">= 1", "wl_tokens": "a size like 1"}
    for field, words in expected.items():
        assert words in page.locator(f"#id_{field}_error").inner_text(), field
    assert page.locator("#error-summary li").count() == len(expected)
    page.screenshot(path=str(shots / "form-errors-all.png"), full_page=True)

    page.goto("/compare/new/")
    page.fill("input[name=v1_capacity]", "0")
    page.fill("input[name=thrash_window]", "0")
    page.click("#run-form button[type=submit]")
    page.screenshot(path=str(shots / "compare-errors-all.png"), full_page=True)
    assert "at least 1" in page.locator("#id_v1_capacity_error").inner_text()
    assert "at least 1" in page.locator("#id_thrash_window_error").inner_text()


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


def _as_a_returning_visitor(page, lab) -> None:
    """Only chart pages load Plotly, so the first run page a fresh browser opens compiles all
    4.8 MB of it before it draws (seconds on a busy machine), and Chromium keeps compiled code
    from the third time a script runs. Run it three times here, as a returning visitor's
    browser already has, so that the timing a test measures is the run's."""
    url = lab.manage("shell", "-c", "from django.templatetags.static import static; "
                     "print(static('vendor/plotly.min.js'))").strip().splitlines()[-1]
    for _ in range(3):
        page.reload()
        page.add_script_tag(url=url)


def test_slow_belady_run_steps_visibly_then_shows_regret_and_runs_again(page, shots, lab):
    """Zero-latency OPT (Belady) at 2 ms/s: nothing costs time, so it takes two accesses a
    second, visibly, and the page says what the speed means."""
    _sign_up(page, "ivan")
    page.goto("/runs/new/")
    _as_a_returning_visitor(page, lab)
    page.check("input[name=source][value=sequence]")
    page.fill("textarea[name=sequence]", "1 2 3 4 1 2 5 1 2 3 4 5")
    page.check("input[name=unit_pages]")
    page.fill("input[name=t0_capacity]", "3")
    page.select_option("select[name=t0_policy]", "opt")
    page.uncheck("input[name=t1_enabled]")
    page.uncheck("input[name=t2_enabled]")
    page.fill("input[name=window_accesses]", "1")
    page.select_option("select[name=speed]", "2")
    assert "accesses per second" in page.inner_text("#id_speed_helptext")
    page.click("#run-form button[type=submit]")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    first_url = page.url
    page.wait_for_function("document.getElementById('run-root').dataset.ready === '1'")
    assert page.inner_text("#speed-label") == "2 ms/s"
    assert "at most 2 accesses/s" in page.inner_text("#speed-note")
    assert "accesses per second" in page.inner_text("#speed-help")
    page.wait_for_function("document.getElementById('chart-faults').data[0].x.length >= 1")
    seen = [_points(page)]
    for _ in range(3):
        page.wait_for_timeout(700)
        seen.append(_points(page))
    # it steps: it grows, by about 2 points a second, never all at once
    assert seen[-1] > seen[0], seen
    assert all(0 <= b - a <= 3 for a, b in itertools.pairwise(seen)), seen
    assert seen[-1] < 12, seen
    page.screenshot(path=str(shots / "run-slow-opt.png"), full_page=True)
    page.keyboard.press("+")
    page.wait_for_function("document.getElementById('speed-label').textContent === '5 ms/s'")
    assert "at most 5 accesses/s" in page.inner_text("#speed-note")
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'finished'",
                           timeout=20_000)
    page.wait_for_function("document.getElementById('s-regret').textContent === '0'")
    assert "7 faults" in page.inner_text("#summary")  # OPT's own faults, 3 frames
    page.screenshot(path=str(shots / "run-finished-regret.png"), full_page=True)
    page.click("#btn-again")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    assert page.url != first_url
    assert "Started again" in page.inner_text(".messages")
    page.wait_for_function("document.getElementById('run-root').dataset.ready === '1'")
    assert page.inner_text("#speed-label") == "5 ms/s"  # the speed it was left at
