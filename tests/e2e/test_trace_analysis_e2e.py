"""A real trace's analysis in a real browser (Chromium + Playwright, Daphne): upload the shared
block-I/O trace Zstandard-compressed, see the seven charts drawn with the Zipf alpha, download a
chart's CSV; upload a headerless TSV with a column layout, with its error shown first."""

from __future__ import annotations

import re

import pytest
import zstandard

from tests.engine.conftest import shared_trace_candidates

from .test_traces_e2e import sign_up

pytestmark = pytest.mark.e2e

CHARTS = ("stack_distance", "reuse_distance", "popularity", "working_set", "request_rate",
          "heatmap", "sizes")


def test_analysis_charts_of_a_real_zstd_trace(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    path = next((p for p in shared_trace_candidates("cloudPhysicsIO.plain.csv")
                 if p.is_file()), None)
    if path is None:
        pytest.skip("the shared trace cloudPhysicsIO.plain.csv is not here")
    page = browser_page
    sign_up(page)
    page.goto("/traces/upload/")
    page.set_input_files("#id_file", files=[{
        "name": "cloudPhysicsIO.csv.zst", "mimeType": "application/zstd",
        "buffer": zstandard.ZstdCompressor().compress(path.read_bytes())}])
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_load_state()
    assert re.search(r"/traces/\d+/$", page.url), page.locator("main").inner_text()[:2000]
    expect(page.locator('[data-stat="requests"]')).to_have_text("113,872")
    expect(page.locator("main")).to_contain_text("zstd-compressed")
    for chart in CHARTS:
        expect(page.locator(f'#chart-{chart}[data-ready="1"]')).to_be_attached(timeout=60_000)
    expect(page.locator('[data-analysis="Zipf \u03b1"]')).to_have_text(re.compile(r"^0\.\d{3} "))
    expect(page.locator('[data-analysis="Footprint (pages)"]')).to_have_text("48,974")
    expect(page.locator("#chart-heatmap .hm")).to_be_attached()
    for width in (1360, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert_full_rows_and_unbroken_figures(page)
    # the stack-distance buckets (18) stand upright rather than slant into each other
    angles = page.evaluate("document.getElementById('chart-stack_distance').layout.xaxis"
                           ".tickangle")
    assert angles == -90
    # the popularity chart's log axes (4-5 decades) label the powers of ten only: the 2s and
    # 5s between them crowded each other at half width
    for axis in ("xtick", "ytick"):
        labels = page.eval_on_selector_all(f"#chart-popularity .{axis} text",
                                           "nodes => nodes.map(n => n.textContent)")
        assert len(labels) >= 3 and set(labels) <= {"1", "10", "100", "1000", "10k", "100k"}
    page.screenshot(path=screenshot_dir / "trace-analysis.png", full_page=True)
    with page.expect_download() as info:
        page.locator("#figure-popularity a.lib-csv").click()
    lines = open(info.value.path()).read().splitlines()  # noqa: SIM115
    assert lines[0] == "rank,frequency" and lines[1].startswith("1,")


def assert_full_rows_and_unbroken_figures(page) -> None:
    """The trace's eight figures and its analysis's four fill their rows (no card alone on a
    last row) and no figure breaks across lines (a 13-digit token count did in 8 columns)."""
    for selector in ("#trace-stats", "#analysis-numbers"):
        rows = page.evaluate("""sel => {
            const tops = {};
            for (const card of document.querySelectorAll(sel + ' .lib-stat')) {
                const top = Math.round(card.getBoundingClientRect().top);
                tops[top] = (tops[top] || 0) + 1;
            }
            return Object.values(tops);
        }""", selector)
        assert len(set(rows)) == 1, (selector, rows)
    broken = page.evaluate("""() => [...document.querySelectorAll('.lib-stat dd')].filter(dd => {
            const text = dd.firstChild, range = document.createRange();
            range.selectNodeContents(text);
            return range.getClientRects().length > 1;
        }).map(dd => dd.textContent)""")
    assert broken == [], broken


def test_upload_a_headerless_tsv_with_a_column_layout(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    body = "".join(f"{k}\tGET\t{k % 7}\t{1 + k % 3}\n" for k in range(100)).encode()
    page.goto("/traces/upload/")
    page.set_input_files("#id_file", files=[
        {"name": "kv.tsv", "mimeType": "text/plain", "buffer": body}])
    page.fill("#id_columns", "time=1,page_id=key")
    page.select_option("#id_delimiter", "tab")
    page.check("#id_no_header")
    page.get_by_role("button", name="Upload and validate").click()
    expect(page.locator("#upload-errors")).to_contain_text("only when the file has a header")
    page.set_input_files("#id_file", files=[
        {"name": "kv.tsv", "mimeType": "text/plain", "buffer": body}])
    page.fill("#id_columns", "time=1,page_id=3,size=4")
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    expect(page.locator('[data-stat="requests"]')).to_have_text("100")
    expect(page.locator('[data-stat="distinct_pages"]')).to_have_text("7")
    expect(page.locator("main")).to_contain_text("delimiter tab; no header")
