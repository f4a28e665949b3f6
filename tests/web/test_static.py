"""Static files as users get them: Plotly only where a chart is drawn; hashed, compressed files
collected before a server starts, and a clear failure when they were not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from .test_checks import _prod_env

REPO = Path(__file__).resolve().parents[2]
PLOTLY = '<script src="/static/vendor/plotly.min.js"'


def test_plotly_loads_only_on_pages_that_draw_a_chart(client, user):
    from vmemsite.runs.services import run_create

    from .conftest import classic, sequence

    run = run_create(owner=user, config=classic(), workload=sequence(), submit=False)
    client.force_login(user)
    without = [reverse("simulator:home"), reverse("simulator:run_new"),
               reverse("simulator:compare_new"), reverse("simulator:run_list"),
               reverse("traces:list"), reverse("chat:list"), reverse("api-docs"),
               reverse("accounts:tokens")]
    for url in without:
        response = client.get(url)
        assert response.status_code == 200, url
        assert PLOTLY not in response.content.decode(), url
    html = client.get(reverse("simulator:run", args=[run.pk])).content.decode()
    # before the page's own script, which draws with it
    assert 0 <= html.index(PLOTLY) < html.index('src="/static/js/run.js"')


def test_the_run_page_maps_every_module_to_its_static_name(client, user):
    """run.js imports its modules by relative path; the import map (before it) sends each to
    its static URL, so hashed names are used once static files are collected."""
    import json
    import re

    from vmemsite.runs.services import run_create

    from .conftest import classic, sequence

    run = run_create(owner=user, config=classic(), workload=sequence(), submit=False)
    client.force_login(user)
    html = client.get(reverse("simulator:run", args=[run.pk])).content.decode()
    found = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    assert found and found.start() < html.index('src="/static/js/run.js"')
    imports = json.loads(found.group(1))["imports"]
    modules = sorted(p.name for p in (REPO / "static" / "js" / "run").glob("*.js"))
    assert sorted(url.rsplit("/", 1)[1] for url in imports) == modules
    assert all(url.startswith("/static/js/run/") for url in imports)


def _manage(args: list[str], env: dict[str, str], settings: str = "vmemsite.settings.prod",
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args, f"--settings={settings}"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_prod_fails_at_start_until_collectstatic_has_run(tmp_path):
    env = {**_prod_env(tmp_path / "data"), "VMEM_STATIC_ROOT": str(tmp_path / "static"),
           "DJANGO_SETTINGS_MODULE": "vmemsite.settings.prod"}
    result = _manage(["check"], env)
    assert result.returncode != 0
    assert "simulator.E002" in result.stderr and "collectstatic" in result.stderr
    # the server itself refuses to start (no page of 500s)
    start = subprocess.run([sys.executable, "-c", "import vmemsite.asgi"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert start.returncode != 0
    assert "ImproperlyConfigured" in start.stderr and "collectstatic" in start.stderr

    collected = _manage(["collectstatic", "--noinput"], env)
    assert collected.returncode == 0, collected.stderr
    assert _manage(["check"], env).returncode == 0
    start = subprocess.run([sys.executable, "-c", "import vmemsite.asgi"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert start.returncode == 0, start.stderr
    vendor = sorted(p.name for p in (tmp_path / "static" / "vendor").iterdir())
    hashed = [n for n in vendor if n.startswith("plotly.min.") and n.endswith(".js")
              and n != "plotly.min.js"]
    assert len(hashed) == 1 and f"{hashed[0]}.gz" in vendor
    modules = [p.name for p in (tmp_path / "static" / "js" / "run").glob("charts.*.js")]
    assert modules, "the run page's modules are collected with hashed names"

    # nothing changed: collectstatic compresses nothing again
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "static").rglob("*.gz")}
    again = _manage(["collectstatic", "--noinput"], env)
    assert again.returncode == 0, again.stderr
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "static").rglob("*.gz")} == before


@pytest.mark.parametrize(("flag", "debug"), [("", False), ("0", False), ("1", True)])
def test_the_one_command_lab_has_no_debug_pages_unless_asked(tmp_path, flag, debug):
    env = {k: v for k, v in os.environ.items() if k not in ("VMEM_DEBUG", "DJANGO_SECRET_KEY")}
    env.update(VMEM_DATA_DIR=str(tmp_path), VMEM_DEBUG=flag)
    code = ("from django.conf import settings as s; "
            "print(s.DEBUG, s.STORAGES['staticfiles']['BACKEND'], len(s.SECRET_KEY))")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**env, "DJANGO_SETTINGS_MODULE": "vmemsite.settings.dev"})
    assert result.returncode == 0, result.stderr
    shown_debug, storage, key_length = result.stdout.split()
    assert shown_debug == str(debug)
    assert storage.endswith("StaticFilesStorage" if debug else "CompressedManifestStorage")
    assert int(key_length) >= 50
    # this install's own key, made once, kept private, the same on the next start
    key = (tmp_path / "secret_key").read_text().strip()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert "insecure" not in key
