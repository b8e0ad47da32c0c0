"""Baseline tables through `kotaku import surveys` (layers/imports/survey_tables.py): RT rows with a level and/or a
score (no volumes), written as people write them, matched to the demo's units and kelurahan of Kota Medan."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path

import openpyxl
import pytest

from layers.accounts.access import Principal
from layers.db.connection import connect_async
from layers.imports.report import ImportFailed
from layers.imports.surveys import import_surveys
from layers.serving.collections import get_collection
from layers.serving.items import fetch_item
from tests.layers.scoring_helpers import TENANT, write_csv


def write_xlsx(path: Path, sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cells in (merges or {}).get(name, []):
            sheet.merge_cells(cells)
    book.save(path)
    return path


def stored(conn, code: str, label: str, round_name: str = "2024") -> dict | None:
    row = conn.execute(
        "SELECT sv.stored FROM surveys sv JOIN survey_units u ON u.id = sv.unit_id "
        "WHERE u.kelurahan_code = %s AND u.label = %s AND sv.round = %s", [code, label, round_name]).fetchone()
    return row[0] if row else None


BAGAN_DELI, BELAWAN_II = "12.71.08.1006", "12.71.08.1002"
POKJA = Principal(role="pokja", username="pokja1", tenant=TENANT)


# -- a dozen ugly variants of one table -------------------------------------------------------------
def plain_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "baseline.csv", [
        {"Kecamatan": "Medan Belawan", "Kelurahan": "Bagan Deli", "Lingkungan": "Lingkungan 01",
         "Tingkat Kekumuhan": "Kumuh Berat", "Skor": "62", "Bobot": "0,4", "Kebutuhan 2b": "120,5"},
        {"Kecamatan": "Medan Belawan", "Kelurahan": "Belawan II", "Lingkungan": "Lingkungan 01",
         "Tingkat Kekumuhan": "Sedang", "Skor": "", "Bobot": "0,6", "Kebutuhan 2b": ""}])


def other_headers_semicolons(tmp_path: Path) -> Path:
    path = tmp_path / "baseline_excel_id.csv"  # Indonesian Excel: ';' and decimal commas
    path.write_text("KEC.;Kel/Desa;RT_RW;KATEGORI;Total Skor;BOBOT\n"
                    "MEDAN BELAWAN;KEL. BAGAN DELI;LK 1;KB;62,0;0,4\n"
                    "medan belawan;belawan 2;lingkungan 1;ks;45;0,6\n", encoding="utf-8")
    return path


def codes_only(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "codes.csv", [
        {"kode_desa": "1271081006", "rt": "Lingkungan 1", "klasifikasi": "berat"},
        {"kode_desa": "12.71.08.1002", "rt": "LINGKUNGAN 01", "klasifikasi": "Kumuh Sedang"}])


def title_rows_and_numbers(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "titled.xlsx", {"Baseline": [
        ["TABEL BASELINE KUMUH KOTA MEDAN 2024"], [],
        ["No", "Kecamatan", "Desa/Kelurahan", "Lingkungan", "Tingkat Kekumuhan", "Nilai"],
        ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"],
        [1, "Medan Belawan", "Bagan Deli", "Lingkungan 01", "KB", 62],
        [2, "Medan Belawan", "Belawan Ii", "Lingkungan 01", "KS", 45],
        ["Jumlah", None, None, None, None, 107]]})


def merged_header_and_cells(tmp_path: Path) -> Path:
    rows = [["No", "Kecamatan", "Kelurahan", "Lingkungan", "Tingkat Kekumuhan", None, "Kebutuhan", None],
            [None, None, None, None, "Tingkat", "Skor", "2b", "4b"],
            [1, "Medan Belawan", "Bagan Deli", "Lingkungan 01", "Kumuh Berat", "62", "120,5", "30"],
            [2, None, "Belawan II", "Lingkungan 01", "Kumuh Sedang", "45", None, "10"]]
    return write_xlsx(tmp_path / "merged.xlsx", {"Sheet1": rows},
                      {"Sheet1": ["E1:F1", "G1:H1", "A1:A2", "B1:B2", "C1:C2", "D1:D2"]})


def sheet_per_kecamatan(tmp_path: Path) -> Path:
    header = ["Desa", "Kampung", "Tingkat", "Skor"]
    return write_xlsx(tmp_path / "per_kecamatan.xlsx", {
        "Medan Belawan": [header, ["Bagan Deli", "Lingkungan 01", "KB", 62], ["Belawan 2", "Lingkungan 01", "KS", 45]],
        "Medan Labuhan": [header, ["Sei Mati", "Lingkungan 99", "KR", 20]]})


VARIANTS = [plain_csv, other_headers_semicolons, codes_only, title_rows_and_numbers, merged_header_and_cells]


@pytest.mark.writes_demo
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
def test_variants_state_the_same_levels_on_the_same_units(demo_conn, tmp_path, variant):
    report = import_surveys(demo_conn, variant(tmp_path), tenant=TENANT, round="2024")
    demo_conn.commit()
    assert report.ok, [str(p) for p in report.errors]
    assert report.features_read == 2 and report.summary["units_created"] == 0
    first, second = stored(demo_conn, BAGAN_DELI, "Lingkungan 01"), stored(demo_conn, BELAWAN_II, "Lingkungan 01")
    assert first["source"] == "tabel" and first["level"] == "KB"
    assert second["level"] == "KS"
    if first.get("total") is not None:
        assert first["total"] == 62
    volumes = demo_conn.execute("SELECT count(*) FROM surveys WHERE round = '2024' AND volumes <> '{}'").fetchone()
    assert volumes[0] == 0


@pytest.mark.writes_demo
def test_needs_weights_and_decimal_commas_are_kept(demo_conn, tmp_path):
    import_surveys(demo_conn, merged_header_and_cells(tmp_path), tenant=TENANT, round="2024")
    first = stored(demo_conn, BAGAN_DELI, "Lingkungan 01")
    assert first["needs"] == {"2b": 120.5, "4b": 30.0} and first["total"] == 62
    import_surveys(demo_conn, plain_csv(tmp_path), tenant=TENANT, round="2025")
    assert stored(demo_conn, BAGAN_DELI, "Lingkungan 01", "2025")["weight"] == 0.4


@pytest.mark.writes_demo
def test_a_sheet_per_kecamatan_tells_namesakes_apart_and_creates_on_the_kelurahan(demo_conn, demo_url, tmp_path):
    path = sheet_per_kecamatan(tmp_path)
    with pytest.raises(ImportFailed) as failed:  # Lingkungan 99 of Sei Mati does not exist
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    errors = failed.value.report.errors
    assert len(errors) == 1 and (errors[0].feature, errors[0].field) == (2, "Medan Labuhan!Kampung")
    assert "Lingkungan 99" in errors[0].reason
    assert demo_conn.execute("SELECT count(*) FROM surveys WHERE round = '2024'").fetchone()[0] == 0
    report = import_surveys(demo_conn, path, tenant=TENANT, round="2024", create_units=True)
    assert report.summary["units_created"] == 1 and report.summary["units_on_kelurahan_polygon"] == 1
    unit = demo_conn.execute(
        "SELECT u.kelurahan_code, u.attributes->>'geometry_source', ST_Equals(u.geom, ST_Multi(r.geom)) "
        "FROM survey_units u JOIN regions r ON r.code = u.kelurahan_code WHERE u.label = 'Lingkungan 99'").fetchone()
    assert unit == ("12.71.13.1002", "kelurahan", True)  # Sei Mati of Medan Labuhan, not of Medan Maimun
    assert stored(demo_conn, "12.71.13.1002", "Lingkungan 99")["level"] == "KR"
    demo_conn.commit()
    unit_id = demo_conn.execute("SELECT id FROM survey_units WHERE label = 'Lingkungan 99'").fetchone()[0]

    async def item() -> dict:  # the items say where the unit's polygon comes from (as the pokja sees them)
        async with await connect_async(demo_url) as conn:
            text = await fetch_item(conn, get_collection("survey-units"), str(unit_id), POKJA)
        return json.loads(text or "null")

    assert asyncio.run(item())["properties"]["geometry_source"] == "kelurahan"


@pytest.mark.writes_demo
def test_unmatched_rows_name_the_closest_kelurahan_or_go_to_a_file(demo_conn, tmp_path):
    path = write_csv(tmp_path / "typo.csv", [
        {"kecamatan": "Medan Belawan", "desa": "Bagan Dali", "lingkungan": "Lingkungan 01", "tingkat": "KB"},
        {"kecamatan": "Medan Belawan", "desa": "Belawan II", "lingkungan": "Lingkungan 01", "tingkat": "KS"},
        {"kecamatan": "", "desa": "", "lingkungan": "", "tingkat": "KR"}])
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    errors = {p.feature: p.reason for p in failed.value.report.errors}
    assert set(errors) == {2, 4}
    assert "Bagan Dali" in errors[2] and "closest: Bagan Deli (Medan Belawan)" in errors[2]
    assert "kelurahan/desa code or name" in errors[4]
    assert demo_conn.execute("SELECT count(*) FROM surveys WHERE round = '2024'").fetchone()[0] == 0
    aside = tmp_path / "tidak_cocok.csv"
    report = import_surveys(demo_conn, path, tenant=TENANT, round="2024", skip_unmatched=aside)
    assert report.ok and report.summary["rows_skipped"] == 2 and report.features_written == 1
    with open(aside, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["baris"] for r in rows] == ["2", "4"] and rows[0]["desa"] == "Bagan Dali"
    assert "Bagan Deli" in rows[0]["alasan"]


def test_bad_levels_and_disagreeing_scores_name_row_field_and_value(demo_conn, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        {"kelurahan": "Bagan Deli", "rt": "Lingkungan 01", "tingkat": "parah", "skor": ""},
        {"kelurahan": "Bagan Deli", "rt": "Lingkungan 02", "tingkat": "KR", "skor": "62"},
        {"kelurahan": "Bagan Deli", "rt": "Lingkungan 03", "tingkat": "", "skor": "sedang sekali"},
        {"kelurahan": "Bagan Deli", "rt": "Lingkungan 04", "tingkat": "", "skor": ""}])
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    errors = [(p.feature, p.field, p.reason) for p in failed.value.report.errors]
    assert errors[0][:2] == (2, "tingkat") and "'parah' not understood" in errors[0][2]
    assert errors[1][:2] == (3, "tingkat") and "KR disagrees with the score 62" in errors[1][2]
    assert errors[2][:2] == (4, "skor") and "'sedang sekali'" in errors[2][2]
    assert errors[3][:2] == (5, "tingkat") and "neither a level nor a score" in errors[3][2]
    assert not any("None" in text for _, _, text in errors)


def test_the_same_rt_twice_is_a_duplicate_and_with_other_figures_a_part(demo_conn, tmp_path):
    rows = [{"kelurahan": "Bagan Deli", "rt": "Lingkungan 05", "tingkat": "KS", "skor": "40"},
            {"kelurahan": "Kel. Bagan Deli", "rt": "LK 5", "tingkat": "KS", "skor": "40"}]
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, write_csv(tmp_path / "twice.csv", rows), tenant=TENANT, round="2024")
    assert [(p.feature, p.text("id")) for p in failed.value.report.errors] == [
        (3, "fitur/baris 3: unit dan putaran yang sama sudah ada di baris 2")]
    rows[1]["skor"] = "45"
    report = import_surveys(demo_conn, write_csv(tmp_path / "parts.csv", rows), tenant=TENANT, round="2024",
                            create_units=True)
    assert report.summary["units_created"] == 1 and any("bagian 2" in str(w) for w in report.warnings)
    assert stored(demo_conn, BAGAN_DELI, "LK 5 bagian 2", "2024")["total"] == 45
    demo_conn.rollback()


@pytest.mark.writes_demo
def test_stated_levels_become_the_slum_areas_status_where_no_volumes_exist(demo_conn, tmp_path):
    demo_conn.execute("DELETE FROM surveys")
    units = demo_conn.execute(
        "SELECT u.kelurahan_code, u.label, u.slum_area_id FROM survey_units u WHERE u.slum_area_id = "
        "(SELECT slum_area_id FROM survey_units WHERE slum_area_id IS NOT NULL ORDER BY id LIMIT 1)").fetchall()
    area = units[0][2]
    rows = [{"kode_kelurahan": k, "rt": label, "skor": "62" if i == 0 else "40"} for i, (k, label, _) in
            enumerate(units)]
    import_surveys(demo_conn, write_csv(tmp_path / "scores.csv", rows), tenant=TENANT, round="2024")
    status = demo_conn.execute("SELECT level, total_score, score_source, round FROM slum_area_status "
                               "WHERE slum_area_id = %s", [area]).fetchone()
    assert status[2] == "surveys" and status[3] == "2024"
    assert 40 <= status[1] <= 62 and status[0] == ("KB" if status[1] >= 60 else "KS")
    levels_only = [{"kode_kelurahan": k, "rt": label, "tingkat": "KB" if i == 0 else "KR"}
                   for i, (k, label, _) in enumerate(units)]
    import_surveys(demo_conn, write_csv(tmp_path / "levels.csv", levels_only), tenant=TENANT, round="2025")
    status = demo_conn.execute("SELECT level, total_score, round FROM slum_area_status WHERE slum_area_id = %s",
                               [area]).fetchone()
    assert status == ("KB", None, "2025")  # levels only: the worst stated level, no score invented


@pytest.mark.writes_demo
def test_the_same_bad_table_reads_in_indonesian_and_english(demo_conn, tmp_path):
    path = write_csv(tmp_path / "typo.csv", [{"desa": "Bagan Dali", "lingkungan": "Lingkungan 01", "tingkat": "X"}])
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    report = failed.value.report
    english, indonesian = report.as_dict("en"), report.as_dict("id")
    assert "not understood" in english["errors"][0]["reason"]
    assert "tidak dikenali" in indonesian["errors"][0]["reason"]
    assert report.errors[0].text("id").startswith("fitur/baris 2, kolom tingkat: ")
    path.write_text("desa,lingkungan,tingkat\nBagan Dali,Lingkungan 01,KB\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    problem = failed.value.report.errors[0]
    assert "no kelurahan/desa named 'Bagan Dali'" in problem.text("en")
    assert "tidak ada kelurahan/desa bernama 'Bagan Dali'" in problem.text("id")
    assert json.dumps(failed.value.report.as_dict("id")).count("Bagan Deli") == 1


def test_the_sinjai_decree_appendix_is_read_as_a_baseline_table(shared_data, empty_db, tmp_path):
    """The real SK appendix of Kab. Sinjai (tests only, ../shared/data): a title row, a two-row merged header with two
    Nilai/Tingkat pairs (Kekumuhan, Pertimbangan Lainnya), kawasan written once per group, 'TOTAL LUASAN KUMUH' rows,
    a signature block under the table. 50 RT rows; 4 of its desa names are not desa of the boundary file
    ('Samataring 01', 'Paruntu', ...): they are named with the closest desa, or set aside with --skip-unmatched."""
    import psycopg

    from layers.imports.regions import import_regions

    path = shared_data / "slum" / "sinjai" / "Lampiran Lokasi_Kawasan_Kab_Sinjai.xlsx"
    with psycopg.connect(empty_db) as conn:
        import_regions(conn, shared_data / "boundaries" / "kemendagri" / "kab_sinjai_kecamatan.geojson")
        import_regions(conn, shared_data / "boundaries" / "kemendagri" / "kab_sinjai_desa_kel.geojson")
        with pytest.raises(ImportFailed) as failed:
            import_surveys(conn, path, tenant="73.07", round="SK 2024", create_units=True)
        reasons = {p.params["name"]: p.params["closest"] for p in failed.value.report.errors}
        assert set(reasons) == {"Samataring 01", "Samataring 02", "Paruntu", "Popanda"}
        assert reasons["Samataring 01"].startswith("Samataring (Sinjai Timur)")
        assert any("bagian 2" in str(w) for w in failed.value.report.warnings)  # RTs cut in parts, said so
        assert conn.execute("SELECT count(*) FROM surveys").fetchone()[0] == 0
        aside = tmp_path / "tidak_cocok.csv"
        report = import_surveys(conn, path, tenant="73.07", round="SK 2024", create_units=True, skip_unmatched=aside)
        assert report.ok and report.features_read == 50
        skipped = report.summary["rows_skipped"]
        assert skipped == len(failed.value.report.errors) and report.features_written == 50 - skipped
        assert any("rows 65, 67, 68, 69, 74" in str(w) for w in report.warnings)  # the signature block, said so
        levels = dict(conn.execute("SELECT stored->>'level', count(*) FROM surveys GROUP BY 1").fetchall())
        assert sum(levels.values()) == 50 - skipped and set(levels) == {"KR", "KS"}
        first = conn.execute("SELECT u.label, u.attributes->>'geometry_source', sv.stored->>'total' FROM surveys sv "
                             "JOIN survey_units u ON u.id = sv.unit_id WHERE sv.source_row = 4").fetchone()
        assert first == ("RT001-RW001", "kelurahan", "39")


# -- areas, needs and costs with their units (issue 11 items 4 and 5) -----------------------------------
def with_units(tmp_path: Path, first: dict, second: dict) -> Path:
    base = [{"Kelurahan": "Bagan Deli", "Lingkungan": "Lingkungan 01", "Tingkat": "KB", "Skor": "62"},
            {"Kelurahan": "Belawan II", "Lingkungan": "Lingkungan 01", "Tingkat": "KS", "Skor": "45"}]
    return write_csv(tmp_path / "satuan.csv", [{**base[0], **first}, {**base[1], **second}])


@pytest.mark.writes_demo
def test_areas_needs_and_costs_are_read_with_their_units_and_reported(demo_conn, tmp_path):
    path = with_units(
        tmp_path,
        {"Luas": "1.250 m2", "Kebutuhan 2b": "1,2 km", "Kebutuhan 3a": "35 KK", "Biaya 2b": "Rp 1.500.000",
         "Biaya 3a": "Rp 250.000.000,-"},
        {"Luas": "0,25 ha", "Kebutuhan 2b": "120,5 m", "Kebutuhan 3a": "", "Biaya 2b": "Rp 45.500.000",
         "Biaya 3a": ""})
    report = import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    assert report.ok and not report.warnings, [str(p) for p in report.errors + report.warnings]
    first, second = stored(demo_conn, BAGAN_DELI, "Lingkungan 01"), stored(demo_conn, BELAWAN_II, "Lingkungan 01")
    # the column writes decimal commas ('0,25'), so '1.250 m2' groups thousands: 1250 m2 = 0.125 ha
    assert (first["area_ha"], second["area_ha"]) == (0.125, 0.25)
    assert first["needs"] == {"2b": 1200.0, "3a": 35.0} and second["needs"] == {"2b": 120.5}  # metres, KK
    assert first["costs"] == {"2b": 1_500_000.0, "3a": 250_000_000.0} and second["costs"] == {"2b": 45_500_000.0}
    areas = demo_conn.execute(
        "SELECT sv.area_ha FROM surveys sv JOIN survey_units u ON u.id = sv.unit_id WHERE sv.round = '2024' "
        "AND u.label = 'Lingkungan 01' AND u.kelurahan_code IN (%s, %s) ORDER BY u.kelurahan_code DESC",
        [BAGAN_DELI, BELAWAN_II]).fetchall()
    assert areas == [(0.125,), (0.25,)]
    assert report.fields["cost_3a"] == "Biaya 3a" and report.fields["need_2b"] == "Kebutuhan 2b"
    assert report.summary["area_ha_stated"] == {"rows": 2, "total_ha": 0.375}
    assert report.summary["needs_stored"] == {"rows": 2, "total_volume_per_criterion": {"2b": 1320.5, "3a": 35.0}}
    assert report.summary["costs_stored"] == {"rows": 2, "total_rp_per_criterion": {"2b": 47_000_000.0,
                                                                                     "3a": 250_000_000.0}}

    alone = with_units(tmp_path, {"Luas": "7.067 ha"}, {"Luas": ""})  # no other value tells the decimal mark
    report = import_surveys(demo_conn, alone, tenant=TENANT, round="2025")
    assert stored(demo_conn, BAGAN_DELI, "Lingkungan 01", "2025")["area_ha"] == 7.067
    [warning] = report.warnings
    assert (warning.feature, warning.field) == (2, "Luas")
    assert warning.text("en").endswith("read as 7.067 (decimal point); write 7,067 or 7067 to be sure")
    assert warning.text("id") == ("fitur/baris 2, kolom Luas: '7.067 ha' bermakna ganda ('.' sebagai tanda desimal "
                                  "atau ribuan); dibaca 7.067 (titik desimal); tulis 7,067 atau 7067 agar pasti")


def test_a_value_in_a_wrong_or_unknown_unit_names_row_field_and_value(demo_conn, tmp_path):
    before = demo_conn.execute("SELECT count(*), md5(string_agg(s::text, '|' ORDER BY s.id)) FROM surveys s"
                               ).fetchone()
    path = with_units(tmp_path, {"Luas": "dua hektar", "Kebutuhan 2b": "12 KK", "Biaya 2b": "Rp 1,5 juta"},
                      {"Luas": "120 m", "Kebutuhan 2b": "1.2.3 m", "Biaya 2b": "Rp 1.500.000"})
    with pytest.raises(ImportFailed) as failed:
        import_surveys(demo_conn, path, tenant=TENANT, round="2024")
    report = failed.value.report
    english = {(p.feature, p.field): p.reason_in("en") for p in report.errors}
    indonesian = {(p.feature, p.field): p.reason_in("id") for p in report.errors}
    assert english == {
        (2, "Luas"): "'dua hektar' is not a number",
        (2, "Kebutuhan 2b"): "'12 KK' is in KK, but this field is in m",
        (2, "Biaya 2b"): "'Rp 1,5 juta': unknown unit 'Rp juta' (known: ha, m2, km2, m, km, Rp, %, unit, KK)",
        (3, "Luas"): "'120 m' is in m, but this field is in ha",
        (3, "Kebutuhan 2b"): "'1.2.3 m' has '.' thousands groups that are not three digits"}
    assert indonesian[(2, "Luas")] == "'dua hektar' bukan angka"
    assert indonesian[(3, "Luas")] == "'120 m' dalam satuan m, padahal kolom ini dalam ha"
    assert indonesian[(2, "Biaya 2b")].startswith("'Rp 1,5 juta': satuan 'Rp juta' tidak dikenal")
    assert report.features_written == 0
    demo_conn.rollback()
    after = demo_conn.execute("SELECT count(*), md5(string_agg(s::text, '|' ORDER BY s.id)) FROM surveys s"
                              ).fetchone()
    assert after == before
