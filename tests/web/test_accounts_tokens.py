"""API tokens: created and shown once, stored as a digest, usable, revocable."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from vmemsite.accounts.models import ApiToken
from vmemsite.accounts.selectors import token_list
from vmemsite.accounts.services import token_create, token_revoke

pytestmark = pytest.mark.django_db
API = "/api/traces/"


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_is_stored_only_as_a_digest(alice):
    row, token = token_create(user=alice, name="  laptop ")
    assert token.startswith("vmem_") and len(token) > 40
    assert row.name == "laptop"
    assert row.prefix == token[:12]
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    stored = ApiToken.objects.get()
    assert token not in {stored.name, stored.prefix, stored.digest}


def test_token_needs_a_name(alice):
    with pytest.raises(ValidationError):
        token_create(user=alice, name="   ")


def test_token_authenticates_until_revoked(alice, data_dir):
    row, token = token_create(user=alice, name="script")
    client = Client()
    assert client.get(API).status_code == 401
    assert client.get(API, **bearer("vmem_not-a-real-token")).status_code == 401
    assert client.get(API, HTTP_AUTHORIZATION=f"Basic {token}").status_code == 401
    response = client.get(API, **bearer(token))
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None
    assert token_revoke(user=alice, token_id=row.pk) is True
    assert client.get(API, **bearer(token)).status_code == 401


def test_tokens_of_an_inactive_user_fail(alice, data_dir):
    _, token = token_create(user=alice, name="script")
    alice.is_active = False
    alice.save()
    assert Client().get(API, **bearer(token)).status_code == 401


def test_nobody_revokes_another_users_token(alice, bob):
    row, _ = token_create(user=alice, name="mine")
    assert token_revoke(user=bob, token_id=row.pk) is False
    assert ApiToken.objects.filter(pk=row.pk).exists()
    assert list(token_list(bob)) == []
    assert list(token_list(alice)) == [row]


def test_tokens_page_requires_sign_in(client):
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_tokens_page_shows_a_new_token_once(alice_client, alice):
    response = alice_client.post(reverse("accounts:tokens"), {"name": "nightly sweep"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    token = re.search(r'data-testid="new-token">(vmem_[^<]+)<', html).group(1)
    row = ApiToken.objects.get(user=alice)
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    again = alice_client.get(reverse("accounts:tokens")).content.decode()
    assert "nightly sweep" in again and row.prefix in again
    assert token not in again


def test_tokens_page_refuses_an_empty_name(alice_client):
    response = alice_client.post(reverse("accounts:tokens"), {"name": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_revoke_from_the_page(alice_client, alice, bob):
    mine, _ = token_create(user=alice, name="old")
    theirs, _ = token_create(user=bob, name="bobs")
    response = alice_client.post(reverse("accounts:token_revoke", args=[mine.pk]), follow=True)
    assert "Token revoked" in response.content.decode()
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    response = alice_client.post(reverse("accounts:token_revoke", args=[theirs.pk]), follow=True)
    assert "No such token" in response.content.decode()
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    assert alice_client.get(reverse("accounts:token_revoke", args=[theirs.pk])).status_code == 405
