"""The home page and the static files it loads."""

from django.urls import reverse

SCRIPTS = (
    "/static/django_htmx/htmx-2.min.js",
    "/static/django_htmx/ext/hx-ws-2.min.js",
    "/static/vendor/plotly.min.js",
)


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
