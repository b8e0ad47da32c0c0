"""`kotaku demo`: load the Kota Medan demo (tenant 12.71), and Jakarta Pusat's (31.71) slum layers, into PostGIS.

Real boundaries (data/demo/boundaries, MIT) go through the regions importer and the synthetic slum areas through
the slum-area importer, exactly as a user's files would; the synthetic survey units, surveys and activities
(made by data/demo/generate.py) are inserted here, with their links (slum area, kelurahan) and their geodesic
lengths and areas computed in PostGIS. Every demo row carries `synthetic = true`. Loading again replaces the
demo rows; `if_empty=True` leaves a database that already has them alone.

Jakarta Pusat's synthetic layers (data/demo/jakarta_pusat/jakpus_*, on its real OSM basemap) load the same way
through `load_demo_jakarta_pusat`, its own transaction, called by the `kotaku demo` command and kept out of
`load_demo_basemap`: the tests that snap drawings onto Jakarta's roads load that basemap without them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from data import data_path
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports.demo_basemap import BASEMAP_DIR, BASEMAP_TENANT
from layers.imports.demo_basemap import BOUNDARY_FILES as JAKARTA_BOUNDARY_FILES
from layers.imports.regions import import_regions
from layers.imports.slum_areas import import_slum_areas
from layers.planning.overlap import link_collaborations
from layers.scoring.status import refresh_status
from layers.values.progress import Progress, no_progress

TENANT = "12.71"
DECREE = "SK Wali Kota Medan (contoh sintetis)"
DEMO_DIR = data_path("demo")
BOUNDARY_FILES = ("kota_medan_kab_kota.geojson", "kota_medan_kecamatan.geojson", "kota_medan_desa_kel.geojson")
HEADER_FIELDS = ("area_ha", "buildings", "population", "households", "road_length_m", "drainage_length_m")


@dataclass(frozen=True)
class DemoLayers:
    """One demo kab/kota's synthetic layers: its tenant, decree and the four files generate.py wrote."""

    tenant: str
    decree: str
    folder: Path
    stem: str  # "medan": medan_slum_areas.geojson, medan_survey_units.geojson ...

    def file(self, suffix: str) -> Path:
        return self.folder / f"{self.stem}_{suffix}"


MEDAN = DemoLayers(TENANT, DECREE, DEMO_DIR, "medan")
JAKARTA_PUSAT = DemoLayers(BASEMAP_TENANT, "SK Gubernur DKI Jakarta (contoh sintetis)", BASEMAP_DIR, "jakpus")


def load_demo(conn: psycopg.Connection, *, if_empty: bool = False, progress: Progress = no_progress,
              principal: Principal | None = None) -> dict[str, Any]:
    """Load (or reload) the demo; all or nothing.

    Returns {"skipped", "tenant", "decree", "counts": {table: rows of the demo}, "warnings": [...]}; the
    warnings are the slum-area import report's (two stated areas are deliberately off by more than 1 %, four
    areas straddle two kelurahan). With `if_empty` and demo rows already present nothing is written and
    "skipped" is true.
    """
    with conn.transaction():
        if if_empty and has_demo(conn):
            return {"skipped": True, "tenant": TENANT, "decree": DECREE, "counts": demo_counts(conn), "warnings": []}
        clear_demo(conn)
        for name in BOUNDARY_FILES:
            import_regions(conn, DEMO_DIR / "boundaries" / name, progress=progress, principal=principal)
        return _load_layers(conn, MEDAN, progress, principal)


def load_demo_jakarta_pusat(conn: psycopg.Connection, *, if_empty: bool = False, progress: Progress = no_progress,
                            principal: Principal | None = None) -> dict[str, Any]:
    """Load (or reload) Jakarta Pusat's synthetic slum areas, survey units, surveys and activities; all or nothing.

    Its boundaries come with the basemap (`load_demo_basemap`); they are imported here only when missing. Returns
    what `load_demo` returns, for tenant 31.71.
    """
    city = JAKARTA_PUSAT
    with conn.transaction():
        if if_empty and has_demo(conn, city.tenant):
            return {"skipped": True, "tenant": city.tenant, "decree": city.decree,
                    "counts": demo_counts(conn, city), "warnings": []}
        clear_demo(conn, city.tenant)
        regions = conn.execute("SELECT count(*) FROM regions WHERE tenant = %s", [city.tenant]).fetchone()
        if not (regions and regions[0]):
            for name in JAKARTA_BOUNDARY_FILES:
                import_regions(conn, BASEMAP_DIR / name, progress=progress, principal=principal)
        return _load_layers(conn, city, progress, principal)


