"""Chat sessions in a real browser (Chromium + Playwright) against a real Daphne server: start a
chat with the embedded SmolLM2, send a message with Enter, watch L0 list the new pages, reload;
see an answer cut at the token limit marked and a message too long for the context refused;
play a scripted session and see its recall success beside its answers with the fact; replay it
in the simulator (open-loop)."""

from __future__ import annotations

import itertools
import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "a-long-enough-pass-phrase-42"
MODEL_TIMEOUT = 150_000  # ms: the model may stall on a busy machine; no speed asserts
_users = itertools.count(1)


def _sign_up(page) -> str:
    username = f"chat-user-{next(_users)}"
    page.goto("/accounts/signup/?next=/chat/")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/chat/")
    return username


def _l0_pages(page) -> list[str]:
    return page.eval_on_selector_all("#l0-pages tr", "rows => rows.map(r => r.dataset.page)")


def test_chat_with_the_embedded_model_then_a_scripted_session(browser_page, screenshot_dir):
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
    page.screenshot(path=screenshot_dir / "chat-list.png", full_page=True)

    # --- a live chat with the embedded model ------------------------------------------------
    page.check("input[name=provider][value=embedded]")
    page.fill("#id_title", "Cat facts")
    page.fill("#id_context_window", "1024")
    page.fill("#id_page_size", "48")
    page.fill("#id_max_tokens", "32")
    page.click("#start-chat")
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("#chat-root[data-ready='1']")).to_be_attached()
    expect(page.locator("#conn")).to_have_text("live")
    assert _l0_pages(page) == ["system:prompt"]
    expect(page.locator("#tokenizer")).to_contain_text("SmolLM2")

    box = page.locator("#message-input")
    box.fill("My cat is called Miso")
    box.press("Shift+Enter")  # a new line, not a send
    box.type("and she loves tuna.")
    assert page.locator("li.msg").count() == 0
    box.press("Enter")
    expect(page.locator("li.msg.user")).to_have_count(1)
    page.screenshot(path=screenshot_dir / "chat-thinking.png")  # usually still thinking
    expect(page.locator("li.msg.user .msg-text")).to_have_text(
        "My cat is called Miso\nand she loves tuna.")
    answer = page.locator("li.msg.assistant, li.msg.error")
    expect(answer).to_have_count(1, timeout=MODEL_TIMEOUT)
    expect(page.locator("li.msg.assistant")).to_have_count(1)  # a real answer, no error
    expect(page.locator("#chat-root")).to_have_attribute("data-status", "idle")
    pages = _l0_pages(page)
    assert "message:t001-user" in pages and any(p.startswith("message:t001-assistant")
                                                for p in pages), pages
    expect(page.locator("#l0-pages tr.fresh").first).to_be_visible()
    expect(page.locator("#budget-text")).to_contain_text("of")
    page.screenshot(path=screenshot_dir / "chat-live.png", full_page=True)

    page.reload()  # the session comes back from the database
    expect(page.locator("#chat-root[data-ready='1']")).to_be_attached()
    expect(page.locator("li.msg")).to_have_count(2)
    assert _l0_pages(page) == pages

    # --- an answer that stopped at the token limit says so ------------------------------------
    box.fill("List twenty animals, one per line.")
    box.press("Enter")
    expect(page.locator("li.msg.assistant, li.msg.error")).to_have_count(2,
                                                                       timeout=MODEL_TIMEOUT)
    cut = page.locator("li.msg.assistant").nth(1)
    expect(cut).to_have_class(re.compile(r"\btruncated\b"))
    expect(cut.locator(".msg-meta .cut")).to_have_text("cut off at the 32-token limit")
    expect(cut.locator(".msg-cut")).to_have_text("…")
    page.screenshot(path=screenshot_dir / "chat-cut-off.png", full_page=True)

    # --- a message too long for the context: refused with the sizes, nothing lost -------------
    expect(page.locator("#chat-root")).to_have_attribute("data-status", "idle")
    box.fill("word " * 1200)
    box.press("Enter")
    refused = page.locator("li.msg.error")
    expect(refused).to_have_count(1, timeout=MODEL_TIMEOUT)
    expect(refused.locator(".msg-kind")).to_have_text("the message is too long for the context")
    expect(refused.locator(".msg-text")).to_contain_text("context budget of 832 tokens")
    expect(page.locator("#chat-root")).to_have_attribute("data-status", "idle")
    expect(page.locator("li.msg.user")).to_have_count(3)  # kept in the transcript
    page.screenshot(path=screenshot_dir / "chat-too-long.png", full_page=True)

    # --- a scripted session with recall probes -----------------------------------------------
    page.goto("/chat/")
    page.select_option("#id_script", "long_chat.jsonl")
    page.check("#script-form input[name=provider][value=scripted]")
    page.select_option("#script-form #id_preset", "chuk")
    page.click("#run-script")
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    expect(page.locator("#chat-root")).to_have_attribute("data-status", "finished",
                                                         timeout=60_000)
    recall = page.locator("#recall-success .counter-value")
    expect(recall).to_have_text(re.compile(r"^\d+ %$"))
    # what the memory did and what the model did, said plainly and with the same weight
    answers = page.locator("#answer-hits .counter-value")
    expect(answers).to_have_text(re.compile(r"^\d+ %$"))
    expect(page.locator("#recall-success .counter-note")).to_contain_text(
        "in the context when the model was called")
    expect(page.locator("#answer-hits .counter-note")).to_contain_text(
        "contained the expected text")
    style = "e => [getComputedStyle(e).fontSize, getComputedStyle(e).color]"
    assert (page.eval_on_selector("#recall-success .counter-value", style)
            == page.eval_on_selector("#answer-hits .counter-value", style))
    expect(page.locator("#progress-text")).to_have_text("21 of 21 turns")
    assert page.locator("li.msg.user").count() == 21
    assert page.locator(".msg-meta .ok, .msg-meta .miss").count() == 5  # the probe turns
    page.screenshot(path=screenshot_dir / "chat-script.png", full_page=True)

    # --- replay under other policies (open-loop) ----------------------------------------------
    page.click("#replay-button")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    expect(page.locator("h1")).to_contain_text("Open-loop replay of chat")
    expect(page.locator("#run-root")).to_have_attribute("data-status", "finished",
                                                        timeout=60_000)
    page.screenshot(path=screenshot_dir / "chat-replay.png", full_page=True)

    page.goto("/chat/")  # both sessions listed, with their figures
    rows = page.locator("#chat-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(re.compile(r"\d+ %"))
    page.screenshot(path=screenshot_dir / "chat-list-sessions.png", full_page=True)
