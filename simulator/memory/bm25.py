"""Okapi BM25 over pages: the lexical relevance that demand paging uses (no network models).

    score(q, d) = sum over t in q of
                  idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))
    idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

``N`` documents, ``df(t)`` of them contain term ``t``, ``|d|`` is the document's length in terms
and ``avgdl`` the mean length; k1 = 1.5, b = 0.75 by default. A query term repeated counts once
per occurrence (as in Lucene's classic BM25). This idf is never negative.

Terms: lower-cased runs of letters and digits, English stop words removed, and a light plural
rule (``cats`` → ``cat``, ``boxes`` → ``box``; words of 3 letters or fewer, and words ending in
``ss``/``us``/``is``, are kept). Documents can be added and removed at any time.

Why this index and not a package (measured in ``bench/bm25.py``, figures in bench/README.md):
a session adds pages every turn and queries between additions, and neither maintained package
updates an index in place — ``bm25s`` (the same BM25 as this one, its ``lucene`` method, up to
the factor k1 + 1) and ``rank-bm25`` (unmaintained since 2022, another idf) rebuild their index
whenever the pages change. Over a chat of 100 to 300 pages that made them 8 to 16 times slower
than these postings; on a static collection of 3,000 pages one bm25s query is about as fast as
one here (0.8 times) and rank-bm25's is 16 times slower. Both would also add NumPy to the memory
package for no gain, so the index stays here, checked against the formula by a property test.

Bounded work per query (:meth:`BM25Index.top_scores`, the MaxScore rule of Turtle and Flood,
1995): a term ``t`` adds less than ``ub(t) = times(t) * idf(t) * (k1 + 1)`` to any document,
because ``tf / (tf + norm) < 1``. The query's terms are read rarest first (highest ``ub``); a
document met in a postings list is scored whole (its other terms looked up in its own counts).
Once the ``k`` best accepted documents so far all score at least the sum of ``ub`` over the
terms not yet read, no unread document can reach them, so the common words' long postings are
never walked. The ``k`` best are exactly those of the full scoring (ties included: an unread
document scores strictly less). See docs/sessions.md, "Long sessions".
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable

__all__ = ["STOP_WORDS", "BM25Index", "terms"]

STOP_WORDS = frozenset([
    "a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for",
    "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself",
    "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
    "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same",
    "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which",
    "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself",
    "yourselves", "s", "t", "don", "ll", "ve", "re", "m", "d", "isn", "aren", "wasn", "weren",
    "hasn", "haven", "hadn", "doesn", "didn", "won", "wouldn", "shan", "shouldn", "let", "tell",
    "please",
])

_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    if len(word) <= 3 or word.endswith(("ss", "us", "is")) or not word.endswith("s"):
        return word
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1]


def terms(text: str) -> list[str]:
    """The index terms of ``text``, in order, repeats kept."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


