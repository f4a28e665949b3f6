"""Accesses (simulator/engine/access.py)."""

from __future__ import annotations

from simulator.engine.access import Access, Op, PageReads, reads


def test_reads_are_accesses_made_in_c():
    made = list(reads(["a", 7], 3, start=5))
    assert made == [Access(5.0, "a", 3, Op.READ, "", 0), Access(6.0, 7, 3, Op.READ, "", 0)]
    assert all(type(a) is Access and a.op is Op.READ for a in made)
    assert list(reads([1, 2], [4, 9])) == [Access(0.0, 1, 4), Access(1.0, 2, 9)]


def test_page_reads_give_accesses_or_their_bare_ids_from_one_stream():
    stream = reads(["a", 7, "b", 8], 2, start=3)
    assert isinstance(stream, PageReads) and stream.tokens == 2
    assert next(stream) == Access(3.0, "a", 2)
    ids = stream.page_ids()
    assert next(ids) == 7  # taken bare: the accesses do not see it
    assert list(stream) == [Access(4.0, "b", 2), Access(5.0, 8, 2)]
    assert list(ids) == []


def test_reads_of_sizes_per_page_are_plain_accesses():
    assert not isinstance(reads([1, 2], [4, 9]), PageReads)
