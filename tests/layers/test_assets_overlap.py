"""Issue 12 on real PostGIS: handed-over works become assets that block duplicates while their service life lasts,
proposals of adjacent years on one segment conflict, pokja may accept a duplicate as rehabilitation (public), and
a continuation is end to end along one street, never two parallel alleys (kotaku_continues)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
import shapely

from geo.errors import Conflict, InvalidInput
from layers.accounts.access import Principal
from layers.planning import assets
from layers.planning.activities import create_activity
from layers.planning.proposals import public_record
from layers.planning.workflow import apply_transition
from tests.layers.test_overlap import ROAD, activity, medan  # noqa: F401 (fixture)

POKJA = Principal(role="pokja", username="pokja1", tenant="12.71")
# metres to degrees at Medan (3.58 N): 1 degree of latitude ~ 110,580 m, of longitude ~ 111,100 m
MY, MX = 1 / 110_580, 1 / 111_100


def handed_over(conn: psycopg.Connection, catalogue, geometry, *, year: int, handover: dt.date, **values) -> int:
    """A work of `year` taken through selesai to serah_terima by pokja (the workflow makes its asset)."""
    work = create_activity(conn, activity(catalogue, geometry, year_start=year, **values))
    conn.execute("UPDATE activities SET stage = 'selesai', status = 'selesai', progress = 100 WHERE id = %s",
                 [work.id])
    apply_transition(conn, work.id, "teruskan", POKJA)
    asset_id = assets.asset_of_activity(conn, work.id)
    assert asset_id is not None
    assets.update_asset(conn, asset_id, {"handover_date": handover.isoformat(), "handover_number": "BA/12/2024"})
    return asset_id


def test_adjacent_year_proposals_on_one_segment_conflict(conn, medan):  # noqa: F811
    create_activity(conn, activity(medan, ROAD, year_start=2025))
    with pytest.raises(Conflict) as blocked:
        create_activity(conn, activity(medan, ROAD, year_start=2026, program="NSUP", funding_source="NSUP_WB_AIIB"))
    assert blocked.value.details["conflicts"][0]["source"] == "kegiatan"
    assert create_activity(conn, activity(medan, ROAD, year_start=2027), dry_run=True).verdict.blocked is False


def test_an_asset_blocks_next_years_proposal_and_pokja_accepts_it_as_rehabilitation(conn, medan):  # noqa: F811
    asset_id = handed_over(conn, medan, ROAD, year=2024, handover=dt.date(2024, 12, 20))
    asset = assets.get_asset(conn, asset_id)
    assert asset["service_life_years"] == 7 and asset["life_ends_year"] == 2031  # paving: placeholder 7 years
    redrawn = shapely.LineString([(98.68502, 3.58321), (98.6867, 3.58319)])
    with pytest.raises(Conflict) as blocked:
        create_activity(conn, activity(medan, redrawn, year_start=2026, program="NSUP", funding_source="NSUP_WB_AIIB"))
    conflict = blocked.value.details["conflicts"][0]
    assert (conflict["source"], conflict["id"], conflict["handover_date"]) == ("aset", asset_id, "2024-12-20")
    assert conflict["remaining_life_years"] == 5  # 2026 .. 2030 still covered
    assert f"asset {asset_id}" in blocked.value.message and "2024-12-20" in blocked.value.message
    # the handed-over activity itself is read through its asset, not twice
    assert [c["source"] for c in blocked.value.details["conflicts"]] == ["aset"]

    reason = "Rehabilitasi: jalan rusak berat setelah banjir 2025"
    saved = create_activity(conn, activity(medan, redrawn, year_start=2026), actor="pokja1", actor_role="pokja",
                            override_reason=reason)
    record = public_record(conn, Principal(), saved.id)  # anyone, no login
    assert [(link["relation"], link["other_id"]) for link in record["links"]] == [
        ("rehabilitasi", asset["activity_id"])]
    assert record["history"][0]["reason"] == reason
    assert record["history"][0]["action"] == "dibuat_dengan_persetujuan"


def test_an_asset_past_its_service_life_does_not_block(conn, medan):  # noqa: F811
    handed_over(conn, medan, ROAD, year=2016, handover=dt.date(2016, 11, 1))  # paving 7 years: 2016..2022
    assert create_activity(conn, activity(medan, ROAD, year_start=2025), dry_run=True).verdict.blocked is False
    assert create_activity(conn, activity(medan, ROAD, year_start=2022), dry_run=True).verdict.blocked is True


def test_a_completed_work_blocks_within_its_service_life(conn, medan):  # noqa: F811
    work = create_activity(conn, activity(medan, ROAD, year_start=2024))
    conn.execute("UPDATE activities SET stage = 'selesai', status = 'selesai' WHERE id = %s", [work.id])
    verdict = create_activity(conn, activity(medan, ROAD, year_start=2029), dry_run=True).verdict
    assert [(c["id"], c["remaining_life_years"]) for c in verdict.conflicts] == [(work.id, 2)]  # 2029, 2030


def test_inspections_maintenance_and_assets_due(conn, medan):  # noqa: F811
    asset_id = handed_over(conn, medan, ROAD, year=2023, handover=dt.date(2023, 12, 1))
    due = assets.due_for_inspection(conn, today=dt.date(2025, 1, 15))
    assert [a["id"] for a in due] == [asset_id] and due[0]["due_on"] == "2024-12-01"
    assets.add_inspection(conn, asset_id, inspected_on="2025-01-10", condition="rusak_ringan", notes="retak")
    assert assets.due_for_inspection(conn, today=dt.date(2025, 1, 15)) == []
    assets.add_maintenance(conn, asset_id, done_on="2025-02-01", kind="perbaikan", cost=2_500_000)
    asset = assets.get_asset(conn, asset_id)
    assert asset["condition"] == "rusak_ringan" and asset["last_inspected_on"] == "2025-01-10"
    assert [m["kind"] for m in asset["maintenance"]] == ["perbaikan"]
    with pytest.raises(InvalidInput, match="condition 'rusak' is not one of"):
        assets.add_inspection(conn, asset_id, inspected_on="2025-01-10", condition="rusak")


def test_a_group_receives_an_asset(conn, medan):  # noqa: F811
    bkm = assets.create_group(conn, tenant="12.71", kind="bkm", name="BKM Maju Bersama")
    kpp = assets.create_group(conn, tenant="12.71", kind="kpp", name="KPP Gang Mawar", parent_id=bkm["id"],
                              members=[{"name": "Ibu Sari", "role": "ketua"}])
    asset_id = handed_over(conn, medan, ROAD, year=2024, handover=dt.date(2024, 12, 20))
    built = shapely.LineString([(98.6850, 3.58322), (98.6870, 3.58322)])
    asset = assets.update_asset(conn, asset_id, {"recipient_group_id": kpp["id"], "geometry": built,
                                                 "geometry_source": "gambar_akhir", "value": 95_000_000})
    assert (asset["recipient_kind"], asset["recipient_group_id"], asset["geometry_source"]) == (
        "kelompok", kpp["id"], "gambar_akhir")
    assert asset["geometry"]["coordinates"][-1] == [98.687, 3.58322]


# -- collaboration (item 5): streets of ~200 m in Pasar Baru, noise 5 m ---------------------------------------------
def _east(x0_m: float, y_m: float, length_m: float = 200) -> shapely.LineString:
    x, y = 98.6850 + x0_m * MX, 3.5832 + y_m * MY
    return shapely.LineString([(x, y), (x + length_m * MX, y)])


def _north(x_m: float, y0_m: float, length_m: float = 200) -> shapely.LineString:
    x, y = 98.6850 + x_m * MX, 3.5832 + y0_m * MY
    return shapely.LineString([(x, y), (x, y + length_m * MY)])


@pytest.mark.parametrize(("second", "conflict", "collaboration"), [
    (_east(0, 5), False, False),  # a parallel alley 5 m away, same ends: neither
    (_east(0, 3), True, False),  # 3 m away: the same street redrawn within the noise: a conflict
    (_north(100, -100), False, False),  # crossing in the middle: neither
    (_north(100, 0), False, False),  # T-junction (starts on the middle of the street): neither
    (_east(200, 0), False, True),  # end to end: collaboration
    (_east(197, 0), False, True),  # end to end, 3 m shared along the same line: collaboration
    (_north(200, 0), False, True),  # round the corner from its end: collaboration
    (_east(-200, 5), False, True),  # end to end westwards with a 5 m jog at the joint: collaboration
], ids=["parallel-5m", "parallel-3m", "crossing", "t-junction", "end-to-end", "end-to-end-overlap-3m",
        "corner", "end-to-end-jog-5m"])
def test_collaboration_is_a_continuation_never_parallel_alleys(conn, medan, second, conflict, collaboration):  # noqa: F811
    first = create_activity(conn, activity(medan, _east(0, 0)))
    verdict = create_activity(conn, activity(medan, second, funding_source="DANA_DESA"), dry_run=True).verdict
    assert verdict.blocked is conflict
    assert [c["id"] for c in verdict.collaborations] == ([first.id] if collaboration else [])
