"""Nothing stored is lost (issue 11): an empty file is an error for every importer; a decree with areas takes a
file only with --append or --replace; a replacement says what goes and `kotaku decree restore` brings back exactly
the old rows (geometry, attributes, and what hung on them); areas a little outside a simplified kab/kota outline
are accepted with a warning naming the distance, farther out they are an error naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely
from pyproj import Geod

from data import data_path
from layers.imports.activities import import_activities
from layers.imports.priority import import_priority_inputs
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.imports.slum_areas import import_slum_areas
from layers.imports.surveys import import_surveys

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
MEDAN = data_path("demo", "boundaries")
DEMO_AREAS = data_path("demo", "medan_slum_areas.geojson")
TABLES = ("regions", "decrees", "slum_areas", "slum_area_regions", "survey_units", "surveys", "activities",
          "slum_area_priority_inputs")


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


def checksum(conn: psycopg.Connection) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over every row (as text, geometry included) of the data tables."""
    out = {}
    for table in TABLES:
        out[table] = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
        ).fetchone()
    return out


def decree_of_demo(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT number FROM decrees WHERE tenant = '12.71'").fetchone()[0]


def empty_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"Kawasan": gpd.pd.Series([], dtype=str)}, geometry=gpd.GeoSeries([], crs=4326))


@pytest.mark.writes_demo
@pytest.mark.parametrize("suffix,driver", [("geojson", "GeoJSON"), ("gpkg", "GPKG"), ("shp", "ESRI Shapefile")])
def test_an_empty_file_never_replaces_a_decree(demo_url, demo_conn, tmp_path, suffix, driver):
    path = tmp_path / f"kosong.{suffix}"
    empty_frame().to_file(path, driver=driver)
    before = checksum(demo_conn)
    result = kotaku(["import", "slum-areas", str(path), "--tenant", "1271", "--decree", decree_of_demo(demo_conn),
                     "--replace"], demo_url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "has no features" in result.stderr and "Traceback" not in result.stderr
    assert checksum(demo_conn) == before


@pytest.mark.writes_demo
def test_every_importer_rejects_an_empty_file(demo_conn, tmp_path):
    before = checksum(demo_conn)
    geojson = tmp_path / "kosong.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    header_only = tmp_path / "kosong.csv"
    header_only.write_text("kelurahan_code,label,round,v_1a\n")
    priority_header = tmp_path / "pl.csv"
    priority_header.write_text("slum_area_id,mbr_share_pct,potential\n")
    for action in (lambda: import_regions(demo_conn, geojson),
                   lambda: import_slum_areas(demo_conn, geojson, tenant="12.71", decree="SK baru"),
                   lambda: import_activities(demo_conn, geojson, tenant="12.71"),
                   lambda: import_surveys(demo_conn, header_only, tenant="12.71"),
                   lambda: import_priority_inputs(demo_conn, priority_header, tenant="12.71")):
        with pytest.raises(ImportFailed, match="has no (features|rows)"):
            action()
        demo_conn.rollback()
    assert checksum(demo_conn) == before


def _medan(conn: psycopg.Connection) -> None:
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, MEDAN / f"kota_medan_{level}.geojson")
    conn.commit()


def test_a_decree_in_three_kelurahan_files_goes_in_with_append(conn, empty_db, tmp_path):
    _medan(conn)
    areas = gpd.read_file(DEMO_AREAS)
    kelurahan = areas["Kode_Kel"].drop_duplicates().head(3).tolist()
    files = []
    for i, code in enumerate(kelurahan):  # one file per kelurahan, each with its own field names and format
        part = areas[areas["Kode_Kel"] == code].drop(columns=["SK_KUMUH"])
        if i == 1:
            part = part.rename(columns={"Kawasan": "NAMA_KAWASAN", "KODE_RT_RW": "RT_RW", "LUAS_KUMUH": "Luas"})
        if i == 2:
            part = part.rename(columns={"KODE_RT_RW": "rt", "skor_kumuh": "SKOR"})
            part = part.set_geometry(part.geometry.simplify(0.00005))
        path = tmp_path / f"kel_{code}.{('geojson', 'gpkg', 'shp')[i]}"
        part.to_file(path)
        files.append((path, len(part)))
    first = kotaku(["import", "slum-areas", str(files[0][0]), "--tenant", "12.71", "--decree", "SK 2025"], empty_db)
    assert first.returncode == 0, first.stderr

    before = checksum(conn)
    refused = kotaku(["import", "slum-areas", str(files[1][0]), "--tenant", "12.71", "--decree", "SK 2025"], empty_db)
    assert refused.returncode == 2
    assert "--append" in refused.stderr and "--replace" in refused.stderr and "already has" in refused.stderr
    assert "Traceback" not in refused.stderr and checksum(conn) == before

    for path, _ in files[1:]:
        added = kotaku(["import", "slum-areas", str(path), "--tenant", "12.71", "--decree", "SK 2025", "--append",
                        "--json"], empty_db)
        assert added.returncode == 0, added.stdout + added.stderr
    counts = dict(conn.execute("SELECT source_file, count(*) FROM slum_areas GROUP BY 1").fetchall())
    assert counts == {p.name: n for p, n in files}
    assert conn.execute("SELECT count(DISTINCT decree_id) FROM slum_areas").fetchone()[0] == 1
    # every area got its kelurahan shares once (the append did not join the earlier files' areas again)
    assert conn.execute("SELECT count(*) FROM slum_areas s WHERE NOT EXISTS "
                        "(SELECT 1 FROM slum_area_regions r WHERE r.slum_area_id = s.id)").fetchone()[0] == 0

    before = checksum(conn)
    again = kotaku(["import", "slum-areas", str(files[1][0]), "--tenant", "12.71", "--decree", "SK 2025",
                    "--append"], empty_db)
    assert again.returncode == 2 and "already imported?" in again.stderr + again.stdout
    assert checksum(conn) == before

    both = kotaku(["import", "slum-areas", str(files[1][0]), "--tenant", "12.71", "--decree", "SK 2025",
                   "--append", "--replace"], empty_db)
    assert both.returncode == 2 and "exclude each other" in both.stderr


