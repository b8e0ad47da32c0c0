"""The memorandum keterpaduan (programme x location x year x funding source x OPD x volume x cost) as CSV and as
an XLSX workbook (openpyxl): first the memorandum in the Pokja's form (maps/exports/pokja.py), then the long
memorandum, the per-year costs, the slum-area and region summaries, the codebook and the sources. Every sheet
prints A4 landscape, one page wide, with its header rows repeated on each page and frozen on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from layers.values.fields import csv_safe
from layers.values.progress import Progress, no_progress
from maps.exports.bundle import SLUM_AREA_FIELDS, SUMMARY_FIELDS, Bundle
from maps.exports.codebook import field_of
from maps.exports.pokja import write_pokja_sheet
from maps.exports.sheet_format import HEADER_FILL, MONEY, print_setup, text_cell
from maps.exports.vector import codebook_rows

MEMORANDUM_COLUMNS = (
    ("program", "Kode program"), ("program_name", "Program"), ("kind_name", "Kegiatan"), ("kecamatan", "Kecamatan"),
    ("kelurahan_code", "Kode kelurahan"), ("kelurahan", "Kelurahan"), ("kawasan", "Kawasan kumuh"),
    ("year", "Tahun"), ("funding_source", "Kode sumber dana"), ("funding_name", "Sumber dana"),
    ("volume", "Volume"), ("unit", "Satuan"), ("proposed_cost", "Usulan belum dianggarkan (Rp)"),
    ("budgeted", "Pagu anggaran (Rp)"), ("realised", "Realisasi (Rp)"), ("activities", "Jumlah kegiatan"),
    ("activities_completed", "Kegiatan selesai"), ("target_agency", "Pelaksana (OPD)"),
)
# Money in three states (KOTAKU brief 10) that are never added up: no cell of any sheet sums them.
MONEY_STATES = {"proposed_cost": "Usulan belum dianggarkan", "budgeted": "Pagu anggaran", "realised": "Realisasi"}
MONEY_COLUMNS = {f"{label} (Rp)" for label in MONEY_STATES.values()}


def memorandum_table(bundle: Bundle) -> pd.DataFrame:
    """The memorandum with Indonesian headers: one row per programme x location x year x funding source, the year
    and source of the money (a proposal's own, a budget line's)."""
    memo = bundle.memorandum.copy()
    if memo.empty:
        return pd.DataFrame(columns=[label for _, label in MEMORANDUM_COLUMNS])
    memo["year"] = memo["year"].astype(int).astype(str)
    table = memo[[c for c, _ in MEMORANDUM_COLUMNS]].rename(columns=dict(MEMORANDUM_COLUMNS))
    return table.reset_index(drop=True)


def write_csv(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    progress("CSV memorandum", 0, 1)
    # utf-8 with BOM: Excel (the usual reader of this file) then shows the text right; text that a spreadsheet
    # would run as a formula (=, +, -, @, tab, CR first) gets a leading quote, numbers stay numbers
    memorandum_table(bundle).map(csv_safe).to_csv(path, index=False, encoding="utf-8-sig")
    progress("CSV memorandum", 1, 1)


def _sheet(wb: Workbook, title: str, table: pd.DataFrame, heading: list[str], money: set[str]) -> None:
    ws = wb.create_sheet(title)
    for i, line in enumerate(heading, 1):
        text_cell(ws, i, 1, line).font = Font(bold=(i == 1), size=13 if i == 1 else 10)
    header_row = len(heading) + 2 if heading else 1
    for j, col in enumerate(table.columns, 1):
        cell = text_cell(ws, header_row, j, str(col))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    values = table.astype(object).where(table.notna(), None).to_numpy().tolist()
    for i, row in enumerate(values, header_row + 1):
        for j, value in enumerate(row, 1):
            text_cell(ws, i, j, value.item() if hasattr(value, "item") else value)
    for j, col in enumerate(table.columns, 1):
        letter = get_column_letter(j)
        if str(col) in money:
            for cells in ws.iter_rows(min_row=header_row + 1, min_col=j, max_col=j):
                cells[0].number_format = MONEY
        longest = max([len(str(col))] + [len(str(v)) for v in table.iloc[:200, j - 1].tolist()])
        ws.column_dimensions[letter].width = min(48, max(8, longest + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    print_setup(ws, header_row, header_row)
    if len(table):
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(table.columns))}{header_row + len(table)}"


def _labelled(frame: pd.DataFrame, columns: tuple[str, ...], bundle: Bundle) -> pd.DataFrame:
    present = [c for c in columns if c in frame.columns]
    return pd.DataFrame(frame[present]).rename(columns={c: field_of(c, bundle.extra_fields).label for c in present})


def write_xlsx(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    place = f"{bundle.tenant_name or ''} ({bundle.tenant})".strip()
    heading = [f"Memorandum keterpaduan program {place}", f"SK kumuh: {bundle.decree or '-'}",
               f"Dibuat {bundle.generated_at:%Y-%m-%d %H:%M} oleh kotaku-gis; "
               + ("hanya data publik" if bundle.public_only else "data sesuai hak akses") + ", tanpa data pribadi"]
    progress("XLSX: memorandum", 0, 5)
    memo = memorandum_table(bundle)
    if len(memo):
        total: dict[str, Any] = {label: None for label in memo.columns}
        total.update({"Kode program": "JUMLAH", **{c: float(memo[c].sum()) for c in MONEY_COLUMNS},
                      "Jumlah kegiatan": int(memo["Jumlah kegiatan"].sum()),
                      "Kegiatan selesai": int(memo["Kegiatan selesai"].sum())})
        memo_out = pd.concat([memo, pd.DataFrame([total])], ignore_index=True)
    else:
        memo_out = memo
    _sheet(wb, "Memorandum", memo_out, heading, MONEY_COLUMNS)
    progress("XLSX: per tahun", 1, 5)
    keys = ["Keadaan", "Kode program", "Program", "Sumber dana"]
    if len(bundle.memorandum):
        # one row per money state: the yearly columns and their sum stay within one state
        long = bundle.memorandum.melt(id_vars=["program", "program_name", "funding_source", "year"],
                                      value_vars=list(MONEY_STATES), var_name="state", value_name="amount")
        long["Keadaan"] = long["state"].map(MONEY_STATES)
        per_year = long.pivot_table(index=["Keadaan", "program", "program_name", "funding_source"], columns="year",
                                    values="amount", aggfunc="sum", fill_value=0, sort=False)
        per_year.columns = [str(c) for c in per_year.columns]
        per_year["Jumlah"] = per_year.sum(axis=1)
        per_year = per_year[per_year["Jumlah"] > 0] if (per_year["Jumlah"] > 0).any() else per_year
        per_year = per_year.reset_index().rename(columns={"program": "Kode program", "program_name": "Program",
                                                          "funding_source": "Sumber dana"})
    else:
        per_year = pd.DataFrame(columns=[*keys, "Jumlah"])
    _sheet(wb, "Biaya per tahun", per_year,
           [f"Rupiah per tahun, per keadaan (usulan belum dianggarkan, pagu anggaran, realisasi: tidak dijumlahkan), "
            f"program dan sumber dana: {place}"], {c for c in per_year.columns if c not in keys})
    progress("XLSX: ringkasan", 2, 5)
    money_labels = {field_of(c, bundle.extra_fields).label for c in (*MONEY_STATES, *(
        f"{m}_in_slum_areas" for m in MONEY_STATES))} | {f.label for f in bundle.extra_fields.values()
                                                        if f.label.endswith("(Rp)")}
    _sheet(wb, "Kawasan", _labelled(bundle.layers["kawasan_kumuh"], SLUM_AREA_FIELDS, bundle),
           [f"Keterpaduan per kawasan kumuh: {place}"], money_labels)
    for scope in ("kelurahan", "kecamatan", "kabkota"):
        layer = bundle.layers[f"ringkasan_{scope}"]
        levels = [c for c in layer.columns if c.startswith(("ha_", "projected_ha_"))]
        _sheet(wb, f"Ringkasan {scope}", _labelled(layer, (*SUMMARY_FIELDS, *levels), bundle),
               [f"Ringkasan keterpaduan per {scope}: {place}"], money_labels)
    progress("XLSX: kodebuku", 4, 5)
    codebook = pd.DataFrame(codebook_rows(bundle)).rename(columns={
        "layer": "Layer", "short_name": "Nama pendek (Shapefile)", "full_name": "Nama kolom", "label": "Label",
        "meaning": "Arti"})
    _sheet(wb, "Kodebuku", codebook, ["Arti setiap kolom"], set())
    _sheet(wb, "Sumber", pd.DataFrame({"Sumber dan catatan": bundle.sources}), [], set())
    write_pokja_sheet(wb, bundle, place)  # the Pokja form first: what is printed and signed
    wb.save(path)
    progress("XLSX: selesai", 5, 5)
