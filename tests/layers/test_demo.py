"""The Kota Medan demo: the shipped files load into PostGIS as a consistent, clearly synthetic dataset."""

from __future__ import annotations

import csv
import json

import pytest

from data import data_path
from data.demo import generate
from layers.imports import demo
from layers.imports.demo import TENANT, load_demo

DEMO = data_path("demo")
GENERATED = tuple(city.path(name) for city in generate.CITIES for name in generate.LAYER_FILES)


def rows(conn, sql: str, *params):
    return conn.execute(sql, params).fetchall()


def scalar(conn, sql: str, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_demo_loads_kota_medan(conn):
    summary = load_demo(conn)
    assert summary["skipped"] is False
    counts = summary["counts"]
    assert counts["slum_areas"] == 60
    assert counts["decrees"] == 1
    assert counts["surveys"] == 2 * counts["survey_units"]
    levels = dict(rows(conn, "SELECT level, count(*) FROM regions WHERE tenant = %s GROUP BY level", TENANT))
    assert levels == {"kabkota": 1, "kecamatan": 21, "desa_kelurahan": 151}
    assert scalar(conn, "SELECT count(*) FROM slum_areas WHERE tenant = %s AND NOT synthetic", TENANT) == 0
    assert scalar(conn, "SELECT count(*) FROM slum_areas WHERE kelurahan_code IS NULL") == 0
    assert scalar(conn, "SELECT bool_and(published) FROM decrees WHERE tenant = %s", TENANT)
    # the report shows the two stated areas that are deliberately off by more than 1 %
    assert sum("differs from the geodesic area" in w for w in summary["warnings"]) == 2


def test_straddling_areas_have_shares_summing_to_one(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    shares = rows(conn, """
        SELECT s.id, count(*), sum(sr.share), min(sr.share)
        FROM slum_areas s JOIN slum_area_regions sr ON sr.slum_area_id = s.id
        WHERE s.tenant = %s GROUP BY s.id HAVING count(*) > 1""", TENANT)
    assert 3 <= len(shares) <= 4
    for _, count, total, smallest in shares:
        assert count == 2
        assert total == pytest.approx(1.0, abs=0.01)
        assert smallest >= 0.2
    single = scalar(conn, """
        SELECT count(*) FROM slum_areas s WHERE s.tenant = %s
          AND (SELECT count(*) FROM slum_area_regions sr WHERE sr.slum_area_id = s.id) = 1""", TENANT)
    assert single == 60 - len(shares)


def test_activities_cover_every_programme_and_funding_source(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    count = scalar(conn, "SELECT count(*) FROM activities WHERE tenant = %s AND synthetic", TENANT)
    assert 300 <= count <= 400
    programs = {r[0] for r in rows(conn, "SELECT DISTINCT program FROM activities")}
    assert programs == {r[0] for r in rows(conn, "SELECT code FROM programs")}
    fundings = {r[0] for r in rows(conn, "SELECT DISTINCT funding_source FROM activities")}
    assert fundings == {r[0] for r in rows(conn, "SELECT code FROM funding_sources")}
    kinds = {r[0] for r in rows(conn, "SELECT DISTINCT kind FROM activities")}
    assert kinds == {r[0] for r in rows(conn, "SELECT code FROM activity_kinds")}
    wrong_type = scalar(conn, """
        SELECT count(*) FROM activities a JOIN activity_kinds k ON k.code = a.kind
        WHERE CASE k.geometry_type WHEN 'point' THEN GeometryType(a.geom) <> 'POINT'
                                   WHEN 'line' THEN GeometryType(a.geom) <> 'LINESTRING'
                                   ELSE GeometryType(a.geom) <> 'POLYGON' END""")
    assert wrong_type == 0
    assert scalar(conn, "SELECT count(*) FROM activities WHERE NOT (criteria <@ "
                        "(SELECT criteria FROM activity_kinds k WHERE k.code = kind))") == 0


def test_activity_geometries_lie_within_kota_medan(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    outside = scalar(conn, """
        SELECT count(*) FROM activities a, regions r
        WHERE r.code = %s AND a.tenant = %s AND NOT ST_Within(a.geom, r.geom)""", TENANT, TENANT)
    assert outside == 0
    assert scalar(conn, "SELECT count(*) FROM activities WHERE kelurahan_code IS NULL") == 0
    inside, total = conn.execute("SELECT count(slum_area_id), count(*) FROM activities").fetchone()
    assert inside / total == pytest.approx(0.8, abs=0.03)
    lines = rows(conn, "SELECT length_m, volume FROM activities WHERE GeometryType(geom) = 'LINESTRING'")
    assert lines and all(50 <= length <= 400 and abs(length - float(volume)) < 0.5 for length, volume in lines)
    assert scalar(conn, "SELECT count(*) FROM activities WHERE GeometryType(geom) = 'POLYGON' AND area_m2 IS NULL") == 0


def test_stage_status_and_progress_agree(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    combos = set(rows(conn, "SELECT stage, status, progress FROM activities"))
    for stage, status, progress in combos:
        if status == "selesai":
            assert (stage, progress) in {("selesai", 100), ("serah_terima", 100)}
        elif status == "ditolak":
            assert progress == 0
        else:
            assert progress == (50 if stage == "pelaksanaan" else 0)
    statuses = dict(rows(conn, "SELECT status, count(*) FROM activities GROUP BY status"))
    assert statuses["aktif"] > statuses["selesai"] > statuses["ditolak"] > 0
    assert scalar(conn, "SELECT min(year_start) >= 2019 AND max(year_end) <= 2026 FROM activities")


def test_live_activities_do_not_overlap_except_the_collaboration(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    clashes = rows(conn, """
        SELECT a.id, b.id, a.funding_source, b.funding_source, ST_Dimension(ST_Intersection(a.geom, b.geom))
        FROM activities a JOIN activities b ON a.id < b.id
        JOIN activity_kinds ka ON ka.code = a.kind JOIN activity_kinds kb ON kb.code = b.kind
        WHERE a.status NOT IN ('ditolak', 'dibatalkan') AND b.status NOT IN ('ditolak', 'dibatalkan')
          AND (a.criteria && b.criteria OR a.kind = b.kind)
          AND a.year_start <= b.year_end AND b.year_start <= a.year_end
          AND ST_DWithin(a.geom::geography, b.geom::geography,
                         CASE WHEN GeometryType(a.geom) = 'POINT' OR GeometryType(b.geom) = 'POINT'
                              THEN greatest(ka.point_radius_m, kb.point_radius_m) ELSE 0 END)""")
    # the only contact: the road paved in two segments that touch end to end (APBD kota, then Dana Kelurahan)
    assert [c[2:] for c in clashes] == [("APBD_KABKOTA", "DANA_DESA", 0)]
    a, b = clashes[0][:2]
    assert scalar(conn, """SELECT ST_Equals(ST_EndPoint(a.geom), ST_StartPoint(b.geom))
                           FROM activities a, activities b WHERE a.id = %s AND b.id = %s""", a, b)
    rejected_duplicates = scalar(conn, """
        SELECT count(*) FROM activities a JOIN activities b ON a.id <> b.id AND a.kind = b.kind
        WHERE a.status = 'ditolak' AND b.status = 'aktif' AND ST_Intersects(a.geom, ST_Buffer(b.geom, 0.0001))""")
    assert rejected_duplicates >= 3  # shown as rejected because they duplicate a live proposal
    # the overlap engine itself links the continuation as collaboration, and flags nothing else
    links = rows(conn, "SELECT activity_id, other_id, relation FROM activity_links ORDER BY 1")
    assert links == [(b, a, "kolaborasi")]


def test_survey_units_and_surveys(demo_conn):
    conn = demo_conn  # the demo as load_demo left it (the module's copy of the template)
    assert scalar(conn, "SELECT count(*) FROM survey_units WHERE slum_area_id IS NULL") == 0
    per_area = [r[0] for r in rows(conn, "SELECT count(*) FROM survey_units GROUP BY slum_area_id")]
    assert len(per_area) == 60 and min(per_area) >= 2 and max(per_area) <= 5
    unit_area, slum_area = conn.execute(
        "SELECT (SELECT sum(ST_Area(geom::geography)) FROM survey_units), "
        "(SELECT sum(ST_Area(geom::geography)) FROM slum_areas)").fetchone()
    assert unit_area == pytest.approx(slum_area, rel=1e-4)
    rounds = dict(rows(conn, "SELECT round, count(*) FROM surveys GROUP BY round"))
    assert set(rounds) == {"baseline", "2023"} and rounds["baseline"] == rounds["2023"]
    denominators = {c: generate.DENOMINATOR[c] for c in generate.CRITERIA}
    surveys = rows(conn, "SELECT unit_id, round, volumes, area_ha, buildings, households, road_length_m, "
                         "drainage_length_m FROM surveys ORDER BY unit_id, round")
    for unit_id, round_, volumes, *headers in surveys:
        header = dict(zip(("area_ha", "buildings", "households", "road_length_m", "drainage_length_m"), headers,
                          strict=True))
        assert set(volumes) == set(denominators)
        for criterion, field in denominators.items():
            assert 0 <= volumes[criterion] <= header[field], (unit_id, round_, criterion)
    by_unit: dict[int, dict] = {}
    for unit_id, round_, volumes, *_ in surveys:
        by_unit.setdefault(unit_id, {})[round_] = sum(float(v) for v in volumes.values())
    better = sum(r["2023"] < r["baseline"] for r in by_unit.values())
    assert better / len(by_unit) > 0.9  # 2023 mostly improved


def test_load_twice_gives_the_same_counts(conn):
    first = load_demo(conn)["counts"]
    second = load_demo(conn)
    assert second["skipped"] is False
    assert second["counts"] == first
    assert scalar(conn, "SELECT count(*) FROM activities") == first["activities"]
    assert scalar(conn, "SELECT count(*) FROM decrees") == 1


def test_reloading_takes_the_assets_of_demo_works_handed_over_since(conn):
    """A demo work handed over (serah terima: an asset, with an inspection) does not block `kotaku demo`."""
    from layers.accounts.access import Principal
    from layers.planning import assets
    from layers.planning.workflow import apply_transition

    load_demo(conn)
    work = scalar(conn, "SELECT min(id) FROM activities WHERE stage = 'selesai' AND progress = 100")
    apply_transition(conn, work, "teruskan", Principal(role="pokja", username="pokja1", tenant=TENANT))
    asset_id = assets.asset_of_activity(conn, work)
    assert asset_id is not None
    assets.add_inspection(conn, asset_id, inspected_on="2025-01-10", condition="baik")
    again = load_demo(conn)
    assert again["skipped"] is False and scalar(conn, "SELECT count(*) FROM assets") == 0


def test_if_empty_loads_once_then_skips(conn):
    assert load_demo(conn, if_empty=True)["skipped"] is False
    versions = rows(conn, "SELECT layer, version FROM layer_versions ORDER BY layer")
    skipped = load_demo(conn, if_empty=True)
    assert skipped["skipped"] is True
    assert skipped["counts"]["activities"] == scalar(conn, "SELECT count(*) FROM activities")
    assert rows(conn, "SELECT layer, version FROM layer_versions ORDER BY layer") == versions  # nothing written


def test_a_failure_leaves_nothing_behind(conn, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(demo, "_insert_activities", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        load_demo(conn)
    conn.rollback()
    assert scalar(conn, "SELECT count(*) FROM regions") == 0
    assert scalar(conn, "SELECT count(*) FROM slum_areas") == 0


def test_files_are_labelled_synthetic_and_modest():
    total = sum((DEMO / name).stat().st_size for name in GENERATED)
    assert total < 2_000_000
    for name in (generate.SLUM_FILE, generate.UNITS_FILE, generate.ACTIVITIES_FILE):
        features = json.loads((DEMO / name).read_text(encoding="utf-8"))["features"]
        assert features and all(f["properties"]["synthetic"] is True for f in features)
    slums = json.loads((DEMO / generate.SLUM_FILE).read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["SUMBR_DATA"] for f in slums} == {generate.SYNTHETIC_SOURCE}
    assert 12 <= len({f["properties"]["Kawasan"] for f in slums}) <= 18
    with open(DEMO / generate.SURVEYS_FILE, newline="", encoding="utf-8") as handle:
        assert {r["synthetic"] for r in csv.DictReader(handle)} == {"true"}
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    assert str(generate.SEED) in readme and "LICENSE-wilayah_boundaries.txt" in readme


def test_generator_is_deterministic(tmp_path):
    """Two runs write the same bytes; the committed files (Medan's and Jakarta Pusat's) are what the generator makes
    (to 1e-6, so that another GEOS/PROJ build changing a last digit does not fail the suite)."""
    counts = generate.generate(tmp_path / "a")
    generate.generate(tmp_path / "b")
    assert counts["12.71"]["slum_areas"] == 60 and counts["12.71"]["activities"] == 340
    assert counts["31.71"]["slum_areas"] == 20 and counts["31.71"]["activities"] == 80
    for name in GENERATED:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        fresh, committed = (tmp_path / "a" / name).read_text("utf-8"), (DEMO / name).read_text("utf-8")
        if name.endswith(".csv"):
            fresh_rows = list(csv.reader(fresh.splitlines()))
            committed_rows = list(csv.reader(committed.splitlines()))
            assert _alike(fresh_rows, committed_rows), f"{name} differs: rerun the generator"
        else:
            assert _alike(json.loads(fresh), json.loads(committed)), f"{name} differs: rerun the generator"


def _alike(a, b) -> bool:
    """Equal, except numbers (or numeric text) may differ by 1e-6 relative."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_alike(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_alike(x, y) for x, y in zip(a, b, strict=True))
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return abs(x - y) <= 1e-6 * max(1.0, abs(x), abs(y))
