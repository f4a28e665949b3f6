"""A sweep in a real browser: choose a trace, policies and sizes, watch the curves and the gap
to OPT drawn as the cells finish on the server's process pool, export the CSV."""

from __future__ import annotations

import re

import pytest

from .test_traces_e2e import sign_up, upload

pytestmark = pytest.mark.e2e

# Belady's anomaly: FIFO 9 misses with 3 frames, 10 with 4
BELADY = b"1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"


def test_a_sweep_fills_in_its_curves(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    upload(page, "belady", "belady.txt", BELADY * 50)
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    page.goto("/sweeps/new/")
    page.get_by_label("belady").check()
    for policy in ("lru", "fifo", "arc", "s3fifo", "sieve", "opt"):
        page.locator(f'input[name="policies"][value="{policy}"]').check()
    page.fill("#id_sizes", "1, 2, 3, 4, 5")
    page.get_by_role("button", name="Start the sweep").click()
    page.wait_for_url(re.compile(r".*/sweeps/\d+/$"))
    expect(page.locator("#sweep-progress")).to_have_text("30 of 30 cells done.", timeout=90_000)
    expect(page.locator('#sweep-curves[data-points="30"]')).to_be_attached()
    expect(page.locator("#sweep-curves .scatterlayer .trace")).to_have_count(6)
    expect(page.locator("#sweep-gap .scatterlayer .trace")).to_have_count(5)
    # a finished sweep with no failed cell offers neither Cancel nor a re-run
    expect(page.locator("#cancel-sweep")).to_be_hidden()
    expect(page.locator("#retry-failed")).to_be_hidden()
    page.screenshot(path=screenshot_dir / "sweep.png", full_page=True)
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    with open(info.value.path()) as handle:
        rows = handle.read().splitlines()
    assert rows[0].startswith("trace_id,trace,policy,size_pages") and len(rows) == 31
