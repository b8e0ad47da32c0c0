"""How the workbooks' sheets look and print, shared by the memorandum tables and the Pokja form: text cells that
are never run as formulas, the money format, the header fill, and the print setup."""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles import PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from layers.values.fields import is_formula_like

MONEY = "#,##0"
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def text_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """A cell whose text is always shown as written, never run as a formula: openpyxl makes text that starts
    with '=' a formula unless the cell is typed as a string; formula-like text (+, -, @ too) also gets Excel's
    quote prefix, so that editing the cell keeps it text. Numbers (negative ones too) stay numbers."""
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell


def print_setup(ws: Worksheet, first_header_row: int, last_header_row: int) -> None:
    """Prints as people expect: A4 landscape, one page wide (as many pages long as needed), the header row(s)
    repeated on every page, page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{first_header_row}:{last_header_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "Halaman &P dari &N"
    ws.oddFooter.left.text = "&A"
