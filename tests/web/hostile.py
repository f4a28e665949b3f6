"""Hostile but well-formed run bodies for the fuzz tests (Hypothesis strategies): a valid body
of ``POST /api/runs/`` with one to three of its parts replaced by an odd value — a number too
large for any column, NaN, a NUL byte, a 5,000-digit id, the wrong type, a missing or unknown
key — and control bodies of every shape."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from vmemsite.runs.api import EXAMPLE_COMPARISON, EXAMPLE_RUN

SEQUENCE_RUN: dict[str, Any] = {
    "config": {"tiers": [{"name": "L0", "capacity_tokens": 4, "policy": "lru"}],
               "unit_pages": True, "window_accesses": 1},
    "workload": {"kind": "sequence", "pages": [1, 2, 3, "doc#1", 1, 2], "tokens": 1,
                 "sessions": 1},
    "label": "a sequence",
}
ZIPF_RUN: dict[str, Any] = {
    "config": {"tiers": [{"name": "L0", "capacity_tokens": 100, "policy": "ws",
                          "policy_params": {"tau": 50}}], "unit_pages": True,
               "window_accesses": 100},
    "workload": {"kind": "generator", "name": "zipf",
                 "params": {"n_pages": 500, "alpha": 0.9, "n": 2000, "tokens": [1, 4]}},
    "speed": 100,
}
VALID_BODIES = (EXAMPLE_RUN, EXAMPLE_COMPARISON, SEQUENCE_RUN, ZIPF_RUN)

ODD_NUMBERS = st.sampled_from([
    2**63, -(2**63) - 1, 2**64, 10**30, 10**300, -1, 0, 1, 2**31, 10**9, 10**12,
    float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 0.5, 1e-300, 3.0,
])
ODD_TEXT = st.one_of(
    st.sampled_from(["", " ", "\x00", "a\x00b", "max", "opt", "OPT @ 3", "lru", "\ud7ff",
                     "9" * 5000, "x" * 100_000, "0", "-1", "1e999", "NaN", "zipf", "chat"]),
    st.text(max_size=30),
)
ODD_VALUES = st.one_of(
    ODD_NUMBERS, ODD_TEXT, st.booleans(), st.none(),
    st.just([]), st.just({}), st.just([None]), st.just([[[[[[1]]]]]]),
    st.just({"\x00": 1}), st.just([1, 2, 3]), st.just({"kind": "sequence"}),
    st.lists(st.integers(-(2**70), 2**70), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(body: Any, path: tuple, action: str, value: Any) -> Any:
    if not path:
        return value if action == "set" else body
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "set":
        parent[last] = value
    elif action == "drop":
        del parent[last]
    elif action == "extra" and isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    return body


@st.composite
def run_bodies(draw: st.DrawFn) -> Any:
    """A valid run body with one to three hostile changes."""
    body = copy.deepcopy(draw(st.sampled_from(VALID_BODIES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body) if isinstance(body, dict | list) else [()]
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["set", "set", "set", "drop", "extra"]))
        if action == "drop" and not path:
            action = "set"
        body = _replace(body, path, action, copy.deepcopy(draw(ODD_VALUES)))
    return body


def control_bodies() -> st.SearchStrategy[Any]:
    """Bodies of ``POST /api/runs/<id>/control``: right and wrong."""
    actions = st.one_of(st.sampled_from(["pause", "resume", "step", "stop", "speed"]),
                        ODD_VALUES)
    return st.one_of(
        st.fixed_dictionaries({"action": actions}, optional={"speed": ODD_VALUES,
                                                               "extra": ODD_VALUES}),
        ODD_VALUES,
    )
