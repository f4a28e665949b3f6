"""Shared fixtures of the browser tests (tests/e2e): a real Daphne server and a Chromium page.

``live_server_url`` (session): migrates a fresh SQLite database in a temporary folder, then
starts ``daphne vmemsite.asgi:application`` on a free 127.0.0.1 port with
``DJANGO_SETTINGS_MODULE=vmemsite.settings.dev``, ``VMEM_DATA_DIR`` and ``DATABASE_URL``
pointing into that folder (the embedded default: no Redis). The server's output is in
``<folder>/daphne.log``, shown if it fails to start.

``browser_page`` (per test): a new browser context and page of Debian's chromium
(``/usr/bin/chromium``, installed by ``make browser``) driven by Playwright, headless, with
``base_url`` = the live server. Tests are skipped, with the reason, when chromium is absent.

``screenshot_dir``: where tests save screenshots (``$VMEM_E2E_SCREENSHOTS`` or a temporary
folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="vmemsite.settings.dev",
        VMEM_DATA_DIR=str(root / "data"),
        DATABASE_URL=f"sqlite:///{root / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def live_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("e2e-server")
    env = _server_env(root)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = root / "daphne.log"
    daphne = Path(sys.executable).with_name("daphne")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(port), "vmemsite.asgi:application"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(f"daphne exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url + "/accounts/login/", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"daphne did not answer within {START_TIMEOUT:.0f} s:\n"
                            f"{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def _browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(_browser, live_server_url: str) -> Iterator[object]:
    context = _browser.new_context(base_url=live_server_url,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("VMEM_E2E_SCREENSHOTS")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
