"""LRU stack distances (docs/mrc.md §2) against their definition, computed by brute force."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine import stackdist
from simulator.engine.stackdist import FIRST, TokenStack, UnitStack

references = st.lists(st.tuples(st.integers(0, 12), st.integers(1, 9)), max_size=150)


def by_definition(refs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(distinct other pages, their tokens at their latest reference) since the previous
    reference to the same page; FIRST for a first reference."""
    out = []
    for i, (page, _) in enumerate(refs):
        previous = [j for j in range(i) if refs[j][0] == page]
        if not previous:
            out.append((FIRST, FIRST))
            continue
        latest: dict[int, int] = {}
        for other, tokens in refs[previous[-1] + 1:i]:
            latest[other] = tokens
        out.append((len(latest), sum(latest.values())))
    return out


@settings(max_examples=200, deadline=None)
@given(refs=references, split=st.integers(0, 150), span=st.sampled_from([1, 3, 8, 1 << 16]),
       step=st.sampled_from([1, 16]))
def test_distances_are_the_definition(refs, split, span, step):
    """Also across renumbering (a tiny span forces it every few references), with positions
    one or sixteen apart, and when one stream is fed in two calls."""
    with patch.object(stackdist, "_MIN_SPAN", span), patch.object(stackdist, "_STEP", step):
        unit, token = UnitStack(), TokenStack()
        pages = [page for page, _ in refs]
        got_unit = list(unit.distances(pages[:split])) + list(unit.distances(pages[split:]))
        got_token = list(token.distances(refs[:split])) + list(token.distances(refs[split:]))
    assert list(zip(got_unit, got_token, strict=True)) == by_definition(refs)
    assert unit.pages == token.pages == len(set(pages))


def test_textbook_string():
    # 1 2 3 4 1 2 5 1 2 3 4 5: the distance of each re-reference in pages
    got = list(UnitStack().distances([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]))
    assert got == [FIRST, FIRST, FIRST, FIRST, 3, 3, FIRST, 2, 2, 4, 4, 4]


def test_ids_are_dense_in_order_of_first_reference():
    stack = UnitStack()
    list(stack.distances(["b", "a", "b", 7]))
    assert stack.ids == {"b": 0, "a": 1, 7: 2}


def test_resized_counts_references_whose_size_changed():
    stack = TokenStack()
    assert list(stack.distances([("a", 2), ("b", 3), ("a", 5), ("b", 3)])) == [
        FIRST, FIRST, 3, 5]
    assert stack.resized == 1


def test_memory_follows_the_pages_not_the_trace():
    """A million references to 100 pages keep positions (and the bitmap) within a few
    multiples of the pages: renumbering happens, and distances stay right."""
    stack = UnitStack()
    got = list(stack.distances(k % 100 for k in range(1_000_000)))
    assert set(got[100:]) == {99}
    assert stack._position < (100 + max(4 * 100, stackdist._MIN_SPAN)) * stackdist._STEP


def test_positions_stay_within_the_bitmaps_32_bits():
    """Sixteen positions per reference while the next renumbering stays below 2**32; one
    for a stack of tens of millions of pages."""
    assert stackdist._step_for(1_000_000) == stackdist._STEP == 16
    assert stackdist._step_for(60_000_000) == 1
    assert stackdist._next_limit(60_000_000) < 1 << 32


@pytest.mark.parametrize("cls", [UnitStack, TokenStack])
def test_empty_stream(cls):
    assert list(cls().distances([])) == []
