"""The real models: SmolLM2 in-process and the HTTP client against xllamacpp's own server.

Few model calls, small max_tokens, generous timeouts, no speed asserts (docs/architecture.md §2).
"""

from __future__ import annotations

import io
import json
import socket

import pytest

from simulator.cli.main import main
from simulator.llm.openai_http import HTTPProvider
from simulator.llm.providers import Provider, ProviderError
from simulator.llm.session import ChatSession
from simulator.memory.memory_presets import get_preset
from simulator.memory.session_memory import MemorySettings

pytestmark = pytest.mark.slow
TIMEOUT = 180.0


def test_embedded_model_answers_and_counts_with_its_own_tokenizer(embedded):
    assert isinstance(embedded, Provider)
    assert "own tokenizer" in embedded.tokenizer
    assert embedded.count_tokens("My cat is called Miso.") > 3
    out = embedded.chat([{"role": "user", "content": "Say hello."}], max_tokens=8,
                        timeout=TIMEOUT)
    assert out.text.strip() and 0 < out.completion_tokens <= 8 and out.prompt_tokens > 0
    assert out.seconds > 0


def test_embedded_prompt_too_long_is_a_clear_error(embedded):
    with pytest.raises(ProviderError) as info:
        embedded.chat([{"role": "user", "content": "word " * 3000}], max_tokens=4,
                      timeout=TIMEOUT)
    assert info.value.kind == "context" and "too long" in info.value.message


def test_a_session_turn_with_the_embedded_model(embedded):
    settings = MemorySettings(context_window=512, reserve_tokens=12, prompt_reserve=96,
                              page_size=64, preset=get_preset("chuk"))
    session = ChatSession(embedded, settings, max_tokens=12, timeout=TIMEOUT)
    assert session.tools_mode == "text"  # SmolLM2 has no tool syntax
    result = session.send("My cat is called Miso. What is my cat called?", labels=["cat"])
    assert result.error is None and result.answer
    assert result.model_calls >= 1 and result.prompt_tokens > 0
    assert result.model_seconds > 0 and result.memory_seconds >= 0
    assert any(p.startswith("message:t001-assistant") for p in session.memory.pages)


def test_cli_runs_a_script_on_the_embedded_model(embedded, tmp_path):
    script = tmp_path / "two.jsonl"
    script.write_text(
        '{"type": "session", "context_window": 512, "page_size": 64, "max_tokens": 8}\n'
        '{"role": "user", "text": "My dog is called Pepper.", "label": "dog"}\n'
        '{"role": "user", "text": "What is my dog called?", "probe": {"needs": ["dog"]}}\n')
    out = io.StringIO()
    code = main(["session", "run", "--script", str(script), "--provider", "embedded",
                 "--json", "--timeout", str(TIMEOUT)], out=out)
    doc = json.loads(out.getvalue())
    assert code == 0 and doc["turns"] == 2 and doc["errors"] == 0
    assert doc["recall_success"] == 1.0 and doc["completion_tokens"] > 0
    assert doc["provider"] == "embedded"


def test_an_answer_cut_at_the_token_limit_is_marked(embedded):
    session = ChatSession(embedded, MemorySettings(context_window=512, reserve_tokens=8,
                                                   prompt_reserve=96, page_size=64),
                          max_tokens=8, timeout=TIMEOUT)
    cut = session.send("List twenty animals, one per line.")
    assert cut.error is None and cut.answer
    assert cut.finish_reason == "length" and cut.truncated
    whole = session.send("Say only: yes")
    if whole.completion_tokens < 8:  # the model stopped by itself
        assert whole.finish_reason == "stop" and not whole.truncated
    assert session.totals()["truncated"] == 1 + whole.truncated


def test_cli_json_counts_the_answers_cut_off(embedded, tmp_path):
    script = tmp_path / "list.jsonl"
    script.write_text(
        '{"type": "session", "context_window": 512, "page_size": 64, "max_tokens": 8}\n'
        '{"role": "user", "text": "My dog is called Pepper.", "label": "dog"}\n'
        '{"role": "user", "text": "List twenty dog breeds, one per line.", '
        '"probe": {"needs": ["dog"], "expect": "Pepper"}}\n')
    out = io.StringIO()
    code = main(["session", "run", "--script", str(script), "--provider", "embedded",
                 "--json", "--turns", "--timeout", str(TIMEOUT)], out=out)
    doc = json.loads(out.getvalue())
    assert code == 0 and doc["truncated"] >= 1 and doc["max_tokens"] == 8
    last = doc["turn_results"][-1]
    assert last["finish_reason"] == "length" and last["truncated"] is True
    assert doc["answers_checked"] == 1 and doc["answer_hit_rate"] in (0.0, 1.0)
    text = io.StringIO()
    main(["session", "run", "--script", str(script), "--provider", "embedded",
          "--timeout", str(TIMEOUT)], out=text)
    assert "8-token limit" in text.getvalue() and "answers contained" in text.getvalue()


def test_http_provider_against_a_real_openai_compatible_server(http_server):
    url, key = http_server
    provider = HTTPProvider(url, "smollm2", api_key=key, context_window=1024)
    assert key not in repr(provider)
    out = provider.chat([{"role": "user", "content": "Say hello."}], max_tokens=8,
                        timeout=TIMEOUT)
    assert out.text.strip() and 0 < out.completion_tokens <= 8 and out.prompt_tokens > 0


def test_http_errors_are_typed_and_never_leak_the_key(http_server):
    url, key = http_server
    wrong = HTTPProvider(url, "smollm2", api_key="not-the-key")
    with pytest.raises(ProviderError) as info:
        wrong.chat([{"role": "user", "content": "hi"}], max_tokens=4, timeout=TIMEOUT)
    assert info.value.kind == "auth" and "not-the-key" not in info.value.message
    too_long = HTTPProvider(url, "smollm2", api_key=key)
    with pytest.raises(ProviderError) as info:
        too_long.chat([{"role": "user", "content": "word " * 3000}], max_tokens=4,
                      timeout=TIMEOUT)
    assert info.value.kind == "context"
    with pytest.raises(ProviderError) as info:
        HTTPProvider("https://api.example.invalid/v1", "m", api_key=None)
    assert info.value.kind == "auth" and "VMEM_LLM_API_KEY" in info.value.message
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = HTTPProvider(f"http://127.0.0.1:{port}/v1", "m")
    with pytest.raises(ProviderError) as info:
        closed.chat([{"role": "user", "content": "hi"}], max_tokens=4, timeout=10)
    assert info.value.kind == "unavailable"
    slow = HTTPProvider(url, "smollm2", api_key=key)
    with pytest.raises(ProviderError) as info:
        slow.chat([{"role": "user", "content": "Count to fifty."}], max_tokens=16,
                  timeout=0.001)
    assert info.value.kind == "timeout"
