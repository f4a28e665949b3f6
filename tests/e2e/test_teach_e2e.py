"""The teaching page in a real browser: step with the keys, play Belady's preset, predict and
see the score move, a link reopens the same step, an exercise link works signed out, and the
page fits a projector and a phone."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


def position(page) -> str:
    return page.locator("#position").inner_text()


def visible_columns(page, policy: str = "fifo") -> int:
    """How many reference columns of ``policy``'s table are shown."""
    return page.evaluate(
        """(policy) => Array.from(document.querySelectorAll(
             `.frame-table[data-policy="${policy}"] thead th[data-step]`))
             .filter((th) => getComputedStyle(th).visibility !== 'hidden').length""", policy)


def test_step_with_the_keys_and_the_url_follows(browser_page):
    page = browser_page
    page.goto("/teach/?preset=belady")
    assert position(page) == "0 / 12" and visible_columns(page) == 0
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert position(page) == "3 / 12" and visible_columns(page) == 3
    assert re.search(r"[?&]step=3\b", page.url)
    page.keyboard.press("ArrowLeft")
    assert position(page) == "2 / 12" and visible_columns(page) == 2
    page.keyboard.press("End")
    assert position(page) == "12 / 12" and visible_columns(page) == 12
    assert page.locator('.frame-table[data-policy="fifo"] .t-faults').inner_text() == "9"
    page.keyboard.press("Home")
    assert position(page) == "0 / 12"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert "Reference 2: 2 is not in memory" in page.locator(
        '.frame-table[data-policy="lru"] [data-why]').inner_text()

    # the address reopens the same step
    page.goto("/teach/?preset=belady&step=5")
    assert position(page) == "5 / 12" and visible_columns(page, "opt") == 5


def test_play_belady_and_see_the_anomaly(browser_page, screenshot_dir):
    page = browser_page
    page.set_viewport_size(PROJECTOR)
    page.goto("/teach/")
    page.click("a[data-preset=belady]")
    page.wait_for_url(re.compile(r"preset=belady"))
    assert "Belady's anomaly" in page.locator("#preset-note").inner_text()
    page.wait_for_selector("#curve .main-svg")  # the curve is drawn
    assert "FIFO: 10 faults with 4 frames, 9 with 3." in page.locator("#anomaly").inner_text()
    page.select_option("#pace", "400")
    page.keyboard.press(" ")
    page.wait_for_function("document.getElementById('position').textContent === '12 / 12'",
                           timeout=20_000)
    assert page.locator("#play").inner_text().endswith("Play")  # stopped at the end
    assert page.locator('.frame-table[data-policy="fifo"] .t-faults').inner_text() == "9"
    page.screenshot(path=screenshot_dir / "teach-belady-1280.png", full_page=True)
    page.screenshot(path="/tmp/teach-belady-1280.png")
    # with 4 frames FIFO faults more
    page.goto("/teach/?preset=belady&frames=4&step=12")
    assert page.locator('.frame-table[data-policy="fifo"] .t-faults').inner_text() == "10"
    assert page.locator('.frame-table[data-policy="lru"] .t-faults').inner_text() == "8"


def test_predict_then_reveal_keeps_score_signed_out(browser_page):
    """An exercise link (predict mode) opened by a visitor who is not signed in."""
    page = browser_page
    page.goto("/teach/?refs=1,2,3,1,2&policies=lru&frames=2&predict=1")
    assert page.locator(".site-account").inner_text().startswith("Sign in")
    page.keyboard.press("ArrowRight")
    panel = page.locator("#predict-panel")
    assert panel.is_visible()
    assert "Reference 1 is page 1" in page.locator("#predict-question").inner_text()
    assert position(page) == "0 / 5"  # nothing revealed before the answer
    page.click("#predict-choices button:has-text('fault, into a free frame')")
    assert page.locator("#score").inner_text() == "score 1 / 1"
    assert position(page) == "1 / 5"
    assert "Right" in page.locator("#predict-answer").inner_text()
    page.keyboard.press("ArrowRight")
    page.click("#predict-choices button:has-text('hit')")  # wrong: 2 faults into frame 2
    assert page.locator("#score").inner_text() == "score 1 / 2"
    assert "Not this time" in page.locator("#predict-answer").inner_text()
    page.keyboard.press("ArrowRight")  # 3: LRU evicts 1
    choices = page.locator("#predict-choices button").all_inner_texts()
    assert choices == ["hit", "fault, evicts 1", "fault, evicts 2"]
    page.click("#predict-choices button:has-text('fault, evicts 1')")
    assert page.locator("#score").inner_text() == "score 2 / 3"
    assert "LRU evicts 1: its last use, at reference 1, is the oldest." in page.locator(
        "#predict-answer").inner_text()
    assert "predict=1" in page.url and "step=3" in page.url


