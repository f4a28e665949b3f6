"""Chats and scripted sessions with a pricing profile: the cost panel's data each turn, cache
breaks with their cause, transcripts of any format uploaded as a session, and the live session
kept between turns (restored from the database when this process does not hold it)."""

from __future__ import annotations

import json

import pytest

from simulator.engine.errors import ConfigError
from simulator.llm.costing import SessionCost
from simulator.llm.scripts import load_script, run_script
from simulator.memory.pricing import shipped_profile
from vmemsite.chat import services
from vmemsite.chat.models import Chat, ChatMessage
from vmemsite.chat.services import (
    chat_create,
    chat_script_execute,
    chat_script_start,
    chat_turn_execute,
    chat_turn_send,
)

pytestmark = pytest.mark.django_db


def _turn(chat: Chat, user, text: str) -> ChatMessage:
    message = chat_turn_send(chat=chat, user=user, text=text, submit=False)
    chat_turn_execute(chat_id=chat.pk, message_id=message.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    return ChatMessage.objects.filter(chat=chat).order_by("-id").first()


def _chat(user, **kwargs) -> Chat:
    options = {"provider": "scripted", "preset": "vmem", "context_window": 400,
               "page_size": 32, "max_tokens": 32, "pricing": "gpt-4.1", **kwargs}
    return chat_create(owner=user, **options)


def test_each_turn_updates_the_cost_and_an_eviction_shows_as_a_cache_break(user):
    chat = _chat(user)
    assert chat.pricing == "gpt-4.1" and chat.snapshot["cost"]["totals"]["calls"] == 0
    seen = []
    for k in range(8):
        answer = _turn(chat, user, f"Message {k} about subject{k} " + "with words " * 12)
        cost = chat.snapshot["cost"]
        seen.append(cost["totals"]["calls"])
        assert answer.metrics["cost"]["calls"] == 1
        assert cost["last"]["turn"] == k + 1
    assert seen == list(range(1, 9))
    totals = chat.snapshot["cost"]["totals"]
    assert totals["prompt_tokens"] == (totals["cache_read_tokens"] + totals["cache_write_tokens"]
                                       + totals["uncached_tokens"])
    assert chat.snapshot["evictions"] > 0 and totals["cache_breaks"] > 0
    causes = {b["cause"] for b in chat.snapshot["cost"]["breaks"]}
    assert causes & {"evicted", "updated", "inserted"}
    assert all("turn" in b and b["detail"] for b in chat.snapshot["cost"]["breaks"])


def test_an_unknown_profile_is_named(user):
    with pytest.raises(ConfigError) as info:
        _chat(user, pricing="gpt-99")
    assert info.value.field == "pricing"
    assert not Chat.objects.exists()


def test_a_chat_without_pricing_has_no_cost(user):
    chat = _chat(user, pricing="")
    _turn(chat, user, "hello there")
    assert chat.snapshot["cost"] is None


def test_the_live_session_is_kept_and_a_restart_rebuilds_the_same_one(user, monkeypatch):
    chat = _chat(user)
    _turn(chat, user, "first message about cats")
    rebuilt = []
    original = services.ChatSession.from_dict
    monkeypatch.setattr(services.ChatSession, "from_dict",
                        lambda *a, **k: rebuilt.append(1) or original(*a, **k))
    _turn(chat, user, "second message about dogs")
    assert rebuilt == []  # the turn went on with the live session: no journal replay
    services.live_sessions.drop(chat.pk)  # what a restart does
    _turn(chat, user, "third message about birds")
    assert rebuilt == [1]
    # and the rebuilt session's bill goes on from the stored one
    assert chat.snapshot["cost"]["totals"]["calls"] == 3


def test_a_live_session_of_an_older_state_is_not_used(user):
    chat = _chat(user)
    _turn(chat, user, "first message")
    stale = services.live_sessions._sessions[chat.pk]
    # another process answered a turn meanwhile: the stored state has a new revision
    Chat.objects.filter(pk=chat.pk).update(state=chat.state | {"revision": "elsewhere"})
    chat.refresh_from_db()
    assert services.live_sessions.take(chat) is None
    services.live_sessions.keep(chat.pk, *stale)


@pytest.mark.parametrize("name", ["openai_chat.json", "sharegpt.json",
                                  "claude_code_session.jsonl"])
def test_a_transcript_uploads_as_a_scripted_session_with_its_cost(user, settings, name):
    path = settings.BASE_DIR / "fixtures" / "transcripts" / name
    chat = chat_script_start(owner=user, upload_text=path.read_text(), upload_name=name,
                             pricing="claude-sonnet-4.5", submit=False)
    stored = load_script_from(chat.script_text)
    chat_script_execute(chat_id=chat.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    assert chat.status == Chat.Status.FINISHED, chat.error
    assert chat.totals["cost"]["calls"] == chat.turns_total == len(stored.turns)
    cli = run_script(stored, pricing=SessionCost(shipped_profile("claude-sonnet-4.5")))
    assert chat.totals["cost"]["usd"] == pytest.approx(cli.totals()["cost"]["usd"])


def load_script_from(text: str, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.jsonl"
        path.write_text(text)
        return load_script(path)


def test_a_malformed_transcript_names_its_line_and_saves_nothing(user, settings):
    path = settings.BASE_DIR / "fixtures" / "transcripts" / "claude_code_session.jsonl"
    lines = path.read_text().splitlines()
    lines[3] = lines[3][:-5]
    with pytest.raises(ConfigError) as info:
        chat_script_start(owner=user, upload_text="\n".join(lines), upload_name="cc.jsonl",
                          submit=False)
    assert info.value.field == "script" and "line 4" in info.value.message
    assert not Chat.objects.exists()


def test_a_bad_openai_file_names_its_json_path(user):
    text = json.dumps({"messages": [{"role": "user", "content": "hi"},
                                    {"role": "robot", "content": "beep"}]})
    with pytest.raises(ConfigError) as info:
        chat_script_start(owner=user, upload_text=text, upload_name="chat.json", submit=False)
    assert "messages[1].role" in info.value.message
    assert not Chat.objects.exists()


# --- the JSON API --------------------------------------------------------------------------

@pytest.fixture
def api(user):
    from django.test import Client

    from vmemsite.accounts.services import token_create

    _, token = token_create(user=user, name="tests")
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_lists_the_pricing_profiles(api):
    rows = api.get("/api/sessions/pricing").json()
    assert {"claude-sonnet-4.5", "gpt-4.1"} <= {r["name"] for r in rows}
    assert not any(r.get("own") for r in rows)


def test_the_api_lists_ones_own_profiles_after_the_shipped(api, user):
    from vmemsite.chat.services import pricing_profile_save

    pricing_profile_save(owner=user, text='{"name": "mine", "provider": "p", "model": "m", '
                                          '"prices": {"input": 1, "output": 2}}')
    rows = api.get("/api/sessions/pricing").json()
    assert rows[-1]["name"] == "mine" and rows[-1]["own"] is True


def test_the_api_imports_a_transcript_and_shows_its_cost(api, user, settings):
    path = settings.BASE_DIR / "fixtures" / "transcripts" / "openai_chat.json"
    response = api.post("/api/sessions/import", {"text": path.read_text(), "name": "c.json",
                                                 "pricing": "gpt-5"},
                        content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    chat = Chat.objects.get(pk=created["id"])
    assert chat.owner == user and chat.pricing == "gpt-5"
    # the job ran at commit (the test's transaction never commits: run it here)
    chat_script_execute(chat_id=chat.pk, publisher=lambda *a: None)
    detail = api.get(created["urls"]["api"]).json()
    assert detail["status"] == "finished" and detail["totals"]["cost"]["pricing"] == "gpt-5"
    assert detail["snapshot"]["cost"]["totals"]["calls"] == detail["turns_total"]


def test_the_api_names_a_malformed_files_problem_and_saves_nothing(api):
    response = api.post("/api/sessions/import",
                        {"text": '{"messages": [{"role": "robot", "content": "x"}]}',
                         "name": "c.json"}, content_type="application/json")
    body = response.json()
    assert response.status_code == 400 and body["field"] == "script"
    assert "messages[0].role" in body["error"]
    assert not Chat.objects.exists()
    response = api.post("/api/sessions/import", {"text": "x", "pricing": "nope"},
                        content_type="application/json")
    assert response.status_code == 400


def test_another_users_session_is_not_found(api, other):
    chat = chat_create(owner=other, provider="scripted", context_window=400, page_size=32,
                       max_tokens=32)
    assert api.get(f"/api/sessions/{chat.pk}").status_code == 404


# --- the cost vs recall page --------------------------------------------------------------

def test_the_compare_page_renders_the_form(alice_client):
    response = alice_client.get("/chat/compare/")
    assert response.status_code == 200 and b"compare-form" in response.content


def test_the_compare_page_replays_and_marks_the_best(alice_client):
    response = alice_client.post("/chat/compare/", {
        "source": "shipped:coding.jsonl", "presets": ["vmem", "batch"],
        "pricing": ["gpt-4.1"], "context_windows": "768"})
    assert response.status_code == 200, response.content[:2000]
    body = response.content.decode()
    assert "compare-result" in body and "Open-loop replay" in body and "★" in body
    assert body.count('<tr class="') == 2


def test_the_compare_page_names_bad_fields(alice_client):
    response = alice_client.post("/chat/compare/", {
        "source": "shipped:nope.jsonl", "presets": ["vmem"], "pricing": ["gpt-4.1"],
        "context_windows": "12"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Context windows" in body and "Session" in body


def test_too_many_replays_are_refused_on_the_page(alice_client):
    response = alice_client.post("/chat/compare/", {
        "source": "synthetic", "turns": 5,
        "presets": ["vmem", "stable", "batch", "cacheaware", "letta", "memgpt", "chuk"],
        "pricing": ["gpt-4.1", "gpt-5"], "context_windows": "3072, 4096"})
    assert response.status_code == 400 and b"at most 24" in response.content


def test_an_imported_session_of_someone_else_cannot_be_compared(alice_client, bob,
                                                                 settings):
    path = settings.BASE_DIR / "fixtures" / "transcripts" / "sharegpt.json"
    theirs = chat_script_start(owner=bob, upload_text=path.read_text(),
                               upload_name="s.json", submit=False)
    response = alice_client.post("/chat/compare/", {
        "source": f"chat:{theirs.pk}", "presets": ["vmem"], "pricing": ["gpt-4.1"]})
    assert response.status_code == 400


# --- the think time ------------------------------------------------------------------------

def test_a_chats_think_time_bills_as_if_that_long_passed_between_turns(user):
    """gpt-4.1's cache lives 5 minutes: with 10 minutes between turns every turn misses it,
    with the real (instant) time between the test's messages the second turn reads it."""
    big = {"context_window": 8192, "page_size": 128}
    slow = _chat(user, think_time=600, **big)
    fast = _chat(user, **big)
    for chat in (slow, fast):
        for k in range(3):
            _turn(chat, user, f"Message {k} " + "about the same long topic " * 150)
    assert slow.think_time == 600.0 and fast.think_time is None
    assert slow.snapshot["cost"]["totals"]["cache_read_tokens"] == 0
    assert fast.snapshot["cost"]["totals"]["cache_read_tokens"] > 0


def test_a_scripts_think_time_is_kept_and_a_bad_one_is_named(user):
    path = "fixtures/transcripts/sharegpt.json"
    from django.conf import settings

    text = (settings.BASE_DIR / path).read_text()
    chat = chat_script_start(owner=user, upload_text=text, upload_name="s.json",
                             pricing="gpt-4.1", think_time=900, submit=False)
    chat_script_execute(chat_id=chat.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    assert chat.status == Chat.Status.FINISHED and chat.think_time == 900.0
    assert chat.totals["cost"]["think_time"] == 900.0  # what the bill assumed
    for bad in (-1, float("nan"), "soon"):
        with pytest.raises(ConfigError) as info:
            chat_script_start(owner=user, upload_text=text, upload_name="s.json",
                              pricing="gpt-4.1", think_time=bad, submit=False)
        assert info.value.field == "think_time"


def test_the_chat_form_names_a_bad_think_time(alice_client):
    response = alice_client.post("/chat/new/", {
        "provider": "scripted", "preset": "vmem", "context_window": 1024, "page_size": 64,
        "max_tokens": 64, "pricing": "gpt-4.1", "think_time": "-5"})
    assert response.status_code == 400 and "Think time" in response.content.decode()
    assert not Chat.objects.exists()
