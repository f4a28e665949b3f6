"""The ``vmem`` command line: engine commands (simulate, compare, generate) and LLM sessions
(``vmem session``), on top of :mod:`simulator.engine`, :mod:`simulator.memory` and
:mod:`simulator.llm`."""

from .main import main

__all__ = ["main"]
