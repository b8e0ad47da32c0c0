"""The asset register over HTTP (issue 12 item 1): a proposal taken through the workflow to serah terima becomes an
asset that the OGC API (and GDAL's OAPIF client), the vector tiles and the GeoPackage export show; handover details
with the berita acara file, inspections that change the condition, O&P, the list of assets due for inspection,
groups whose members stay private, the 409 a next year's proposal over the asset gets, and the `kotaku asset` and
`kotaku group` commands over the same functions."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import mapbox_vector_tile
import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.auth import current_principal
from data import data_path
from layers.accounts.access import Principal
from layers.imports.regions import import_regions
from tests.e2e.servers import running_server

ITEMS = "/collections/activities/items"
ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5832], [98.6868, 3.5832]]}
ADMIN = Principal(role="admin", username="admin1")
POKJA = Principal(role="pokja", username="pokja1", tenant="12.71", area_code="12.71")
OPD = Principal(role="opd", username="perkim1", tenant="12.71", area_code="12.71/Dinas Perkim", agency="Dinas Perkim")
KEPLING = Principal(role="kepling", username="kepling1", tenant="12.71", area_code="12.71.01.1001/RT 03")
PDF = b"%PDF-1.4\n% berita acara serah terima\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def proposal(year: int = 2024, **properties) -> dict:
    base = {"title": "Paving jalan Gang Mawar", "kind": "jalan_paving", "year_start": year, "program": "REGULER",
            "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03", "proposer_name": "Budi",
            "proposer_phone": "0812000000", "target_agency": "Dinas Perkim", "tenant": "12.71"}
    return {"type": "Feature", "geometry": ROAD, "properties": {**base, **properties}}


@pytest.fixture
def db(empty_db, conn, tmp_path, monkeypatch):
    monkeypatch.setenv("KOTAKU_ATTACHMENTS", str(tmp_path / "files"))
    conn.execute("TRUNCATE groups RESTART IDENTITY CASCADE")  # empty_db keeps them (not in DATA_TABLES)
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))
    conn.commit()
    return empty_db


class Caller:
    """A client acting as one principal: each request sets the login stand-in first (requests run one by one)."""

    def __init__(self, app, client: TestClient, principal: Principal):
        self.app, self.client, self.principal = app, client, principal

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            self.app.dependency_overrides[current_principal] = lambda: self.principal
            return getattr(self.client, method)(*args, **kwargs)
        return call


@pytest.fixture
def as_(db):
    """as_(principal) -> a client acting as that principal."""
    app = create_app(db)
    with TestClient(app) as client:
        yield lambda principal: Caller(app, client, principal)


def hand_over(as_, db: str) -> tuple[int, int]:
    """A proposal taken through the workflow over HTTP to serah terima: (activity id, asset id). The works' progress
    reports (0/50/100 % with photo evidence, tested with the workflow) are skipped: the work is set 'selesai' in
    the database; the planning steps before and the handover step itself go through HTTP."""
    admin, pokja = as_(ADMIN), as_(POKJA)
    created = admin.post(ITEMS, json=proposal())
    assert created.status_code == 201, created.text
    activity = created.json()["id"]

    def step(client: Caller, action: str, **body) -> None:
        response = client.post(f"/activities/{activity}/transitions", json={"action": action, **body})
        assert response.status_code == 200, response.text

    for _ in range(5):  # rembuk warga -> kelurahan -> kecamatan -> renja OPD -> RKPD -> pelaksanaan
        step(admin, "teruskan")
    with psycopg.connect(db) as conn:
        conn.execute("UPDATE activities SET stage = 'selesai', status = 'selesai', progress = 100 WHERE id = %s",
                     [activity])
    assert admin.get("/collections/assets/items").json()["numberMatched"] == 0
    step(pokja, "teruskan")  # serah terima aset: bappeda/pokja
    items = admin.get("/collections/assets/items", params={"activity_id": activity}).json()
    assert items["numberMatched"] == 1, items
    return activity, items["features"][0]["id"]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def test_serah_terima_makes_an_asset_the_ogc_api_gdal_and_tiles_show(as_, db):
    activity, asset_id = hand_over(as_, db)
    public = as_(Principal())
    feature = public.get(f"/collections/assets/items/{asset_id}").json()
    props = feature["properties"]
    assert (props["activity_id"], props["kind"], props["condition"]) == (activity, "jalan_paving", "baik")
    assert props["recipient"] == "Dinas Perkim" and props["service_life_years"] == 7
    assert props["life_ends_year"] == int(props["handover_date"][:4]) + 7 and props["due_for_inspection"] is False
    assert feature["geometry"]["type"] == "LineString"
    assert "Budi" not in json.dumps(feature) and "0812000000" not in json.dumps(feature)  # no personal data

    x, y = tile_of(98.6859, 3.5832, 16)
    tile = public.get(f"/tiles/assets/16/{x}/{y}.pbf")
    assert tile.status_code == 200, tile.text
    decoded = mapbox_vector_tile.decode(tile.content)["assets"]["features"]
    assert [(f["id"], f["properties"]["condition"]) for f in decoded] == [(asset_id, "baik")]
    tilejson = public.get("/tiles/assets/tilejson.json").json()
    assert "condition" in tilejson["vector_layers"][0]["fields"]

    with running_server(db, "--no-access-log") as base:
        listed = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{base}/"], capture_output=True, text=True,
                                timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert ": assets" in listed.stdout, listed.stdout
        read = subprocess.run(["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{base}/", "assets"], capture_output=True,
                              text=True, timeout=120)
        assert read.returncode == 0, read.stderr
        assert f"activity_id (Integer) = {activity}" in read.stdout or f"activity_id (Integer64) = {activity}" in (
            read.stdout), read.stdout
        assert "LINESTRING (98.685 3.5832" in read.stdout


def test_handover_details_with_the_berita_acara_file_and_an_as_built_file(as_, db):
    _, asset_id = hand_over(as_, db)
    opd = as_(OPD)
    patched = opd.patch(f"/assets/{asset_id}", data={
        "handover_number": "BA/027/PERKIM/2024", "handover_date": "2024-12-20", "value": "95.000.000,00"},
        files={"document": ("BA serah terima.pdf", PDF, "application/pdf")})
    assert patched.status_code == 200, patched.text
    asset = patched.json()
    assert (asset["handover_number"], asset["handover_date"], asset["value"]) == (
        "BA/027/PERKIM/2024", "2024-12-20", 95_000_000.0)
    assert asset["handover_document"] is True and "handover_file" not in asset  # no server path leaks
    document = as_(Principal()).get(f"/assets/{asset_id}/document")
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-type"] == "application/pdf"

    built = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nama": "as built"},
             "geometry": {"type": "LineString", "coordinates": [[98.68501, 3.58322], [98.68695, 3.58322]]}}]}
    uploaded = opd.patch(f"/assets/{asset_id}", files={
        "geometry_file": ("gambar_akhir.geojson", json.dumps(built).encode(), "application/geo+json")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["geometry_source"] == "berkas"
    assert uploaded.json()["geometry"]["coordinates"][-1] == [98.68695, 3.58322]

    scan = b"%PDF-1.4\n" + b"0" * (3 * 2**20)  # a scanned berita acara: over KOTAKU_BODY_MAX_MB, an upload
    assert opd.patch(f"/assets/{asset_id}", files={"document": ("BA.pdf", scan, "application/pdf")}).status_code == 200
    assert as_(Principal()).get(f"/assets/{asset_id}/document").content == scan

    refused = as_(KEPLING).patch(f"/assets/{asset_id}", json={"value": 1})
    assert refused.status_code == 403 and refused.json()["details"]["action"] == "asset.manage"
    bad = opd.patch(f"/assets/{asset_id}", json={"condition": "hancur"})
    assert bad.status_code == 400 and "condition 'hancur'" in bad.json()["description"]
    with psycopg.connect(db) as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE entity = 'assets' ORDER BY id")]
    assert actions == ["asset.update"] * 3  # the refused and the bad request wrote nothing


def test_an_inspection_rusak_berat_changes_the_condition_and_the_due_list(as_, db):
    _, asset_id = hand_over(as_, db)
    pokja = as_(POKJA)
    assert pokja.patch(f"/assets/{asset_id}", json={"handover_date": "2023-03-01"}).status_code == 200
    due = pokja.get("/tenants/12.71/assets/due", params={"today": "2024-06-01"}).json()["assets"]
    assert [(a["id"], a["due_on"]) for a in due] == [(asset_id, "2024-03-01")]  # 12 months after handover
    assert pokja.get("/tenants/12.71/assets/due", params={"today": "2024-02-01"}).json()["assets"] == []

    inspected = pokja.post(f"/assets/{asset_id}/inspections",
                           data={"inspected_on": "2024-05-02", "condition": "rusak_berat",
                                 "notes": "Paving amblas 20 m setelah banjir"},
                           files=[("photos", ("amblas.png", png(), "image/png"))])
    assert inspected.status_code == 201, inspected.text
    assert inspected.json()["asset_condition"] == "rusak_berat" and len(inspected.json()["photos"]) == 1
    photo = as_(Principal()).get(f"/assets/{asset_id}/inspections/{inspected.json()['id']}/photos/1")
    assert photo.status_code == 200 and photo.content == png() and photo.headers["content-type"] == "image/png"
    assert as_(Principal()).get(f"/assets/{asset_id}/inspections/{inspected.json()['id']}/photos/2"
                                ).status_code == 404
    props = as_(Principal()).get(f"/collections/assets/items/{asset_id}").json()["properties"]
    assert (props["condition"], props["last_inspected_on"]) == ("rusak_berat", "2024-05-02")
    assert pokja.get("/tenants/12.71/assets/due", params={"today": "2024-06-01"}).json()["assets"] == []
    later = pokja.get("/tenants/12.71/assets/due", params={"today": "2025-05-03"}).json()["assets"]
    assert [a["id"] for a in later] == [asset_id]

    maintained = as_(OPD).post(f"/assets/{asset_id}/maintenance",
                               json={"done_on": "2024-05-20", "kind": "perbaikan", "cost": 12_500_000})
    assert maintained.status_code == 201, maintained.text
    shown = as_(Principal()).get(f"/assets/{asset_id}").json()
    assert [(i["condition"], i["notes"]) for i in shown["inspections"]] == [
        ("rusak_berat", "Paving amblas 20 m setelah banjir")]
    assert [(m["kind"], m["cost"]) for m in shown["maintenance"]] == [("perbaikan", 12_500_000.0)]
    assert "inspector" not in shown["inspections"][0]  # who inspected: own tenant only
    assert pokja.get(f"/assets/{asset_id}").json()["inspections"][0]["inspector"] == "pokja1"


def test_the_gpkg_and_kml_exports_have_the_assets(as_, db, tmp_path):
    hand_over(as_, db)
    response = as_(Principal()).get("/exports/keterpaduan.gpkg", params={"tenant": "12.71"})
    assert response.status_code == 200, response.text
    path = tmp_path / "keterpaduan.gpkg"
    path.write_bytes(response.content)
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(path), "aset"], capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    assert "Feature Count: 1" in info.stdout and "condition: String" in info.stdout, info.stdout
    rows = subprocess.run(["ogrinfo", "-ro", "-q", "-sql", "SELECT title, condition, recipient FROM aset", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert "Paving jalan Gang Mawar" in rows.stdout and "Dinas Perkim" in rows.stdout, rows.stdout
    styles = subprocess.run(["ogrinfo", "-ro", "-q", "-sql",
                             "SELECT styleQML FROM layer_styles WHERE f_table_name = 'aset'", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert 'attr="condition"' in styles.stdout and "rusak_berat" in styles.stdout

    kml = tmp_path / "keterpaduan.kml"
    kml.write_bytes(as_(Principal()).get("/exports/keterpaduan.kml", params={"tenant": "12.71"}).content)
    folder = subprocess.run(["ogrinfo", "-ro", "-al", "-q", str(kml), "Aset"], capture_output=True, text=True,
                            timeout=60)
    assert folder.returncode == 0, folder.stderr
    assert folder.stdout.count("OGRFeature(Aset)") == 1 and "condition (String) = baik" in folder.stdout


def test_next_years_proposal_over_the_asset_is_409_naming_it(as_, db):
    _, asset_id = hand_over(as_, db)
    pokja = as_(POKJA)
    assert pokja.patch(f"/assets/{asset_id}", json={"handover_date": "2024-12-20"}).status_code == 200
    blocked = as_(ADMIN).post(ITEMS, json=proposal(2026, program="NSUP", funding_source="NSUP_WB_AIIB"))
    assert blocked.status_code == 409, blocked.text
    conflict = blocked.json()["details"]["conflicts"][0]
    assert (conflict["source"], conflict["id"], conflict["handover_date"]) == ("aset", asset_id, "2024-12-20")
    assert conflict["remaining_life_years"] == 5  # paving 7 years: 2024..2030, seen from 2026


def test_groups_receive_assets_and_keep_their_members_private(as_, db):
    _, asset_id = hand_over(as_, db)
    pokja = as_(POKJA)
    bkm = pokja.post("/groups", json={"kind": "bkm", "name": "BKM Maju Bersama", "kelurahan_code": "12.71.01.1001"})
    assert bkm.status_code == 201, bkm.text
    kpp = pokja.post("/groups", json={"kind": "kpp", "name": "KPP Gang Mawar", "parent_id": bkm.json()["id"],
                                      "kelurahan_code": "12.71.01.1001"}).json()
    member = pokja.post(f"/groups/{kpp['id']}/members", json={"name": "Ibu Sari", "role": "ketua",
                                                               "phone": "0813111222"})
    assert member.status_code == 201, member.text
    assert as_(KEPLING).post(f"/groups/{kpp['id']}/members", json={"name": "X"}).status_code == 403
    assert pokja.patch(f"/assets/{asset_id}", json={"recipient_group_id": kpp["id"]}).status_code == 200

    public = as_(Principal())
    groups = public.get("/groups", params={"tenant": "12.71"}).json()["groups"]
    assert [(g["name"], g["member_count"], g["assets"]) for g in groups] == [
        ("BKM Maju Bersama", 0, 0), ("KPP Gang Mawar", 1, 1)]
    assert "Ibu Sari" not in json.dumps(groups) and "0813111222" not in json.dumps(groups)
    own = pokja.get("/groups", params={"tenant": "12.71"}).json()["groups"]
    assert own[1]["members"][0]["name"] == "Ibu Sari"
    items = public.get("/collections/assets/items").json()
    assert items["features"][0]["properties"]["recipient"] == "KPP Gang Mawar"
    assert "Ibu Sari" not in json.dumps(items) and "0813111222" not in json.dumps(items)


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    command = Path(sys.executable).with_name("kotaku")
    return subprocess.run([str(command), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


def test_the_cli_reads_and_writes_the_same_register(as_, db, tmp_path):
    _, asset_id = hand_over(as_, db)
    assert as_(POKJA).patch(f"/assets/{asset_id}", json={"handover_date": "2023-03-01"}).status_code == 200
    due = kotaku(["asset", "due", "--tenant", "1271", "--today", "2024-06-01", "--json"], db)
    assert due.returncode == 0, due.stderr
    assert [a["id"] for a in json.loads(due.stdout)] == [asset_id]
    photo = tmp_path / "retak.png"
    photo.write_bytes(png())
    inspected = kotaku(["asset", "inspect", str(asset_id), "--condition", "rusak_ringan", "--date", "2024-05-30",
                        "--notes", "retak rambut", "--photo", str(photo), "--json"], db)
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["asset_condition"] == "rusak_ringan"
    assert kotaku(["asset", "maintain", str(asset_id), "--kind", "pemeliharaan", "--date", "2024-06-02"],
                  db).returncode == 0
    shown = json.loads(kotaku(["asset", "show", str(asset_id), "--json"], db).stdout)
    assert shown == as_(POKJA).get(f"/assets/{asset_id}").json()  # one function behind both
    assert (shown["condition"], shown["maintenance"][0]["kind"]) == ("rusak_ringan", "pemeliharaan")
    bad = kotaku(["asset", "inspect", str(asset_id), "--condition", "hancur"], db)
    assert bad.returncode == 2 and "condition 'hancur' is not one of" in bad.stderr

    group = kotaku(["group", "add", "KPP Gang Mawar", "--kind", "kpp", "--tenant", "12.71", "--kelurahan",
                    "12.71.01.1001", "--json"], db)
    assert group.returncode == 0, group.stderr
    group_id = json.loads(group.stdout)["id"]
    assert kotaku(["group", "member", str(group_id), "--name", "Ibu Sari", "--phone", "0813"], db).returncode == 0
    listed = json.loads(kotaku(["group", "list", "--tenant", "12.71", "--json"], db).stdout)
    assert [(g["name"], g["members"][0]["name"]) for g in listed] == [("KPP Gang Mawar", "Ibu Sari")]
    with psycopg.connect(db) as conn:
        actors = {r[0] for r in conn.execute("SELECT actor FROM audit_log WHERE entity IN ('assets', 'groups') "
                                             "AND action <> 'asset.update'")}
    assert len(actors) == 1 and actors.pop().startswith("cli:")  # audited as the operating-system user