def test_predict_asks_for_every_policy_on_the_page(browser_page):
    """With two policies, each reference is asked about for each of them, in page order,
    before it is revealed; each answer names its policy."""
    page = browser_page
    page.goto("/teach/?refs=1,2,3,1&policies=fifo,lru&frames=2&predict=1")
    page.keyboard.press("ArrowRight")
    assert "What does FIFO do?" in page.locator("#predict-question").inner_text()
    page.click("#predict-choices button:has-text('fault, into a free frame')")
    assert "What does LRU do?" in page.locator("#predict-question").inner_text()
    assert position(page) == "0 / 4"  # not revealed until every policy is answered
    assert page.locator("#predict-answer").inner_text().startswith("FIFO: ✓ Right.")
    page.click("#predict-choices button:has-text('hit')")  # wrong for LRU
    assert position(page) == "1 / 4"
    assert page.locator("#score").inner_text() == "score 1 / 2"
    assert page.locator("#predict-answer").inner_text().startswith("LRU: ✗ Not this time.")


def test_predict_offers_not_kept_for_a_policy_that_may_refuse(browser_page):
    """Strict S3-FIFO with 3 frames serves every fault without keeping the page: its choices
    include "fault, not kept", which is the right answer; LRU's choices do not."""
    page = browser_page
    page.goto("/teach/?refs=1,2&policies=s3fifo,lru&frames=3&predict=1")
    page.keyboard.press("ArrowRight")
    choices = page.locator("#predict-choices button").all_inner_texts()
    assert choices == ["hit", "fault, into a free frame", "fault, not kept"]
    page.click("#predict-choices button:has-text('fault, not kept')")
    assert page.locator("#predict-answer").inner_text().startswith("S3-FIFO: ✓ Right.")
    assert page.locator("#predict-choices button").all_inner_texts() == [
        "hit", "fault, into a free frame"]


def test_bad_input_is_a_page_not_a_crash(browser_page):
    page = browser_page
    response = page.goto("/teach/?refs=" + ",".join(["1"] * 201))
    assert response.status == 400
    assert "at most 200 references" in page.locator("#teach-errors").inner_text()


@pytest.mark.parametrize("size", [PROJECTOR, PHONE], ids=["projector", "phone"])
def test_fits_a_projector_and_a_phone(browser, lab, size):
    context = browser.new_context(base_url=lab.url, viewport=size)
    page = context.new_page()
    try:
        page.goto("/teach/?refs=" + ",".join(str(i % 9) for i in range(60))
                  + "&policies=fifo,lru,opt,clock&frames=4&step=30")
        page.wait_for_selector("#curve .main-svg")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"the page scrolls sideways at {size['width']} px"
        font = page.evaluate("() => parseFloat(getComputedStyle("
                             "document.querySelector('.frame-grid td')).fontSize)")
        assert font >= 17  # readable from the back of the room
        page.screenshot(path=f"/tmp/teach-60x4-{size['width']}.png")
    finally:
        context.close()


def test_thrashing_and_working_set_presets(browser_page):
    page = browser_page
    page.set_viewport_size(PROJECTOR)
    page.goto("/teach/?preset=thrashing")
    page.wait_for_selector("#thrash-curve .main-svg")
    page.screenshot(path="/tmp/teach-thrashing-1280.png", full_page=True)
    page.goto("/teach/?preset=working-set&step=12")
    assert "τ = 4" in page.locator("#preset-note").inner_text()
    page.screenshot(path="/tmp/teach-ws-1280.png", full_page=True)
