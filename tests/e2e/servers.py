"""The one way tests and benchmarks start a real lab server: :class:`LabServer`, Daphne in a
subprocess on a free 127.0.0.1 port, with its own data folder (a temporary SQLite database,
migrated first) or the database and Redis given in ``env``.

The browser tests share one per session (``lab`` / ``live_server_url`` in
tests/e2e/conftest.py); the Celery test and bench/stream.py start their own with other
settings."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None,
                  ) -> None:
    """Until ``url`` answers 200 (Django is loaded, not only the port open)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def reachable(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


class LabServer:
    """``with LabServer(tmp_path) as lab:`` → ``lab.url``; ``lab.manage("shell", "-c", ...)``."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None,
                 settings: str = "vmemsite.settings.dev") -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")},
            "DJANGO_SETTINGS_MODULE": settings,
            "VMEM_DATA_DIR": str(self.data_dir),
            # collected here by start(): served as users get them (hashed, compressed)
            "VMEM_STATIC_ROOT": str(self.data_dir / "static"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "daphne.log"

    def manage(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(BIN / "python"), "manage.py", *args], cwd=REPO, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def create_user(self, username: str, password: str, token: bool = False) -> str | None:
        """Create a user (and print an API token for it when ``token``)."""
        code = (
            "from django.contrib.auth import get_user_model\n"
            f"u = get_user_model().objects.create_user({username!r}, password={password!r})\n"
        )
        if token:
            code += (
                "import secrets\n"
                "from vmemsite.accounts.models import token_digest\n"
                "from vmemsite.accounts.models import ApiToken\n"
                "t = 'vmem_' + secrets.token_hex(16)\n"
                "ApiToken.objects.create(user=u, name='test', prefix=t[:8], "
                "digest=token_digest(t))\n"
                "print('TOKEN', t)\n"
            )
        out = self.manage("shell", "-c", code)
        for line in out.splitlines():
            if line.startswith("TOKEN "):
                return line.split(" ", 1)[1]
        return None

    def start(self, timeout: float = 60.0) -> LabServer:
        """Collect the static files, migrate, start Daphne, and wait until it serves pages
        (the log is in the error when it does not)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.manage("collectstatic", "--noinput", "--verbosity", "0")
        self.manage("migrate", "--noinput")
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port),
                 "vmemsite.asgi:application"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            wait_for_http(self.url + "/accounts/login/", timeout=timeout, proc=self.proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}; daphne's log:\n{self.log.read_text()[-5000:]}") from None
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
