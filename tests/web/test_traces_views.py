"""The trace library pages: list, upload form, detail with statistics, ownership."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from vmemsite.traces.models import Trace, TraceAnalysis
from vmemsite.traces.selectors import trace_path

from .library_data import CSV, PLAIN, gz, upload

pytestmark = pytest.mark.django_db


def post_upload(client, content: str | bytes, filename: str = "trace.csv", **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(reverse("traces:upload"), {
        "file": SimpleUploadedFile(filename, data), **fields})


def test_upload_form_needs_sign_in(client):
    response = client.get(reverse("traces:upload"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_upload_form_renders(alice_client):
    html = alice_client.get(reverse("traces:upload")).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="file"' in html and 'name="fmt"' in html and "200 MB" in html


def test_upload_then_detail_shows_statistics_and_histogram(alice_client, data_dir):
    response = post_upload(alice_client, PLAIN, filename="abacba.txt")
    trace = Trace.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("traces:detail", args=[trace.pk])
    assert trace.name == "abacba"
    page = alice_client.get(response["Location"])
    html = page.content.decode()
    assert "uploaded and validated" in html  # the message
    assert re.search(r'data-stat="requests">6<', html)
    assert re.search(r'data-stat="distinct_pages">3<', html)
    assert re.search(r'data-stat="total_tokens">6<', html)
    # a small trace is analysed as it is stored: the analysis draws the stack distances of
    # every reference, and the upload's quick histogram is not drawn a second time
    assert 'id="figure-stack_distance"' in html and 'id="reuse-histogram"' not in html
    assert "/static/vendor/plotly.min.js" in html
    TraceAnalysis.objects.filter(trace=trace).delete()  # as for a big trace, not yet analysed
    html = alice_client.get(response["Location"]).content.decode()
    histogram = json.loads(re.search(
        r'<script id="reuse-histogram" type="application/json">(.*?)</script>', html).group(1))
    assert histogram == {"labels": ["cold", "0", "1", "2-3"], "counts": [3, 0, 1, 2]}
    assert "/static/js/trace-histogram.js" in html
    assert f'href="/runs/new/?trace={trace.pk}"' in html
    assert f'href="/compare/new/?trace={trace.pk}"' in html
    assert 'id="delete-trace"' in html and 'id="make-public"' in html


def test_upload_with_a_malformed_line_shows_line_and_field(alice_client, library_files):
    response = post_upload(alice_client, "page_id,tokens\n1,5\n2,-3\n")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The trace was not stored." in html
    assert "line 3, field &#x27;tokens&#x27;: expected a positive integer, got &#x27;-3&#x27;" \
        in html
    assert Trace.objects.count() == 0 and library_files() == []


def test_upload_too_large_gets_413_and_a_message(alice_client, library_files, settings):
    settings.VMEM_MAX_TRACE_BYTES = 50
    response = post_upload(alice_client, "1\n" * 100)
    assert response.status_code == 413
    assert "larger than the limit of 50 bytes" in response.content.decode()
    assert Trace.objects.count() == 0 and library_files() == []


def test_upload_without_a_file_or_empty(alice_client, library_files):
    response = alice_client.post(reverse("traces:upload"), {"name": "x"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    response = post_upload(alice_client, gz(""), filename="empty.gz")
    assert response.status_code == 400
    assert "empty trace" in response.content.decode()
    assert Trace.objects.count() == 0 and library_files() == []


def test_upload_with_format_and_public(alice_client, data_dir):
    post_upload(alice_client, "page_id\n7\n", filename="x", fmt="plain", public="on",
                name="forced")
    trace = Trace.objects.get()
    assert (trace.name, trace.fmt, trace.requests, trace.public) == ("forced", "plain", 2, True)


def test_list_shows_own_and_public_traces_only(alice, bob, alice_client, data_dir):
    upload(alice, PLAIN, name="alice-private")
    upload(bob, CSV, name="bob-public", public=True)
    upload(bob, CSV, name="bob-private")
    html = alice_client.get(reverse("traces:list")).content.decode()
    assert "alice-private" in html and "bob-public" in html
    assert "bob-private" not in html
    anonymous = alice_client.__class__().get(reverse("traces:list")).content.decode()
    assert "bob-public" in anonymous
    assert "alice-private" not in anonymous and "bob-private" not in anonymous


def test_private_trace_is_404_for_everyone_else(alice, bob_client, client, data_dir):
    trace = upload(alice, PLAIN)
    for url in (reverse("traces:detail", args=[trace.pk]),
                reverse("traces:download", args=[trace.pk])):
        assert bob_client.get(url).status_code == 404
        assert client.get(url).status_code == 404
    for name in ("traces:visibility", "traces:delete"):
        assert bob_client.post(reverse(name, args=[trace.pk])).status_code == 404
    assert bob_client.get(reverse("traces:detail", args=[trace.pk + 100])).status_code == 404
    trace.refresh_from_db()
    assert trace.public is False


def test_public_trace_is_readable_by_all_but_changed_by_its_owner(alice, bob_client, client,
                                                                   data_dir):
    trace = upload(alice, PLAIN, public=True)
    html = client.get(reverse("traces:detail", args=[trace.pk])).content.decode()
    assert trace.name in html and 'id="delete-trace"' not in html
    assert bob_client.get(reverse("traces:detail", args=[trace.pk])).status_code == 200
    assert bob_client.post(reverse("traces:visibility", args=[trace.pk])).status_code == 403
    assert bob_client.post(reverse("traces:delete", args=[trace.pk])).status_code == 403
    response = client.post(reverse("traces:delete", args=[trace.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    trace.refresh_from_db()
    assert trace.public is True and trace_path(trace).is_file()


def test_owner_toggles_visibility(alice_client, alice, data_dir):
    trace = upload(alice, PLAIN)
    url = reverse("traces:visibility", args=[trace.pk])
    alice_client.post(url, {"public": "on"})
    trace.refresh_from_db()
    assert trace.public is True
    page = alice_client.get(reverse("traces:detail", args=[trace.pk])).content.decode()
    assert 'id="make-private"' in page
    alice_client.post(url, {})
    trace.refresh_from_db()
    assert trace.public is False


def test_owner_deletes_row_and_file(alice_client, alice, library_files):
    trace = upload(alice, PLAIN)
    assert len(library_files()) == 1
    response = alice_client.post(reverse("traces:delete", args=[trace.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("traces:list")
    assert Trace.objects.count() == 0 and library_files() == []
    assert alice_client.get(reverse("traces:delete", args=[trace.pk])).status_code == 405


def test_download_returns_the_file_as_uploaded(alice_client, alice, data_dir):
    trace = upload(alice, gz(CSV), name="my trace")
    response = alice_client.get(reverse("traces:download", args=[trace.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert 'filename="my-trace.csv.gz"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == gz(CSV)
    response.close()
