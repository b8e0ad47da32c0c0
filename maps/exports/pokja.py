"""The memorandum keterpaduan in the form the Pokja PKP prints (the first sheet of the XLSX export): No.,
Program/Kegiatan, Lokasi (kelurahan/kawasan), Volume, Satuan, the cost per year of the plan (one column a year,
Rupiah, and their sum), Sumber dana, Pelaksana/OPD.

Money has three states that are never added up (KOTAKU brief 10), so the sheet has three sections, each with its
own rows and subtotal and no grand total: A. usulan belum dianggarkan (cost estimates of activities without a
budget line), B. pagu anggaran (allocated), C. realisasi (realised). A section without money is left out. The
volume of a row is that of its activities (each counted once), shown in every section the row has money in.
Numbers are stored as numbers with `#,##0` formats (a spreadsheet shows the reader's separators); the page is
landscape, fitted to one page wide, with the two header rows repeated on every printed page.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from maps.exports.bundle import Bundle
from maps.exports.sheet_format import HEADER_FILL, MONEY, print_setup, text_cell

SHEET = "Memorandum Pokja"
SECTIONS = (("proposed_cost", "A", "USULAN BELUM DIANGGARKAN"), ("budgeted", "B", "PAGU ANGGARAN"),
            ("realised", "C", "REALISASI"))
KEYS = ["program", "program_name", "kind_name", "kelurahan", "kawasan", "unit", "funding_name", "target_agency"]
VOLUME = "#,##0.0#"
YEAR_MONEY = '#,##0;-#,##0;"-"'  # a year without money shows "-" (the cell still holds the number 0)
THIN = Side(style="thin", color="999999")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ROWS = (5, 6)


def plan_years(memo: pd.DataFrame) -> list[int]:
    """Every year from the first to the last of the memorandum (a year without money still has its column)."""
    if memo.empty:
        return []
    years = memo["year"].astype(int)
    return list(range(int(years.min()), int(years.max()) + 1))


def pokja_rows(memo: pd.DataFrame, state: str, years: list[int]) -> pd.DataFrame:
    """One row per programme x kegiatan x location x satuan x sumber dana x OPD with money in `state`: volume
    and the money of each year."""
    if memo.empty:
        return pd.DataFrame(columns=[*KEYS, "volume", *years])
    frame = memo.copy()
    for key in KEYS:
        frame[key] = frame[key].astype(object).where(frame[key].notna(), "")
    volume = frame.groupby(KEYS, sort=False)["volume"].sum(min_count=1)
    money = frame.pivot_table(index=KEYS, columns="year", values=state, aggfunc="sum", fill_value=0.0, sort=False)
    money = money.reindex(columns=years, fill_value=0.0)
    rows = money[money.sum(axis=1) > 0].join(volume).reset_index()
    return rows[[*KEYS, "volume", *years]]


def _program(row) -> str:
    program = row["program_name"] or row["program"] or "Tanpa program"
    return f"{program}: {row['kind_name']}" if row["kind_name"] else str(program)


def _location(row) -> str:
    parts = [str(row["kelurahan"]) if row["kelurahan"] else "-"]
    kawasan = str(row["kawasan"] or "")
    if kawasan:
        parts.append(kawasan if kawasan.lower().startswith("kawasan") else f"kawasan {kawasan}")
    return " / ".join(parts)


def write_pokja_sheet(wb: Workbook, bundle: Bundle, place: str) -> None:
    ws = wb.create_sheet(SHEET, 0)
    memo = bundle.memorandum
    years = plan_years(memo)
    columns = ["No.", "Program/Kegiatan", "Lokasi (kelurahan/kawasan)", "Volume", "Satuan",
               *[str(y) for y in years], "Jumlah", "Sumber dana", "Pelaksana/OPD"]
    first_year, last_money = 6, 6 + len(years)  # columns of the years and of their sum (1-based)
    text_cell(ws, 1, 1, "MEMORANDUM KETERPADUAN PROGRAM PENANGANAN PERMUKIMAN KUMUH").font = Font(bold=True, size=13)
    text_cell(ws, 2, 1, f"{place} · SK kumuh: {bundle.decree or '-'}").font = Font(size=11)
    span = f"{years[0]}-{years[-1]}" if years else "-"
    text_cell(ws, 3, 1, f"Tahun rencana {span}; biaya dalam Rupiah; usulan, pagu dan realisasi tidak dijumlahkan. "
                        f"Dibuat {bundle.generated_at:%d-%m-%Y} oleh kotaku-gis"
                        + ("; hanya data publik" if bundle.public_only else "")).font = Font(size=9, italic=True)
    top, sub = HEADER_ROWS
    for j, name in enumerate(columns, 1):
        in_years = first_year <= j < first_year + len(years)
        cell = text_cell(ws, sub if in_years else top, j, name)
        if not in_years:
            ws.merge_cells(start_row=top, start_column=j, end_row=sub, end_column=j)
    if years:
        text_cell(ws, top, first_year, "Biaya per tahun (Rp)")
        ws.merge_cells(start_row=top, start_column=first_year, end_row=top, end_column=first_year + len(years) - 1)
    for row in ws.iter_rows(min_row=top, max_row=sub, max_col=len(columns)):
        for cell in row:
            cell.font, cell.fill, cell.border = Font(bold=True), HEADER_FILL, GRID
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    r = sub + 1
    for state, letter, title in SECTIONS:
        rows = pokja_rows(memo, state, years)
        if rows.empty:
            continue
        text_cell(ws, r, 1, letter).font = Font(bold=True)
        text_cell(ws, r, 2, title).font = Font(bold=True)
        r += 1
        first = r
        for number, (_, row) in enumerate(rows.iterrows(), 1):
            values = [number, _program(row), _location(row),
                      None if pd.isna(row["volume"]) else float(row["volume"]), row["unit"] or None,
                      *[float(row[y]) for y in years], None, row["funding_name"] or None,
                      row["target_agency"] or None]
            for j, value in enumerate(values, 1):
                text_cell(ws, r, j, value)
            ws.cell(r, last_money, float(sum(row[y] for y in years)))
            r += 1
        text_cell(ws, r, 2, f"Jumlah {letter} ({title.lower()})").font = Font(bold=True)
        for j in range(first_year, last_money + 1):
            total = ws.cell(r, j, sum(float(ws.cell(i, j).value or 0) for i in range(first, r)))
            total.font = Font(bold=True)
        r += 1
    last = max(r - 1, sub)
    for row in ws.iter_rows(min_row=sub + 1, max_row=last, max_col=len(columns)):
        for cell in row:
            cell.border = GRID
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column in (2, 3, len(columns) - 1,
                                                                                 len(columns)))
            if first_year <= cell.column < last_money:
                cell.number_format = YEAR_MONEY
            elif cell.column == last_money:
                cell.number_format = MONEY
            elif cell.column == 4:
                cell.number_format = VOLUME
    widths = [5, 44, 34, 10, 8, *[14] * len(years), 16, 24, 22]
    for j, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = ws.cell(row=sub + 1, column=3)
    print_setup(ws, top, sub)
