"""The trace library in a real browser (Chromium + Playwright) against a real Daphne server:
sign up, upload a trace, see its statistics and histogram, get line-numbered errors, replay."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "fixtures" / "traces" / "zipf-5k.csv"
PASSWORD = "a-long-enough-pass-phrase-42"
_users = itertools.count(1)


def sign_up(page, next_url: str = "/traces/upload/", screenshot: Path | None = None) -> str:
    username = f"e2e-user-{next(_users)}"
    page.goto(f"/accounts/signup/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    if screenshot is not None:
        page.screenshot(path=screenshot, full_page=True)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"**{next_url}")
    return username


def upload(page, name: str, filename: str, content: bytes) -> None:
    page.goto("/traces/upload/")
    page.set_input_files("#id_file", files=[
        {"name": filename, "mimeType": "text/plain", "buffer": content}])
    page.fill("#id_name", name)
    page.get_by_role("button", name="Upload and validate").click()


def test_sign_up_upload_and_see_statistics_and_errors(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page, screenshot=screenshot_dir / "signup.png")
    page.screenshot(path=screenshot_dir / "upload-form.png", full_page=True)

    upload(page, "e2e zipf", SAMPLE.name, SAMPLE.read_bytes())
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    expect(page.locator("#trace-name")).to_have_text("e2e zipf")
    expect(page.locator('[data-stat="requests"]')).to_have_text("5,000")
    expect(page.locator('[data-stat="distinct_pages"]')).not_to_have_text("0")
    # analysed as it was stored (a small trace): the stack-distance histogram is drawn once,
    # by the analysis, one bar per bin (cold, 0, 1, 2-3, ...)
    expect(page.locator('#chart-stack_distance[data-ready="1"]')).to_be_attached()
    expect(page.locator("#reuse-chart")).to_have_count(0)
    bars = page.locator("#chart-stack_distance .bars .point")
    expect(bars.first).to_be_visible()
    assert bars.count() >= 6
    page.screenshot(path=screenshot_dir / "trace-detail.png", full_page=True)
    detail_url = page.url

    upload(page, "broken", "broken.csv", b"page_id,tokens\n1,5\n# a comment\n2,-3\n")
    errors = page.locator("#upload-errors")
    expect(errors).to_contain_text(
        "line 4, field 'tokens': expected a positive integer, got '-3'")
    expect(errors).to_contain_text("The trace was not stored.")
    page.screenshot(path=screenshot_dir / "upload-error.png", full_page=True)

    page.goto("/traces/")
    table = page.locator("#trace-table")
    expect(table).to_contain_text("e2e zipf")
    expect(table).not_to_contain_text("broken")
    page.screenshot(path=screenshot_dir / "trace-list.png", full_page=True)

    page.emulate_media(color_scheme="dark")  # the chart takes its colours from the page
    page.goto(detail_url)
    expect(page.locator('#chart-stack_distance[data-ready="1"]')).to_be_attached()
    page.screenshot(path=screenshot_dir / "trace-detail-dark.png", full_page=True)


def test_tokens_page_shows_a_token_once_and_revokes_it(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page, next_url="/accounts/tokens/")
    page.fill("#id_name", "e2e script")
    page.get_by_role("button", name="Create token").click()
    token = page.locator('[data-testid="new-token"]').inner_text()
    assert token.startswith("vmem_")
    page.screenshot(path=screenshot_dir / "tokens.png", full_page=True)
    response = page.request.get("/api/traces/", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    page.goto("/accounts/tokens/")
    expect(page.locator("body")).not_to_contain_text(token)
    page.get_by_role("button", name="Revoke e2e script").click()
    expect(page.locator("body")).to_contain_text("Token revoked")
    context = page.context.browser.new_context(base_url=page.url.split("/accounts")[0])
    try:  # a fresh context: no session cookie, only the (revoked) token
        gone = context.request.get("/api/traces/", headers={"Authorization": f"Bearer {token}"})
        assert gone.status == 401
    finally:
        context.close()
    page.goto("/api/")
    expect(page.locator("body")).to_contain_text("/api/traces/{trace_id}/")
    page.screenshot(path=screenshot_dir / "api-docs.png", full_page=True)


def test_replay_link_prefills_the_run_form(browser_page, live_server_url):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    if page.request.get("/runs/new/").status == 404:
        pytest.skip("the run form (/runs/new/) does not exist yet")
    upload(page, "to replay", "loop.txt", b"1\n2\n3\n1\n2\n3\n")
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    trace_id = page.url.rstrip("/").rsplit("/", 1)[1]
    page.locator("#replay-link").click()
    page.wait_for_url(f"**/runs/new/?trace={trace_id}")
    trace_select = page.locator("select[name='trace']")
    expect(trace_select).to_have_value(trace_id)
    values = trace_select.evaluate("el => Object.fromEntries(new FormData(el.form))")
    assert values.get("source") == "trace", values