def _load_layers(conn: psycopg.Connection, city: DemoLayers, progress: Progress,
                 principal: Principal | None) -> dict[str, Any]:
    """The slum areas through the importer, then units, surveys and activities; scores and priorities refreshed."""
    report = import_slum_areas(conn, city.file("slum_areas.geojson"), tenant=city.tenant, decree=city.decree,
                               published=True, progress=progress, principal=principal)
    decree_id = report.summary["decree_id"]
    conn.execute("UPDATE slum_areas SET synthetic = true WHERE decree_id = %s", [decree_id])
    progress("demo: unit survei", 0, 1)
    _insert_survey_units(conn, city.file("survey_units.geojson"), decree_id, city.tenant)
    progress("demo: hasil survei", 0, 1)
    _insert_surveys(conn, city.file("surveys.csv"), city.tenant)
    progress("demo: kegiatan", 0, 1)
    _insert_activities(conn, city.file("activities.geojson"), decree_id, city.tenant)
    link_collaborations(conn, sql.SQL("(SELECT * FROM activities WHERE tenant = {} AND synthetic)")
                        .format(sql.Literal(city.tenant)))
    counts = demo_counts(conn, city)
    refresh_status(conn, city.tenant)
    audit.record(conn, principal or cli_principal(), "demo.load", "demo", city.tenant, None, counts,
                 tenant=city.tenant)
    progress("selesai", 1, 1)
    return {"skipped": False, "tenant": city.tenant, "decree": city.decree, "counts": counts,
            "warnings": [str(w) for w in report.warnings]}


def has_demo(conn: psycopg.Connection, tenant: str = TENANT) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM slum_areas WHERE tenant = %(t)s AND synthetic) "
        "OR EXISTS (SELECT 1 FROM survey_units WHERE tenant = %(t)s AND synthetic) "
        "OR EXISTS (SELECT 1 FROM activities WHERE tenant = %(t)s AND synthetic)",
        {"t": tenant},
    ).fetchone()
    return bool(row and row[0])


def clear_demo(conn: psycopg.Connection, tenant: str = TENANT) -> None:
    """Delete a demo tenant's synthetic rows (regions and the decree stay: they are upserted)."""
    with conn.transaction():
        # assets of demo works handed over since (their inspections and O&P go by cascade): activities cannot go
        # while an asset points to them
        conn.execute("DELETE FROM assets WHERE activity_id IN (SELECT id FROM activities WHERE tenant = %s AND "
                     "synthetic)", [tenant])
        for table in ("activities", "survey_units", "slum_areas"):  # surveys and shares go by cascade
            conn.execute(sql.SQL("DELETE FROM {} WHERE tenant = %s AND synthetic").format(sql.Identifier(table)),
                         [tenant])


def demo_counts(conn: psycopg.Connection, city: DemoLayers = MEDAN) -> dict[str, int]:
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM regions WHERE tenant = %(t)s),
               (SELECT count(*) FROM decrees WHERE tenant = %(t)s AND number = %(d)s),
               (SELECT count(*) FROM slum_areas WHERE tenant = %(t)s AND synthetic),
               (SELECT count(*) FROM slum_area_regions sr JOIN slum_areas s ON s.id = sr.slum_area_id
                WHERE s.tenant = %(t)s AND s.synthetic),
               (SELECT count(*) FROM survey_units WHERE tenant = %(t)s AND synthetic),
               (SELECT count(*) FROM surveys WHERE tenant = %(t)s AND synthetic),
               (SELECT count(*) FROM activities WHERE tenant = %(t)s AND synthetic)
        """,
        {"t": city.tenant, "d": city.decree},
    ).fetchone()
    if row is None:
        raise RuntimeError("the demo counts query returned no row")
    names = ("regions", "decrees", "slum_areas", "slum_area_regions", "survey_units", "surveys", "activities")
    return dict(zip(names, row, strict=True))


def _features(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["features"]


def _insert_survey_units(conn: psycopg.Connection, path: Path, decree_id: int, tenant: str) -> None:
    """Units as in the file; each is linked to the demo slum area it overlaps most."""
    rows = []
    for f in _features(path):
        p = f["properties"]
        attributes = {"kawasan": p.get("kawasan"), "kelurahan": p.get("kelurahan"), "source_file": path.name}
        rows.append((tenant, p["label"], p["kelurahan_code"], *(p[k] for k in HEADER_FIELDS),
                     json.dumps(attributes, ensure_ascii=False), json.dumps(f["geometry"])))
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO survey_units (tenant, label, kelurahan_code, area_ha, buildings, population, households,
                road_length_m, drainage_length_m, attributes, synthetic, geom)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true,
                    ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))
            """,
            rows,
        )
        cur.execute(
            """
            UPDATE survey_units u SET slum_area_id = best.slum_area_id
            FROM (SELECT DISTINCT ON (u2.id) u2.id AS unit_id, s.id AS slum_area_id
                  FROM survey_units u2
                  JOIN slum_areas s ON s.decree_id = %s AND s.geom && u2.geom AND ST_Intersects(s.geom, u2.geom)
                  WHERE u2.tenant = %s AND u2.synthetic
                  ORDER BY u2.id, ST_Area(ST_Intersection(s.geom, u2.geom)) DESC, s.id) best
            WHERE u.id = best.unit_id
            """,
            [decree_id, tenant],
        )


