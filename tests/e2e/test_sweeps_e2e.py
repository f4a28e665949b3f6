"""A sweep in a real browser: choose a trace, policies and sizes, watch the curves and the gap
to OPT drawn as the cells finish on the server's process pool, export the CSV."""

from __future__ import annotations

import re

import pytest

from .test_traces_e2e import sign_up, upload

pytestmark = pytest.mark.e2e


def trace_boxes(page, name: str):
    """The form's checkboxes of the traces named ``name`` (a policy label may contain it)."""
    return page.locator('label:has(input[name="traces"])').filter(has_text=name).locator("input")

def start_sweep(page, trace: str, policies: tuple[str, ...], sizes: str | None = None,
                axis: tuple[str, str] | None = None, more=None) -> None:
    """Start a sweep from the form: the traces named ``trace``, exactly ``policies``, the
    ``sizes`` (else the form's), an ``axis`` (parameter, values); ``more(page)`` fills in
    anything else."""
    page.goto("/sweeps/new/")
    for box in trace_boxes(page, trace).all():
        box.check()
    for box in page.locator('input[name="policies"]').all():
        box.uncheck()
    for policy in policies:
        page.locator(f'input[name="policies"][value="{policy}"]').check()
    if sizes is not None:
        page.fill("#id_sizes", sizes)
    if axis is not None:
        page.select_option("#id_axis_param", axis[0])
        page.fill("#id_axis_values", axis[1])
    if more is not None:
        more(page)
    page.get_by_role("button", name="Start the sweep").click()
    page.wait_for_url(re.compile(r".*/sweeps/\d+/$"))


# Belady's anomaly: FIFO 9 misses with 3 frames, 10 with 4
BELADY = b"1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"


def test_a_sweep_fills_in_its_curves(browser_page, screenshot_dir):
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    upload(page, "belady", "belady.txt", BELADY * 50)
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    start_sweep(page, "belady", ("lru", "fifo", "arc", "s3fifo", "sieve", "opt"),
                sizes="1, 2, 3, 4, 5")
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


def test_a_sampled_sweep_with_an_axis_shows_estimates(browser_page, screenshot_dir):
    """Sizes relative to the trace, S3-FIFO's small queue as an axis, pages sampled: one curve
    per value, hollow points with error bars, the note, and no empty gap chart without OPT."""
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    text = "".join(f"{(k * 7919) % 4001 if k % 4 else k % 50}\n" for k in range(30_000))
    upload(page, "wide", "wide.txt", text.encode())
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))

    def relative_and_sampled(page) -> None:
        page.locator('input[name="sizes_mode"][value="relative"]').check()
        page.fill("#id_log_count", "3")
        page.fill("#id_low_percent", "25")
        page.fill("#id_sample", "0.05")

    start_sweep(page, "wide", ("s3fifo",), axis=("small_ratio", "0.1, 0.3"),
                more=relative_and_sampled)
    expect(page.locator("#sweep-progress")).to_have_text("6 of 6 cells done.", timeout=90_000)
    expect(page.locator("#sweep-curves .scatterlayer .trace")).to_have_count(2)
    expect(page.locator("#sweep-curves .legendtext").first).to_have_text(
        "S3-FIFO · small_ratio 0.1")
    expect(page.locator("#sweep-curves .errorbar").first).to_be_attached()
    expect(page.locator("[data-note]").first).to_contain_text("Sampled: pages are sampled")
    expect(page.locator("#sweep-gap")).to_be_hidden()
    expect(page.locator("#sweep-gap-none")).to_be_visible()
    page.screenshot(path=screenshot_dir / "sweep-sampled.png", full_page=True)


def test_legend_names_are_text_and_failed_cells_say_why(browser_page, lab, screenshot_dir):
    """Two traces named alike with markup: the legend shows the names as typed, told apart by
    their ids. A trace whose file is gone: the page says why its cells failed, with no path
    of the server."""
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    name = "<b>twin</b>"
    for _ in range(2):
        upload(page, name, "twin.txt", BELADY)
        page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    start_sweep(page, name, ("lru",), sizes="3")
    expect(page.locator("#sweep-progress")).to_have_text("2 of 2 cells done.", timeout=90_000)
    legend = page.locator("#sweep-curves .legendtext")
    expect(legend).to_have_count(2)
    for k in range(2):
        expect(legend.nth(k)).to_have_text(re.compile(r"^<b>twin</b> #\d+ · LRU$"))
    expect(page.locator("#sweep-failures-figure")).to_be_hidden()

    upload(page, "gone", "gone.txt", BELADY)
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    newest = max((lab.data_dir / "traces").iterdir(), key=lambda p: p.stat().st_mtime)
    newest.unlink()
    start_sweep(page, "gone", ("lru", "fifo"), sizes="3, 4")
    expect(page.locator("#sweep-progress")).to_contain_text("4 failed", timeout=90_000)
    failures = page.locator("#sweep-failures li")
    expect(failures).to_have_count(1)
    expect(failures).to_contain_text("no such trace file")
    expect(failures).to_contain_text("4 cells")
    assert str(lab.data_dir) not in failures.inner_text()
    page.screenshot(path=screenshot_dir / "sweep-failed.png", full_page=True)


def test_a_slow_sweep_names_its_cells_under_way_and_cancels(browser_page, screenshot_dir):
    """Aging with a clock period as long as the trace: each cell takes half a minute, so the
    page names the cells under way and for how long; Cancel stops them within seconds."""
    from playwright.sync_api import expect

    page = browser_page
    sign_up(page)
    text = "".join(f"{(k * 7919) % 20_000}\n" for k in range(60_000))
    upload(page, "slow", "slow.txt", text.encode())
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    # LRU's cells are done at once, aging's take long
    start_sweep(page, "slow", ("lru", "aging"), sizes="3000, 3100",
                axis=("period", "1000000, 2000000"))
    under_way = page.locator("#sweep-running")
    expect(under_way).to_have_text(re.compile(
        "^Running now: slow · Aging · period \\d+ at 3,[01]00 pages for [1-9]\\d*\u00a0s"),
        timeout=30_000)
    expect(page.locator("#sweep-progress")).to_have_text(re.compile("^2 of 6 cells done"))
    page.screenshot(path=screenshot_dir / "sweep-running.png", full_page=True)
    # a zoom outlives the page's redraws while the cells run (it polls every second)
    page.evaluate("Plotly.relayout('sweep-curves', {'xaxis.range': [3.47, 3.5]})")
    page.wait_for_timeout(2_500)
    assert page.evaluate("document.getElementById('sweep-curves').layout.xaxis.range") == [
        3.47, 3.5]
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#cancel-sweep").click()
    expect(page.locator("#sweep-progress")).to_contain_text("cancelled", timeout=20_000)
    expect(under_way).to_be_hidden()


def test_on_a_phone_sizes_over_decades_are_labelled_at_powers_of_ten(browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    sign_up(page)
    upload(page, "decades", "decades.txt", BELADY)
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    start_sweep(page, "decades", ("lru",), sizes="1, 3, 10, 30, 100, 300, 1000")
    expect(page.locator("#sweep-progress")).to_have_text("7 of 7 cells done.", timeout=90_000)
    labels = page.eval_on_selector_all("#sweep-curves .xtick text",
                                       "nodes => nodes.map(n => n.textContent)")
    assert labels == ["1", "10", "100", "1000"]
