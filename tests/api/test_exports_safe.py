"""Exports are safe to open (issue: hardening, item 6): text that a spreadsheet would run as a formula (=, +, -, @,
tab, CR first) is shown as text in the CSV and XLSX downloads; numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from openpyxl import Workbook

from layers.accounts.access import Principal
from layers.values.fields import csv_safe, is_formula_like
from maps.exports.sheet_format import text_cell
from tests.api import test_activities_http
from tests.api.test_activities_http import ITEMS, KEPLING, ROAD, feature

app = test_activities_http.app  # the fixtures of the proposals tests: Medan's boundaries, clients acting as a principal
as_ = test_activities_http.as_

ADMIN = Principal(role="admin", username="admin1", tenant="12.71")
SENT = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]
DANGEROUS = sorted({text.strip() for text in SENT})  # a saved field is stripped: tab and CR first go there


@pytest.fixture
def exported(as_):
    """CSV and XLSX keterpaduan downloads of Medan after kepling saved one water connection per dangerous text,
    each with that text as its title and its unit (the unit is a column of the memorandum)."""
    kepling = as_(KEPLING)
    x, y = ROAD["coordinates"][0]
    for i, text in enumerate(SENT):
        point = {"type": "Point", "coordinates": [x + i * 0.0003, y]}
        saved = kepling.post(ITEMS, json=feature(geometry=point, kind="sambungan_air", title=text, unit=text[:50]))
        assert saved.status_code == 201, saved.text
    admin = as_(ADMIN)
    downloads = {}
    for fmt in ("csv", "xlsx"):
        response = admin.get(f"/exports/keterpaduan.{fmt}", params={"tenant": "12.71"})
        assert response.status_code == 200, response.text
        downloads[fmt] = response.content
    return downloads


def test_xlsx_has_no_formula_and_shows_the_text_as_written(exported):
    workbook = openpyxl.load_workbook(io.BytesIO(exported["xlsx"]))
    formulas = [(ws.title, cell.coordinate, cell.value) for ws in workbook for row in ws.iter_rows() for cell in row
                if cell.data_type == "f"]
    assert formulas == []
    memo = workbook["Memorandum"]
    texts = [cell for row in memo.iter_rows() for cell in row if cell.value in DANGEROUS]
    assert sorted({cell.value for cell in texts}) == sorted(DANGEROUS)  # shown exactly as written
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in texts)
    header = [cell.value for cell in next(row for row in memo.iter_rows() if row[0].value == "Kode program")]
    ours = [row for row in memo.iter_rows() if row[header.index("Satuan")].value in DANGEROUS]
    assert len(ours) == len(DANGEROUS)
    numbers = [row[i] for row in ours for i, name in enumerate(header) if name == "Volume" or name.endswith("(Rp)")]
    assert numbers and all(cell.data_type == "n" for cell in numbers)  # numbers stay numbers
    assert all(row[header.index("Volume")].value > 0 for row in ours)


def test_csv_neutralises_formula_text_and_keeps_numbers(exported):
    rows = list(csv.DictReader(io.StringIO(exported["csv"].decode("utf-8-sig"))))
    units = sorted(row["Satuan"] for row in rows if row["Satuan"].lstrip("'") in DANGEROUS)
    assert units == sorted("'" + text for text in DANGEROUS)
    for row in rows:
        for value in row.values():
            assert not is_formula_like(value), row
        for name, value in row.items():  # numbers are written as numbers
            if name == "Volume" or (name.endswith("(Rp)") and value):
                float(value)


def test_scores_csv_is_neutralised_too():
    """The same guard as the scores CSV (HTTP and CLI): a cell, not a whole file."""
    assert csv_safe("=1+1") == "'=1+1" and csv_safe("@A1") == "'@A1" and csv_safe("\t-1") == "'\t-1"
    assert csv_safe("Kawasan = A") == "Kawasan = A" and csv_safe(None) is None


@pytest.mark.parametrize("value", [-2.5, -3, 0, 7.25])
def test_negative_numbers_stay_numbers(value, tmp_path):
    assert csv_safe(value) == value
    ws = Workbook().active
    cell = text_cell(ws, 1, 1, value)
    assert cell.data_type == "n" and cell.value == value
    text = text_cell(ws, 1, 2, str(value))
    assert text.data_type == "s" and text.value == str(value)


@pytest.mark.writes_demo
def test_scores_csv_over_http_quotes_a_formula_like_unit_label(demo_conn, demo_url):
    """GET /tenants/{t}/scores?format=csv on the demo after a survey unit got a formula-like label."""
    import csv as csv_module

    from fastapi.testclient import TestClient

    from api.app import create_app

    label = '=HYPERLINK("http://x","y")'
    demo_conn.execute("UPDATE survey_units SET label = %s WHERE id = (SELECT min(id) FROM survey_units)", [label])
    demo_conn.commit()
    with TestClient(create_app(demo_url)) as client:
        answer = client.get("/tenants/12.71/scores", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    rows = list(csv_module.DictReader(io.StringIO(answer.text)))
    assert any(row["label"] == "'" + label for row in rows)
    assert not any(is_formula_like(value) for row in rows for value in row.values())
    assert any(float(row["unit_id"]) > 0 for row in rows)  # numbers stay numbers
