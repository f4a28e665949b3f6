"""VMem Lab's libraries, in layers; none of them imports Django.

* :mod:`simulator.engine` — the simulator: configuration, the SimPy hierarchy, policies,
  metrics, workloads and traces. Imports nothing else of the lab.
* :mod:`simulator.memory` — LLM context memory built on the engine's public interface: pages
  with kinds, compression, retrieval, memory presets, session memory, the importance policy.
* :mod:`simulator.llm` — model providers, tokenizers and the chat session runner (memory +
  model calls).
* :mod:`simulator.cli` — the ``vmem`` command line, on top of all three.

The Django project (``vmemsite``) sits above these. docs/architecture.md says which layer may
import which; tests/test_architecture.py enforces it.
"""