class BM25Index:
    """An incremental BM25 index of ``doc_id → text``: postings per term, so a query costs the
    documents that share its terms, not the whole collection."""

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._terms: dict[Hashable, Counter[str]] = {}
        self._len: dict[Hashable, int] = {}
        #: term -> {doc_id: times the term occurs in it}
        self._postings: dict[str, dict[Hashable, int]] = {}
        self._total = 0
        #: doc_id -> when it was added (ties rank in that order)
        self._added: dict[Hashable, int] = {}
        self._adds = 0
        #: counts every change (add, remove): equal counts, equal scores for a query
        self.changes = 0

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, doc_id: Hashable) -> bool:
        return doc_id in self._terms

    def add(self, doc_id: Hashable, text: str) -> None:
        """Index ``text`` under ``doc_id`` (replacing what was there)."""
        if doc_id in self._terms:
            self.remove(doc_id)
        tf = Counter(terms(text))
        self.changes += 1
        self._terms[doc_id] = tf
        self._adds += 1
        self._added[doc_id] = self._adds
        self._len[doc_id] = length = sum(tf.values())
        self._total += length
        for term, times in tf.items():
            self._postings.setdefault(term, {})[doc_id] = times

    def remove(self, doc_id: Hashable) -> None:
        tf = self._terms.pop(doc_id, None)
        if tf is None:
            return
        self.changes += 1
        self._total -= self._len.pop(doc_id)
        del self._added[doc_id]
        for term in tf:
            docs = self._postings[term]
            del docs[doc_id]
            if not docs:
                del self._postings[term]

    def idf(self, term: str) -> float:
        n = len(self._terms)
        df = len(self._postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str, candidates: Iterable[Hashable] | None = None
               ) -> dict[Hashable, float]:
        """BM25 score of every (candidate) document with a positive score."""
        q = terms(query)
        if not q or not self._terms:
            return {}
        allowed = None if candidates is None else set(candidates)
        avgdl = self._total / len(self._terms) or 1.0
        k1, b = self.k1, self.b
        lengths = self._len
        out: dict[Hashable, float] = {}
        for term, times in Counter(q).items():
            docs = self._postings.get(term)
            if not docs:
                continue
            weight = times * self.idf(term) * (k1 + 1.0)
            for doc_id, f in docs.items():
                if allowed is not None and doc_id not in allowed:
                    continue
                norm = k1 * (1.0 - b + b * lengths[doc_id] / avgdl)
                out[doc_id] = out.get(doc_id, 0.0) + weight * f / (f + norm)
        return out

    def top_scores(self, query: str, k: int, accept: Callable[[Hashable], bool] | None = None,
                   floor: float = 0.0) -> dict[Hashable, float]:
        """Scores (as :meth:`scores`) of a set of accepted documents that holds the ``k`` best
        accepted documents scoring at least ``floor`` — and every document tied with them —
        reading only the postings needed (the MaxScore rule in the module docstring)."""
        counts = Counter(terms(query))
        if not counts or not self._terms or k <= 0:
            return {}
        weights = {t: n * self.idf(t) * (self.k1 + 1.0) for t, n in counts.items()
                   if t in self._postings}
        order = sorted(weights, key=lambda t: (-weights[t], t))
        remaining = sum(weights.values())
        avgdl = self._total / len(self._terms) or 1.0
        seen: set[Hashable] = set()
        out: dict[Hashable, float] = {}
        best: list[float] = []  # a min-heap of the k best accepted scores
        for term in order:
            threshold = max(floor, best[0] if len(best) >= k else 0.0)
            if threshold > 0.0 and remaining * (1.0 + 1e-9) <= threshold:
                break  # an unread document scores strictly less than ``remaining``
            for doc_id in self._postings[term]:
                if doc_id in seen:
                    continue
                seen.add(doc_id)
                if accept is not None and not accept(doc_id):
                    continue
                score = self._score(doc_id, weights, avgdl)
                out[doc_id] = score
                if score >= floor:
                    if len(best) < k:
                        heapq.heappush(best, score)
                    elif score > best[0]:
                        heapq.heapreplace(best, score)
            remaining -= weights[term]
        return out

    def _score(self, doc_id: Hashable, weights: dict[str, float], avgdl: float) -> float:
        tf = self._terms[doc_id]
        norm = self.k1 * (1.0 - self.b + self.b * self._len[doc_id] / avgdl)
        score = 0.0
        for term, weight in weights.items():
            f = tf.get(term)
            if f:
                score += weight * f / (f + norm)
        return score

    def search(self, query: str, k: int = 5, candidates: Iterable[Hashable] | None = None
               ) -> list[tuple[Hashable, float]]:
        """The ``k`` best documents, best first (ties by the order they were added)."""
        return self.best(self.scores(query, candidates), k)

    def best(self, scores: dict[Hashable, float], k: int) -> list[tuple[Hashable, float]]:
        """The ``k`` best of ``scores`` (from :meth:`scores`), best first, ties by the order
        the documents were added."""
        added = self._added
        return heapq.nsmallest(k, scores.items(), key=lambda kv: (-kv[1], added[kv[0]]))