def _snapshot(conn: psycopg.Connection) -> dict:
    """What a user would compare: every area (id, attributes, geometry hash), its kelurahan shares, which slum
    area each survey unit and activity belongs to, the surveys, and the levels shown."""
    return {
        "areas": conn.execute(
            "SELECT id, kawasan, unit_label, kelurahan_code, area_ha, stated_area_ha, legality, typology, "
            "attributes::text, stated_level, stated_score, source_file, source_feature, synthetic, created_at, "
            "md5(ST_AsEWKB(geom)) FROM slum_areas ORDER BY id").fetchall(),
        "shares": conn.execute("SELECT * FROM slum_area_regions ORDER BY 1, 2").fetchall(),
        "units": conn.execute("SELECT id, slum_area_id FROM survey_units ORDER BY id").fetchall(),
        "activities": conn.execute("SELECT id, slum_area_id FROM activities ORDER BY id").fetchall(),
        "surveys": conn.execute("SELECT count(*), md5(string_agg(s::text, '|' ORDER BY s.id)) FROM surveys s")
        .fetchone(),
        "levels": conn.execute("SELECT slum_area_id, level, total_score, score_source FROM slum_area_status "
                               "ORDER BY 1").fetchall(),
    }


@pytest.mark.writes_demo
def test_replace_says_what_goes_and_restore_brings_back_exactly_the_old_rows(demo_url, demo_conn, tmp_path):
    decree = decree_of_demo(demo_conn)
    old = _snapshot(demo_conn)
    assert sum(1 for _, area in old["units"] if area) > 0 and sum(1 for _, area in old["activities"] if area) > 0
    areas = gpd.read_file(DEMO_AREAS)
    new = areas.head(40).copy()  # the revised decree: 40 of the 60 areas, outlines simplified
    new = new.set_geometry(new.geometry.simplify(0.00003))
    path = tmp_path / "sk_revisi.geojson"
    new.to_file(path)
    gone_ha = round(sum(row[4] for row in old["areas"]), 3)

    replaced = kotaku(["import", "slum-areas", str(path), "--tenant", "12.71", "--decree", decree, "--replace"],
                      demo_url)
    assert replaced.returncode == 0, replaced.stderr
    text = " ".join(replaced.stdout.split())
    assert f"replaced 60 slum areas of decree '{decree}' ({gone_ha} ha" in text
    assert "Kawasan Pesisir Bagan Deli" in text and "kept as version 1" in text and "decree restore" in text
    after = _snapshot(demo_conn)
    assert len(after["areas"]) == 40 and after["surveys"] == old["surveys"]  # no survey is lost
    assert len(after["units"]) == len(old["units"]) and len(after["activities"]) == len(old["activities"])
    new_ids = {row[0] for row in after["areas"]}
    assert {area for _, area in after["units"] if area} <= new_ids  # units point at the new areas or at none
    assert sum(1 for _, area in after["units"] if area) > 0

    history = kotaku(["decree", "history", "--tenant", "12.71", "--decree", decree, "--json"], demo_url)
    assert history.returncode == 0, history.stderr
    listed = json.loads(history.stdout)
    assert listed["current"]["areas"] == 40
    [version] = listed["versions"]
    assert (version["version"], version["areas"], version["area_ha"], version["replaced_by"]) == (
        1, 60, gone_ha, "sk_revisi.geojson")

    restored = kotaku(["decree", "restore", "1", "--tenant", "12.71", "--decree", decree], demo_url)
    assert restored.returncode == 0, restored.stderr
    assert "kept as version 2" in restored.stdout
    assert _snapshot(demo_conn) == old  # the same ids, attributes, geometries, links, surveys and levels

    # and the restore itself can be undone
    undo = kotaku(["decree", "restore", "2", "--tenant", "12.71", "--decree", decree, "--json"], demo_url)
    assert undo.returncode == 0 and json.loads(undo.stdout)["restored_areas"] == 40
    assert {row[0] for row in _snapshot(demo_conn)["areas"]} == new_ids
    missing = kotaku(["decree", "restore", "9", "--tenant", "12.71", "--decree", decree], demo_url)
    assert missing.returncode != 0 and "no version 9" in missing.stderr and "1, 2, 3" in missing.stderr


