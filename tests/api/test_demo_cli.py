"""`kotaku demo` as `make run` runs it: Kota Jakarta Pusat (31.71), the city with a real OSM basemap, also gets
synthetic slum areas and activities, so a new user sees KOTAKU data on real streets."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.api.test_cli import run

JAKARTA = "31.71"


def scalar(conn: psycopg.Connection, query: str, *params):
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def demo(url: str, *args: str) -> dict:
    result = run(["demo", *args], url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_gives_jakarta_pusat_slum_areas_and_activities_on_its_roads(empty_db):
    summary = demo(empty_db)
    jakarta = summary["jakarta_pusat"]
    assert jakarta["skipped"] is False and jakarta["tenant"] == JAKARTA
    with psycopg.connect(empty_db) as conn:
        areas = scalar(conn, "SELECT count(*) FROM slum_areas WHERE tenant = %s", JAKARTA)
        activities = scalar(conn, "SELECT count(*) FROM activities WHERE tenant = %s", JAKARTA)
        assert 15 <= areas <= 25 and 60 <= activities <= 100
        assert jakarta["counts"]["slum_areas"] == areas and jakarta["counts"]["activities"] == activities
        for table in ("slum_areas", "survey_units", "surveys", "activities"):  # all of it made up, and said so
            assert scalar(conn, f"SELECT count(*) FROM {table} WHERE tenant = %s AND NOT synthetic", JAKARTA) == 0
        assert scalar(conn, "SELECT count(*) FROM surveys WHERE tenant = %s", JAKARTA) > 0
        assert scalar(conn, "SELECT count(DISTINCT kawasan) FROM slum_areas WHERE tenant = %s",
                      JAKARTA) == 5
        assert scalar(conn, "SELECT bool_and(published) FROM decrees WHERE tenant = %s", JAKARTA)
        for table in ("slum_areas", "activities"):  # inside Jakarta Pusat, each in a kelurahan
            outside = scalar(conn, f"""
                SELECT count(*) FROM {table} x JOIN regions r ON r.code = %s
                WHERE x.tenant = %s AND (NOT ST_Within(x.geom, r.geom) OR x.kelurahan_code IS NULL)""",
                             JAKARTA, JAKARTA)
            assert outside == 0, table
        inside, total = conn.execute("SELECT count(slum_area_id), count(*) FROM activities WHERE tenant = %s",
                                     [JAKARTA]).fetchone()
        assert inside / total == pytest.approx(0.8, abs=0.05)
        # scored like Medan's: every area has a current level, nothing stale
        scored = conn.execute("SELECT count(level), bool_or(stale) FROM slum_area_status WHERE tenant = %s",
                              [JAKARTA]).fetchone()
        assert scored == (areas, False)
        # the overlap engine finds the one collaboration (a road paved in two segments) and nothing else
        links = conn.execute("SELECT l.relation FROM activity_links l JOIN activities a ON a.id = l.activity_id "
                             "WHERE a.tenant = %s", [JAKARTA]).fetchall()
        assert links == [("kolaborasi",)]
        # live roads and drains follow the real OSM roads (within 1 m), not across buildings
        off_road = scalar(conn, """
            SELECT count(*) FROM activities a
            WHERE a.tenant = %s AND GeometryType(a.geom) = 'LINESTRING' AND a.status <> 'ditolak'
              AND NOT ST_Covers((SELECT ST_Union(ST_Buffer(b.geom::geography, 1)::geometry) FROM basemap_features b
                                 WHERE b.tenant = %s AND b.layer = 'roads' AND ST_DWithin(b.geom, a.geom, 0.001)),
                                a.geom)""", JAKARTA, JAKARTA)
        lines = scalar(conn, "SELECT count(*) FROM activities WHERE tenant = %s AND GeometryType(geom) = "
                             "'LINESTRING' AND status <> 'ditolak'", JAKARTA)
        assert lines >= 20 and off_road == 0
        assert scalar(conn, "SELECT count(*) FROM slum_areas WHERE tenant = '12.71'") == 60  # Medan as before


def test_demo_twice_or_if_empty_duplicates_nothing(empty_db):
    first = demo(empty_db)["jakarta_pusat"]["counts"]
    skipped = demo(empty_db, "--if-empty")["jakarta_pusat"]
    assert skipped["skipped"] is True and skipped["counts"] == first
    again = demo(empty_db)["jakarta_pusat"]
    assert again["skipped"] is False and again["counts"] == first
    with psycopg.connect(empty_db) as conn:
        assert scalar(conn, "SELECT count(*) FROM decrees WHERE tenant = %s", JAKARTA) == 1
        assert scalar(conn, "SELECT count(*) FROM activities WHERE tenant = %s", JAKARTA) == first["activities"]
