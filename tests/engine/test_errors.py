"""Engine errors (simulator/engine/errors.py): fields travel with them, across processes too."""

from __future__ import annotations

import pickle

from simulator.engine.errors import ConfigError, TraceError


def test_a_config_error_keeps_every_problem_through_pickle():
    error = ConfigError.of([ConfigError("too small", "tiers[0].capacity_tokens"),
                            ConfigError("unknown", "tiers[1].policy")])
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ConfigError and str(copy) == str(error)
    assert (copy.field, copy.message) == ("tiers[0].capacity_tokens", "too small")
    assert [(e.field, e.message) for e in copy.errors] == [
        ("tiers[0].capacity_tokens", "too small"), ("tiers[1].policy", "unknown")]
    single = pickle.loads(pickle.dumps(ConfigError("bad", "rate")))
    assert single.errors == (single,) and single.field == "rate"


def test_a_trace_error_keeps_its_line_and_source_through_pickle():
    copy = pickle.loads(pickle.dumps(TraceError("not a number", line=7, field="size",
                                                source="t.csv")))
    assert (copy.line, copy.field, copy.source, copy.message) == (7, "size", "t.csv",
                                                                  "not a number")
    assert str(copy) == "t.csv, line 7, field 'size': not a number"
