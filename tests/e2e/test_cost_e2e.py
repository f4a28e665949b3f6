"""The cost of a chat in a real browser (Chromium + Playwright, a real Daphne server, the
embedded SmolLM2): a chat with a pricing profile shows its cost panel updating after each turn
and a cache break once an eviction happens; the cost-vs-recall page renders its table and
chart (docs/cost.md §5-§6)."""

from __future__ import annotations

import itertools
import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "a-long-enough-pass-phrase-42"
MODEL_TIMEOUT = 150_000  # ms: the model may stall on a busy machine; no speed asserts
_users = itertools.count(1)
TOPICS = ("lighthouses", "sourdough", "railways", "tides", "cellos")


def _sign_up(page) -> None:
    page.goto("/accounts/signup/?next=/chat/")
    page.fill("#id_username", f"cost-user-{next(_users)}")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/chat/")


def _counter(page, counter_id: str) -> int:
    text = page.locator(f"#{counter_id} .counter-value").inner_text()
    return int(re.sub(r"\D", "", text) or 0)


def _message(topic: str) -> str:
    # long enough that the third turn no longer fits a 512-token window: an eviction
    return " ".join(f"Here is fact {k} about {topic}: they matter to me and I like them."
                    for k in range(8))


def test_the_cost_panel_follows_each_turn_and_shows_a_cache_break(browser_page,
                                                                   screenshot_dir):
    pytest.importorskip("xllamacpp")
    from playwright.sync_api import expect

    from simulator.llm.embedded import model_path
    from simulator.llm.providers import ProviderError

    try:
        model_path()
    except ProviderError as exc:
        pytest.skip(exc.message)
    page = browser_page
    _sign_up(page)
    page.check("input[name=provider][value=embedded]")
    page.fill("#id_title", "Priced chat")
    page.fill("#id_context_window", "512")
    page.fill("#id_page_size", "48")
    page.fill("#id_max_tokens", "16")
    page.select_option("#id_pricing", "gpt-4.1")
    page.click("#start-chat")
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("#chat-root[data-ready='1']")).to_be_attached()
    panel = page.locator("#cost-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#cost-breaks")).to_contain_text("none yet")

    box = page.locator("#message-input")
    usd = []
    for turn, topic in enumerate(TOPICS, 1):
        box.fill(_message(topic))
        box.press("Enter")
        expect(page.locator("li.msg.assistant, li.msg.error")).to_have_count(
            turn, timeout=MODEL_TIMEOUT)
        expect(page.locator("#chat-root")).to_have_attribute("data-status", "idle")
        expect(page.locator("#cost-last-turn")).to_have_text(f"(turn {turn})")
        usd.append(page.locator("#cost-usd").inner_text())
        if _counter(page, "c-evictions") and _counter(page, "cost-breaks-count"):
            break
    assert page.locator("li.msg.error").count() == 0
    # each turn's bill added to the total, and an eviction broke the cache, with its cause
    assert len(set(usd)) == len(usd), usd
    assert _counter(page, "c-evictions") > 0
    assert _counter(page, "cost-breaks-count") > 0
    expect(page.locator("#cost-breaks li.cost-break").first).to_contain_text("turn")
    causes = page.locator("#cost-breaks .cost-break .tag").all_inner_texts()
    assert set(causes) & {"evicted", "updated", "inserted", "compacted"}, causes
    page.screenshot(path=screenshot_dir / "chat-cost-panel.png", full_page=True)

    # a reload shows the same panel, from the stored snapshot
    total = page.locator("#cost-usd").inner_text()
    page.reload()
    expect(page.locator("#chat-root[data-ready='1']")).to_be_attached()
    expect(page.locator("#cost-usd")).to_have_text(total)


def test_the_cost_vs_recall_page_renders(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    _sign_up(page)
    page.click("#compare-link")
    page.wait_for_url("**/chat/compare/")
    page.select_option("#id_source", "synthetic")
    page.fill("#id_turns", "40")
    page.fill("#id_context_windows", "3072")
    for preset in ("letta", "cacheaware"):
        page.uncheck(f"input[name=presets][value={preset}]")
    page.uncheck("input[name=pricing][value='claude-sonnet-4.5']")
    page.click("#compare-button")
    expect(page.locator("#compare-table tbody tr")).to_have_count(2, timeout=120_000)
    expect(page.locator("#compare-chart[data-ready='1']")).to_be_attached()
    expect(page.locator("#compare-chart .main-svg").first).to_be_attached()
    expect(page.locator("#compare-result-card")).to_contain_text("Open-loop replay")
    assert page.locator("#compare-table tr.best").count() == 1
    page.screenshot(path=screenshot_dir / "cost-vs-recall.png", full_page=True)


def test_ones_own_pricing_profile_is_written_corrected_and_offered(browser_page,
                                                                    screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    _sign_up(page)
    page.click("#pricing-link")
    page.wait_for_url("**/chat/pricing/")
    profile = ('name = "my-cheap"\nprovider = "example"\nmodel = "cheap-1"\n\n'
               "[prices]\ninput = -1\noutput = 2\n")
    page.fill("#id_text", profile)
    page.click("#pricing-form button[type=submit]")
    expect(page.locator(".form-errors")).to_contain_text("prices.input")
    page.fill("#id_text", profile.replace("input = -1", "input = 0.5"))
    page.click("#pricing-form button[type=submit]")
    expect(page.locator("#pricing-profiles")).to_contain_text("my-cheap")
    page.screenshot(path=screenshot_dir / "pricing-profiles.png", full_page=True)
    page.goto("/chat/")
    own = page.locator("#id_pricing option[value='my-cheap']")
    expect(own).to_have_count(2)  # the chat form's and the script form's
    expect(own.first).to_have_text("my-cheap (yours)")
