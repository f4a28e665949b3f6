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
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable

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
    """An incremental BM25 index of ``doc_id → text``."""

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._tf: dict[Hashable, Counter[str]] = {}
        self._len: dict[Hashable, int] = {}
        self._df: Counter[str] = Counter()
        self._total = 0

    def __len__(self) -> int:
        return len(self._tf)

    def __contains__(self, doc_id: Hashable) -> bool:
        return doc_id in self._tf

    def add(self, doc_id: Hashable, text: str) -> None:
        """Index ``text`` under ``doc_id`` (replacing what was there)."""
        if doc_id in self._tf:
            self.remove(doc_id)
        tf = Counter(terms(text))
        self._tf[doc_id] = tf
        self._len[doc_id] = sum(tf.values())
        self._total += self._len[doc_id]
        self._df.update(tf.keys())

    def remove(self, doc_id: Hashable) -> None:
        tf = self._tf.pop(doc_id, None)
        if tf is None:
            return
        self._total -= self._len.pop(doc_id)
        for term in tf:
            self._df[term] -= 1
            if self._df[term] <= 0:
                del self._df[term]

    def idf(self, term: str) -> float:
        n = len(self._tf)
        df = self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: str, candidates: Iterable[Hashable] | None = None
               ) -> dict[Hashable, float]:
        """BM25 score of every (candidate) document with a positive score."""
        q = terms(query)
        if not q or not self._tf:
            return {}
        avgdl = self._total / len(self._tf) or 1.0
        k1, b = self.k1, self.b
        idf = {t: self.idf(t) for t in set(q)}
        qcount = Counter(q)
        out: dict[Hashable, float] = {}
        pool = self._tf.keys() if candidates is None else (c for c in candidates if c in self._tf)
        for doc_id in pool:
            tf = self._tf[doc_id]
            norm = k1 * (1.0 - b + b * self._len[doc_id] / avgdl)
            score = 0.0
            for term, times in qcount.items():
                f = tf.get(term)
                if f:
                    score += times * idf[term] * f * (k1 + 1.0) / (f + norm)
            if score > 0.0:
                out[doc_id] = score
        return out

    def search(self, query: str, k: int = 5, candidates: Iterable[Hashable] | None = None
               ) -> list[tuple[Hashable, float]]:
        """The ``k`` best documents, best first (ties by id order of insertion)."""
        ranked = sorted(self.scores(query, candidates).items(), key=lambda kv: -kv[1])
        return ranked[:k]
