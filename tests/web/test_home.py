"""The home page and the static files it loads."""

from django.urls import reverse

SCRIPTS = (
    "/static/django_htmx/htmx-2.min.js",
    "/static/django_htmx/ext/hx-ws-2.min.js",
)  # plotly.min.js only on pages that draw a chart (tests/web/test_static.py)


def test_home_page_renders(client, db):
    response = client.get(reverse("simulator:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "VMem Lab" in html
    assert "Presets" in html and "vmem --help" in html
    for src in SCRIPTS:
        assert f'<script src="{src}"' in html
    assert '<link rel="stylesheet" href="/static/css/lab.css">' in html


def test_static_files_of_the_page_are_served(client, db):
    for src in (*SCRIPTS, "/static/css/lab.css"):
        response = client.get(src)
        assert response.status_code == 200, src
        body = b"".join(response.streaming_content)
        assert body, src
        response.close()


def test_plotly_is_served_as_javascript(client, db):
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
    head = next(iter(response.streaming_content))
    response.close()
    assert b"plotly.js" in head


def test_recent_runs_poll_with_htmx_only_while_a_run_is_going(client, user):
    from vmemsite.runs.models import Run
    from vmemsite.runs.services import run_create

    from .conftest import classic, sequence

    client.force_login(user)
    run = run_create(owner=user, config=classic("fifo", 3), workload=sequence(), submit=False)
    home = client.get(reverse("simulator:home")).content.decode()
    fragment_url = reverse("simulator:my_runs")
    assert f'hx-get="{fragment_url}" hx-trigger="every 3s"' in home  # queued: keep polling

    fragment = client.get(fragment_url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.strip().startswith('<div id="my-runs"') and run.label[:20] in fragment
    assert "<html" not in fragment

    Run.objects.filter(pk=run.pk).update(status=Run.Status.FINISHED)
    fragment = client.get(fragment_url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-get" not in fragment and "finished" in fragment  # the last swap stops polling


def test_recent_runs_fragment_needs_a_signed_in_user(client, db):
    assert client.get(reverse("simulator:my_runs")).status_code == 401
