"""Proposals over HTTP: Part 4 writes, 409 with the conflict report, overlap dry run, workflow, photos."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from api.auth import current_principal
from data import data_path
from layers.accounts.access import Principal
from layers.imports.regions import import_regions

ITEMS = "/collections/activities/items"
KEPLING = Principal(role="kepling", username="kepling1", tenant="12.71", area_code="12.71.01.1001/RT 03")
ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5832], [98.6868, 3.5832]]}


def feature(geometry=ROAD, **properties):
    base = {"title": "Paving jalan RT 03", "kind": "jalan_paving", "year_start": 2025, "program": "REGULER",
            "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03", "proposer_name": "Budi",
            "proposer_phone": "0812000000", "target_agency": "Dinas Perkim"}
    return {"type": "Feature", "geometry": geometry, "properties": {**base, **properties}}


@pytest.fixture
def app(empty_db, conn, tmp_path, monkeypatch):
    monkeypatch.setenv("KOTAKU_ATTACHMENTS", str(tmp_path / "files"))
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))
    return create_app(empty_db)


@pytest.fixture
def as_(app):
    """as_(principal) -> a client acting as that principal."""
    clients = []

    def make(principal: Principal) -> TestClient:
        app.dependency_overrides[current_principal] = lambda: principal
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_create_answers_201_with_location_and_a_duplicate_409_with_the_report(as_):
    client = as_(KEPLING)
    created = client.post(ITEMS, json=feature())
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith(f"{ITEMS}/{created.json()['id']}")
    duplicate = client.post(ITEMS, json=feature(program="NSUP", funding_source="NSUP_WB_AIIB"))
    assert duplicate.status_code == 409
    body = duplicate.json()
    assert body["code"] == "conflict"
    conflict = body["details"]["conflicts"][0]
    assert conflict["id"] == created.json()["id"] and conflict["shared_length_m"] > 150
    assert conflict["overlap"]["type"].endswith("LineString") and conflict["funding_source"] == "APBD_KABKOTA"


def test_overlap_check_is_a_dry_run(as_):
    client = as_(KEPLING)
    client.post(ITEMS, json=feature())
    response = client.post("/overlap-check", json=feature(funding_source="CSR"))
    verdict = response.json()
    assert response.status_code == 200, response.text
    assert verdict["blocked"] is True and len(verdict["conflicts"]) == 1
    history = client.get("/activities/2/history")
    assert history.status_code == 404  # nothing was saved


def test_who_may_create(as_):
    anonymous = as_(Principal())
    assert anonymous.post(ITEMS, json=feature()).status_code == 401
    elsewhere = as_(Principal(role="kepling", username="k2", tenant="12.71", area_code="12.71.02.1001/RT 01"))
    refused = elsewhere.post(ITEMS, json=feature())
    assert refused.status_code == 403 and "does not contain" in refused.json()["description"]


def test_override_needs_the_role_and_a_reason(as_):
    as_(KEPLING).post(ITEMS, json=feature())
    blocked = as_(KEPLING).post(ITEMS, json=feature(funding_source="CSR", override_reason="tahap dua"))
    assert blocked.status_code == 403  # a kepling may not override
    pokja = as_(Principal(role="pokja", username="pokja1", tenant="12.71", area_code="12.71"))
    accepted = pokja.post(ITEMS, json=feature(funding_source="CSR", override_reason="Lapis kedua dari CSR"))
    assert accepted.status_code == 201, accepted.text
    record = pokja.get(f"/activities/{accepted.json()['id']}/history").json()
    assert record["activity"]["override_reason"] == "Lapis kedua dari CSR"
    assert record["links"][0]["relation"] == "tumpang_tindih_disetujui"


def test_patch_rechecks_overlaps_and_options_lists_methods(as_):
    client = as_(KEPLING)
    first = client.post(ITEMS, json=feature()).json()["id"]
    second = client.post(ITEMS, json=feature(geometry={"type": "LineString", "coordinates": [
        [98.6850, 3.5840], [98.6860, 3.5840]]}, title="Paving lain")).json()["id"]
    moved = client.patch(f"{ITEMS}/{second}", json={"type": "Feature", "geometry": ROAD, "properties": {}})
    assert moved.status_code == 409 and moved.json()["details"]["conflicts"][0]["id"] == first
    renamed = client.patch(f"{ITEMS}/{second}", json={"type": "Feature", "properties": {"title": "Paving gang"}})
    assert renamed.status_code == 200 and renamed.json()["properties"]["title"] == "Paving gang"
    options = client.options(f"{ITEMS}/{second}")
    assert set(options.headers["Allow"].split(", ")) >= {"PUT", "PATCH", "DELETE"}


def test_workflow_over_http_and_delete_rules(as_):
    kepling = as_(KEPLING)
    proposal = kepling.post(ITEMS, json=feature()).json()["id"]
    camat = as_(Principal(role="camat", username="camat1", tenant="12.71", area_code="12.71.01"))
    wrong = camat.post(f"/activities/{proposal}/transitions", json={"action": "teruskan"})
    assert wrong.status_code == 403
    lurah = as_(Principal(role="lurah", username="lurah1", tenant="12.71", area_code="12.71.01.1001"))
    step = lurah.post(f"/activities/{proposal}/transitions", json={"action": "teruskan"})
    assert step.status_code == 200 and step.json()["stage"] == "musrenbang_kelurahan"
    out_of_order = lurah.post(f"/activities/{proposal}/transitions", json={"action": "kemajuan", "progress": 50})
    assert out_of_order.status_code == 409 and "step out of order" in out_of_order.json()["description"]
    kepling = as_(KEPLING)
    assert kepling.delete(f"{ITEMS}/{proposal}").status_code == 409  # acted on: cancel instead
    fresh = kepling.post(ITEMS, json=feature(geometry={"type": "Point", "coordinates": [98.6855, 3.5836]},
                                             kind="sambungan_air", title="SR air")).json()["id"]
    assert kepling.delete(f"{ITEMS}/{fresh}").status_code == 204


def test_public_history_hides_personal_data(as_):
    proposal = as_(KEPLING).post(ITEMS, json=feature()).json()["id"]
    public = as_(Principal()).get(f"/activities/{proposal}/history").json()
    assert "proposer_name" not in public["activity"] and public["history"][0]["action"] == "dibuat"
    assert "Budi" not in str(public)
    own = as_(KEPLING).get(f"/activities/{proposal}/history").json()
    assert own["activity"]["proposer_name"] == "Budi"


def test_photo_upload_checks_the_evidence(as_):
    client = as_(KEPLING)
    proposal = client.post(ITEMS, json=feature()).json()["id"]
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    uploaded = client.post(f"/activities/{proposal}/attachments",
                           files={"file": ("lokasi.jpg", buffer.getvalue(), "image/jpeg")})
    assert uploaded.status_code == 201 and uploaded.json()["flagged"] is True
    fake = client.post(f"/activities/{proposal}/attachments",
                       files={"file": ("lokasi.jpg", b"<script>alert(1)</script>", "image/jpeg")})
    assert fake.status_code == 415
