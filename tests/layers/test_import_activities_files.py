"""`kotaku import activities` on the files planners have: KML/KMZ with the street as the placemark name and the rest in
a description table, tables with Indonesian headers, kinds by their everyday names, numbers with units, --map and
--defaults. Every file is built here, one flaw each."""

from __future__ import annotations

import zipfile

import psycopg
import pytest

from data import data_path
from geo.errors import InvalidInput
from layers.imports.activities import import_activities
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed

ROAD = "98.6850,3.5832 98.68653,3.5832"


@pytest.fixture
def medan(conn: psycopg.Connection):
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))


def _placemark(name: str, rows: dict[str, str], geometry: str) -> str:
    table = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows.items())
    return (f"<Placemark><name>{name}</name><description><![CDATA[<table>{table}</table>]]></description>"
            f"{geometry}</Placemark>")


def _kml(*placemarks: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            + "".join(placemarks) + "</Document></kml>")


PLAN = _kml(
    _placemark("Jl. Sei Agul Gg. Damai", {"JENIS": "Jalan Paving", "VOLUME": "170 m", "BIAYA": "Rp 54.000.000,-",
                                          "RT_RW": "RT 03/RW 02"},
               f"<LineString><coordinates>{ROAD}</coordinates></LineString>"),
    _placemark("MCK Lingkungan 4", {"JENIS": "MCK Plus", "VOLUME": "1 unit", "BIAYA": "Rp 120.500.000"},
               "<Point><coordinates>98.6860,3.5840</coordinates></Point>"),
)


def _rows(conn):
    return conn.execute("SELECT title, kind, volume, cost, year_start, program, funding_source, proposer_area, "
                        "attributes FROM activities ORDER BY id").fetchall()


@pytest.mark.parametrize("suffix", ["kml", "kmz"])
def test_kml_plan_name_is_the_title_and_the_table_the_fields(conn, medan, tmp_path, suffix):
    path = tmp_path / f"rencana.{suffix}"
    if suffix == "kml":
        path.write_text(PLAN, encoding="utf-8")
    else:
        with zipfile.ZipFile(path, "w") as kmz:
            kmz.writestr("doc.kml", PLAN)
    report = import_activities(conn, path, tenant="12.71",
                               defaults="year=2025,program=NSUP,funding_source=BPM_BDI")
    assert report.ok and report.features_written == 2, report.as_dict()
    (road, mck) = _rows(conn)
    assert road[:8] == ("Jl. Sei Agul Gg. Damai", "jalan_paving", 170.0, 54_000_000.0, 2025, "NSUP", "BPM_BDI",
                        "RT 03/RW 02")
    assert mck[:4] == ("MCK Lingkungan 4", "mck", 1.0, 120_500_000.0)
    assert "description" not in road[8] and "<td" not in str(road[8])  # the HTML table is not kept as an attribute
    assert report.fields["title"] == "Name" and report.fields["kind"] == "JENIS"


def test_table_with_indonesian_headers_kinds_and_numbers(conn, medan, tmp_path):
    path = tmp_path / "usulan.csv"
    road = "LINESTRING (98.6850 3.5832, 98.68653 3.5832)"
    path.write_text(
        "\ufeffNama Kegiatan;Jenis Kegiatan;Tahun Anggaran;Sumber Dana;Satuan;Volume;Anggaran;WKT\n"
        f'Rabat gang 5;rabat beton;2026;APBD_KABKOTA;m;"1.234,5";"1.500.000,00";"{road}"\n'
        'Drainase Gg. Melati;DRAINASE;2026;DANA_DESA;m;"12,5";"Rp 9.375.000";'
        '"LINESTRING (98.6890 3.5900, 98.6895 3.5900)"\n'
        'Gorong-gorong;Gorong-Gorong;2026;APBN;unit;2;"IDR 90,000,000";"POINT (98.6870 3.5870)"\n',
        encoding="utf-8")
    report = import_activities(conn, path, tenant="12.71")
    assert report.ok, report.as_dict()
    rows = _rows(conn)
    assert [r[1] for r in rows] == ["jalan_rabat_beton", "drainase", "box_culvert"]
    assert [r[2] for r in rows] == [1234.5, 12.5, 2.0]
    assert [r[3] for r in rows] == [1_500_000.0, 9_375_000.0, 90_000_000.0]


def test_map_dash_ignores_a_field_and_defaults_fill_it(conn, medan, tmp_path):
    path = tmp_path / "jalan.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                    '{"nama":"Jl. Mawar","jenis":"PU-07 (lihat RAB)","tahun":2027},'
                    '"geometry":{"type":"LineString","coordinates":[[98.6850,3.5832],[98.68653,3.5832]]}}]}')
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    assert "unknown activity kind 'PU-07 (lihat RAB)'" in str(failed.value)
    report = import_activities(conn, path, tenant="12.71", field_map="kind=-", defaults="kind=jalan_aspal")
    assert report.ok
    (row,) = _rows(conn)
    assert row[1] == "jalan_aspal" and row[8]["jenis"] == "PU-07 (lihat RAB)"


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("BIAYA", "Rp 12.34.5", "field cost: 'Rp 12.34.5' has '.' thousands groups that are not three digits"),
    ("VOLUME", "12 kg", "field volume: '12 kg': unknown unit 'kg'"),
    ("VOLUME", "3 ha", "field volume: '3 ha' is in ha, but this field is in m"),
    ("BIAYA", "sekitar lima juta", "field cost: 'sekitar lima juta' is not a number"),
    ("JENIS", "", "field kind: kind is required"),
    ("TAHUN", "", "field year_start: year_start is required"),
])
def test_a_bad_value_names_feature_field_and_value_and_writes_nothing(conn, medan, tmp_path, field, value,
                                                                       expected):
    rows = {"JENIS": "Jalan Paving", "VOLUME": "170 m", "BIAYA": "Rp 5.000.000", "TAHUN": "2025"}
    rows[field] = value
    path = tmp_path / "buruk.kml"
    path.write_text(_kml(_placemark("Jl. Kenanga", rows, f"<LineString><coordinates>{ROAD}</coordinates>"
                                                            "</LineString>")))
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    message = str(failed.value)
    assert f"feature 1, {expected}" in message
    assert "None" not in message and "Error" not in message
    assert conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 0


def test_unknown_defaults_and_map_targets_are_named(conn, medan, tmp_path):
    path = tmp_path / "a.kml"
    path.write_text(PLAN)
    with pytest.raises(InvalidInput, match="--defaults names unknown field.*colour"):
        import_activities(conn, path, tenant="12.71", defaults="colour=red")
    with pytest.raises(InvalidInput, match="--defaults entry 'kind' must look like field=value"):
        import_activities(conn, path, tenant="12.71", defaults="kind")