def _outside(outline: shapely.Polygon, metres: float) -> shapely.Polygon:
    """A 40 m square whose nearest edge lies `metres` east of the outline's easternmost point."""
    geod = Geod(ellps="WGS84")
    east = max(outline.exterior.coords, key=lambda c: c[0])
    lon0, lat0, _ = geod.fwd(east[0], east[1], 90, metres)
    lon1, _, _ = geod.fwd(east[0], east[1], 90, metres + 40)
    _, lat1, _ = geod.fwd(lon0, lat0, 0, 40)
    return shapely.box(lon0, lat0, lon1, lat1)


def test_an_area_just_outside_a_simplified_outline_is_accepted_with_its_distance(conn, tmp_path):
    _medan(conn)
    kota = gpd.read_file(MEDAN / "kota_medan_kab_kota.geojson").geometry.iloc[0]
    outline = max(getattr(kota, "geoms", [kota]), key=lambda g: g.area)
    near, far = _outside(outline, 60), _outside(outline, 500)
    assert not near.intersects(kota) and not far.intersects(kota)
    gpd.GeoDataFrame({"Kawasan": ["Tepi"]}, geometry=[near], crs=4326).to_file(tmp_path / "dekat.geojson")
    report = import_slum_areas(conn, tmp_path / "dekat.geojson", tenant="12.71", decree="SK tepi")
    [warning] = [w for w in report.warnings if "outside the outline" in w.reason]
    metres = float(warning.reason.split("lies ")[1].split(" m")[0].replace(",", ""))
    assert 55 <= metres <= 65 and warning.feature == 1 and "tolerance of 100 m" in warning.reason

    gpd.GeoDataFrame({"Kawasan": ["Jauh"]}, geometry=[far], crs=4326).to_file(tmp_path / "jauh.geojson")
    with pytest.raises(ImportFailed) as failed:
        import_slum_areas(conn, tmp_path / "jauh.geojson", tenant="12.71", decree="SK jauh")
    [error] = failed.value.report.errors
    metres = float(error.reason.split("lies ")[1].split(" m")[0].replace(",", ""))
    assert 495 <= metres <= 505 and error.feature == 1 and "--boundary-tolerance" in error.reason
    conn.rollback()
    # a wider tolerance, given on the command line, accepts it
    wide = import_slum_areas(conn, tmp_path / "jauh.geojson", tenant="12.71", decree="SK jauh",
                             boundary_tolerance_m=600)
    assert wide.features_written == 1 and any("tolerance of 600 m" in w.reason for w in wide.warnings)


def test_sinjai_delineation_in_three_files_against_its_simplified_outline(conn, shared_data, tmp_path):
    """The real Kab. Sinjai delineation (50 RT polygons) split into one file per kecamatan goes in with --append
    against the published (simplified) outline; areas beyond it are named with their distance."""
    boundaries = shared_data / "boundaries" / "kemendagri"
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, boundaries / f"kab_sinjai_{level}.geojson")
    areas = gpd.read_file(shared_data / "slum" / "sinjai" / "delineasi_shp" / "Delineasi_Kumuh_AR.shp")
    groups = list(areas.groupby("Kode_Kec"))
    for i, (_, part) in enumerate(groups):
        path = tmp_path / f"sinjai_{i}.gpkg"
        part.to_file(path, driver="GPKG")
        report = import_slum_areas(conn, path, tenant="73.07", decree="SK Sinjai", mode="append" if i else None,
                                   boundary_tolerance_m=100)
        assert report.features_written == len(part)
        for warning in report.warnings:
            if "outside the outline" in warning.reason:
                assert " m outside" in warning.reason and ("tolerance" in warning.reason or "kelurahan" in
                                                            warning.reason)
    assert conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == len(areas) == 50
