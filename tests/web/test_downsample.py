"""Min-max buckets (vmemsite/runs/downsample.py) checked against a direct computation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vmemsite.runs.downsample import Downsampler, downsample


def _point(i: int, faults: int, ratio: float) -> dict:
    return {"seq": i, "end": (i + 1) * 10, "time_ms": float(i), "faults": faults,
            "miss_ratio": ratio, "tier_hit_ratio": [1 - ratio, ratio / 2]}


points_lists = st.lists(
    st.tuples(st.integers(0, 1000), st.floats(0, 1, allow_nan=False)), min_size=0,
    max_size=400,
).map(lambda rows: [_point(i, f, r) for i, (f, r) in enumerate(rows)])


@settings(max_examples=60, deadline=None)
@given(points=points_lists, budget=st.integers(2, 64))
def test_buckets_keep_the_envelope_within_the_budget(points, budget):
    out = downsample(points, budget)
    assert len(out) <= budget
    if len(points) <= budget:
        assert out == points
        return
    # each bucket is two points standing for `windows` consecutive windows, in order
    covered = 0
    for low, high in zip(out[::2], out[1::2], strict=True):
        n = low["windows"]
        assert high["windows"] == n and n >= 2
        bucket = points[covered:covered + n]
        covered += n
        assert (low["seq"], low["end"]) == (bucket[0]["seq"], bucket[0]["end"])
        assert (high["seq"], high["end"]) == (bucket[-1]["seq"], bucket[-1]["end"])
        assert low["faults"] == min(p["faults"] for p in bucket)
        assert high["faults"] == max(p["faults"] for p in bucket)
        for k in range(2):
            assert low["tier_hit_ratio"][k] == min(p["tier_hit_ratio"][k] for p in bucket)
            assert high["tier_hit_ratio"][k] == max(p["tier_hit_ratio"][k] for p in bucket)
    if len(out) % 2:  # a last bucket of one window
        assert out[-1] == points[covered]
        covered += 1
    assert covered == len(points)
    # the envelope of the whole series survives
    assert max(p["faults"] for p in out) == max(p["faults"] for p in points)
    assert min(p["faults"] for p in out) == min(p["faults"] for p in points)


@settings(max_examples=30, deadline=None)
@given(points=points_lists, budget=st.integers(2, 64), cut=st.integers(0, 400))
def test_extending_a_stored_sampler_equals_sampling_at_once(points, budget, cut):
    first = Downsampler(budget)
    first.extend(points[:cut])
    resumed = Downsampler.from_json(first.to_json())
    resumed.extend(points[cut:])
    at_once = Downsampler(budget)
    at_once.extend(points)
    assert resumed.points() == at_once.points()
    if len(points) > budget:
        assert len(at_once.points()) > budget // 2 - 2  # it does not collapse needlessly
