"""Compressors for sessions: the engine's extractive one, or the LLM itself.

:class:`LLMCompressor` asks the session's provider for a summary within the level's token
target (reduced: "the key sentences", abstract: "key points", reference: "a few topic words")
and cuts the reply to the target. If the model fails or answers with nothing, the extractive
compressor is used instead, so compression never breaks a session. :class:`TimedCompressor`
measures the time spent compressing (for ``memory_seconds`` and the benchmark).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from simulator.memory.compression import Compressed, Compressor, ExtractiveCompressor, fit_tokens

from .providers import Provider, ProviderError

__all__ = ["LLMCompressor", "TimedCompressor", "make_compressor"]

_ASK = {
    1: "Rewrite the text below keeping only its most important sentences and every name, "
       "number and fact.",
    2: "List the key points of the text below in a few short phrases.",
    3: "Give three to six topic words for the text below.",
}


class LLMCompressor:
    name = "llm"

    def __init__(self, provider: Provider, *, timeout: float = 120.0) -> None:
        self.provider = provider
        self.timeout = timeout
        self.fallback = ExtractiveCompressor()
        self.failures = 0
        self.model_seconds = 0.0

    def compress(self, text: str, level: int, target: int, *, page_id: str = "",
                 count: Callable[[str], int]) -> Compressed:
        if level <= 0:
            return Compressed(text, [])
        messages = [{"role": "system", "content": "You compress text. Answer with the "
                                                  "compressed text only."},
                    {"role": "user", "content": f"{_ASK[min(level, 3)]}\n\n{text}"}]
        try:
            out = self.provider.chat(messages, max_tokens=max(4, target), timeout=self.timeout)
            self.model_seconds += out.seconds
            summary = out.text.strip()
        except ProviderError:
            summary = ""
        if not summary:
            self.failures += 1
            return self.fallback.compress(text, level, target, page_id=page_id, count=count)
        if level >= 3 and page_id:
            summary = f"[ref {page_id}: {summary}]"
        return Compressed(fit_tokens(summary, target, count), [text])


class TimedCompressor:
    """Wraps a compressor and adds up the seconds it takes (model time kept apart)."""

    def __init__(self, inner: Compressor) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0

    def compress(self, text: str, level: int, target: int, *, page_id: str = "",
                 count: Callable[[str], int]) -> Compressed:
        start = time.perf_counter()
        try:
            return self.inner.compress(text, level, target, page_id=page_id, count=count)
        finally:
            self.seconds += time.perf_counter() - start

    @property
    def model_seconds(self) -> float:
        return getattr(self.inner, "model_seconds", 0.0)


def make_compressor(name: str, provider: Provider | None = None) -> Compressor:
    if name == "extractive":
        return ExtractiveCompressor()
    if name == "llm":
        if provider is None:
            raise ValueError("the llm compressor needs a provider")
        return LLMCompressor(provider)
    raise ValueError(f"unknown compressor {name!r}; use extractive or llm")
