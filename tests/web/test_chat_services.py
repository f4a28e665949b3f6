"""Chat sessions: services and selectors with the scripted provider (paging logic, persistence,
errors, scripts, replay), plus one real turn of the embedded model (slow)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from simulator.engine.errors import ConfigError
from simulator.llm.providers import ProviderError, ScriptedProvider
from simulator.llm.scripts import load_script, run_script
from simulator.llm.session import ChatSession
from vmemsite.chat import services
from vmemsite.chat.models import Chat, ChatMessage
from vmemsite.chat.recovery import ChatKeeper
from vmemsite.chat.selectors import chat_state, chat_trace, script_list_shipped
from vmemsite.chat.services import (
    ChatBusy,
    ChatPermissionError,
    chat_create,
    chat_recover_stale,
    chat_replay_create,
    chat_script_execute,
    chat_script_start,
    chat_turn_execute,
    chat_turn_send,
)
from vmemsite.runs.models import Run
from vmemsite.runs.services import run_execute

pytestmark = pytest.mark.django_db

FACTS = [
    "My cat is called Miso and she loves tuna from the market near the harbour.",
    "I work as a lighthouse keeper on a small rocky island in the north sea.",
    "My favourite colour is teal, like the water on a calm summer morning.",
    "Next week I travel to Lisbon for a conference about tide prediction models.",
    "My sister Ana plays the cello in an orchestra that tours every winter.",
    "What is my cat called and what does she eat?",
]


def _chat(owner, **kwargs) -> Chat:
    options = {"provider": "scripted", "preset": "vmem", "context_window": 400,
               "page_size": 32, "max_tokens": 32, **kwargs}
    return chat_create(owner=owner, **options)


def _turn(chat: Chat, user, text: str) -> tuple[ChatMessage, ChatMessage]:
    message = chat_turn_send(chat=chat, user=user, text=text, submit=False)
    chat_turn_execute(chat_id=chat.pk, message_id=message.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    return message, ChatMessage.objects.filter(chat=chat).order_by("-id").first()


def test_a_new_chat_pins_the_system_prompt_and_names_its_tokenizer(user):
    chat = _chat(user, title="  Pets   and plans ")
    assert chat.title == "Pets and plans" and chat.status == Chat.Status.IDLE
    snap = chat.snapshot
    assert snap["budget"] == 400 - 32 - 160
    assert [p["id"] for p in snap["l0"]] == ["system:prompt"] and snap["l0"][0]["pinned"]
    assert snap["tokenizer"] == "tiktoken cl100k_base" == chat.tokenizer
    assert chat.state["memory"]["turn"] == 0


def test_bad_settings_are_named_by_field(user):
    for kwargs, field in (({"context_window": 200}, "context_window"),
                          ({"page_size": 4}, "page_size"), ({"preset": "nope"}, "preset"),
                          ({"policy": "opt"}, "policy"), ({"provider": "gpt9"}, "provider")):
        with pytest.raises(ConfigError) as info:
            _chat(user, **kwargs)
        assert info.value.field == field, kwargs
    assert not Chat.objects.exists()


def test_turns_page_messages_through_l0_and_persist_per_turn_metrics(user):
    chat = _chat(user, policy="fifo")
    user_msg, answer = _turn(chat, user, FACTS[0])
    assert user_msg.role == "user" and user_msg.turn == 1
    assert answer.role == "assistant" and answer.text.startswith("(scripted) Noted: My cat")
    for key in ("faults", "evictions", "model_seconds", "memory_seconds", "prompt_tokens",
                "l0_used", "budget", "events"):
        assert key in answer.metrics, key
    ids = [p["id"] for p in chat.snapshot["l0"]]
    assert "message:t001-user" in ids and any(i.startswith("message:t001-assistant")
                                              for i in ids)
    assert chat.snapshot["policy"] == "fifo"
    for text in FACTS[1:]:
        _turn(chat, user, text)
    snap = chat.snapshot
    assert snap["evictions"] > 0 and snap["outside"] > 0  # the budget overflowed
    assert snap["l0_used"] <= snap["budget"]
    assert set(snap["tiers"]) >= {"L0", "L1"}
    # the last question faulted the cat's page back in (demand paging, BM25)
    last = ChatMessage.objects.filter(chat=chat).order_by("-id").first()
    assert last.metrics["demand_faults"] >= 1
    assert "message:t001-user" in [p["id"] for p in snap["l0"]]
    kinds = {e["kind"] for e in last.metrics["events"]}
    assert "fault" in kinds
    state = chat_state(chat)
    assert state["count"] == 12 and state["events"]


def test_a_session_survives_a_restart_identically_and_goes_on(user):
    chat = _chat(user)
    for text in FACTS[:4]:
        _turn(chat, user, text)
    stored = Chat.objects.get(pk=chat.pk)
    # "restart": a fresh provider and a session rebuilt from the database alone
    session = ChatSession.from_dict(stored.state, ScriptedProvider())
    assert services.memory_view(session)["l0"] == stored.snapshot["l0"]
    assert len(session.results) == 4
    user_msg, answer = _turn(stored, user, FACTS[5])
    assert user_msg.turn == 5 and answer.role == "assistant"
    assert stored.state["memory"]["turn"] == 5


def test_a_failing_model_keeps_the_message_and_the_session_usable(user, monkeypatch):
    chat = _chat(user)

    class Down(ScriptedProvider):
        def chat(self, messages, **kwargs):
            raise ProviderError("timeout", "the model did not answer within 120 s")

    monkeypatch.setattr(services, "provider_make", lambda kind: Down())
    user_msg, error = _turn(chat, user, FACTS[0])
    assert error.role == "error" and "did not answer" in error.text
    assert error.metrics["error"]["kind"] == "timeout"
    assert chat.status == Chat.Status.IDLE
    # the user's message is in the transcript and in the memory
    assert ChatMessage.objects.filter(pk=user_msg.pk).exists()
    assert "message:t001-user" in [p["id"] for p in chat.snapshot["l0"]]
    monkeypatch.undo()
    _, answer = _turn(chat, user, "Are you back?")
    assert answer.role == "assistant"


#: a short message, then long ones on other subjects (issue 7.2: the default preset dropped
#: the question being asked), and one that goes back to the first
LONG_TURNS = ["My name is Ana and I drink green tea.", *[
    " ".join(f"{topic} note {k}: the {topic} {detail} is worth a careful look today."
             for k in range(18))
    for topic, detail in (("telescope", "mirror"), ("pasta", "sauce"), ("railway", "signal"),
                          ("cello", "bow"), ("harbour", "tide"))], "What is my name and tea?"]


@pytest.mark.parametrize(("preset", "policy"), [
    ("vmem", ""), ("vmem", "lfu"), ("vmem", "s3fifo"), ("vmem", "2q"), ("vmem", "ws"),
    ("letta", ""), ("memgpt", ""), ("chuk", ""), ("chuk", "arc")])
def test_the_model_is_asked_the_whole_question_under_every_preset(user, preset, policy):
    chat = chat_create(owner=user, provider="scripted", preset=preset, policy=policy)
    for text in LONG_TURNS:
        _, answer = _turn(chat, user, text)
        assert answer.role == "assistant", answer.text
        turn = answer.metrics["memory_turn"]
        question = [p["id"] for p in chat.state["memory"]["pages"]
                    if p["id"].startswith(f"message:t{turn:03d}-user")]
        missing = [p for p in question if p not in answer.metrics["l0_pages"]]
        assert question and not missing, f"turn {turn}: {missing} not in the prompt"
    assert chat.snapshot["evictions"] > 0  # the window did overflow


def test_a_message_too_long_for_the_context_is_refused_with_the_sizes_and_nothing_is_lost(
        user):
    chat = _chat(user, context_window=300, page_size=16, max_tokens=16)
    _turn(chat, user, FACTS[0])
    state = json.dumps(chat.state["memory"], sort_keys=True)
    long_text = " ".join(FACTS[1:5] * 4)
    message, error = _turn(chat, user, long_text)
    assert error.role == "error" and error.metrics["error"]["kind"] == "too_long"
    budget = 300 - 16 - 160
    assert "tokens" in error.text and f"context budget of {budget} tokens" in error.text
    assert chat.status == Chat.Status.IDLE
    assert ChatMessage.objects.get(pk=message.pk).text == long_text  # kept in the transcript
    assert json.dumps(chat.state["memory"], sort_keys=True) == state  # memory unchanged
    _, answer = _turn(chat, user, "What is my cat called?")
    assert answer.role == "assistant" and "What is my cat called?" in answer.text


def test_a_busy_chat_refuses_a_second_message_and_others_cannot_send(user, other):
    chat = _chat(user)
    chat_turn_send(chat=chat, user=user, text="one", submit=False)
    with pytest.raises(ChatBusy):
        chat_turn_send(chat=chat, user=user, text="two", submit=False)
    with pytest.raises(ChatPermissionError):
        chat_turn_send(chat=chat, user=other, text="hi", submit=False)
    with pytest.raises(ConfigError) as info:
        chat_turn_send(chat=chat, user=user, text="   ", submit=False)
    assert info.value.field == "text"
    assert ChatMessage.objects.filter(chat=chat).count() == 1


def test_a_turn_interrupted_by_a_restart_is_recovered(user):
    chat = _chat(user)
    chat_turn_send(chat=chat, user=user, text="hello", submit=False)
    Chat.objects.filter(pk=chat.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    chat.refresh_from_db()
    chat = chat_recover_stale(chat=chat)
    assert chat.status == Chat.Status.IDLE
    roles = list(ChatMessage.objects.filter(chat=chat).values_list("role", flat=True))
    assert roles == ["user", "error"]
    _turn(chat, user, "hello again")  # usable


def test_busy_chats_are_recovered_by_heartbeat_not_by_guessing(user):
    """The chat pool's keeper (vmemsite/live): a busy chat whose heartbeat is fresh is left
    alone however old its last change; a stale one is swept; a stopping server abandons what it
    holds at once."""
    keeper = ChatKeeper()
    alive, dead, held = _chat(user), _chat(user), _chat(user)
    for chat in (alive, dead, held):
        chat_turn_send(chat=chat, user=user, text="hello", submit=False)
    hour_ago = timezone.now() - timedelta(hours=1)
    Chat.objects.filter(pk__in=[alive.pk, dead.pk, held.pk]).update(updated_at=hour_ago)
    keeper.beat({alive.pk})
    Chat.objects.filter(pk=dead.pk).update(heartbeat_at=hour_ago)
    assert keeper.sweep(exclude={held.pk}) == [dead.pk]
    statuses = dict(Chat.objects.values_list("pk", "status"))
    assert statuses[alive.pk] == "thinking" and statuses[dead.pk] == "idle"
    keeper.abandon({held.pk})
    assert Chat.objects.get(pk=held.pk).status == "idle"
    roles = list(ChatMessage.objects.filter(chat=held).values_list("role", flat=True))
    assert roles == ["user", "error"]  # the message is kept, the error says why


def test_the_http_provider_missing_key_and_broken_endpoint(user, monkeypatch):
    for name in ("VMEM_LLM_BASE_URL", "VMEM_LLM_API_KEY", "OPENAI_API_KEY", "VMEM_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as info:
        _chat(user, provider="http")
    assert info.value.field == "provider" and "VMEM_LLM_BASE_URL" in info.value.message
    monkeypatch.setenv("VMEM_LLM_BASE_URL", "https://llm.example.invalid/v1")
    with pytest.raises(ConfigError) as info:
        _chat(user, provider="http")
    assert "no API key" in info.value.message
    # a local endpoint where nothing listens: the chat is created, the turn fails clearly
    secret = "sk-test-never-stored-4242"
    monkeypatch.setenv("VMEM_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("VMEM_LLM_API_KEY", secret)
    chat = _chat(user, provider="http")
    _, error = _turn(chat, user, "hello")
    assert error.role == "error" and error.metrics["error"]["kind"] == "unavailable"
    assert "cannot reach" in error.text
    stored = json.dumps([chat.state, chat.snapshot, chat_state(chat)])
    assert secret not in stored


def test_shipped_scripts_are_listed(user):
    names = {s["name"]: s for s in script_list_shipped()}
    assert {"long_chat.jsonl", "coding.jsonl", "document_qa.jsonl"} <= set(names)
    assert names["long_chat.jsonl"]["probes"] == 5


def test_a_scripted_session_plays_to_the_same_recall_as_the_command_line(user, settings):
    chat = chat_script_start(owner=user, script_name="long_chat.jsonl", provider="scripted",
                             preset="chuk", submit=False)
    assert chat.status == Chat.Status.QUEUED and chat.turns_total == 21
    frames = []
    chat_script_execute(chat_id=chat.pk, publisher=lambda cid, m: frames.append(m))
    chat.refresh_from_db()
    assert chat.status == Chat.Status.FINISHED and chat.turns_done == 21
    path = settings.BASE_DIR / "fixtures" / "sessions" / "long_chat.jsonl"
    cli = run_script(load_script(path), preset="chuk").totals()
    for key in ("recall_success", "faults", "evictions", "probes", "turns"):
        assert chat.totals[key] == cli[key], key
    assert ChatMessage.objects.filter(chat=chat).count() == 42
    answers = ChatMessage.objects.filter(chat=chat, role="assistant")
    assert sum(1 for m in answers if m.metrics["recall"] is not None) == 5
    turns = [f for f in frames if f["type"] == "turn"]
    assert [f["progress"]["done"] for f in turns] == list(range(1, 22))
    assert frames[-1]["type"] == "status" and frames[-1]["totals"]["turns"] == 21


def test_a_bad_uploaded_script_names_the_line(user):
    text = '{"role": "user", "text": "hi"}\n{"role": "user", "probe": {"needs": ["x"]}}\n'
    with pytest.raises(ConfigError) as info:
        chat_script_start(owner=user, upload_text=text, upload_name="mine.jsonl",
                          submit=False)
    assert info.value.field == "script" and "line 2" in info.value.message
    assert not Chat.objects.exists()


def test_replay_records_the_trace_and_compares_policies_open_loop(user, data_dir):
    chat = _chat(user, preset="chuk")
    for text in FACTS:
        _turn(chat, user, text)
    trace = chat_trace(chat)
    assert trace and {a.op.value for a in trace} >= {"write", "read", "pin"}
    run = chat_replay_create(chat=chat, user=user)
    assert run.kind == Run.Kind.COMPARE and "Open-loop replay" in run.label
    labels = [v["label"] for v in run.config["variants"]]
    assert labels[0] == "importance" and "lru" in labels and "fifo" in labels
    assert run.trace.requests == len(trace) and run.trace.owner == user
    assert run.config["base"]["tiers"][0]["capacity_tokens"] == chat.snapshot["budget"]
    chat.refresh_from_db()
    assert chat.replay_run_id == run.pk
    run_execute(run_id=run.pk, publisher=lambda *a: None)
    run.refresh_from_db()
    assert run.status == Run.Status.FINISHED, run.error
    rows = {r["label"]: r for r in run.result["rows"]}
    assert set(labels) <= set(rows)


def test_replay_needs_a_turn_and_its_owner(user, other, data_dir):
    chat = _chat(user)
    with pytest.raises(services.ChatError):
        chat_replay_create(chat=chat, user=user)
    _turn(chat, user, FACTS[0])
    with pytest.raises(ChatPermissionError):
        chat_replay_create(chat=chat, user=other)
    with pytest.raises(ConfigError):
        chat_replay_create(chat=chat, user=user, policies=["lru"])


@pytest.mark.slow
def _skip_without_the_model() -> None:
    pytest.importorskip("xllamacpp")
    from simulator.llm.embedded import model_path

    try:
        model_path()
    except ProviderError as exc:
        pytest.skip(exc.message)


def test_a_real_turn_with_the_embedded_model(user):
    _skip_without_the_model()
    chat = chat_create(owner=user, provider="embedded", context_window=1024, page_size=64,
                       max_tokens=24)
    assert "SmolLM2" in chat.tokenizer
    _, answer = _turn(chat, user, "My cat is called Miso. Say hello to her.")
    assert answer.role == "assistant", answer.text
    assert answer.text.strip() and answer.metrics["completion_tokens"] > 0
    assert answer.metrics["model_seconds"] > 0
    assert any(p["id"] == "message:t001-user" for p in chat.snapshot["l0"])


def test_an_embedded_answer_cut_at_the_token_limit_is_stored_as_cut(user):
    _skip_without_the_model()
    chat = chat_create(owner=user, provider="embedded", context_window=1024, page_size=64,
                       max_tokens=8)
    _, answer = _turn(chat, user, "List twenty animals, one per line.")
    assert answer.role == "assistant", answer.text
    assert answer.metrics["truncated"] is True and answer.metrics["finish_reason"] == "length"
    assert chat_state(chat)["messages"][-1]["metrics"]["truncated"] is True


def test_scripted_totals_give_answers_with_the_fact_beside_recall(user):
    chat = chat_script_start(owner=user, script_name="long_chat.jsonl", provider="scripted",
                             submit=False)
    chat_script_execute(chat_id=chat.pk, publisher=lambda *a: None)
    chat.refresh_from_db()
    totals = chat.totals
    assert totals["answers_checked"] > 0
    assert totals["answer_hit_rate"] == totals["answer_hits"] / totals["answers_checked"]
    assert totals["truncated"] == 0  # the scripted replies never stop at the limit
