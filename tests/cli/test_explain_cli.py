"""``vmem explain``: OSTEP-like exercises, the documented JSON, seeded strings, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import run

BELADY = "1,2,3,4,1,2,5,1,2,3,4,5"


def test_json_is_the_documented_shape():
    code, out = run("explain", "--refs", "1,2,3,4,1,2,5", "--policy", "fifo", "--frames", "3",
                    "--solve", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["hits"], data["misses"]) == (0, 7)
    first = data["steps"][0]
    assert {k: first[k] for k in ("ref", "hit", "victim", "frames")} == {
        "ref": "1", "hit": False, "victim": None, "frames": ["1"]}
    assert [s["victim"] for s in data["steps"]] == [None, None, None, "1", "2", "3", "4"]
    assert data["steps"][-1]["frames"] == ["5", "1", "2"]  # a page keeps its frame


@pytest.mark.parametrize(("policy", "frames", "misses"), [
    ("fifo", 3, 9), ("fifo", 4, 10), ("lru", 3, 10), ("opt", 3, 7), ("worst", 3, 12)])
def test_textbook_totals(policy, frames, misses):
    code, out = run("explain", "--refs", BELADY, "--policy", policy, "--frames", str(frames),
                    "--solve", "--json")
    assert code == 0 and json.loads(out)["misses"] == misses


def test_questions_without_solve_give_nothing_away():
    code, out = run("explain", "--refs", BELADY, "--policy", "lru")
    assert code == 0
    assert "hit/miss?" in out and "MISS" not in out and "evicts 1" not in out
    code, out = run("explain", "--refs", BELADY, "--json")
    assert set(json.loads(out)) == {"policy", "frames", "params", "refs"}


def test_solution_table():
    code, out = run("explain", "--refs", "1 2 3 1 4", "--policy", "lru", "--solve")
    assert code == 0
    assert "LRU evicts 2: its last use, at reference 2, is the oldest." in out
    assert "[1 4 3]" in out
    assert "hits 1  misses 4" in out
    assert "/teach/?refs=1%2C2%2C3%2C1%2C4&policies=lru&frames=3" in out


def test_random_strings_are_seeded():
    args = ("explain", "--random", "20", "--pages", "5", "--seed", "7", "--solve", "--json")
    _, first = run(*args)
    _, again = run(*args)
    _, other = run("explain", "--random", "20", "--pages", "5", "--seed", "8", "--json")
    assert first == again
    assert json.loads(first)["refs"] != json.loads(other)["refs"]
    assert len(json.loads(first)["steps"]) == 20


def test_policy_parameters():
    code, out = run("explain", "--refs", "1 2 2 2 1", "--policy", "ws", "--param", "tau=2",
                    "--solve", "--json")
    assert code == 0 and json.loads(out)["misses"] == 3  # docs/policies.md, "Working set"


@pytest.mark.parametrize(("argv", "message"), [
    (["--refs", "1,2,<x>"], "--refs: reference 3"),
    (["--refs", ",".join(["1"] * 201)], "--refs: at most 200"),
    (["--refs", "1,2", "--frames", "0"], "--frames: must be an integer from 1 to 16"),
    (["--refs", "1,2", "--policy", "nope"], "--policy: unknown policy"),
    (["--random", "500"], "--random: must be an integer from 1 to 200"),
    (["--random", "5", "--pages", "0"], "--pages: must be an integer from 1 to 100"),
])
def test_errors_name_the_flag(argv, message):
    vmem = Path(sys.executable).parent / "vmem"
    proc = subprocess.run([str(vmem), "explain", *argv], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("vmem: error: ") and message in proc.stderr
    assert "Traceback" not in proc.stderr
