"""The command line reads every trace format: oracleGeneral (zstd-compressed), and CSV of any
shape through --columns/--delimiter/--no-header, with bad flags named."""

from __future__ import annotations

import json
import struct

import pytest
import zstandard

from .test_cli import REFERENCE, run


def test_mrc_of_a_zstd_oracle_file_equals_the_text_trace(tmp_path):
    ids = [int(x) for x in REFERENCE.split()]
    following: dict[int, int] = {}
    records = []
    for i in range(len(ids) - 1, -1, -1):
        records.append(struct.pack("<IQIq", i, ids[i], 1, following.get(ids[i], -1)))
        following[ids[i]] = i + 1
    binary = tmp_path / "belady.oracleGeneral.zst"
    binary.write_bytes(zstandard.ZstdCompressor().compress(b"".join(reversed(records))))
    text = tmp_path / "belady.txt"
    text.write_text(REFERENCE)
    args = ("--policies", "lru,fifo,opt", "--sizes", "3,4", "--unit-pages", "--json")
    code, out = run("mrc", str(binary), *args)
    assert code == 0
    assert json.loads(out)["curves"] == json.loads(run("mrc", str(text), *args)[1])["curves"]


def test_columns_read_a_headerless_tab_separated_trace(tmp_path):
    ids = REFERENCE.split()
    path = tmp_path / "t.tsv"
    path.write_text("".join(f"{k}\tGET\t{page}\n" for k, page in enumerate(ids)))
    code, out = run("simulate", str(path), "--columns", "time=1,page_id=3", "--delimiter",
                    "tab", "--no-header", "--policy", "fifo", "--l0-tokens", "3",
                    "--unit-pages", "--json")
    assert code == 0
    assert json.loads(out)["faults"] == 9  # Belady's anomaly: FIFO with 3 frames


@pytest.mark.parametrize("flags, message", [
    (["--columns", "time=1"], "--columns: say which column holds the page id"),
    (["--columns", "page_id=1", "--delimiter", "ab"], "--delimiter: expected one character"),
    (["--no-header"], "give --columns too"),
])
def test_bad_layout_flags_are_named(tmp_path, capsys, flags, message):
    path = tmp_path / "t.csv"
    path.write_text("1,2\n")
    code, _out = run("simulate", str(path), *flags, "--unit-pages")
    assert code == 2
    assert message in capsys.readouterr().err
