"""Shared fixtures of the browser tests (tests/e2e): one real Daphne server per test session
and a Chromium page per test. Every e2e test uses these (servers.LabServer is the one way to
start a server; the Celery test and the benchmark start their own with other settings).

``lab`` (session): a :class:`~tests.e2e.servers.LabServer` — ``daphne
vmemsite.asgi:application`` on a free 127.0.0.1 port with ``vmemsite.settings.dev`` (as
``make run``: no debug pages, static files collected, hashed and compressed), a fresh SQLite
database migrated in a temporary folder and ``VMEM_DATA_DIR`` there (the embedded default: no
Redis, LocalRunner). ``lab.manage(...)`` runs management commands against it;
its output is in ``<folder>/daphne.log``, shown if it fails to start.
``live_server_url`` (session): ``lab.url``.

``browser`` (session; ``_browser`` is the same): Debian's chromium (``/usr/bin/chromium``,
installed by ``make browser``) driven by Playwright, headless. Tests are skipped, with the
reason, when chromium or Playwright is absent.

``browser_page`` (per test): a new browser context and page with ``base_url`` = the live
server; the test fails if the page raised a JavaScript error.

``screenshot_dir`` (session): where tests save screenshots (``$VMEM_E2E_SCREENSHOTS`` or
``$VMEM_SCREENSHOTS``, else a temporary folder).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .servers import CHROMIUM, CHROMIUM_ARGS, LabServer

VIEWPORT = {"width": 1360, "height": 900}


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    server = LabServer(tmp_path_factory.mktemp("e2e-server"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_server_url(lab: LabServer) -> str:
    return lab.url


@pytest.fixture(scope="session")
def _browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser(_browser) -> object:
    return _browser


@pytest.fixture
def browser_page(_browser, live_server_url: str) -> Iterator[object]:
    context = _browser.new_context(base_url=live_server_url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("VMEM_E2E_SCREENSHOTS") or os.environ.get("VMEM_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
