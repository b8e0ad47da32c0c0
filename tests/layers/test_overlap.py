"""Overlap checks that block duplicates, on real PostGIS: lines, points, polygons, years, criteria, tenants."""

from __future__ import annotations

import threading

import psycopg
import pytest
import shapely

from data import data_path
from geo.errors import Conflict, InvalidInput
from layers.imports.regions import import_regions
from layers.planning.activities import Catalogue, create_activity, parse_activity

# A street in Kelurahan Pasar Baru, Medan (12.71.01.1001): 0.0018 degree of longitude ~ 200 m.
ROAD = shapely.LineString([(98.6850, 3.5832), (98.6868, 3.5832)])


@pytest.fixture
def medan(conn: psycopg.Connection) -> Catalogue:
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))
    return Catalogue.load(conn)


def activity(catalogue: Catalogue, geometry, **values):
    fields = {"tenant": "12.71", "title": "Paving jalan lingkungan", "kind": "jalan_paving", "year_start": 2025,
              "program": "REGULER", "funding_source": "APBD_KABKOTA", **values}
    parsed, problems = parse_activity(fields, geometry, catalogue)
    assert not problems, problems
    return parsed


def test_the_same_road_from_another_source_is_blocked_with_a_report(conn, medan):
    first = create_activity(conn, activity(medan, ROAD))
    duplicate = shapely.LineString([(98.68505, 3.58321), (98.6866, 3.58319)])  # redrawn by hand
    with pytest.raises(Conflict) as blocked:
        create_activity(conn, activity(medan, duplicate, program="NSUP", funding_source="NSUP_WB_AIIB"))
    report = blocked.value.details
    assert report["blocked"] and [c["id"] for c in report["conflicts"]] == [first.id]
    conflict = report["conflicts"][0]
    assert conflict["measure"] == "shared_length_m" and conflict["shared_length_m"] > 150
    assert conflict["share_of_new"] > 0.9 and conflict["program"] == "REGULER" and conflict["tenant"] == "12.71"
    assert conflict["overlap"]["type"] in ("LineString", "MultiLineString")
    assert conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 1


def test_a_continuation_end_to_end_is_collaboration(conn, medan):
    """170 m paved with APBD, the rest of the road with Dana Desa: accepted and linked."""
    apbd = create_activity(conn, activity(medan, shapely.LineString([(98.6850, 3.5832), (98.68653, 3.5832)])))
    rest = create_activity(conn, activity(medan, shapely.LineString([(98.68653, 3.5832), (98.6880, 3.5832)]),
                                          funding_source="DANA_DESA"))
    assert rest.saved and not rest.verdict.blocked
    assert [c["id"] for c in rest.verdict.collaborations] == [apbd.id]
    link = conn.execute("SELECT activity_id, other_id, relation FROM activity_links").fetchone()
    assert link == (rest.id, apbd.id, "kolaborasi")


@pytest.mark.parametrize(
    ("change", "blocked"),
    [
        ({"year_start": 2026}, True),  # the next fiscal year on the same segment (issue 12: adjacent years)
        ({"year_start": 2024}, True),  # the year before
        ({"year_start": 2027}, False),  # two years on: another fiscal year
        ({"year_start": 2024, "year_end": 2026}, True),  # a span covering the year
        ({"kind": "drainase"}, False),  # a drain along the road addresses other criteria
        ({"kind": "jalan_rabat_beton"}, True),  # another road surface: same criteria 2a/2b
    ],
)
def test_years_and_criteria_decide(conn, medan, change, blocked):
    create_activity(conn, activity(medan, ROAD))
    candidate = activity(medan, ROAD, **change)
    verdict = create_activity(conn, candidate, dry_run=True).verdict
    assert verdict.blocked is blocked


def test_rejected_or_cancelled_activities_do_not_block(conn, medan):
    first = create_activity(conn, activity(medan, ROAD))
    conn.execute("UPDATE activities SET status = 'ditolak' WHERE id = %s", [first.id])
    conn.commit()
    assert create_activity(conn, activity(medan, ROAD)).saved


