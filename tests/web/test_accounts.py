"""Sign-up, sign-in and sign-out pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from .library_data import PASSWORD

pytestmark = pytest.mark.django_db


def signup(client: Client, username: str = "carol", password: str = PASSWORD,
           confirm: str | None = None, next_url: str = ""):
    return client.post(reverse("accounts:signup"), {
        "username": username, "password1": password,
        "password2": password if confirm is None else confirm, "next": next_url,
    })


def test_signup_page_renders(client):
    response = client.get(reverse("accounts:signup"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password1"' in html
    assert 'name="password2"' in html and "csrfmiddlewaretoken" in html


def test_signup_creates_the_user_and_signs_in(client):
    response = signup(client)
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username="carol")
    assert user.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_follows_a_local_next_and_ignores_a_foreign_one(client):
    assert signup(client, "dave", next_url="/traces/")["Location"] == "/traces/"
    other = Client()
    assert signup(other, "erin", next_url="https://evil.example/")["Location"] == "/"


def test_signup_errors_are_shown_and_nothing_is_created(client, alice):
    response = signup(client, confirm="something-else-entirely")
    assert response.status_code == 400
    assert "fields didn\u2019t match" in response.content.decode()
    response = signup(client, username="alice")
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    response = signup(client, username="frank", password="123")
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]
    assert "_auth_user_id" not in client.session


def test_signed_in_user_is_sent_away_from_signup_and_login(alice_client):
    assert alice_client.get(reverse("accounts:signup"))["Location"] == "/"
    assert alice_client.get(reverse("accounts:login"))["Location"] == "/"


def test_login_with_the_right_password_only(client, alice):
    page = client.get(reverse("accounts:login") + "?next=/traces/")
    assert page.status_code == 200
    assert 'value="/traces/"' in page.content.decode()
    wrong = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200
    assert "enter a correct username and password" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    right = client.post(reverse("accounts:login"),
                        {"username": "alice", "password": PASSWORD, "next": "/traces/"})
    assert right.status_code == 302 and right["Location"] == "/traces/"
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_logout_needs_a_post(alice_client, alice):
    page = alice_client.get(reverse("accounts:logout"))
    assert page.status_code == 200
    assert "Sign out" in page.content.decode()
    assert alice_client.session["_auth_user_id"] == str(alice.pk)  # a GET changes nothing
    response = alice_client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" not in alice_client.session


def test_logout_is_csrf_protected(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("accounts:logout")).status_code == 403
    assert client.session["_auth_user_id"] == str(alice.pk)
