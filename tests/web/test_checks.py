"""System checks: clean in the default settings, and `check --deploy` clean in prod settings."""

import os
import secrets
import string
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

REPO = Path(__file__).resolve().parents[2]


def test_check_is_clean():
    out = StringIO()
    call_command("check", stdout=out)
    assert "System check identified no issues" in out.getvalue()


def _prod_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    alphabet = string.ascii_letters + string.digits + "!#%&()*+,-./:;<=>?@[]^_{|}~"
    env.update(
        DJANGO_SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        DJANGO_ALLOWED_HOSTS="example.com",
        VMEM_DATA_DIR=str(tmp_path),
        **extra,
    )
    return env


def _manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args, "--settings=vmemsite.settings.prod"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> str:
    """A STATIC_ROOT that prod's collectstatic filled (production runs it before starting)."""
    root = tmp_path_factory.mktemp("static")
    env = {**_prod_env(tmp_path_factory.mktemp("data")), "VMEM_STATIC_ROOT": str(root)}
    result = _manage(["collectstatic", "--noinput", "--verbosity", "0"], env)
    assert result.returncode == 0, result.stderr
    return str(root)


def test_check_deploy_is_clean_with_prod_settings(tmp_path, collected_static):
    env = {**_prod_env(tmp_path), "VMEM_STATIC_ROOT": collected_static}
    result = _manage(["check", "--deploy"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNINGS" not in output and "ERRORS" not in output, output


def test_prod_settings_fail_loudly_without_secret_key(tmp_path):
    env = _prod_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = _manage(["check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
