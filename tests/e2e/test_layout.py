"""The lab as `make run` serves it, in a real browser and over plain HTTP: every page fits a
390 px phone (no sideways scrolling, a compact header) and a 1280x720 projector; a missing page
is the lab's 404, never Django's debug page; static files come compressed, hashed and cached."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .test_traces_e2e import sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1280, "height": 720}


def _get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as exc:
        return exc


def test_a_missing_page_is_the_lab_s_404_not_a_debug_page(lab):
    response = _get(lab.url + "/runs/987654/")
    assert response.status == 404
    html = response.read().decode()
    assert "Nothing here" in html
    assert "URLconf" not in html and "Traceback" not in html and "DEBUG = True" not in html


def test_static_files_are_hashed_compressed_and_cached_for_long(lab):
    html = _get(lab.url + "/").read().decode()
    css = re.search(r'href="(/static/css/lab\.[0-9a-f]{12}\.css)"', html)
    htmx = re.search(r'src="(/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js)"', html)
    assert css and htmx, html[:2000]
    assert "plotly" not in html  # no chart on the home page
    plotly = lab.manage("shell", "-c", "from django.templatetags.static import static; "
                        "print(static('vendor/plotly.min.js'))").strip().splitlines()[-1]
    assert re.fullmatch(r"/static/vendor/plotly\.min\.[0-9a-f]{12}\.js", plotly), plotly
    for path in (css.group(1), htmx.group(1), plotly):
        response = _get(lab.url + path, {"Accept-Encoding": "gzip"})
        assert response.status == 200, path
        assert response.headers["Content-Encoding"] == "gzip", path
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache)[1]) >= 31536000
        body = response.read()
        if path == plotly:
            assert len(body) < 2_000_000  # 4.8 MB as sent before
            assert gzip.decompress(body).startswith(b"/**\n* plotly.js v")


def _pages_of_a_busy_user(page) -> list[str]:
    """Sign up, make one of everything, and return the pages to look at."""
    sign_up(page, next_url="/")
    page.wait_for_selector(".site-account button:has-text('Sign out')")
    page.click("#preset-thrashing button:has-text('Start')")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    run = page.url
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'finished'",
                           timeout=60_000)
    page.goto("/")
    page.click("#preset-belady button:has-text('Start')")
    page.wait_for_url(re.compile(r"/runs/\d+/$"))
    comparison = page.url
    page.keyboard.press("+")  # faster than two accesses a second
    page.keyboard.press("+")
    page.wait_for_function("document.getElementById('run-root').dataset.status === 'finished'",
                           timeout=60_000)

    sample = REPO / "fixtures" / "traces" / "zipf-5k.csv"
    page.goto("/traces/upload/")
    page.set_input_files("#id_file", files=[
        {"name": sample.name, "mimeType": "text/plain", "buffer": sample.read_bytes()}])
    page.fill("#id_name", "a trace with a rather long name that might widen a narrow page")
    page.get_by_role("button", name="Upload and validate").click()
    page.wait_for_url(re.compile(r".*/traces/\d+/$"))
    trace = page.url

    page.goto("/chat/")
    page.select_option("#id_script", "long_chat.jsonl")
    page.check("#script-form input[name=provider][value=scripted]")
    page.click("#run-script")
    page.wait_for_url(re.compile(r"/chat/\d+/$"))
    chat = page.url
    page.wait_for_selector("#chat-root[data-status='finished']", state="attached",
                           timeout=60_000)
    return ["/", "/runs/", run, comparison, "/runs/new/", "/compare/new/", "/traces/", trace,
            "/chat/", chat, "/api/", "/accounts/tokens/", "/teach/?preset=belady&step=6",
            "/no/such/page/"]


def _overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def _header_height(page) -> float:
    return page.evaluate(
        "() => document.querySelector('.site-header').getBoundingClientRect().height")


def test_every_page_fits_a_phone_and_a_projector(browser, lab, screenshot_dir):
    context = browser.new_context(base_url=lab.url, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        urls = _pages_of_a_busy_user(page)
        for size, header_rows_px in ((PHONE, 110), (PROJECTOR, 75)):
            page.set_viewport_size(size)
            for url in urls:
                page.goto(url)
                page.wait_for_load_state("load")
                if "/runs/" in url and url[-2].isdigit():
                    page.wait_for_function(
                        "document.getElementById('run-root').dataset.ready === '1'")
                name = re.sub(r"\W+", "-", url.replace(lab.url, "")).strip("-") or "home"
                page.screenshot(path=screenshot_dir / f"layout-{size['width']}-{name}.png",
                                full_page=True)
                assert _overflow(page) <= 0, f"{url} scrolls sideways at {size['width']} px"
                height = _header_height(page)
                assert height <= header_rows_px, f"{url}: header {height:.0f} px high"
    finally:
        context.close()
