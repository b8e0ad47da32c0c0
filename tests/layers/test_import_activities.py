"""`kotaku import activities`: the same overlap check as one drawn on the map, for a whole file at once."""

from __future__ import annotations

import json

import psycopg
import pytest

from data import data_path
from layers.accounts.access import Principal
from layers.imports.activities import import_activities
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.planning.activities import Catalogue, create_activity, parse_activity

HEADER = "title,kind,year_start,program,funding_source,WKT,RT\n"
ROAD_A = "LINESTRING (98.6850 3.5832, 98.68653 3.5832)"
ROAD_B = "LINESTRING (98.68653 3.5832, 98.6880 3.5832)"  # continues A end to end


@pytest.fixture
def medan(conn: psycopg.Connection):
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))


def _count(conn) -> int:
    return conn.execute("SELECT count(*) FROM activities").fetchone()[0]


def test_csv_with_wkt_imports_with_collaboration_links(conn, medan, tmp_path):
    path = tmp_path / "usulan.csv"
    path.write_text(HEADER
                    + f'Paving tahap 1,jalan_paving,2025,REGULER,APBD_KABKOTA,"{ROAD_A}",RT 03/RW 02\n'
                    + f'Paving tahap 2,jalan_paving,2025,LAINNYA,DANA_DESA,"{ROAD_B}",RT 03/RW 02\n'
                    + 'Hidran umum,hidran_umum,2026,PAMSIMAS,APBN,"POINT (98.6860 3.5840)",RT 01\n')
    report = import_activities(conn, path, tenant="12.71", principal=Principal(role="admin", username="uji"))
    assert report.ok and report.features_written == 3 and report.summary["collaboration_links"] == 1
    rows = conn.execute("SELECT title, kelurahan_code, round(length_m), attributes->>'RT' FROM activities "
                        "ORDER BY id").fetchall()
    assert rows[0][1] == "12.71.01.1001" and rows[0][2] == 170 and rows[0][3] == "RT 03/RW 02"
    assert conn.execute("SELECT count(*) FROM activity_events WHERE action = 'diimpor' AND actor = 'uji'"
                        ).fetchone()[0] == 3
    entry = conn.execute("SELECT actor, action, after->>'written' FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    assert entry == ("uji", "activities.import", "3")


def test_a_file_that_duplicates_itself_is_rejected(conn, medan, tmp_path):
    path = tmp_path / "ganda.csv"
    path.write_text(HEADER + f'Paving,jalan_paving,2025,REGULER,APBD_KABKOTA,"{ROAD_A}",\n'
                    + f'Paving lagi,jalan_rabat_beton,2025,NSUP,NSUP_WB_AIIB,"{ROAD_A}",\n')
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    (error,) = failed.value.report.errors
    assert error.feature == 2 and "overlaps feature 1 of this file" in error.reason and "m shared" in error.reason
    assert _count(conn) == 0


def test_a_file_that_duplicates_a_live_activity_is_rejected_whole(conn, medan, tmp_path):
    catalogue = Catalogue.load(conn)
    import shapely

    existing, _ = parse_activity({"tenant": "12.71", "title": "Sudah ada", "kind": "jalan_paving",
                                  "year_start": 2025}, shapely.from_wkt(ROAD_A), catalogue)
    first = create_activity(conn, existing)
    path = tmp_path / "bentrok.geojson"
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [98.6860, 3.5840]},
         "properties": {"title": "Hidran", "kind": "hidran_umum", "year_start": 2025}},
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(shapely.from_wkt(ROAD_A))),
         "properties": {"title": "Paving", "kind": "jalan_paving", "year_start": 2025, "funding_source": "CSR"}},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    (error,) = failed.value.report.errors
    assert error.feature == 2 and f"overlaps live activity {first.id}" in error.reason
    assert _count(conn) == 1


def test_bad_rows_are_all_named(conn, medan, tmp_path):
    path = tmp_path / "rusak.csv"
    path.write_text(HEADER
                    + 'Kolam retensi,kolam_retensi,2025,REGULER,APBD_KABKOTA,"POINT (98.686 3.584)",\n'
                    + f'Paving,jalan_paving,dua ribu,REGULER,APBD_KABKOTA,"{ROAD_A}",\n'
                    + 'Paving titik,jalan_paving,2025,REGULER,APBD_KABKOTA,"POINT (98.686 3.584)",\n'
                    + 'Hidran,hidran_umum,2025,REGULER,APBD_KABKOTA,"POINT (3.584 98.686)",\n')
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    errors = {(p.feature, p.field): p.reason for p in failed.value.report.errors}
    assert "unknown activity kind 'kolam_retensi'" in errors[(1, "kind")]
    assert "not a fiscal year" in errors[(2, "year_start")]
    assert "drawn as a line" in errors[(3, "geometry")]
    assert "swapped" in errors[(4, "geometry")]
    assert _count(conn) == 0


def test_lon_lat_csv_and_kml(conn, medan, tmp_path):
    csv_path = tmp_path / "titik.csv"
    csv_path.write_text("title;kind;year_start;bujur;lintang\nAPAR RT 1;apar;2025;98,6861;3,5841\n")
    assert import_activities(conn, csv_path, tenant="1271").features_written == 1
    kml = tmp_path / "usulan.kml"
    kml.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><kml xmlns='http://www.opengis.net/kml/2.2'><Document>"
        "<Placemark><name>Drainase RT 2</name><ExtendedData><Data name='title'><value>Drainase RT 2</value></Data>"
        "<Data name='kind'><value>drainase</value></Data><Data name='year_start'><value>2026</value></Data>"
        "</ExtendedData><LineString><coordinates>98.6850,3.5836,0 98.6860,3.5836,0</coordinates></LineString>"
        "</Placemark></Document></kml>")
    report = import_activities(conn, kml, tenant="12.71")
    assert report.features_written == 1
    assert conn.execute("SELECT kind, round(volume) FROM activities WHERE kind = 'drainase'").fetchone() == (
        "drainase", 111)
