"""The ``vmem`` command line: output shapes, classic mode, errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.engine.traces import open_trace

REFERENCE = "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture
def reference_trace(tmp_path: Path) -> Path:
    path = tmp_path / "belady.txt"
    path.write_text(REFERENCE)
    return path


def test_simulate_json_has_the_documented_fields(reference_trace):
    code, out = run("simulate", str(reference_trace), "--policy", "fifo", "--l0-tokens", "3",
                    "--unit-pages", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("requests", "hits", "misses", "miss_ratio", "faults", "thrash_index"):
        assert key in data
    assert set(data["latency_ms"]) >= {"mean", "p50", "p95", "p99"}
    assert data["requests"] == 12 and data["faults"] == 9 and data["misses"] == 9
    assert data["miss_ratio"] == pytest.approx(0.75)
    tier = data["tiers"][0]
    assert {k: tier[k] for k in ("name", "capacity_tokens", "hits", "misses", "evictions")} == {
        "name": "L0", "capacity_tokens": 3, "hits": 3, "misses": 9, "evictions": 6}


def test_simulate_with_regret(reference_trace):
    code, out = run("simulate", str(reference_trace), "--policy", "lru", "--l0-tokens", "4",
                    "--unit-pages", "--regret", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["faults"], data["opt_faults"], data["regret"]) == (8, 6, 2)


def test_simulate_table_is_readable(reference_trace):
    code, out = run("simulate", str(reference_trace), "--l0-tokens", "3", "--unit-pages")
    assert code == 0
    assert "faults        10" in out and "L0" in out


def test_compare_rows_include_opt_and_regret(reference_trace):
    code, out = run("compare", str(reference_trace), "--policies", "fifo,lru",
                    "--l0-tokens", "3,4", "--unit-pages", "--json")
    assert code == 0
    rows = {row["label"]: row for row in json.loads(out)["rows"]}
    assert rows["fifo @ 3"]["faults"] == 9 and rows["fifo @ 4"]["faults"] == 10
    assert rows["lru @ 3"]["faults"] == 10 and rows["lru @ 4"]["faults"] == 8
    assert rows["OPT @ 3"]["faults"] == 7 and rows["OPT @ 4"]["faults"] == 6
    assert rows["fifo @ 4"]["regret"] == 4 and rows["OPT @ 4"]["regret"] is None


def test_compare_on_a_generator(tmp_path):
    code, out = run("compare", "--workload", "loop", "--pages", "11", "-n", "1000",
                    "--policies", "lru,fifo,clock", "--l0-tokens", "10")
    assert code == 0
    assert "OPT @ 10" in out and "lru" in out


def test_generate_then_simulate(tmp_path):
    path = tmp_path / "z.csv.gz"
    code, out = run("generate", "zipf", "-o", str(path), "-n", "500", "--pages", "50",
                    "--seed", "3")
    assert code == 0 and "wrote 500 accesses" in out
    assert sum(1 for _ in open_trace(path)) == 500
    code, out = run("simulate", str(path), "--l0-tokens", "10", "--json")
    assert json.loads(out)["requests"] == 500


def test_config_file_drives_the_run(tmp_path, reference_trace):
    config = tmp_path / "c.json"
    code, _ = run("simulate", str(reference_trace), "--policy", "fifo", "--l0-tokens", "3",
                  "--unit-pages", "--save-config", str(config), "--json")
    assert code == 0 and json.loads(config.read_text())["tiers"][0]["policy"] == "fifo"
    code, out = run("simulate", str(reference_trace), "--config", str(config), "--json")
    assert json.loads(out)["faults"] == 9
    code, out = run("simulate", str(reference_trace), "--config", str(config), "--policy",
                    "lru", "--json")
    assert json.loads(out)["faults"] == 10


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "missing.csv"], "no such trace file: missing.csv"),
        (["simulate", "--workload", "zipf", "--alpha", "-1"], "alpha"),
        (["simulate", "--workload", "zipf", "--policy", "belady2"], "unknown policy"),
        (["simulate", "--workload", "zipf", "--l0-tokens", "0"], "capacity_tokens"),
        (["simulate"], "give a trace file or --workload"),
        (["simulate", "--workload", "uniform", "--policy", "opt", "-n", "0",
          "--workload-json", '{"n_pages": 5}'], "OPT"),
    ],
)
def test_errors_are_one_clear_line(argv, message, capsys):
    code = main(argv, out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("vmem: error: ") and message in err
    assert err.count("\n") == 1


def test_bad_trace_line_is_named(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("time,obj_id,size\n1,5,512\n2,6,-3\n")
    code = main(["simulate", str(path)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and "line 3" in err and "tokens" in err


def test_console_script_is_installed(reference_trace):
    vmem = Path(sys.executable).parent / "vmem"
    assert vmem.exists(), "make setup installs the vmem entry point"
    done = subprocess.run([str(vmem), "simulate", str(reference_trace), "--unit-pages",
                           "--l0-tokens", "3", "--policy", "fifo", "--json"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout)["faults"] == 9


def test_engine_imports_no_django():
    code = ("import sys, simulator.cli.main, simulator.engine.simulation, "
            "simulator.engine.compare; "
            "sys.exit(1 if any(m.startswith('django') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_sessions_run_concurrently_and_finish_sooner():
    common = ["simulate", "--workload", "uniform", "--pages", "400", "-n", "2000",
              "--hierarchy", "--l0-tokens", "50", "--json"]
    _, serial = run(*common)
    _, overlapped = run(*common, "--sessions", "4", "--concurrent")
    serial, overlapped = json.loads(serial), json.loads(overlapped)
    assert overlapped["requests"] == serial["requests"] == 2000
    assert overlapped["sim_time_ms"] < serial["sim_time_ms"] / 2


def test_progress_bar_draws_rate_and_eta():
    from simulator.cli.progress import ProgressBar

    out = io.StringIO()
    bar = ProgressBar(total=1000, stream=out, label="lru")
    bar.draw(250, bar.started + 1.0)
    text = out.getvalue()
    assert "25.0%" in text and "250/1,000" in text and "250/s" in text and "ETA" in text
