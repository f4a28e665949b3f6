"""Chat pages: forms, ownership (404 for anyone else), sending, replay, the trace download."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from vmemsite.chat.models import Chat, ChatMessage
from vmemsite.chat.services import chat_create, chat_turn_execute, chat_turn_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(user):
    return chat_create(owner=user, provider="scripted", context_window=400, page_size=32,
                       max_tokens=32, title="Pets")


def _answered(chat, user, text="My cat is called Miso."):
    message = chat_turn_send(chat=chat, user=user, text=text, submit=False)
    chat_turn_execute(chat_id=chat.pk, message_id=message.pk, publisher=lambda *a: None)


def test_the_list_page_explains_presets_and_providers(alice_client):
    response = alice_client.get("/chat/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("New chat", "Scripted session", "recall success", "Letta", "MemGPT",
                 "chuk-ai-session-manager", "long_chat.jsonl", "VMEM_LLM_BASE_URL"):
        assert text in page, text


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get("/chat/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_start_a_chat_from_the_form_and_see_its_page(alice_client, alice):
    response = alice_client.post("/chat/new/", {
        "provider": "scripted", "preset": "chuk", "policy": "", "context_window": 1024,
        "page_size": 64, "max_tokens": 48, "title": "From the form"})
    assert response.status_code == 302
    chat = Chat.objects.get(owner=alice)
    assert response["Location"] == f"/chat/{chat.pk}/"
    page = alice_client.get(response["Location"]).content.decode()
    assert "From the form" in page and "tiktoken cl100k_base" in page
    assert "Open-loop replay" in page and f"/ws/chat/{chat.pk}/" in page


def test_form_errors_are_shown_by_field(alice_client):
    response = alice_client.post("/chat/new/", {
        "provider": "scripted", "preset": "vmem", "context_window": 300, "page_size": 256,
        "max_tokens": 64})
    assert response.status_code == 400
    assert "smaller than one page" in response.content.decode()
    assert not Chat.objects.exists()


def test_send_answers_202_and_refuses_empty_and_busy(alice_client, chat):
    url = f"/chat/{chat.pk}/send"
    headers = {"HTTP_ACCEPT": "application/json"}
    empty = alice_client.post(url, {"text": "  "}, **headers)
    assert empty.status_code == 400 and "write a message" in empty.json()["error"]
    sent = alice_client.post(url, {"text": "hello"}, **headers)
    assert sent.status_code == 202 and sent.json()["status"] == "thinking"
    busy = alice_client.post(url, {"text": "again"}, **headers)
    assert busy.status_code == 409
    assert list(ChatMessage.objects.filter(chat=chat).values_list("text", flat=True)) == [
        "hello"]


def test_other_users_get_404_everywhere(bob_client, chat, user):
    _answered(chat, user)
    for method, path in (("get", ""), ("get", "state.json"), ("post", "send"),
                         ("post", "replay"), ("get", "trace.csv"), ("post", "delete")):
        response = getattr(bob_client, method)(f"/chat/{chat.pk}/{path}", {"text": "hi"})
        assert response.status_code == 404, path
    assert Chat.objects.filter(pk=chat.pk).exists()


def test_state_json_and_trace_csv(alice_client, chat, alice):
    _answered(chat, alice)
    state = alice_client.get(f"/chat/{chat.pk}/state.json").json()
    assert state["type"] == "state" and state["count"] == 2
    assert [m["role"] for m in state["messages"]] == ["user", "assistant"]
    assert state["snapshot"]["l0"] and state["chat"]["urls"]["websocket"] == f"/ws/chat/{chat.pk}/"
    csv = alice_client.get(f"/chat/{chat.pk}/trace.csv").content.decode().splitlines()
    assert csv[0] == "time,page_id,tokens,op,session,turn"
    assert "system:prompt" in csv[1] and any("message:t001-user" in line for line in csv)


def test_replay_button_starts_an_open_loop_comparison(alice_client, chat, alice, data_dir):
    _answered(chat, alice)
    response = alice_client.post(f"/chat/{chat.pk}/replay",
                                 {"policies": ["lru", "fifo", "arc"]})
    assert response.status_code == 302 and response["Location"].startswith("/runs/")
    page = alice_client.get(response["Location"]).content.decode()
    assert "Open-loop replay of chat" in page
    one = alice_client.post(f"/chat/{chat.pk}/replay", {"policies": ["lru"]}, follow=True)
    assert "Replay not started" in one.content.decode()


def test_scripted_session_from_a_shipped_file_and_an_upload(alice_client, alice):
    response = alice_client.post("/chat/scripts/", {
        "script": "coding.jsonl", "provider": "scripted", "preset": "vmem", "policy": ""})
    assert response.status_code == 302
    chat = Chat.objects.get(owner=alice)
    assert chat.kind == "script" and chat.turns_total == 14
    upload = SimpleUploadedFile("mine.jsonl", b'{"role": "user", "text": "hi"}\nnot json\n')
    bad = alice_client.post("/chat/scripts/", {"upload": upload, "provider": "scripted",
                                               "preset": "vmem"})
    assert bad.status_code == 400 and "line 2" in bad.content.decode()
    good = SimpleUploadedFile("mine.jsonl", json.dumps(
        {"role": "user", "text": "My cat is Miso.", "label": "cat"}).encode() + b"\n" +
        json.dumps({"role": "user", "text": "Cat?", "probe": {"needs": ["cat"]}}).encode())
    ok = alice_client.post("/chat/scripts/", {"upload": good, "provider": "scripted",
                                              "preset": "vmem"})
    assert ok.status_code == 302
    assert Chat.objects.filter(owner=alice, script_name="mine.jsonl", turns_total=2).exists()


def test_delete(alice_client, chat):
    response = alice_client.post(f"/chat/{chat.pk}/delete")
    assert response.status_code == 302 and not Chat.objects.filter(pk=chat.pk).exists()


def test_policies_are_named_as_people_do(alice_client, alice):
    Chat.objects.create(owner=alice, title="labelled", policy="s3fifo")
    page = alice_client.get("/chat/").content.decode()
    assert '<option value="s3fifo">S3-FIFO</option>' in page
    assert "/ S3-FIFO ·" in page and "/ s3fifo" not in page
