"""Test data in two kab/kota (tenants): Kota Medan 12.71 and Kab. Sinjai 73.07, each with a published and an
unpublished decree, one slum area and one survey unit per decree, one activity with a proposer's name and phone.
Small squares, not real shapes: what matters is who sees which row."""

from __future__ import annotations

import psycopg

TENANTS = ("12.71", "73.07")
ORIGIN = {"12.71": (98.60, 3.50), "73.07": (120.10, -5.20)}


def square(lon: float, lat: float, size: float) -> str:
    return (f"SRID=4326;MULTIPOLYGON((({lon} {lat},{lon + size} {lat},{lon + size} {lat + size},"
            f"{lon} {lat + size},{lon} {lat})))")


def seed(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    """Insert the rows; returns {tenant: {"published": slum area id, "unpublished": ..., "unit_published": ...,
    "unit_unpublished": ..., "activity": ...}}."""
    ids: dict[str, dict[str, int]] = {}
    with conn.transaction():
        for tenant in TENANTS:
            lon, lat = ORIGIN[tenant]
            for code, level, size in ((tenant, "kabkota", 0.2), (f"{tenant}.01", "kecamatan", 0.1),
                                      (f"{tenant}.01.1001", "desa_kelurahan", 0.05)):
                conn.execute(
                    "INSERT INTO regions (code, name, level, parent_code, area_ha, geom) VALUES (%s, %s, %s, %s, 1, "
                    "ST_GeomFromEWKT(%s))",
                    [code, f"Wilayah {code}", level, code.rsplit(".", 1)[0] if "." in code else None,
                     square(lon, lat, size)])
            ids[tenant] = {}
            for state, published in (("published", True), ("unpublished", False)):
                decree = conn.execute("INSERT INTO decrees (tenant, number, published) VALUES (%s, %s, %s) "
                                      "RETURNING id", [tenant, f"SK {tenant} {state}", published]).fetchone()[0]
                offset = 0.01 if published else 0.03
                area = conn.execute(
                    "INSERT INTO slum_areas (tenant, decree_id, kawasan, kelurahan_code, area_ha, geom) "
                    "VALUES (%s, %s, %s, %s, 1, ST_GeomFromEWKT(%s)) RETURNING id",
                    [tenant, decree, f"Kawasan {state}", f"{tenant}.01.1001",
                     square(lon + offset, lat + offset, 0.01)]).fetchone()[0]
                unit = conn.execute(
                    "INSERT INTO survey_units (tenant, slum_area_id, kelurahan_code, label, geom) "
                    "VALUES (%s, %s, %s, %s, ST_GeomFromEWKT(%s)) RETURNING id",
                    [tenant, area, f"{tenant}.01.1001", f"Lingkungan 0{1 if published else 2}",
                     square(lon + offset, lat + offset, 0.005)]).fetchone()[0]
                ids[tenant][state] = area
                ids[tenant][f"unit_{state}"] = unit
            ids[tenant]["activity"] = conn.execute(
                "INSERT INTO activities (tenant, title, kind, year_start, year_end, proposer_area, proposer_name, "
                "proposer_phone, target_agency, kelurahan_code, geom) VALUES (%s, 'Rabat beton', "
                "(SELECT code FROM activity_kinds ORDER BY code LIMIT 1), 2025, 2025, 'Lingkungan 02', 'Pak Budi', "
                "'0812-000', 'Dinas PU', %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
                [tenant, f"{tenant}.01.1001", lon + 0.02, lat + 0.02]).fetchone()[0]
    return ids
