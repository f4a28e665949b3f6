"""Real models for the LLM tests: one embedded SmolLM2 per test session, and xllamacpp's own
OpenAI-compatible HTTP server on 127.0.0.1 (a real peer for the HTTP provider, not a mock)."""

from __future__ import annotations

import socket

import pytest

from simulator.llm.embedded import default_threads, model_path
from simulator.llm.providers import ProviderError

API_KEY = "vmem-test-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gguf():
    try:
        return model_path()
    except ProviderError as exc:
        pytest.skip(exc.message)


@pytest.fixture(scope="session")
def embedded(gguf):
    from simulator.llm.embedded import EmbeddedProvider

    return EmbeddedProvider(context_window=2048)


@pytest.fixture(scope="session")
def http_server(gguf):
    """(base URL, key) of a real llama.cpp server run by xllamacpp, requiring an API key."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = 1024
    params.cpuparams.n_threads = default_threads()
    params.cpuparams_batch.n_threads = default_threads()
    params.warmup = False
    params.verbosity = -1
    params.hostnames = ["127.0.0.1"]
    params.port = _free_port()
    params.api_keys = [API_KEY]
    server = xlc.Server(params)
    yield server.listening_address, API_KEY
    del server
