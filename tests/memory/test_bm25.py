"""BM25 on hand-worked cases."""

from __future__ import annotations

import math

import pytest

from simulator.memory.bm25 import BM25Index, terms


def test_terms_drop_stop_words_and_plurals():
    assert terms("The cats are in the boxes, and my cat is grey!") == [
        "cat", "box", "cat", "grey"]
    assert terms("Class bus this") == ["class", "bus"]


def test_single_term_score_by_hand():
    index = BM25Index(k1=1.5, b=0.75)
    index.add("a", "cat cat dog")  # 3 terms
    index.add("b", "dog bird")  # 2 terms
    # N = 2, df(cat) = 1 -> idf = ln(1 + 1.5 / 1.5) = ln 2; avgdl = 2.5
    idf = math.log(2.0)
    norm = 1.5 * (1 - 0.75 + 0.75 * 3 / 2.5)
    expected = idf * 2 * 2.5 / (2 + norm)
    scores = index.scores("cat")
    assert scores == {"a": pytest.approx(expected)}
    # a term in every document still counts a little (this idf is never negative)
    both = index.scores("dog")
    assert set(both) == {"a", "b"} and both["b"] > both["a"]  # b is shorter


def test_search_ranks_and_removal():
    index = BM25Index()
    index.add(1, "My cat is called Miso and she likes tuna")
    index.add(2, "Tomatoes need sun, water and compost")
    index.add(3, "The compost heap needs turning every week")
    assert [d for d, _ in index.search("what is my cat called")] == [1]
    assert [d for d, _ in index.search("compost")][:2] == [2, 3]  # shorter doc first
    index.remove(3)
    assert [d for d, _ in index.search("compost")] == [2]
    assert index.scores("nothing matches here") == {}
    assert index.search("compost", candidates=[1]) == []