def test_points_within_the_kind_radius_conflict(conn, medan):
    tap = shapely.Point(98.6855, 3.5835)
    create_activity(conn, activity(medan, tap, kind="sambungan_air"))
    near = shapely.Point(98.68555, 3.5835)  # ~5.6 m: inside the 10 m radius
    far = shapely.Point(98.6857, 3.5835)  # ~22 m
    assert create_activity(conn, activity(medan, near, kind="sambungan_air"), dry_run=True).verdict.blocked
    assert not create_activity(conn, activity(medan, far, kind="sambungan_air"), dry_run=True).verdict.blocked


def test_point_inside_polygon_and_polygon_shares(conn):
    measure = "SELECT (kotaku_overlap(ST_GeomFromText(%s, 4326), ST_GeomFromText(%s, 4326), 5, 0.2, 0.1, 25)).*"
    square = "POLYGON((98.68 3.58, 98.681 3.58, 98.681 3.581, 98.68 3.581, 98.68 3.58))"
    inside = conn.execute(measure, ["POINT(98.6805 3.5805)", square]).fetchone()
    assert inside[0] == "konflik" and inside[1] == "distance_m" and inside[2] == 0
    half = "POLYGON((98.6805 3.58, 98.6815 3.58, 98.6815 3.581, 98.6805 3.581, 98.6805 3.58))"
    shared = conn.execute(measure, [half, square]).fetchone()
    assert shared[0] == "konflik" and shared[3] == pytest.approx(0.5, abs=0.01)
    touching = "POLYGON((98.681 3.58, 98.682 3.58, 98.682 3.581, 98.681 3.581, 98.681 3.58))"
    assert conn.execute(measure, [touching, square]).fetchone()[0] == "kolaborasi"


def test_the_check_crosses_tenants(conn, medan):
    """A road on the kab/kota border is one road: a neighbour's activity blocks too."""
    create_activity(conn, activity(medan, ROAD, tenant="12.07"))  # Deli Serdang (no boundary loaded)
    with pytest.raises(Conflict) as blocked:
        create_activity(conn, activity(medan, ROAD))
    assert blocked.value.details["conflicts"][0]["tenant"] == "12.07"


def test_override_with_reason_is_saved_and_linked(conn, medan):
    first = create_activity(conn, activity(medan, ROAD))
    accepted = create_activity(conn, activity(medan, ROAD, funding_source="CSR"),
                               override_reason="Tahap lanjutan: lapis kedua dibiayai CSR", actor="pokja1")
    assert accepted.saved
    row = conn.execute("SELECT override_reason, created_by FROM activities WHERE id = %s", [accepted.id]).fetchone()
    assert row == ("Tahap lanjutan: lapis kedua dibiayai CSR", "pokja1")
    link = conn.execute("SELECT other_id, relation FROM activity_links WHERE activity_id = %s",
                        [accepted.id]).fetchone()
    assert link == (first.id, "tumpang_tindih_disetujui")


def test_bad_input_names_every_field(conn, medan):
    parsed, problems = parse_activity(
        {"tenant": "Medan", "kind": "kolam_retensi", "year_start": "2o25", "program": "X", "funding_source": "Y"},
        shapely.Point(3.58, 98.68), medan)
    fields = {p.field for p in problems}
    assert parsed is None and {"tenant", "title", "kind", "year_start", "program", "funding_source"} <= fields
    wrong_shape, problems = parse_activity({"tenant": "12.71", "title": "x", "kind": "jalan_paving",
                                            "year_start": 2025}, shapely.Point(98.68, 3.58), medan)
    assert wrong_shape is None and "Point" in problems[0].reason


def test_outside_the_tenant_is_refused(conn, medan):
    with pytest.raises(InvalidInput, match="outside kab/kota 12.71"):
        create_activity(conn, activity(medan, shapely.LineString([(106.8, -6.2), (106.801, -6.2)])))


def test_simultaneous_duplicates_exactly_one_is_accepted(empty_db, medan):
    results: list[str] = []
    barrier = threading.Barrier(8)

    def submit(source: str) -> None:
        with psycopg.connect(empty_db) as own:
            candidate = activity(Catalogue.load(own), ROAD, funding_source=source)
            barrier.wait()
            try:
                create_activity(own, candidate)
                results.append("saved")
            except Conflict:
                results.append("blocked")

    sources = ["APBD_KABKOTA", "DANA_DESA", "CSR", "APBN", "SWADAYA", "HIBAH", "DAK", "APBD_PROV"]
    threads = [threading.Thread(target=submit, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["blocked"] * 7 + ["saved"]
