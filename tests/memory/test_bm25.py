"""BM25 on hand-worked cases."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def reference_scores(docs: dict[int, str], query: str, k1: float = 1.5, b: float = 0.75
                     ) -> dict[int, float]:
    """The module docstring's formula, computed document by document from the texts."""
    bags = {d: terms(text) for d, text in docs.items()}
    n = len(bags)
    avgdl = sum(len(bag) for bag in bags.values()) / n if n else 0.0
    out = {}
    for d, bag in bags.items():
        score = 0.0
        for term in terms(query):
            df = sum(1 for other in bags.values() if term in other)
            f = bag.count(term)
            if f:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(bag) / (avgdl or 1.0)))
        if score > 0:
            out[d] = score
    return out


WORDS = st.sampled_from(["cat", "cats", "dog", "boxes", "tide", "miso", "the", "tuna", "sea"])


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(0, 7), st.lists(WORDS, max_size=12).map(" ".join),
                                st.booleans()), min_size=1, max_size=25),
       query=st.lists(WORDS, min_size=1, max_size=5).map(" ".join))
def test_incremental_adds_and_removals_score_as_the_formula(steps, query):
    index, docs = BM25Index(), {}
    for doc_id, text, remove in steps:
        if remove:
            index.remove(doc_id)
            docs.pop(doc_id, None)
        else:
            index.add(doc_id, text)
            docs[doc_id] = text
    expected = reference_scores(docs, query)
    got = index.scores(query)
    assert set(got) == set(expected)
    for doc_id, score in expected.items():
        assert got[doc_id] == pytest.approx(score)
    some = sorted(docs)[::2]
    assert set(index.scores(query, candidates=some)) == set(expected) & set(some)


@settings(max_examples=80, deadline=None)
@given(texts=st.lists(st.lists(WORDS, max_size=12).map(" ".join), min_size=1, max_size=30),
       query=st.lists(WORDS, min_size=1, max_size=6).map(" ".join),
       k=st.integers(1, 6), floor=st.sampled_from([0.0, 0.5, 1.0]),
       odd_only=st.booleans())
def test_top_scores_hold_the_same_k_best_as_full_scoring(texts, query, k, floor, odd_only):
    """The MaxScore rule reads fewer postings, never a different top k (ties included)."""
    index = BM25Index()
    for doc_id, text in enumerate(texts):
        index.add(doc_id, text)
    accept = (lambda d: d % 2 == 1) if odd_only else None
    full = {d: s for d, s in index.scores(query).items()
            if (accept is None or accept(d)) and s >= floor}
    pruned = index.top_scores(query, k, accept, floor)
    for doc_id, score in pruned.items():  # whatever it scores, it scores right
        assert score == pytest.approx(index.scores(query)[doc_id])
    kept = {d: s for d, s in pruned.items() if s >= floor}
    assert index.best(kept, k) == index.best(full, k)
    kth = sorted(full.values(), reverse=True)[k - 1] if len(full) >= k else floor
    assert {d for d, s in full.items() if s >= kth} <= set(kept)  # every tie with the k-th


def test_top_scores_skip_the_postings_of_a_common_word():
    """A rare word fills the top k, so the 2,000 pages holding only the common word are never
    scored: the work is the rare word's postings, not the session's size."""
    index = BM25Index()
    for n in range(2000):
        index.add(n, f"handbook section {n % 7} says nothing special")
    index.add("fact", "the handbook says the locker code is 4512")
    scored = index.top_scores("what does the handbook say about the locker code", k=3, floor=1.0)
    assert index.best(scored, 3)[0][0] == "fact"
    assert len(scored) < 10
    assert len(index.scores("what does the handbook say about the locker code")) == 2001
