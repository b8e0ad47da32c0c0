"""Every keterpaduan export opens in the tool its users open it with: GDAL's ogrinfo (QGIS, ArcGIS) for the
GeoPackage, the zipped Shapefiles, KML/KMZ and GeoJSON; poppler for the PDF sheet; openpyxl for the workbook; a
browser-free check that the HTML map needs nothing from the network. The demo (Kota Medan) is exported once for
the module, with a slum area named like a script tag and proposers' names and phones that must never leak."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import openpyxl
import pandas as pd
import psycopg
import pyogrio
import pytest
from PIL import Image

from geo.errors import InvalidInput, NotFound
from layers.accounts.access import Principal
from maps.exports import FORMATS, collect, export_keterpaduan, file_name, write_bundle
from maps.exports.atomic import atomic_output
from maps.exports.codebook import DBF_NAME_LIMIT

ADMIN = Principal(role="admin", username="test")
HOSTILE = '<script>alert("kawasan")</script> & Co'
SECRETS = ("Ibu Rahasia", "0812-999-777")
LIVE = "status NOT IN ('ditolak', 'dibatalkan')"


@pytest.fixture(scope="module")
def medan(fresh_demo):
    with psycopg.connect(fresh_demo()) as conn:
        conn.execute("UPDATE slum_areas SET kawasan = %s WHERE id = (SELECT min(id) FROM slum_areas)", [HOSTILE])
        conn.execute("UPDATE activities SET proposer_name = %s, proposer_phone = %s", list(SECRETS))
        conn.commit()
        yield conn


@pytest.fixture(scope="module")
def files(medan, tmp_path_factory):
    bundle = collect(medan, "12.71", ADMIN)
    folder = tmp_path_factory.mktemp("exports")
    paths = {fmt: folder / file_name("12.71", fmt) for fmt in FORMATS}
    for fmt, path in paths.items():
        write_bundle(bundle, fmt, path)
    return paths


@pytest.fixture(scope="module")
def expected(medan):
    dims = dict(medan.execute(f"SELECT ST_Dimension(geom), count(*) FROM activities WHERE {LIVE} GROUP BY 1"))
    kelurahan = medan.execute(
        f"SELECT count(DISTINCT code) FROM (SELECT region_code AS code FROM slum_area_regions UNION "
        f"SELECT kelurahan_code FROM activities WHERE {LIVE} AND kelurahan_code IS NOT NULL) c").fetchone()[0]
    kecamatan = medan.execute(
        f"SELECT count(DISTINCT left(code, 8)) FROM (SELECT region_code AS code FROM slum_area_regions UNION "
        f"SELECT kelurahan_code FROM activities WHERE {LIVE} AND kelurahan_code IS NOT NULL) c").fetchone()[0]
    cost, count = medan.execute(f"SELECT sum(cost)::float8, count(*) FROM activities WHERE {LIVE}").fetchone()
    return {"kawasan_kumuh": 60, "kegiatan_titik": dims[0], "kegiatan_garis": dims[1], "kegiatan_poligon": dims[2],
            "ringkasan_kelurahan": kelurahan, "ringkasan_kecamatan": kecamatan, "ringkasan_kabkota": 1,
            "cost": cost, "activities": count}


def ogr_layers(source: str) -> dict[str, int]:
    """{layer name: feature count} as ogrinfo (Debian's gdal-bin, the GDAL QGIS uses) reports them."""
    result = subprocess.run(["ogrinfo", "-ro", "-so", "-al", source], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = re.findall(r"^Layer name: (.+)$", result.stdout, re.M)
    counts = [int(c) for c in re.findall(r"^Feature Count: (\d+)$", result.stdout, re.M)]
    assert len(names) == len(counts)
    return dict(zip(names, counts, strict=True))


def ogr_fields(source: str, layer: str) -> list[str]:
    result = subprocess.run(["ogrinfo", "-ro", "-so", source, layer], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return re.findall(r"^(\w+): (?:String|Integer|Integer64|Real|Date|DateTime)", result.stdout, re.M)


def geo_counts(expected: dict) -> dict[str, int]:
    return {k: v for k, v in expected.items() if k.startswith(("kawasan", "kegiatan", "ringkasan"))}


def test_geopackage_layers_counts_and_qgis_styles(files, expected):
    layers = ogr_layers(str(files["gpkg"]))
    assert {k: layers[k] for k in geo_counts(expected)} == geo_counts(expected)
    assert layers["memorandum"] > 0 and layers["layer_styles"] == 8
    assert layers["aset"] == 0  # the demo has no handed-over assets (tests/api/test_assets_http.py has one)
    with sqlite3.connect(files["gpkg"]) as db:
        styles = {row[0]: row[1:] for row in db.execute(
            "SELECT f_table_name, styleQML, styleSLD, useAsDefault, f_geometry_column FROM layer_styles")}
        contents = {row[0] for row in db.execute("SELECT table_name FROM gpkg_contents")}
    assert set(styles) == {*geo_counts(expected), "aset"} and "layer_styles" in contents
    qml, sld, default, column = styles["kawasan_kumuh"]
    assert default == 1 and column == "geom"
    renderer = ET.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "level"
    assert [c.get("value") for c in renderer.iter("category")] == ["KB", "KS", "KR", "TK", ""]
    assert ET.fromstring(sld.split("\n", 1)[1]).tag.endswith("StyledLayerDescriptor")
    programme = ET.fromstring(styles["kegiatan_garis"][0].split("\n", 1)[1]).find("renderer-v2")
    assert programme.get("attr") == "program" and "NSUP" in [c.get("value") for c in programme.iter("category")]


def test_shapefile_zip_short_names_codebook_and_styles(files, expected):
    source = f"/vsizip/{files['shp']}"
    layers = ogr_layers(source)
    assert {k: layers[k] for k in geo_counts(expected)} == geo_counts(expected)
    assert layers["memorandum"] > 0
    with zipfile.ZipFile(files["shp"]) as archive:
        names = set(archive.namelist())
        codebook = list(csv.DictReader(io.TextIOWrapper(archive.open("KODEBUKU.csv"), encoding="utf-8")))
        qml = archive.read("kawasan_kumuh.qml").decode()
        readme = archive.read("BACA_SAYA.txt").decode()
    assert {"kawasan_kumuh.shp", "kawasan_kumuh.dbf", "kawasan_kumuh.prj", "kawasan_kumuh.cpg",
            "kawasan_kumuh.sld", "memorandum.dbf"} <= names
    fields = ogr_fields(source, "kawasan_kumuh")
    assert fields and all(len(f) <= DBF_NAME_LIMIT for f in fields) and len(set(fields)) == len(fields)
    book = {(r["layer"], r["short_name"]): r for r in codebook}
    assert all(("kawasan_kumuh", f) in book for f in fields)
    assert book[("kawasan_kumuh", "TINGKAT")]["full_name"] == "level"
    assert book[("kawasan_kumuh", "P01")]["full_name"].startswith("program_") and book[("kawasan_kumuh", "P01")][
        "meaning"]
    assert 'attr="TINGKAT"' in qml  # the style uses the short names of the Shapefile
    assert "MIT License" in readme


def test_kml_and_kmz_open_in_gdal_styled_and_escaped(files, expected):
    for fmt in ("kml", "kmz"):
        layers = ogr_layers(str(files[fmt]))
        assert layers["Kawasan kumuh"] == 60
        assert sum(v for k, v in layers.items() if k.startswith("Kegiatan")) == expected["activities"]
        assert "Kegiatan NSUP" in layers
    text = files["kml"].read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert" in text
    assert "<styleUrl>#tingkat-" in text and "<styleUrl>#program-NSUP</styleUrl>" in text
    areas = pyogrio.read_dataframe(files["kmz"], layer="Kawasan kumuh")
    assert areas["Name"].str.startswith(HOSTILE).any() and "level" in areas.columns  # read back as the text it is


def test_geojson_is_one_collection_without_personal_fields(files, expected):
    layers = ogr_layers(str(files["geojson"]))
    assert layers == {"keterpaduan": 60 + expected["activities"]}
    doc = json.loads(files["geojson"].read_text(encoding="utf-8"))
    kinds = pd.Series([f["properties"]["layer"] for f in doc["features"]]).value_counts().to_dict()
    assert kinds == {"kawasan_kumuh": 60, "kegiatan": expected["activities"]}
    assert doc["tenant"] == "12.71" and any("MIT License" in s for s in doc["sources"])
    assert not any("proposer_name" in f["properties"] or "proposer_phone" in f["properties"] for f in doc["features"])


def test_csv_and_xlsx_memorandum(files, expected):
    columns = ["Kode program", "Program", "Kegiatan", "Kecamatan", "Kode kelurahan", "Kelurahan", "Kawasan kumuh",
               "Tahun", "Kode sumber dana", "Sumber dana", "Volume", "Satuan", "Usulan belum dianggarkan (Rp)",
               "Pagu anggaran (Rp)", "Realisasi (Rp)", "Jumlah kegiatan", "Kegiatan selesai", "Pelaksana (OPD)"]
    table = pd.read_csv(files["csv"], encoding="utf-8-sig", dtype={"Tahun": str, "Kode kelurahan": str})
    assert list(table.columns) == columns
    assert table["Usulan belum dianggarkan (Rp)"].sum() == pytest.approx(expected["cost"])  # the demo: no budget
    assert table["Jumlah kegiatan"].sum() == expected["activities"]
    assert table["Tahun"].str.fullmatch(r"20\d\d").all()

    book = openpyxl.load_workbook(files["xlsx"], read_only=True)
    assert {"Memorandum", "Biaya per tahun", "Kawasan", "Ringkasan kecamatan", "Kodebuku", "Sumber"} <= set(
        book.sheetnames)
    rows = [list(r) for r in book["Memorandum"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[:2] == ["Kode program", "Program"])
    assert rows[header][:len(columns)] == columns
    total = next(r for r in rows if r[0] == "JUMLAH")
    assert total[columns.index("Usulan belum dianggarkan (Rp)")] == pytest.approx(expected["cost"])
    assert total[columns.index("Jumlah kegiatan")] == expected["activities"]
    assert len(rows) - header - 2 == len(table)  # header, data rows, total
    assert "Kota Medan" in str(rows[0][0])


def test_pdf_sheet_renders_with_everything_a_printed_map_needs(files, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(files["pdf"]), str(tmp_path / "page")],
                   check=True, timeout=120)
    with Image.open(tmp_path / "page.png") as page:
        assert page.width > page.height > 400  # A3 landscape
        assert len(page.convert("RGB").getcolors(1 << 20)) > 50  # a drawn map, not a blank page
    text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True,
                          check=True, timeout=120).stdout
    for expected_text in ("PETA KETERPADUAN PROGRAM", "Kota Medan (12.71)", "Tingkat kekumuhan", "Kumuh ringan",
                          "Kegiatan per program", "NSUP", "km", "U", "Tanggal:", "MIT License", "Cahya DSN",
                          "SINTETIS", "Ringkasan keterpaduan per kecamatan", "JUMLAH", "Medan Kota"):
        assert expected_text in text, expected_text
    kelurahan = re.findall(r"Pasar Merah Barat|Timbang Deli|Belawan", text)
    assert kelurahan  # kelurahan labels on the map


def test_png_sheet(files):
    with Image.open(files["png"]) as image:
        assert image.format == "PNG" and image.width > 2000 and image.width > image.height
        assert len(image.convert("RGB").getcolors(1 << 22)) > 100


def test_html_map_is_standalone_and_escaped(files):
    page = files["html"].read_text(encoding="utf-8")
    assert not re.findall(r"<script[^>]+src=", page) and not re.findall(r"<link[^>]+href=", page)
    assert "Leaflet 1.9.4" in page and "L.geoJson(" in page
    # the tooltip holds the escaped name (inside JSON, where '&' itself is written \u0026)
    assert '<script>alert("kawasan")' not in page and "&lt;script&gt;alert" in page.replace("\\u0026", "&")
    assert "Kegiatan NSUP" in page and "MIT License" in page


def test_no_export_holds_personal_data(files):
    def texts():
        for fmt, path in files.items():
            data = path.read_bytes()
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    for name in archive.namelist():
                        yield f"{fmt}:{name}", archive.read(name)
            else:
                yield fmt, data

    for where, data in texts():
        for secret in SECRETS:
            assert secret.encode() not in data, where


def test_export_keterpaduan_checks_before_writing_and_writes_atomically(medan, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(InvalidInput, match="unknown export format"):
        export_keterpaduan(medan, "12.71", "docx", target, ADMIN)
    with pytest.raises(InvalidInput, match="not a kab/kota code"):
        export_keterpaduan(medan, "99", "csv", target, ADMIN)
    with pytest.raises(InvalidInput, match="12.72 is unknown"):
        export_keterpaduan(medan, "12.72", "csv", target, ADMIN)
    with pytest.raises(NotFound):
        export_keterpaduan(medan, "12.71", "csv", target, ADMIN, decree="SK yang tidak ada")
    assert target.read_text() == "old"
    with pytest.raises(RuntimeError), atomic_output(target) as temp:
        temp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    info = export_keterpaduan(medan, "1271", "csv", target, ADMIN)
    assert info["format"] == "csv" and not info["public_only"] and target.read_text(encoding="utf-8-sig") != "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    info = export_keterpaduan(medan, "12.71", "shp", tmp_path / "medan.shp", ADMIN)
    assert info["path"] == str(tmp_path / "medan.shp.zip") and zipfile.is_zipfile(info["path"])
