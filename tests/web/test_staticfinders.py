"""`vendor/plotly.min.js` comes from the installed plotly wheel through PlotlyFinder."""

from pathlib import Path

import plotly
from django.contrib.staticfiles import finders
from django.core.management import call_command

from vmemsite.runs.staticfinders import PlotlyFinder


def test_finder_finds_the_real_plotly_bundle():
    found = finders.find("vendor/plotly.min.js")
    assert found is not None
    path = Path(found)
    assert path == Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("/**\n* plotly.js v")
    assert "Plotly" in text
    assert len(text) > 1_000_000  # the full bundle, not a stub


def test_finder_only_answers_for_its_own_path():
    finder = PlotlyFinder()
    assert finder.find("plotly.min.js") is None
    assert finder.find("vendor/other.js") is None
    assert finder.find("vendor/plotly.min.js", find_all=True) == [
        finders.find("vendor/plotly.min.js")
    ]
    assert finder.check() == []


def test_finder_lists_the_file_with_its_prefix():
    listed = list(PlotlyFinder().list(None))
    assert [name for name, _ in listed] == ["plotly.min.js"]
    assert listed[0][1].prefix == "vendor"
    assert list(PlotlyFinder().list(["*.js"])) == []


def test_htmx_and_its_websocket_extension_come_from_django_htmx():
    for name in ("django_htmx/htmx-2.min.js", "django_htmx/ext/hx-ws-2.min.js"):
        found = finders.find(name)
        assert found is not None, name
        assert "site-packages" in found or "django_htmx" in found


def test_collectstatic_puts_plotly_under_vendor(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = tmp_path / "vendor" / "plotly.min.js"
    assert collected.is_file()
    assert collected.read_bytes() == Path(finders.find("vendor/plotly.min.js")).read_bytes()
    assert (tmp_path / "django_htmx" / "htmx-2.min.js").is_file()
    assert (tmp_path / "django_htmx" / "ext" / "hx-ws-2.min.js").is_file()
    assert (tmp_path / "css" / "lab.css").is_file()
