"""`kotaku import regions --skip-invalid`: the good features of a mixed file are written, the bad ones set aside
with their reasons in a CSV file, on both read paths (a plain GeoPackage streamed as WKB, a GeoJSON read whole);
a set-aside code's stored row stays as it was, and without the option the same file still changes nothing."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo.errors import InvalidInput
from geo.read_wkb import plain_layer
from layers.imports import regions
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
COLLAPSED = {"type": "Polygon", "coordinates": [[[98.6, 3.5], [98.61, 3.5], [98.6, 3.5], [98.6, 3.5]]]}
SWAPPED = {"type": "Polygon", "coordinates": [[[3.5, 98.6], [3.6, 98.6], [3.6, 98.7], [3.5, 98.6]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[98.8, 3.5], [98.81, 3.51], [98.81, 3.5], [98.8, 3.51], [98.8, 3.5]]]}
POINT = {"type": "Point", "coordinates": [98.65, 3.55]}


def _square(x: float, y: float, d: float = 0.01) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def _feature(code: str, name: str, geometry: dict, note: str = "") -> dict:
    return {"type": "Feature", "properties": {"kode": code, "nama": name, "keterangan": note}, "geometry": geometry}


# feature number (1-based) -> the reason it is set aside (Indonesian, as in the rejects file)
MIXED = [
    _feature("12.71.01", "Kec Satu", _square(98.6, 3.5, 0.1)),  # 1 good
    _feature("12.71.01.1001", "Baik", _square(98.6, 3.5)),  # 2 good
    _feature("12.71.01.1002", "Runtuh", COLLAPSED, "cincin runtuh"),  # 3 no polygon left by the repair
    _feature("", "Tanpa kode", _square(98.62, 3.5)),  # 4 empty code
    _feature("12.7X", "Kode salah", _square(98.64, 3.5)),  # 5 bad code
    _feature("12.71.01.1003", "Ganda pertama", _square(98.66, 3.5)),  # 6 first copy of a repeated code
    _feature("12.71.01.1003", "Ganda kedua", _square(98.68, 3.5)),  # 7 its second copy
    _feature("12.71.02", "Kec Tertukar", SWAPPED),  # 8 swapped lat/lon
    _feature("12.71.02.1001", "Anak Kec Tertukar", _square(98.6, 3.52)),  # 9 parent 12.71.02 set aside, not stored
    _feature("12.71.03", "", _square(98.7, 3.6, 0.1)),  # 10 empty name (12.71.03 is stored: its row stays)
    _feature("12.71.03.1001", "Anak Kec Tiga", _square(98.7, 3.6)),  # 11 good: its parent is stored
    _feature("12.71.01.1004", "Dasi", BOWTIE),  # 12 good: repaired
]
REASONS = {
    3: "kolom geometry: geometri tidak valid (Too few points",  # GEOS says why, in English
    4: "kolom kode: '' bukan kode Kemendagri",
    5: "kolom kode: '12.7X' bukan kode Kemendagri",
    6: "kolom kode: kode 12.71.01.1003 muncul lagi (di fitur 7): semua salinannya disisihkan",
    7: "kolom kode: kode 12.71.01.1003 muncul lagi (pertama di fitur 6)",
    8: "lintang dan bujur tampaknya tertukar",
    9: "induk ditolak (kode 12.71.02)",
    10: "kolom nama: nama kosong",
}
GOOD = ["12.71.01", "12.71.01.1001", "12.71.01.1004", "12.71.03.1001"]
BEFORE = [  # stored before the mixed file comes
    _feature("12.71.01.1002", "Lama", _square(98.9, 3.9)),
    _feature("12.71.03", "Kec Tiga", _square(98.7, 3.6, 0.1)),
]


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _gpkg(geojson: Path) -> Path:
    target = geojson.with_suffix(".gpkg")
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), str(geojson), "-nlt", "POLYGON"], check=True,
                   capture_output=True)
    assert plain_layer(target) is not None  # the fast path: the file's WKB streamed in batches
    return target


def _mixed(tmp_path: Path, kind: str) -> Path:
    if kind == "geojson":  # the whole-frame path also sees a point where a polygon belongs
        return _geojson(tmp_path / "campur.geojson", [*MIXED, _feature("12.71.01.1005", "Titik", POINT)])
    return _gpkg(_geojson(tmp_path / "sumber" / "campur.geojson", MIXED))


def _reasons(kind: str) -> dict[int, str]:
    if kind == "geojson":
        return {**REASONS, 13: "kolom geometry: geometri adalah Point"}
    return REASONS


def _stored(conn) -> dict[str, tuple]:
    rows = conn.execute("SELECT code, name, parent_code, area_ha, ST_Area(geom::geography) / 1e4, "
                        "ST_AsText(geom), source FROM regions ORDER BY code").fetchall()
    return {row[0]: row[1:] for row in rows}


def _rejects(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def before(conn, tmp_path) -> dict[str, tuple]:
    import_regions(conn, _geojson(tmp_path / "sebelum.geojson", BEFORE))
    conn.commit()
    return _stored(conn)


@pytest.mark.parametrize("kind", ["gpkg", "geojson"])
def test_good_features_are_written_and_bad_ones_listed_with_reasons(conn, tmp_path, before, kind):
    (tmp_path / "sumber").mkdir()
    path = _mixed(tmp_path, kind)
    report = import_regions(conn, path, skip_invalid=True)
    conn.commit()
    expected = _reasons(kind)
    assert report.ok and report.features_written == len(GOOD)
    stored = _stored(conn)
    assert sorted(stored) == sorted([*GOOD, *before])
    for code in GOOD:
        name, parent, area, postgis_area, _, source = stored[code]
        assert source == path.name and area > 50 and abs(area - postgis_area) / area < 1e-3
    assert stored["12.71.01.1001"][:2] == ("Baik", "12.71.01") and stored["12.71.03.1001"][1] == "12.71.03"
    assert stored["12.71.01"][2] == pytest.approx(100 * stored["12.71.01.1001"][2], rel=0.01)
    for code in before:  # set aside in this file: the stored rows stay as they were
        assert stored[code] == before[code]
    assert [p.feature for p in report.repairs] == [12]  # a repair is not a rejection

    target = path.with_name("campur.ditolak.csv")
    assert report.summary["rejected"] == len(expected) and report.summary["rejects_file"] == str(target)
    assert any(p.key == "region.skipped" and str(target) in p.text("id") for p in report.warnings)
    listed = _rejects(target)
    assert list(listed[0]) == ["fitur", "kode", "nama", "keterangan", "alasan"]
    assert [int(row["fitur"]) for row in listed] == sorted(expected)
    for row in listed:
        number = int(row["fitur"])
        assert expected[number] in row["alasan"], row
        if number <= len(MIXED):  # the code and name as the file has them, and its other columns
            assert [row["kode"], row["nama"], row["keterangan"]] == list(MIXED[number - 1]["properties"].values())
    assert listed[0]["fitur"] == "3" and listed[0]["keterangan"] == "cincin runtuh"
    assert not list(target.parent.glob(".*.tmp"))  # the temporary file was moved over the list


@pytest.mark.parametrize("kind", ["gpkg", "geojson"])
def test_without_the_option_the_same_file_changes_nothing(conn, tmp_path, before, kind):
    (tmp_path / "sumber").mkdir()
    path = _mixed(tmp_path, kind)
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, path)
    conn.rollback()
    assert {p.feature for p in failed.value.report.errors} == set(_reasons(kind)) - {6, 9}  # the default's own
    assert _stored(conn) == before
    assert not path.with_name("campur.ditolak.csv").exists()


@pytest.mark.parametrize("kind", ["gpkg", "geojson"])
def test_a_file_with_only_bad_features_is_rejected_and_changes_nothing(conn, tmp_path, before, kind):
    features = [MIXED[2], MIXED[4], _feature("12.71.01.1009", "", _square(98.6, 3.5))]
    path = _geojson(tmp_path / "buruk.geojson", features)
    path = _gpkg(path) if kind == "gpkg" else path
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, path, skip_invalid=True)
    conn.rollback()
    report = failed.value.report
    assert not report.ok and report.features_written == 0
    assert [p.feature for p in report.errors] == [1, 2, 3]
    assert _stored(conn) == before
    assert not tmp_path.joinpath("buruk.ditolak.csv").exists()


def test_nothing_rejected_writes_no_list(conn, tmp_path):
    path = _geojson(tmp_path / "baik.geojson", [MIXED[0], MIXED[1]])
    report = import_regions(conn, path, skip_invalid=True)
    assert report.ok and report.features_written == 2
    assert report.summary["rejected"] == 0 and "rejects_file" not in report.summary
    assert not report.warnings and list(tmp_path.iterdir()) == [path]


def test_a_kabkota_set_aside_takes_its_kecamatan_and_their_desa_unless_stored(conn, tmp_path):
    import_regions(conn, _geojson(tmp_path / "sebelum.geojson", [_feature("12.72.02", "Kec Tersimpan",
                                                                          _square(98.7, 3.6, 0.1))]))
    path = _geojson(tmp_path / "kota.geojson", [
        _feature("12.72.01.1001", "Desa", _square(98.6, 3.5)),  # 1 its kecamatan (2) goes with the kab/kota
        _feature("12.72.01", "Kec Baru", _square(98.6, 3.5, 0.1)),  # 2 its kab/kota (3) is set aside
        _feature("12.72", "Kota", SWAPPED),  # 3 bad
        _feature("12.72.02", "Kec Tersimpan", _square(98.7, 3.6, 0.1)),  # 4 its kab/kota is set aside: goes too
        _feature("12.72.02.1001", "Desa Dua", _square(98.7, 3.6)),  # 5 its kecamatan is stored: kept
    ])
    report = import_regions(conn, path, skip_invalid=True)
    assert sorted(_stored(conn)) == ["12.72.02", "12.72.02.1001"]
    assert _stored(conn)["12.72.02"][5] == "sebelum.geojson"  # the stored kecamatan as it was
    listed = {int(row["fitur"]): row["alasan"] for row in _rejects(tmp_path / "kota.ditolak.csv")}
    assert listed[1] == "induk ditolak (kode 12.72.01)" and listed[2] == "induk ditolak (kode 12.72)"
    assert listed[4] == "induk ditolak (kode 12.72)" and sorted(listed) == [1, 2, 3, 4]
    assert report.summary["rejected"] == 4


@pytest.mark.parametrize("kind", ["gpkg", "geojson"])
def test_bad_features_in_late_chunks_are_set_aside_and_the_rest_written(conn, tmp_path, monkeypatch, kind):
    monkeypatch.setattr(regions, "COPY_CHUNK", 40)
    count = 40 * 4 + 15
    bad = {40 * 3 + 7: SWAPPED, count: COLLAPSED, 5: BOWTIE}
    features = [_feature(f"12.71.01.{2000 + n}", f"Desa {n}",
                         bad.get(n, _square(98.6 + (n % 20) * 0.011, 3.5 + (n // 20) * 0.011)))
                for n in range(1, count + 1)]
    features[40 * 2 + 1]["properties"]["kode"] = "12.71.XX"  # feature 82: a bad code in the third chunk
    if kind == "gpkg":
        (tmp_path / "sumber").mkdir()
        path = _gpkg(_geojson(tmp_path / "sumber" / "besar.geojson", features))
    else:
        path = _geojson(tmp_path / "besar.geojson", features)
    report = import_regions(conn, path, rejects=tmp_path / "ditolak.csv", skip_invalid=True)
    assert report.features_written == count - 3 and report.summary["rejected"] == 3
    stored = _stored(conn)
    assert len(stored) == count - 3 and "12.71.01.2005" in stored  # the bowtie repaired, written
    assert {"12.71.01.2127", f"12.71.01.{2000 + count}", "12.71.01.2082"}.isdisjoint(stored)
    assert all(abs(area - postgis) / area < 1e-3 for _, _, area, postgis, *_ in stored.values())
    assert [int(row["fitur"]) for row in _rejects(tmp_path / "ditolak.csv")] == [82, 127, count]


def test_rejects_file_in_the_current_folder_when_the_file_folder_is_read_only(conn, tmp_path, monkeypatch):
    source = tmp_path / "cd"
    source.mkdir()
    path = _geojson(source / "campur.geojson", [MIXED[0], MIXED[4]])
    work = tmp_path / "kerja"
    work.mkdir()
    monkeypatch.chdir(work)
    access = os.access  # as root every folder is writable: the input's folder is made read-only for this test
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != source and access(p, mode))
    report = import_regions(conn, path, skip_invalid=True)
    assert report.summary["rejects_file"] == str(work / "campur.ditolak.csv")
    assert [row["fitur"] for row in _rejects(work / "campur.ditolak.csv")] == ["2"]


def test_a_rejects_file_that_cannot_be_written_stops_before_anything_changes(conn, tmp_path):
    path = _geojson(tmp_path / "campur.geojson", [MIXED[0], MIXED[4]])
    with pytest.raises(InvalidInput, match="--rejects"):
        import_regions(conn, path, skip_invalid=True, rejects=tmp_path / "tidak-ada" / "x.csv")
    assert _stored(conn) == {}


# -- the command line ------------------------------------------------------------------------------------------------
def _cli(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, "import", "regions", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url}, cwd=cwd)


def test_cli_skip_invalid_json_report_and_exit_codes(empty_db, conn, tmp_path, before):
    (tmp_path / "sumber").mkdir()
    path = _mixed(tmp_path, "gpkg")
    listed = tmp_path / "daftar.csv"
    result = _cli([str(path), "--skip-invalid", "--rejects", str(listed), "--json"], empty_db, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["features_written"] == len(GOOD) and report["errors"] == []
    assert report["summary"]["rejected"] == len(REASONS) and report["summary"]["rejects_file"] == str(listed)
    assert [w["key"] for w in report["warnings"]].count("region.skipped") == 1
    assert [int(row["fitur"]) for row in _rejects(listed)] == sorted(REASONS)
    assert sorted(_stored(conn)) == sorted([*GOOD, *before])

    bad = _geojson(tmp_path / "buruk.geojson", [MIXED[2], MIXED[4]])
    result = _cli([str(bad), "--skip-invalid", "--json"], empty_db, tmp_path)
    assert result.returncode == 2 and not json.loads(result.stdout)["ok"]
    assert not (tmp_path / "buruk.ditolak.csv").exists()

    result = _cli([str(path), "--rejects", str(listed)], empty_db, tmp_path)
    assert result.returncode == 2 and "--skip-invalid" in result.stderr
    result = _cli([str(path)], empty_db, tmp_path)  # the default: all-or-nothing
    assert result.returncode == 2
    assert sorted(_stored(conn)) == sorted([*GOOD, *before])


def test_bps_coded_file_sets_aside_the_features_the_crosswalk_cannot_match(conn, tmp_path):
    import pyogrio

    from tests.layers.test_bps_crosswalk import MEDAN, bps_file

    bps_file(MEDAN, tmp_path / "medan_bps.gpkg", "1275")
    frame = pyogrio.read_dataframe(tmp_path / "medan_bps.gpkg")
    frame.loc[0, "NAMOBJ"] = "Kampung Tidak Ada"
    frame.loc[1, "NAMOBJ"] = frame.loc[2, "NAMOBJ"]  # two features named like one kelurahan
    pyogrio.write_dataframe(frame, tmp_path / "bps.gpkg")
    report = import_regions(conn, tmp_path / "bps.gpkg", skip_invalid=True)
    assert report.features_written == 148 and report.summary["rejected"] == 3
    listed = _rejects(tmp_path / "bps.ditolak.csv")
    assert [row["fitur"] for row in listed] == ["1", "2", "3"] and "Kampung Tidak Ada" in listed[0]["alasan"]
    assert list(listed[0]) == ["fitur", "kode_kemendagri (crosswalk)", "NAMOBJ", "KDEBPS", "alasan"]
    assert [row["kode_kemendagri (crosswalk)"] for row in listed] == ["", "", ""]  # no code found
    assert listed[0]["NAMOBJ"] == "Kampung Tidak Ada" and listed[0]["KDEBPS"] == "1275010001"
    assert conn.execute("SELECT count(*), count(DISTINCT code), min(area_ha) > 0 FROM regions").fetchone() == (
        148, 148, True)
