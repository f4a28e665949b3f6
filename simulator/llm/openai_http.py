"""Any OpenAI-compatible chat endpoint over HTTP: OpenAI, Ollama, vLLM, llama.cpp's server,
LM Studio. Standard library only (``urllib``).

Configuration comes from the environment (or the caller), never from the database or a page:

* ``VMEM_LLM_BASE_URL`` — e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:11434/v1``
  (``/chat/completions`` is appended; a URL without ``/v1`` gets it added);
* ``VMEM_LLM_MODEL`` — the model name the endpoint expects;
* ``VMEM_LLM_API_KEY`` (or ``OPENAI_API_KEY``) — required unless the endpoint is on this
  machine (127.0.0.1, ::1, localhost);
* ``VMEM_LLM_CONTEXT`` — the model's context window in tokens (default 8192);
* ``VMEM_LLM_TOOLS`` — ``0`` to never offer tools (default: offer them).

The key is only ever put in the ``Authorization`` header: ``repr()`` and every error message
leave it out.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from .providers import Completion, ProviderError, parse_openai_tool_calls, tiktoken_counter

__all__ = ["HTTPProvider"]

_LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


class HTTPProvider:
    name = "http"

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None,
                 context_window: int = 8192, supports_tools: bool = True,
                 encoding: str = "cl100k_base", temperature: float = 0.0) -> None:
        if not base_url:
            raise ProviderError("unavailable", "no endpoint configured: set VMEM_LLM_BASE_URL "
                                               "(e.g. http://127.0.0.1:11434/v1)")
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ProviderError("bad_request", f"not an http(s) URL: {base_url!r}")
        base = base_url.rstrip("/")
        if not parsed.path.rstrip("/").endswith("/v1"):
            base += "/v1"
        self.base_url = base
        self.model = model or "default"
        self.host = parsed.hostname
        if not api_key and self.host not in _LOCAL:
            raise ProviderError("auth", f"no API key for {self.host}: set VMEM_LLM_API_KEY "
                                        "(or OPENAI_API_KEY) in the environment")
        self._key = api_key or ""
        self.context_window = context_window
        self.supports_tools = supports_tools
        self.temperature = temperature
        self._count = tiktoken_counter(encoding)
        self.tokenizer = f"tiktoken {encoding} (an estimate for this model)"

    @classmethod
    def from_env(cls, **overrides: Any) -> HTTPProvider:
        env = os.environ
        options: dict[str, Any] = {
            "base_url": env.get("VMEM_LLM_BASE_URL", ""),
            "model": env.get("VMEM_LLM_MODEL", ""),
            "api_key": env.get("VMEM_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            "context_window": int(env.get("VMEM_LLM_CONTEXT", "8192") or 8192),
            "supports_tools": env.get("VMEM_LLM_TOOLS", "1") not in ("0", "false", "no"),
        }
        options.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**options)

    def __repr__(self) -> str:
        key = "set" if self._key else "none"
        return f"HTTPProvider({self.base_url!r}, model={self.model!r}, key={key})"

    def count_tokens(self, text: str) -> int:
        return self._count(text)

    def chat(self, messages: Sequence[dict[str, Any]], *, max_tokens: int,
             tools: Sequence[dict[str, Any]] | None = None,
             timeout: float = 120.0) -> Completion:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages),
                                "max_tokens": max_tokens, "temperature": self.temperature,
                                "stream": False}
        if tools:
            body["tools"] = list(tools)
            body["tool_choice"] = "auto"
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions",
                                         data=json.dumps(body).encode(), headers=headers,
                                         method="POST")
        start = time.perf_counter()
        where = f"{self.host} ({self.base_url})"
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, where) from None
        except TimeoutError:
            raise ProviderError("timeout", f"{where} did not answer within {timeout:g} s"
                                ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise ProviderError("timeout", f"{where} did not answer within {timeout:g} s"
                                    ) from None
            raise ProviderError("unavailable", f"cannot reach {where}: {reason}") from None
        except OSError as exc:
            raise ProviderError("unavailable", f"cannot reach {where}: {exc}") from None
        seconds = time.perf_counter() - start
        try:
            data = json.loads(raw)
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError("bad_response", f"{where} did not send an OpenAI-style chat "
                                                f"completion: {raw[:200]!r}") from None
        usage = data.get("usage") or {}
        return Completion(
            text=str(message.get("content") or ""),
            tool_calls=parse_openai_tool_calls(message.get("tool_calls")),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0), seconds=seconds,
            finish_reason=str(choice.get("finish_reason") or ""),
            model=str(data.get("model") or self.model))

    def _http_error(self, exc: urllib.error.HTTPError, where: str) -> ProviderError:
        try:
            detail = exc.read().decode("utf-8", "replace")
            payload = json.loads(detail)
            err = payload.get("error", payload)
            message = err.get("message", detail) if isinstance(err, dict) else str(err)
            kind = err.get("type", "") if isinstance(err, dict) else ""
        except Exception:
            message, kind = "", ""
        message = (message or exc.reason or "").strip()[:300]
        if self._key:
            message = message.replace(self._key, "***")
        if exc.code in (401, 403):
            return ProviderError("auth", f"{where} refused the API key (HTTP {exc.code}): "
                                         f"{message or 'check VMEM_LLM_API_KEY'}")
        if kind == "exceed_context_size_error" or (
                exc.code == 400 and "context" in message.lower()):
            return ProviderError("context", f"the prompt is too long for the model at "
                                            f"{where}: {message}")
        if exc.code == 404:
            return ProviderError("unavailable", f"{where} has no chat completions endpoint or "
                                                f"model {self.model!r} (HTTP 404): {message}")
        if exc.code == 408 or exc.code == 504:
            return ProviderError("timeout", f"{where} timed out (HTTP {exc.code})")
        if 400 <= exc.code < 500:
            return ProviderError("bad_request", f"{where} rejected the request "
                                                f"(HTTP {exc.code}): {message}")
        return ProviderError("server", f"{where} failed (HTTP {exc.code}): {message}")