def _number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _insert_surveys(conn: psycopg.Connection, path: Path, tenant: str) -> None:
    units = {(code, label): unit_id for unit_id, code, label in conn.execute(
        "SELECT id, kelurahan_code, label FROM survey_units WHERE tenant = %s AND synthetic", [tenant])}
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    rows = []
    for r in records:
        volumes = {key[2:]: _number(value) for key, value in r.items() if key.startswith("v_")}
        rows.append((tenant, units[(r["kelurahan_code"], r["label"])], r["round"], r["survey_date"], r["scheme"],
                     *(_number(r[k]) for k in HEADER_FIELDS), json.dumps(volumes), r["source"]))
    with conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO surveys (tenant, unit_id, round, survey_date, scheme, area_ha, buildings, population,
                households, road_length_m, drainage_length_m, volumes, source, synthetic)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, true)
            """,
            rows,
        )


ACTIVITY_COLUMNS = ("title", "kind", "volume", "unit", "cost", "year_start", "year_end", "program", "funding_source",
                    "stage", "status", "progress", "proposer_area", "target_agency")


def _insert_activities(conn: psycopg.Connection, path: Path, decree_id: int, tenant: str) -> None:
    """Activities as in the file; kelurahan and slum area by spatial join, lengths and areas geodesic."""
    rows = []
    for f in _features(path):
        p = f["properties"]
        attributes = {k: v for k, v in p.items() if k not in ACTIVITY_COLUMNS and k not in ("criteria", "synthetic")}
        attributes["source_file"] = path.name
        rows.append((tenant, *(p[k] for k in ACTIVITY_COLUMNS), p["criteria"].split(";"),
                     json.dumps(attributes, ensure_ascii=False), json.dumps(f["geometry"])))
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("""
            INSERT INTO activities (tenant, {columns}, criteria, attributes, synthetic, geom)
            VALUES (%s, {values}, %s, %s, true,
                    ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))
            """).format(columns=sql.SQL(", ").join(sql.Identifier(name) for name in ACTIVITY_COLUMNS),
                         values=sql.SQL(", ").join([sql.Placeholder()] * len(ACTIVITY_COLUMNS))),
            rows,
        )
        # The largest overlap wins (length for lines, area for polygons; the lowest code for a point on a border).
        cur.execute(
            """
            UPDATE activities a SET
                length_m = CASE WHEN ST_Dimension(a.geom) = 1 THEN ST_Length(a.geom::geography) END,
                area_m2 = CASE WHEN ST_Dimension(a.geom) = 2 THEN ST_Area(a.geom::geography) END,
                kelurahan_code = (
                    SELECT r.code FROM regions r
                    WHERE r.level = 'desa_kelurahan' AND r.tenant = a.tenant AND r.geom && a.geom
                      AND ST_Intersects(r.geom, a.geom)
                    ORDER BY ST_Length(ST_Intersection(r.geom, a.geom)) + ST_Area(ST_Intersection(r.geom, a.geom))
                             DESC, r.code
                    LIMIT 1),
                slum_area_id = (
                    SELECT s.id FROM slum_areas s
                    WHERE s.decree_id = %s AND s.geom && a.geom AND ST_Intersects(s.geom, a.geom)
                    ORDER BY ST_Length(ST_Intersection(s.geom, a.geom)) + ST_Area(ST_Intersection(s.geom, a.geom))
                             DESC, s.id
                    LIMIT 1)
            WHERE a.tenant = %s AND a.synthetic
            """,
            [decree_id, tenant],
        )
