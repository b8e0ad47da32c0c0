"""Messages of every importer in Bahasa Indonesia and English (issue 11 item 8): real failures of `kotaku import
slum-areas|regions|surveys|activities`, the BPS crosswalk and `kotaku regions remove|replace` give the catalogue's
text in the language asked (report.as_dict(lang), describe(error, lang), the CLI's --lang), never a Python None
or class name, never a placeholder left unfilled."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from data import data_path
from geo.errors import KotakuError
from geo.messages import describe
from layers.imports.activities import import_activities
from layers.imports.region_removal import remove_regions, replace_regions
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed, ImportReport
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys
from tests.api.test_messages import LEAKS
from tests.layers.test_bps_crosswalk import MEDAN as MEDAN_DESA
from tests.layers.test_bps_crosswalk import bps_file
from tests.layers.test_import_activities import HEADER, ROAD_A

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
BOUNDARIES = data_path("demo", "boundaries")


@pytest.fixture
def medan(conn):
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, BOUNDARIES / f"kota_medan_{level}.geojson")
    conn.commit()


def problems(report: ImportReport, lang: str) -> dict[tuple, str]:
    """(feature, field) -> reason of every error and warning in `lang`; each checked for leaks."""
    out = {}
    for kind in ("errors", "warnings"):
        for p in report.as_dict(lang)[kind]:
            assert not LEAKS.search(p["reason"]) and "{" not in p["reason"], p
            out[(p["feature"], p["field"])] = p["reason"]
    return out


def failed(action) -> ImportReport:
    with pytest.raises(ImportFailed) as caught:
        action()
    return caught.value.report


def said(error: KotakuError) -> dict[str, str]:
    texts = {lang: describe(error, lang) for lang in ("id", "en")}
    for text in texts.values():
        assert not LEAKS.search(text) and "{" not in text, text
    return texts


def test_slum_area_problems(conn, medan, tmp_path):
    frame = gpd.read_file(data_path("demo", "medan_slum_areas.geojson")).head(3)
    frame["Legalitas"] = frame["Legalitas"].astype(object)
    frame["skor_kumuh"] = frame["skor_kumuh"].astype(object)
    frame.loc[0, ["Legalitas", "skor_kumuh"]] = ["entah", "abc"]
    frame.loc[1, ["Kode_Prov", "Kode_Kab"]] = ["73", "07"]
    path = tmp_path / "sk.geojson"
    frame.to_file(path)
    report = failed(lambda: import_slum_areas(conn, path, tenant="12.71", decree="SK uji"))
    indonesian, english = problems(report, "id"), problems(report, "en")
    code = f"73.07.{frame.loc[1, 'Kode_Kec']}.{frame.loc[1, 'Kode_Kel']}"
    assert indonesian[(2, "Kode_Kel")] == f"kode kelurahan {code} berada di kab/kota 73.07, bukan di 12.71"
    assert english[(2, "Kode_Kel")] == f"kelurahan code {code} lies in kab/kota 73.07, not in tenant 12.71"
    assert indonesian[(1, "Legalitas")] == "legalitas 'entah' tidak dikenali (legal/ilegal); dibiarkan kosong"
    assert english[(1, "Legalitas")] == "legality 'entah' not understood (legal/ilegal); left empty"
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0

    conn.rollback()
    with pytest.raises(KotakuError) as refused:
        import_slum_areas(conn, path, tenant="Medan", decree="SK uji")
    assert said(refused.value) == {
        "id": "'Medan' bukan kode kab/kota: gunakan kode Kemendagri, mis. 12.71 (atau 1271) untuk Kota Medan",
        "en": "'Medan' is not a kab/kota code: use the Kemendagri code, e.g. 12.71 (or 1271) for Kota Medan"}


def test_region_and_crosswalk_problems(conn, tmp_path):
    path = tmp_path / "wilayah.geojson"
    square = {"type": "Polygon", "coordinates": [[[98.6, 3.5], [98.7, 3.5], [98.7, 3.6], [98.6, 3.5]]]}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": code, "nama": name}, "geometry": square}
        for code, name in (("12.71", "Kota Medan"), ("abc", "Salah"), ("12.71", ""))]}))
    report = failed(lambda: import_regions(conn, path))
    indonesian, english = problems(report, "id"), problems(report, "en")
    assert indonesian[(2, "kode")] == "'abc' bukan kode Kemendagri (PP, PP.KK, PP.KK.CC atau PP.KK.CC.DDDD)"
    assert indonesian[(3, "kode")] == "kode 12.71 muncul lagi (pertama di fitur 1)"
    assert (indonesian[(3, "nama")], english[(3, "nama")]) == ("nama kosong", "name is empty")

    bps_file(MEDAN_DESA, tmp_path / "medan_bps.gpkg", "1275")
    frame = pyogrio.read_dataframe(tmp_path / "medan_bps.gpkg")
    frame.loc[0, "NAMOBJ"] = "Kampung Tidak Ada"
    frame.loc[1, "KDEBPS"] = "12x"
    pyogrio.write_dataframe(frame, tmp_path / "bad_bps.gpkg")
    report = failed(lambda: import_regions(conn, tmp_path / "bad_bps.gpkg"))
    indonesian, english = problems(report, "id"), problems(report, "en")
    assert indonesian[(2, "KDEBPS")] == "'12x' bukan kode BPS (2, 4, 7 atau 10 angka)"
    unmatched = [text for (feature, _), text in indonesian.items() if feature == 1]
    assert len(unmatched) == 1 and re.match(
        r"BPS \d+ 'Kampung Tidak Ada' tidak cocok: tidak ada wilayah bernama 'Kampung Tidak Ada' di 12\.71\.\d\d",
        unmatched[0]), unmatched
    assert [text for (feature, _), text in english.items() if feature == 1][0].startswith(
        unmatched[0].split(" tidak cocok")[0] + " unmatched: no region named 'Kampung Tidak Ada' in 12.71.")


def test_survey_problems(conn, medan, tmp_path):
    path = tmp_path / "survei.csv"
    path.write_text("kelurahan_code,label,round,v_1a\n73.07.01.1001,RT 01,2024,5\n", encoding="utf-8")
    report = failed(lambda: import_surveys(conn, path, tenant="12.71"))
    indonesian, english = problems(report, "id"), problems(report, "en")
    assert indonesian[(None, "v_1b")] == (
        "tidak ada kolom volume untuk kriteria 1b skema permen14_2018 (v_1b, 1bv atau 1b)")
    assert english[(None, "v_1b")] == "no volume column for criterion 1b of permen14_2018 (v_1b, 1bv or 1b)"
    pdf = tmp_path / "survei.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    with pytest.raises(KotakuError) as refused:
        import_surveys(conn, pdf, tenant="12.71")
    assert said(refused.value) == {"id": "survei.pdf: survei dibaca dari berkas CSV atau XLSX, bukan .pdf",
                                   "en": "survei.pdf: surveys are read from CSV or XLSX files, not .pdf"}


def test_activity_problems(conn, medan, tmp_path):
    path = tmp_path / "usulan.csv"
    path.write_text(HEADER + f'Paving,jalan_paving,2025,REGULER,APBD_KABKOTA,"{ROAD_A}",\n'
                    + f'Paving lagi,jalan_rabat_beton,2025,NSUP,NSUP_WB_AIIB,"{ROAD_A}",\n'
                    + 'Hidran,hidran_umum,2025,REGULER,APBD_KABKOTA,"POINT (98.3 3.9)",\n')
    report = failed(lambda: import_activities(conn, path, tenant="12.71"))
    indonesian, english = problems(report, "id"), problems(report, "en")
    assert indonesian[(3, "geometry")] == "berada di luar kab/kota 12.71"
    assert indonesian[(2, "geometry")].startswith("bertumpang tindih dengan fitur 1 berkas ini (jalan_paving, ")
    assert "m berimpit" in indonesian[(2, "geometry")] and "m shared" in english[(2, "geometry")]
    assert english[(3, "geometry")] == "lies outside kab/kota 12.71"
    with pytest.raises(KotakuError) as refused:
        import_activities(conn, path, tenant="12.71", defaults="tahun")
    assert said(refused.value)["id"].startswith("isian --defaults 'tahun' harus berbentuk kolom=nilai (kolom: ")


def test_region_removal_messages_and_the_cli_language(conn, medan, tmp_path, empty_db):
    with pytest.raises(KotakuError) as refused:
        remove_regions(conn, ["12.99"], undo_file=tmp_path / "undo.gpkg")
    assert said(refused.value) == {"id": "tidak ada wilayah berkode 12.99 yang dimuat",
                                   "en": "no region with code 12.99 is loaded"}
    conn.execute("INSERT INTO survey_units (tenant, kelurahan_code, label) VALUES ('12.71', '12.71.08.1006', 'RT 1')")
    conn.commit()
    with pytest.raises(KotakuError) as refused:
        remove_regions(conn, ["12.71.08"], undo_file=tmp_path / "undo.gpkg")
    texts = said(refused.value)
    assert texts["id"].startswith("Menghapus ") and "unit survei 1" in texts["id"]
    assert "Tidak ada yang dihapus" in texts["id"] and "survey units 1" in texts["en"]
    other = tmp_path / "lain.geojson"
    gpd.read_file(BOUNDARIES / "kota_medan_kab_kota.geojson").to_file(other)
    with pytest.raises(KotakuError) as refused:
        replace_regions(conn, other, within="12.71.08", undo_file=tmp_path / "undo2.gpkg")
    assert said(refused.value)["id"].startswith("lain.geojson memuat 1 wilayah di luar 12.71.08 (mis. 12.71); ")
    conn.rollback()

    env = {**os.environ, "DATABASE_URL": empty_db}
    runs = {lang: subprocess.run([KOTAKU, "--lang", lang, "regions", "remove", "12.99"], capture_output=True,
                                 text=True, timeout=300, env=env) for lang in ("id", "en")}
    assert runs["id"].returncode == runs["en"].returncode == 3, runs["id"].stderr
    assert "Kesalahan: tidak ada wilayah berkode 12.99 yang dimuat" in runs["id"].stderr
    assert "Error: no region with code 12.99 is loaded" in runs["en"].stderr
    dry = subprocess.run([KOTAKU, "--lang", "id", "regions", "remove", "12.71.08", "--dry-run"], capture_output=True,
                         text=True, timeout=300, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "akan menghapus" in dry.stdout and "dipakai oleh: 1 unit survei (kelurahannya)" in dry.stdout


def test_priority_input_problems(conn, medan, tmp_path):
    from layers.imports.priority import import_priority_inputs

    path = tmp_path / "prioritas.csv"
    path.write_text("kawasan,mbr_share_pct,legality\nKawasan Tidak Ada,150 %,entah\n", encoding="utf-8")
    report = failed(lambda: import_priority_inputs(conn, path, tenant="12.71"))
    indonesian, english = set(problems(report, "id").values()), set(problems(report, "en").values())
    assert {"porsi MBR harus persentase 0-100", "seharusnya legal atau ilegal",
            "tidak cocok dengan kawasan kumuh mana pun (isi slum_area_id, kawasan, atau unit_label beserta "
            "kelurahan_code)"} <= indonesian
    assert {"MBR share must be a percentage 0-100", "expected legal or ilegal"} <= english
