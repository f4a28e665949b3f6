"""CSV the lab writes for people to open, safe in a spreadsheet: every export (a run's windows,
a chat's trace) goes through here.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` in a variant label, a
page id or a session name). Such a cell gets a leading apostrophe, which spreadsheets show as
text and never evaluate (the OWASP advice for CSV injection). Numbers are written as numbers:
``-3`` or ``-1.5e-05`` stays as it is, a number is not a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: text that a spreadsheet would evaluate gets a
    leading apostrophe; numbers, empty cells and other text are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.match(value):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class CsvLines:
    """Rows to CSV text, a piece at a time (for streamed responses), every cell made safe."""

    def __init__(self, **fmtparams: Any) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, **fmtparams)

    def row(self, row: Iterable[Any]) -> str:
        return self.rows([row])

    def rows(self, rows: Iterable[Iterable[Any]]) -> str:
        for row in rows:
            self._writer.writerow(safe_row(row))
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
