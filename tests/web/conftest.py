"""Fixtures of the web tests: users, and runs made through the real services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from simulator.engine.config import SimConfig

from .library_data import PASSWORD

BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="alice-pw-123")


@pytest.fixture
def other(db):
    return get_user_model().objects.create_user("bob", password="bob-pw-123")


def classic(policy: str = "lru", capacity: int = 3, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("window_accesses", 1)
    return SimConfig.classic(policy, capacity, **kwargs).to_dict()


def sequence(pages: list | None = None) -> dict[str, Any]:
    return {"kind": "sequence", "pages": list(pages or BELADY)}


def zipf(n: int = 5000, **params: Any) -> dict[str, Any]:
    return {"kind": "generator", "name": "zipf",
            "params": {"n_pages": 300, "alpha": 0.9, "n": n, "seed": 1, **params}}


class Recorder:
    """A publisher that keeps every message (stands in for the channel layer where the test
    is about what the executor sends, not how it travels)."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, dict]] = []

    def __call__(self, run_id: int, message: dict) -> None:
        self.messages.append((run_id, message))

    def of(self, kind: str) -> list[dict]:
        return [m for _, m in self.messages if m["type"] == kind]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


# -- accounts, trace library and API tests (tests/web/test_accounts*, test_traces*, ----------
# -- test_api_traces, test_openapi) ----------------------------------------------------------


@pytest.fixture
def data_dir(settings, tmp_path):
    """A fresh DATA_DIR for the test: uploads never land in the repository's data/."""
    path = tmp_path / "data"
    path.mkdir()
    settings.DATA_DIR = path
    return path


@pytest.fixture
def library_files(data_dir):
    """A function listing every file under DATA_DIR/traces (temporary ones included)."""

    def files() -> list[str]:
        folder = data_dir / "traces"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    return files


@pytest.fixture
def alice(user):
    """``user`` (alice), with the password the accounts tests sign in with."""
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def bob(other):
    return other


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    client = Client()
    client.force_login(bob)
    return client
