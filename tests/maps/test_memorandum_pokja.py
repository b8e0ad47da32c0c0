"""The XLSX memorandum as the Pokja prints it, read back with openpyxl (LibreOffice is not at hand): the Pokja
form's columns (one per year of the plan), money in three sections that are never added up, numbers stored as
numbers with number formats, every sheet landscape and one page wide with its header rows repeated on each
printed page, frozen headers; names (kelurahan, kawasan) as written in the data, in the workbook and the KML."""

from __future__ import annotations

import zipfile

import openpyxl
import psycopg
import pytest

from layers.accounts.access import Principal
from maps.exports import collect, write_bundle

ADMIN = Principal(role="admin", username="test")
ROMAN = "Belawan II"
KAWASAN = "Kel. Sei Agul"
LIVE = "status NOT IN ('ditolak', 'dibatalkan')"
FIXED = ["No.", "Program/Kegiatan", "Lokasi (kelurahan/kawasan)", "Volume", "Satuan"]
TAIL = ["Jumlah", "Sumber dana", "Pelaksana/OPD"]


@pytest.fixture(scope="module")
def medan(fresh_demo):
    """Medan with a kelurahan written with a roman numeral, a kawasan named like a kelurahan, and budget lines
    (allocated and realised, two years) for the three activities of Belawan II."""
    with psycopg.connect(fresh_demo()) as conn:
        conn.execute("UPDATE regions SET name = %s WHERE code = '12.71.08.1002'", [ROMAN])
        conn.execute(f"UPDATE slum_areas SET kawasan = %s WHERE id IN (SELECT slum_area_id FROM activities "
                     f"WHERE kelurahan_code = '12.71.08.1002' AND {LIVE} AND slum_area_id IS NOT NULL)", [KAWASAN])
        conn.execute(
            f"""INSERT INTO budget_lines (tenant, activity_id, year, funding_source, account_code, allocated, realised)
                SELECT tenant, id, y, 'APBD_KABKOTA', '5.1.02', 100000000 + id, CASE WHEN y = 2025 THEN 40000000
                       ELSE 0 END
                FROM (SELECT * FROM activities WHERE kelurahan_code = '12.71.08.1002' AND {LIVE}
                      ORDER BY id LIMIT 3) a CROSS JOIN (VALUES (2025), (2026)) v(y)""")
        conn.commit()
        yield conn


@pytest.fixture(scope="module")
def files(medan, tmp_path_factory):
    bundle = collect(medan, "12.71", ADMIN)
    folder = tmp_path_factory.mktemp("pokja")
    paths = {fmt: folder / f"medan.{fmt}" for fmt in ("xlsx", "kml")}
    for fmt, path in paths.items():
        write_bundle(bundle, fmt, path)
    return paths


@pytest.fixture(scope="module")
def book(files):
    return openpyxl.load_workbook(files["xlsx"])


def _header(ws) -> tuple[list, list]:
    top = [c.value for c in ws[5]]
    sub = [c.value for c in ws[6]]
    return top, sub


def test_pokja_sheet_columns_one_per_year(book, medan):
    assert book.sheetnames[0] == "Memorandum Pokja"
    ws = book["Memorandum Pokja"]
    top, sub = _header(ws)
    first, last = medan.execute(f"SELECT min(year_start), max(year_start) FROM activities WHERE {LIVE}").fetchone()
    years = [str(y) for y in range(first, last + 1)]
    assert top[:5] == FIXED and top[5] == "Biaya per tahun (Rp)" and top[-3:] == TAIL
    assert sub[5:5 + len(years)] == years and len(top) == len(FIXED) + len(years) + len(TAIL)
    assert "MEMORANDUM KETERPADUAN" in ws["A1"].value and "Kota Medan (12.71)" in ws["A2"].value


def _sections(ws) -> dict[str, list[list]]:
    """{section letter: its rows (data rows, then the subtotal row)}."""
    out: dict[str, list[list]] = {}
    current = None
    for row in ws.iter_rows(min_row=7, values_only=True):
        if row[0] in ("A", "B", "C"):
            current = row[0]
            out[current] = []
        elif current:
            out[current].append(list(row))
    return out


def test_three_states_of_money_in_sections_never_added_up(book, medan):
    ws = book["Memorandum Pokja"]
    sections = _sections(ws)
    assert sorted(sections) == ["A", "B", "C"]
    jumlah = len(FIXED) + (ws.max_column - len(FIXED) - len(TAIL))  # the index of "Jumlah" (0-based)
    allocated, realised = medan.execute("SELECT sum(allocated)::float8, sum(realised)::float8 FROM budget_lines"
                                        ).fetchone()
    proposed = medan.execute(f"SELECT sum(cost)::float8 FROM activities a WHERE {LIVE} AND NOT EXISTS "
                             "(SELECT 1 FROM budget_lines b WHERE b.activity_id = a.id)").fetchone()[0]
    for letter, expected in (("A", proposed), ("B", allocated), ("C", realised)):
        *rows, total = sections[letter]
        assert str(total[1]).startswith(f"Jumlah {letter}")
        assert total[jumlah] == pytest.approx(expected)
        assert sum(r[jumlah] for r in rows) == pytest.approx(expected)
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        for r in rows:  # the row's years add up to its Jumlah, within the one state
            assert sum(v for v in r[len(FIXED):jumlah]) == pytest.approx(r[jumlah])
    totals = [c.value for c in ws["B"] if str(c.value).startswith("Jumlah")]
    assert len(totals) == 3  # a subtotal per state, no grand total over the states


def test_numbers_are_numbers_with_formats(book):
    ws = book["Memorandum Pokja"]
    rows = [r for r in ws.iter_rows(min_row=7) if isinstance(r[0].value, int)]
    assert len(rows) > 100
    for row in rows:
        assert row[3].data_type == "n" and row[3].number_format == "#,##0.0#"  # volume
        money = row[len(FIXED):ws.max_column - 2]
        assert all(c.data_type == "n" and isinstance(c.value, int | float) for c in money)
        assert all("#,##0" in c.number_format for c in money)
        assert isinstance(row[1].value, str) and isinstance(row[2].value, str)


def test_every_sheet_prints_landscape_one_page_wide_with_repeated_headers(book):
    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows, ws.title
        assert ws.freeze_panes, ws.title
    pokja = book["Memorandum Pokja"]
    assert pokja.print_title_rows == "$5:$6" and pokja.freeze_panes == "C7"
    memo = book["Memorandum"]
    header = next(r[0].row for r in memo.iter_rows() if r[0].value == "Kode program")
    assert memo.print_title_rows == f"${header}:${header}" and memo.freeze_panes == f"A{header + 1}"
    widths = {k: pokja.column_dimensions[k].width for k in "ABC"}
    assert widths["A"] < 8 and widths["B"] >= 40 and widths["C"] >= 30


def test_names_as_written_in_workbook_and_kml(book, files):
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert any(ROMAN in v for v in cells) and not any("Belawan Ii" in v for v in cells)
    assert any(f"{ROMAN} / kawasan {KAWASAN}" == v for v in cells)  # Lokasi in the Pokja form
    assert any(v == KAWASAN for v in cells)
    kml = files["kml"].read_text(encoding="utf-8")
    assert ROMAN in kml and KAWASAN in kml
    assert not zipfile.is_zipfile(files["kml"])
