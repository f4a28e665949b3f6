"""Accesses (simulator/engine/access.py)."""

from __future__ import annotations

from simulator.engine.access import Access, Op, reads


def test_reads_are_accesses_made_in_c():
    made = list(reads(["a", 7], 3, start=5))
    assert made == [Access(5.0, "a", 3, Op.READ, "", 0), Access(6.0, 7, 3, Op.READ, "", 0)]
    assert all(type(a) is Access and a.op is Op.READ for a in made)
    assert list(reads([1, 2], [4, 9])) == [Access(0.0, 1, 4), Access(1.0, 2, 9)]
