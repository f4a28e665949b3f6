"""``vmem mrc``: the documented JSON shape, the table, errors as one line with status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import REFERENCE, run


@pytest.fixture
def belady(tmp_path: Path) -> Path:
    """The reference string of Belady's anomaly, as in test_cli.py."""
    (path := tmp_path / "belady.txt").write_text(REFERENCE)
    return path


def test_json_is_the_documented_shape(belady):
    code, out = run("mrc", str(belady), "--policies", "lru,fifo,opt",
                    "--sizes", "3,4", "--unit-pages", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["requests"] == 12
    assert list(data["curves"]) == ["lru", "fifo", "opt"]
    simple = {name: [{k: p[k] for k in ("size", "misses", "miss_ratio")} for p in points]
              for name, points in data["curves"].items()}
    assert simple == {
        "lru": [{"size": 3, "misses": 10, "miss_ratio": 10 / 12},
                {"size": 4, "misses": 8, "miss_ratio": 8 / 12}],
        "fifo": [{"size": 3, "misses": 9, "miss_ratio": 9 / 12},
                 {"size": 4, "misses": 10, "miss_ratio": 10 / 12}],
        "opt": [{"size": 3, "misses": 7, "miss_ratio": 7 / 12},
                {"size": 4, "misses": 6, "miss_ratio": 6 / 12}],
    }
    assert all(p["exact"] for points in data["curves"].values() for p in points)


def test_table_is_readable(belady):
    code, out = run("mrc", str(belady), "--policies", "lru,fifo", "--sizes", "3,4",
                    "--unit-pages")
    assert code == 0
    lines = out.splitlines()
    assert "requests: 12" in lines[1] and "exact" in lines[1]
    assert lines[2].split() == ["size", "lru", "fifo"]
    assert lines[4].split() == ["3", "0.8333", "0.7500"]


def test_sampled_points_are_marked(tmp_path):
    code, out = run("mrc", "--workload", "zipf", "--pages", "2000", "-n", "20000",
                    "--policies", "lru,sieve", "--sizes", "1000", "--unit-pages",
                    "--sample", "0.05", "--min-pages", "10", "--max-error", "0", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["exact"] is False and data["rate"] == 0.05
    for points in data["curves"].values():
        assert points[0]["exact"] is False and points[0]["error"] is not None
    code, out = run("mrc", "--workload", "zipf", "--pages", "2000", "-n", "20000",
                    "--policies", "lru", "--sizes", "1000", "--unit-pages",
                    "--sample", "0.05", "--min-pages", "10", "--max-error", "0")
    assert code == 0 and "~" in out and "±" in out and "sampled at rate 0.05" in out


def test_the_table_widens_for_large_sizes(belady):
    code, out = run("mrc", str(belady), "--policies", "lru", "--sizes", "3,1000000000000",
                    "--unit-pages")
    assert code == 0
    rows = out.splitlines()[-2:]
    assert rows[1].startswith("1,000,000,000,000 ") and len(rows[0]) == len(rows[1])


def test_log_sizes(belady):
    code, out = run("mrc", str(belady), "--log-sizes", "3", "--low", "20",
                    "--unit-pages", "--json")
    assert code == 0
    assert json.loads(out)["sizes"] == [1, 2, 5]  # 20 % to 100 % of 5 pages


@pytest.mark.parametrize(("args", "message"), [
    (["--policies", "lru,nope", "--sizes", "3"], "unknown policy 'nope'"),
    (["--sizes", "3", "--sample", "2"], "--sample: a sampling rate"),
    (["--sizes", "3", "--min-pages", "-1"], "--min-pages: expected an integer >= 0"),
    (["--sizes", "3", "--max-error", "-1"], "--max-error: expected a number >= 0"),
    (["--log-sizes", "0"], "--log-sizes: expected an integer from 1 to 1000"),
    (["--log-sizes", "5", "--low", "0"], "--low: expected a percentage"),
    (["--sizes", "3", "--jobs", "-1"], "--jobs: expected a number of processes >= 0"),
    (["--policies", "lru", "--sizes", "3,99999999999999999999999"],
     "sizes: a cache size must be an integer from 1 to 1,000,000,000,000"),
])
def test_errors_are_one_line_with_status_2(belady, capsys, args, message):
    code, out = run("mrc", str(belady), "--unit-pages", *args)
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert err.startswith("vmem: error: ") and message in err and err.count("\n") == 1


def test_a_missing_trace_and_missing_sizes(tmp_path):
    code, _ = run("mrc", str(tmp_path / "absent.txt"), "--sizes", "3")
    assert code == 2
    result = subprocess.run([sys.executable, "-m", "simulator.cli.main", "mrc",
                             str(tmp_path / "absent.txt")], capture_output=True, text=True)
    assert result.returncode == 2 and "--sizes" in result.stderr


def test_jobs_compute_the_same_curves(belady):
    """One process or two (the default on two cores): the same JSON but the time taken."""
    outputs = []
    for jobs in ("1", "2"):
        code, out = run("mrc", str(belady), "--policies", "lru,fifo,arc,opt", "--sizes",
                        "2,3,4", "--unit-pages", "--json", "--jobs", jobs)
        assert code == 0
        data = json.loads(out)
        data.pop("seconds")
        outputs.append(data)
    assert outputs[0] == outputs[1]


def test_progress_counts_points_once_each(belady):
    """On a terminal ``vmem mrc`` draws the points done (slow ones with two decimals of
    rate); a point computed again at a higher rate counts once."""
    import io

    from simulator.cli.mrc import _counting
    from simulator.cli.progress import ProgressBar
    from simulator.engine.mrc import miss_ratio_curves
    from simulator.engine.sources import TraceSource

    out = io.StringIO()
    bar = ProgressBar(6, stream=out, label="mrc", unit="points")
    on_point = _counting(bar)
    miss_ratio_curves(TraceSource(belady, unit_pages=True), ["lru", "fifo"], [2, 3, 4],
                      on_point=on_point)
    on_point(miss_ratio_curves(TraceSource(belady, unit_pages=True), ["fifo"], [4]
                               ).curves["fifo"].points[0])
    bar.draw(6, bar.started + 4.0)
    bar.close()
    text = out.getvalue()
    assert "6/6" in text and "100.0%" in text and "1.50/s" in text
