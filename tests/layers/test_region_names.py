"""Region names stored as the place is written: a name another tool recased ('Belawan Ii', 'BELAWAN II') takes the
Kemendagri code list's spelling when it is the same name; other names are kept, only title-cased roman numerals
are put in capitals; the import report says what changed, in Indonesian and English."""

from __future__ import annotations

import json
from pathlib import Path

from layers.imports.regions import import_regions


def _square(x: float, y: float, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


# (code, name in the file, name stored); the code list has 12.71 'KOTA MEDAN', 12.71.08 'Medan Belawan',
# 12.71.08.1001 'Belawan I', 12.71.08.1002 'Belawan II', 12.71.08.1005 'Belawan Sicanang', 12.71.10.1008
# 'Kota Matsum IV', 12.71.01.1006 'Kotamatsum III'; 12.71.10.1097-1099 are not in it
NAMES = [
    ("12.71", "Kota Medan", "Kota Medan"),  # mixed case in the file: never the list's capitals
    ("12.71.08", "KEC. MEDAN BELAWAN", "Medan Belawan"),
    ("12.71.08.1001", "BELAWAN I", "Belawan I"),
    ("12.71.08.1002", "Belawan Ii", "Belawan II"),
    ("12.71.10.1008", "Kota Matsum Iv", "Kota Matsum IV"),
    ("12.71.01.1006", "KOTA MATSUM III", "Kotamatsum III"),  # the same name but for a space
    ("12.71.08.1005", "SICANANG", "SICANANG"),  # differs in more than casing: the file's own
    ("12.71.08.1003", "Belawan Bahagia Ii", "Belawan Bahagia II"),  # not the list's name: only the numeral
    ("12.71.10.1099", "Sukaramai Iii", "Sukaramai III"),
    ("12.71.10.1098", "Ivory Vila", "Ivory Vila"),
    ("12.71.10.1097", "KAMPUNG VI", "KAMPUNG VI"),  # capitals not in the list: left as written
]


def _regions_file(path: Path) -> Path:
    features = [{"type": "Feature", "properties": {"kode": code, "nama": name},
                 "geometry": _square(98.6 + 0.02 * i, 3.6)} for i, (code, name, _) in enumerate(NAMES)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_names_cased_by_a_tool_are_stored_as_written(conn, tmp_path):
    report = import_regions(conn, _regions_file(tmp_path / "wilayah.geojson"))
    assert report.ok and report.features_written == len(NAMES)
    stored = dict(conn.execute("SELECT code, name FROM regions").fetchall())
    assert stored == {code: expected for code, _, expected in NAMES}


def test_the_report_says_which_names_changed_in_both_languages(conn, tmp_path):
    report = import_regions(conn, _regions_file(tmp_path / "wilayah.geojson"))
    assert report.summary["names_from_code_list"] == 5
    assert report.summary["names_roman_upper"] == 2
    by_key = {p.key: p for p in report.warnings}
    from_list, numerals = by_key["region.names_from_code_list"], by_key["region.names_roman_upper"]
    assert from_list.text("id").startswith("5 nama ") and "daftar kode Kemendagri" in from_list.text("id")
    assert from_list.text("en").startswith("5 name(s) ") and "Kemendagri code list" in from_list.text("en")
    assert "'KEC. MEDAN BELAWAN' -> 'Medan Belawan'" in from_list.text("id")
    assert "'Belawan Ii' -> 'Belawan II'" in from_list.text("en")
    assert numerals.text("id").startswith("2 nama ")
    assert "'Belawan Bahagia Ii' -> 'Belawan Bahagia II', 'Sukaramai Iii' -> 'Sukaramai III'" in numerals.text("id")
    for problem in (from_list, numerals):
        assert "None" not in problem.text("id") and "?" not in problem.text("en")


def test_a_file_written_right_changes_nothing_and_says_nothing(conn, tmp_path):
    path = tmp_path / "benar.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": "12.71.08.1002", "nama": "Belawan II"},
         "geometry": _square(98.6, 3.6)},
        {"type": "Feature", "properties": {"kode": "12.71.08.1004", "nama": "Belawan Bahari Lama"},
         "geometry": _square(98.7, 3.6)}]}))
    report = import_regions(conn, path)
    assert report.ok and report.warnings == []
    assert report.summary["names_from_code_list"] == report.summary["names_roman_upper"] == 0
    assert sorted(r[0] for r in conn.execute("SELECT name FROM regions")) == ["Belawan Bahari Lama", "Belawan II"]
