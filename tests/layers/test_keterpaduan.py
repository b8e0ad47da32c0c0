"""Keterpaduan figures: per slum area every programme and funding source, money (proposed, budgeted, realised),
criteria addressed against those still scoring 3 or 5, projected level after the planned work, collaborations;
roll-ups per kelurahan, kecamatan and kab/kota; only what the caller may see. Real PostGIS, the demo and a small
hand-made kab/kota whose every figure is worked out by hand below."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.errors import NotFound
from layers.accounts.access import PUBLIC, Principal
from layers.db.frames import run
from layers.keterpaduan.summary import as_json, keterpaduan_op
from tests.two_tenants import seed, square

ADMIN = Principal(role="admin", username="t")
SMALL = "73.07"
KEL = "73.07.01.1001"
# One RT of 100 buildings/households, 1000 m of ideal road and drain: 2b 90 % (5), 4b 60 % (3), 5a 80 % (5),
# 6a 80 % (5), 7a 30 % (1): total 19, kumuh ringan.
VOLUMES = {"1a": 0, "1b": 0, "1c": 0, "2a": 0, "2b": 900, "3a": 0, "3b": 0, "4a": 0, "4b": 600, "4c": 0, "5a": 80,
           "5b": 0, "6a": 80, "6b": 0, "7a": 30, "7b": 0}


def _activity(conn, kind, criteria, volume, unit, cost, year, status, program, funding, slum_area, lon, lat,
              progress=0, title="Kegiatan"):
    geom = (f"SRID=4326;LINESTRING({lon} {lat},{lon + 0.007} {lat})" if unit == "m"
            else f"SRID=4326;POINT({lon} {lat})")
    return conn.execute(
        "INSERT INTO activities (tenant, title, kind, criteria, volume, unit, cost, year_start, year_end, program, "
        "funding_source, status, progress, stage, kelurahan_code, slum_area_id, proposer_name, proposer_phone, geom) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'Ibu Rahasia', '0812-999', "
        "ST_GeomFromEWKT(%s)) RETURNING id",
        [SMALL, title, kind, criteria, volume, unit, cost, year, year, program, funding, status, progress,
         "selesai" if status == "selesai" else "rkpd", KEL, slum_area, geom]).fetchone()[0]


@pytest.fixture
def small(conn):
    """Kab. Sinjai-like tenant 73.07 with one slum area, one surveyed RT and four activities (+ one outside)."""
    lon, lat = 120.10, -5.20
    for code, level, size in ((SMALL, "kabkota", 0.2), ("73.07.01", "kecamatan", 0.1), (KEL, "desa_kelurahan", 0.05)):
        conn.execute("INSERT INTO regions (code, name, level, area_ha, geom) VALUES (%s, %s, %s, 1, "
                     "ST_GeomFromEWKT(%s))", [code, f"Wilayah {code}", level, square(lon, lat, size)])
    decree = conn.execute("INSERT INTO decrees (tenant, number, published) VALUES (%s, 'SK 1', true) RETURNING id",
                          [SMALL]).fetchone()[0]
    area = conn.execute("INSERT INTO slum_areas (tenant, decree_id, kawasan, kelurahan_code, area_ha, geom) VALUES "
                        "(%s, %s, 'Kawasan Pesisir', %s, 2.0, ST_GeomFromEWKT(%s)) RETURNING id",
                        [SMALL, decree, KEL, square(lon + 0.01, lat + 0.01, 0.012)]).fetchone()[0]
    unit = conn.execute(
        "INSERT INTO survey_units (tenant, slum_area_id, kelurahan_code, label, area_ha, buildings, population, "
        "households, road_length_m, drainage_length_m, geom) VALUES (%s, %s, %s, 'RT 01', 2.0, 100, 400, 100, "
        "1000, 1000, ST_GeomFromEWKT(%s)) RETURNING id",
        [SMALL, area, KEL, square(lon + 0.011, lat + 0.011, 0.01)]).fetchone()[0]
    conn.execute("INSERT INTO surveys (tenant, unit_id, round, survey_date, volumes) VALUES (%s, %s, '2023', "
                 "'2023-06-01', %s)", [SMALL, unit, json.dumps(VOLUMES)])
    x, y = lon + 0.012, lat + 0.015
    ids = {
        # planned road: 800 m of the 900 m bad surface -> 2b 10 % (0): total 14, tidak kumuh
        "paving": _activity(conn, "jalan_paving", ["2a", "2b"], 800, "m", 360e6, 2025, "aktif", "NSUP",
                            "NSUP_WB_AIIB", area, x, y),
        # a communal treatment plant counted in units: cannot reduce households (2 criterion volumes not counted)
        "ipal": _activity(conn, "ipal_komunal", ["5a", "5b"], 1, "unit", 350e6, 2025, "aktif", "SANIMAS", "DAK",
                          area, x, y + 0.002),
        # finished before the 2023 survey: in the survey already, not subtracted again
        "gerobak": _activity(conn, "gerobak_sampah", ["6a", "6b"], 2, "unit", 50e6, 2022, "selesai", "REGULER",
                             "APBD_KABKOTA", area, x, y + 0.004, progress=100),
        # rejected: counts nowhere
        "drain": _activity(conn, "drainase", ["4a", "4b", "4c"], 600, "m", 450e6, 2025, "ditolak", "PISEW", "APBN",
                           area, x, y + 0.006),
        # in the kelurahan, outside the slum area
        "apar": _activity(conn, "apar", ["7b"], 3, "unit", 1.5e6, 2025, "aktif", None, "SWADAYA", None,
                          lon + 0.04, lat + 0.04),
    }
    conn.commit()
    return {"area": area, **ids}


def _result(conn, tenant=SMALL, principal=ADMIN, **kwargs):
    return as_json(run(conn, keterpaduan_op(tenant, principal, **kwargs)))


def test_one_slum_area_worked_out_by_hand(small, conn):
    body = _result(conn)
    assert set(body) == {"tenant", "decree", "slum_areas", "kelurahan", "kecamatan", "kabkota", "by_year"}
    [area] = body["slum_areas"]
    assert area["slum_area_id"] == small["area"] and area["kawasan"] == "Kawasan Pesisir"
    assert area["kelurahan_code"] == KEL and area["kelurahan"] == f"Wilayah {KEL}" and area["area_ha"] == 2.0
    assert (area["level"], area["total_score"], area["round"]) == ("KR", 19, "2023")
    assert (area["projected_level"], area["projected_total"]) == ("TK", 14)
    assert area["activities"] == 3 and area["activities_completed"] == 1
    assert area["programs"] == {"NSUP": 1, "SANIMAS": 1, "REGULER": 1}
    # no budget line yet: every rupiah is still a proposal
    assert area["proposed_by_source"] == {"NSUP_WB_AIIB": 360e6, "DAK": 350e6, "APBD_KABKOTA": 50e6}
    assert (area["proposed_cost"], area["budgeted"], area["realised"]) == (760e6, 0, 0)
    assert area["budgeted_by_source"] == {} and area["realised_by_source"] == {}
    assert area["criteria_addressed"] == ["2a", "2b", "5a", "5b", "6a", "6b"]
    assert area["criteria_remaining"] == ["2b", "4b", "5a", "6a"]
    assert area["criteria_gap"] == ["4b"]
    assert area["volumes_not_counted"] == 2 and area["collaborations"] == 0


def test_rollups_per_kelurahan_kecamatan_and_kabkota(small, conn):
    body = _result(conn)
    [kel], [kec], city = body["kelurahan"], body["kecamatan"], body["kabkota"]
    assert (kel["code"], kec["code"], city["code"]) == (KEL, "73.07.01", SMALL)
    for row in (kel, kec, city):
        assert row["slum_areas"] == 1 and row["slum_area_ha"] == 2.0 and row["slum_ha"] == 2.0
        assert row["projected_slum_ha"] == 0.0 and row["leaving_slum_ha"] == 2.0
        assert row["ha_by_level"] == {"KR": 2.0} and row["projected_ha_by_level"] == {"TK": 2.0}
        assert row["activities"] == 4 and row["activities_in_slum_areas"] == 3  # the APAR lies outside
        assert row["proposed_cost"] == 761.5e6 and row["proposed_cost_in_slum_areas"] == 760e6
        assert row["budgeted"] == 0 and row["realised"] == 0
        assert row["programs"] == {"NSUP": 1, "SANIMAS": 1, "REGULER": 1, "TANPA_PROGRAM": 1}
        assert row["proposed_by_source"]["SWADAYA"] == 1.5e6 and "APBN" not in row["proposed_by_source"]  # rejected


def test_collaboration_links_between_live_activities_count(small, conn):
    conn.execute("INSERT INTO activity_links (activity_id, other_id, relation) VALUES (%s, %s, 'kolaborasi'), "
                 "(%s, %s, 'kolaborasi'), (%s, %s, 'tumpang_tindih_disetujui')",
                 [small["paving"], small["gerobak"], small["paving"], small["drain"], small["ipal"], small["paving"]])
    body = _result(conn)
    assert body["slum_areas"][0]["collaborations"] == 1  # the link to the rejected drain and the overlap do not
    assert body["kabkota"]["collaborations"] == 1


def test_the_public_sees_published_decrees_and_no_personal_data(conn):
    ids = seed(conn)
    conn.commit()
    public = _result(conn, "12.71", PUBLIC)
    assert [a["slum_area_id"] for a in public["slum_areas"]] == [ids["12.71"]["published"]]
    own = _result(conn, "12.71", Principal(role="pokja", username="p", tenant="12.71"))
    assert [a["slum_area_id"] for a in own["slum_areas"]] == [ids["12.71"]["unpublished"]]  # the newest decree
    named = _result(conn, "12.71", Principal(role="pokja", username="p", tenant="12.71"), decree="SK 12.71 published")
    assert [a["slum_area_id"] for a in named["slum_areas"]] == [ids["12.71"]["published"]]
    other = _result(conn, "12.71", Principal(role="pokja", username="q", tenant="73.07"))
    assert [a["slum_area_id"] for a in other["slum_areas"]] == [ids["12.71"]["published"]]
    for body in (public, own, other):
        assert body["kabkota"]["activities"] == 1  # activities are public
        text = json.dumps(body)
        assert "Pak Budi" not in text and "0812-000" not in text
    with pytest.raises(NotFound):
        _result(conn, "12.71", PUBLIC, decree="SK 12.71 unpublished")
    with pytest.raises(NotFound):
        _result(conn, "12.72", PUBLIC)


def test_demo_figures_agree_with_the_scores_and_the_activities(demo_conn):
    body = _result(demo_conn, "12.71")
    areas = pd.DataFrame(body["slum_areas"])
    assert len(areas) == 60
    status = pd.DataFrame(demo_conn.execute("SELECT slum_area_id, total_score, level FROM slum_area_status").fetchall(),
                          columns=["slum_area_id", "total_score", "level"])
    merged = areas.merge(status, on="slum_area_id", suffixes=("", "_status"))
    assert (merged["level"] == merged["level_status"]).all()  # same figures as the maps' status view
    assert (merged["total_score"] == merged["total_score_status"]).all()
    assert (areas["projected_total"] <= areas["total_score"]).all()
    assert (areas["programs"].map(lambda d: sum(d.values())) == areas["activities"]).all()
    assert (areas["proposed_by_source"].map(lambda d: sum(d.values())) - areas["proposed_cost"]).abs().max() < 1e-6
    live = demo_conn.execute("SELECT count(*), sum(cost) FROM activities WHERE tenant = '12.71' "
                        "AND status NOT IN ('ditolak', 'dibatalkan')").fetchone()
    city = body["kabkota"]
    assert city["activities"] == live[0] and city["proposed_cost"] == pytest.approx(float(live[1]))
    assert city["slum_areas"] == 60
    assert sum(k["slum_area_ha"] for k in body["kelurahan"]) == pytest.approx(city["slum_area_ha"], abs=1e-3)
    assert sum(k["activities"] for k in body["kecamatan"]) == city["activities"]
    assert city["leaving_slum_ha"] > 0 and city["projected_slum_ha"] < city["slum_ha"]


@pytest.fixture
def three_states(small, conn):
    """The small kab/kota with three more works in the slum area: one still a proposal (Rp 100 juta), one budgeted
    (allocated 200 juta, nothing realised) and one completed (allocated 300 juta, realised 280 juta)."""
    area, x, y = small["area"], 120.112, -5.17
    ids = {
        "usulan": _activity(conn, "jalan_paving", ["2a"], 100, "m", 100e6, 2026, "aktif", "NSUP", "APBD_KABKOTA",
                            area, x, y, title="Usulan"),
        "dianggarkan": _activity(conn, "jalan_paving", ["2a"], 100, "m", 180e6, 2026, "aktif", "NSUP", "APBD_KABKOTA",
                                 area, x, y + 0.002, title="Dianggarkan"),
        "selesai": _activity(conn, "jalan_paving", ["2a"], 100, "m", 310e6, 2025, "selesai", "NSUP", "DAK", area, x,
                             y + 0.004, progress=100, title="Selesai"),
    }
    for key, year, source, allocated, realised in (("dianggarkan", 2026, "APBD_KABKOTA", 200e6, 0),
                                                    ("selesai", 2025, "DAK", 300e6, 280e6)):
        conn.execute("INSERT INTO budget_lines (tenant, activity_id, year, funding_source, dpa_number, account_code, "
                     "allocated, realised) VALUES (%s, %s, %s, %s, 'DPA 1', '5.2.03', %s, %s)",
                     [SMALL, ids[key], year, source, allocated, realised])
    # only the three: the other live works of the small fixture go out of the way
    conn.execute("UPDATE activities SET status = 'dibatalkan' WHERE tenant = %s AND NOT id = ANY(%s)",
                 [SMALL, list(ids.values())])
    conn.commit()
    return ids


def test_proposed_budgeted_and_realised_are_never_added_up(three_states, conn, tmp_path):
    body = _result(conn)
    [area] = body["slum_areas"]
    assert (area["proposed_cost"], area["budgeted"], area["realised"]) == (100e6, 500e6, 280e6)
    assert area["proposed_by_source"] == {"APBD_KABKOTA": 100e6}  # the budgeted works' estimates count no more
    assert area["budgeted_by_source"] == {"APBD_KABKOTA": 200e6, "DAK": 300e6}
    assert area["realised_by_source"] == {"APBD_KABKOTA": 0, "DAK": 280e6}
    for row in (*body["kelurahan"], *body["kecamatan"], body["kabkota"]):
        assert (row["proposed_cost"], row["budgeted"], row["realised"]) == (100e6, 500e6, 280e6)
    assert {(m["year"], m["funding_source"]): (m["proposed_cost"], m["budgeted"], m["realised"])
            for m in body["by_year"]} == {(2026, "APBD_KABKOTA"): (100e6, 200e6, 0), (2025, "DAK"): (0, 300e6, 280e6)}
    text = json.dumps(body)
    for total in (380e6, 600e6, 780e6, 880e6, 1080e6):  # any sum of two or three states
        assert str(total) not in text and str(int(total)) not in text

    import openpyxl

    from maps.exports import export_keterpaduan
    path = tmp_path / "memo.xlsx"
    export_keterpaduan(conn, SMALL, "xlsx", path, ADMIN)
    book = openpyxl.load_workbook(path)
    rows = [list(r) for r in book["Memorandum"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[:2] == ["Kode program", "Program"])
    cols = rows[header]
    money = ["Usulan belum dianggarkan (Rp)", "Pagu anggaran (Rp)", "Realisasi (Rp)"]
    table = pd.DataFrame(rows[header + 1:], columns=cols)
    data, total = table[table["Kode program"] != "JUMLAH"], table[table["Kode program"] == "JUMLAH"].iloc[0]
    by_year = {(r["Tahun"], r["Kode sumber dana"]): tuple(r[m] for m in money) for _, r in data.iterrows()}
    assert by_year == {("2026", "APBD_KABKOTA"): (100e6, 200e6, 0), ("2025", "DAK"): (0, 300e6, 280e6)}
    assert tuple(total[m] for m in money) == (100e6, 500e6, 280e6)
    assert data["Jumlah kegiatan"].sum() == 3  # each work counted once, whatever lines it has
    # no cell of any sheet holds a sum across states (nor a formula that could make one)
    for sheet in book.worksheets:
        for line in sheet.iter_rows(values_only=True):
            for value in line:
                assert value not in (380e6, 600e6, 780e6, 880e6, 1080e6), (sheet.title, line)
                assert not (isinstance(value, str) and value.startswith("="))
    per_year = [list(r) for r in book["Biaya per tahun"].iter_rows(values_only=True)]
    states = {r[0] for r in per_year[per_year.index(next(r for r in per_year if r[0] == "Keadaan")) + 1:]}
    assert states == {"Usulan belum dianggarkan", "Pagu anggaran", "Realisasi"}
