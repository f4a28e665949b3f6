"""A missing page or a server error shows the lab's own page, never Django's debug page."""

from __future__ import annotations

import pytest
from django.test import Client


def test_a_missing_or_private_run_is_the_lab_s_404(client, user, other):
    from vmemsite.runs.services import run_create

    from .conftest import classic, sequence

    run = run_create(owner=other, config=classic(), workload=sequence(), submit=False)
    client.force_login(user)
    for url in (f"/runs/{run.pk}/", "/no/such/page/"):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert "Nothing here" in html and 'class="site-header"' in html
        assert "URLconf" not in html and "urlpatterns" not in html


@pytest.fixture
def failing_view(settings):
    """/boom/ raises (a URLconf of the test's own: the lab's URLs stay as they are)."""
    settings.ROOT_URLCONF = "tests.web.urls_boom"


def test_a_server_error_is_the_lab_s_500(db, failing_view):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "Traceback" not in html and "RuntimeError" not in html and "secret" not in html
