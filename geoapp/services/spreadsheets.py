"""Writing CSV and XLSX files people open in a spreadsheet: every text cell goes through
``geoapp.domain.text_safety.safe_cell`` (no XML-illegal characters, formula-like text
neutralised by a leading quote) and XLSX text cells are typed as strings, so no cell of ours
is ever a formula. Numbers stay numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from geoapp.domain.text_safety import safe_cell


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) made safe for a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[column] = values.map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def text_cells(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """Cells for ``sheet.append``: text made safe and typed as a string (never a formula),
    other values as they are."""
    from openpyxl.cell import Cell, WriteOnlyCell

    write_only = not hasattr(sheet, "cell")
    out = []
    for value in values:
        if isinstance(value, str):
            value = safe_cell(value)
            cell = WriteOnlyCell(sheet, value) if write_only else Cell(sheet, value=value)
            cell.data_type = "s"
            out.append(cell)
        else:
            out.append(value)
    return out
