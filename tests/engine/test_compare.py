"""Comparisons (simulator/engine/compare.py): lines by role, and one definition of misses and
faults in every row (docs/metrics.md)."""

from __future__ import annotations

from simulator.engine.access import Access, Op
from simulator.engine.compare import (
    REFERENCE,
    VARIANT,
    Comparison,
    Variant,
    series_plan,
    simulate,
)
from simulator.engine.config import SimConfig
from simulator.engine.observers import Recorder
from simulator.engine.simulation import Simulation
from simulator.engine.sources import SequenceSource


def _variant(label: str, policy: str, capacity: int) -> Variant:
    return Variant(label, SimConfig.classic(policy, capacity, window_accesses=4))


def _chat_like() -> list[Access]:
    """What a chat records: each new message is written, then the prompt reads them back."""
    accesses: list[Access] = []
    messages: list[str] = []
    for turn in range(8):
        page = f"m{turn}"
        messages.append(page)
        accesses.append(Access(len(accesses), page, 1, Op.WRITE))
        for old in messages[-4:]:
            accesses.append(Access(len(accesses), old, 1, Op.READ))
    return accesses


class _Accesses:
    """A finite source over a list of accesses (what a stored chat trace is)."""

    finite = True

    def __init__(self, accesses: list[Access]) -> None:
        self.accesses = accesses
        self.length = len(accesses)
        self.label = "chat"

    def open(self):
        return iter(self.accesses)


def test_every_row_counts_misses_as_faults_and_writes_apart():
    source = _Accesses(_chat_like())
    rows = Comparison([_variant("lru", "lru", 4), _variant("fifo", "fifo", 3)], source).run()
    by_label = {row["label"]: row for row in rows}
    opt = by_label["OPT @ 4"]
    assert opt["faults"] == 0 and opt["misses"] == 0 and opt["miss_ratio"] == 0.0
    assert opt["allocations"] == 8  # the eight new messages: nothing was fetched for them
    for row in rows:
        assert row["misses"] == row["faults"]
        assert row["hits"] + row["misses"] + row["allocations"] == row["requests"]
    assert by_label["fifo"]["faults"] > 0


def test_lines_are_known_by_role_not_by_their_label():
    variants = [_variant("OPT @ 3", "lru", 3), _variant("fifo @ 4", "fifo", 4),
                _variant("opt @ 3", "opt", 3)]
    plan = series_plan(variants, with_opt=True)
    assert [(s.label, s.role) for s in plan] == [
        ("OPT @ 3", VARIANT), ("fifo @ 4", VARIANT), ("opt @ 3", VARIANT),
        ("OPT @ 3 (reference)", REFERENCE), ("OPT @ 4", REFERENCE)]
    assert plan[0].reference == "OPT @ 3 (reference)" and plan[1].reference == "OPT @ 4"
    rows = Comparison(variants, SequenceSource([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5])).run()
    by_label = {row["label"]: row for row in rows}
    assert by_label["OPT @ 3"]["role"] == VARIANT and by_label["OPT @ 3"]["faults"] == 10
    assert by_label["OPT @ 3"]["regret"] == 3  # LRU's 10 against OPT's 7
    assert by_label["OPT @ 3 (reference)"]["reference"] is True
    assert by_label["opt @ 3"]["regret"] == 0
    # the run's refaults, as a run of the variant alone counts them (the thrash index is
    # the last window's only)
    alone = Simulation(SimConfig.classic("lru", 3),
                       iter(SequenceSource([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]).open())).run()
    assert by_label["OPT @ 3"]["refaults"] == alone.refaults > 0
    assert series_plan(variants, with_opt=False)[-1].role == VARIANT  # no reference at all


def test_a_page_back_from_the_store_is_not_new():
    recorder = Recorder()
    config = SimConfig.classic("lru", 2, window_accesses=1)
    accesses = [Access(i, p, 1) for i, p in enumerate([1, 2, 3, 1])]
    Simulation(config, accesses, observers=[recorder]).run()
    faults = [e for w in recorder.windows for e in w.events if e.kind == "fault"]
    assert [(e.page_id, e.src) for e in faults] == [(1, "new"), (2, "new"), (3, "new"),
                                                      (1, "store")]


def test_simulate_keeps_no_recent_events_and_counts_the_same():
    """``simulate`` (what ``vmem simulate`` runs) skips the windows' recent events, which its
    result does not carry: every count is what a run keeping them counts, and an observer
    that wants events still gets each one."""
    accesses = _chat_like() * 3
    config = SimConfig.classic("lru", 3, window_accesses=5)
    recorder = Recorder(events=True)
    result = simulate(config, _Accesses(accesses), observers=[recorder])
    kept = Recorder(events=True)
    full = Simulation(config, iter(accesses), observers=[kept]).run()
    assert result == full
    assert result.refaults > 0
    assert recorder.events == kept.events
    assert all(not w.events for w in recorder.windows)
    assert any(w.events for w in kept.windows)
