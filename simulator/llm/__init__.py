"""LLM sessions whose context the virtual memory manages: model providers (embedded SmolLM2
through xllamacpp, any OpenAI-compatible HTTP endpoint, a scripted provider for tests), the
session runner, scripted conversations with recall probes, and ``vmem session``.

This package does I/O (models, HTTP, files); the memory itself is pure engine code
(:mod:`simulator.memory.session_memory`). Nothing here imports Django.
"""

from .factory import make_provider
from .providers import (
    Completion,
    Provider,
    ProviderError,
    ScriptedProvider,
    ToolCall,
)

__all__ = [
    "Completion",
    "Provider",
    "ProviderError",
    "ScriptedProvider",
    "ToolCall",
    "make_provider",
]
