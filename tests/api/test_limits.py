"""Limits on sizes and rates (issue 15 item 5), on a real PostGIS: request bodies bounded before they are read,
authentication before a body is looked at, vertex limits of activity kinds (one feature and a bulk import),
concurrent exports, and login attempts counted per account and per address in the database (shared by apps).
Slow and half-sent connections against a real `kotaku serve`: tests/e2e/test_slow_clients.py."""

from __future__ import annotations

import asyncio
import json
import math

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import ExportSlots
from data import data_path
from geo.errors import ServiceUnavailable
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from layers.imports.activities import import_activities
from layers.imports.regions import import_regions
from layers.imports.report import ImportFailed
from layers.settings import Settings

ITEMS = "/collections/activities/items"
ADMIN = cli_principal()
PASSWORD = "kata-sandi-bappeda-1"


def run(url: str, action):
    async def go():
        async with await connect_async(url, autocommit=True) as conn:
            return await action(conn)
    return asyncio.run(go())


def settings(**values) -> Settings:
    return Settings(**values)


def road(vertices: int = 2) -> dict:
    """A line of `vertices` vertices through kelurahan 12.71.01.1001 (Medan)."""
    step = 0.0018 / max(vertices - 1, 1)
    return {"type": "LineString", "coordinates": [[98.6850 + i * step, 3.5832 + (i % 2) * 1e-6]
                                                  for i in range(vertices)]}


def feature(geometry=None, kind="jalan_paving") -> dict:
    return {"type": "Feature", "geometry": geometry or road(),
            "properties": {"title": "Paving jalan RT 03", "kind": kind, "year_start": 2025, "program": "REGULER",
                           "funding_source": "APBD_KABKOTA", "tenant": "12.71"}}


@pytest.fixture
def medan(conn: psycopg.Connection) -> None:
    for level in ("kab_kota", "desa_kel"):
        import_regions(conn, data_path("demo", "boundaries", f"kota_medan_{level}.geojson"))


@pytest.fixture
def token(empty_db) -> str:
    """A bearer token of a bappeda user of Kota Medan (may propose and approve there)."""
    run(empty_db, lambda c: users.add_user(c, ADMIN, "bappeda.medan", "bappeda", "12.71", password=PASSWORD))
    return run(empty_db, lambda c: users.issue_token(c, ADMIN, "bappeda.medan"))[1]


def count(conn: psycopg.Connection, table: str = "activities") -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def asgi_call(app, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes, int]:
    """Send only the headers of a request to the app (ASGI, in-process): (status, headers, body, times the app
    asked for the body). A body the app never asks for is never read."""
    asked = 0
    sent: list[dict] = []

    async def receive():
        nonlocal asked
        asked += 1
        await asyncio.sleep(3600)  # the body never comes

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "state": {}}

    async def go():
        async with app.router.lifespan_context(app):
            scope["app"] = app
            await asyncio.wait_for(app(scope, receive, send), 20)
    asyncio.run(go())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body, asked


# -- bodies bounded before they are read ---------------------------------------------------------------------------

def test_a_declared_body_over_the_limit_is_413_without_reading_it(empty_db, token):
    app = create_app(empty_db, settings(body_max_mb=1))
    status, headers, body, asked = asgi_call(app, "POST", ITEMS, {
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Length": str(10**9)})
    error = json.loads(body)
    assert status == 413 and asked == 0, (status, body)
    assert error["code"] == "too_large" and "1 MB" in error["description"] and "KOTAKU_BODY_MAX_MB" in \
        error["description"] and error["details"]["content_length"] == 10**9
    assert headers["connection"] == "close"


def test_upload_and_login_have_limits_of_their_own(empty_db, token):
    app = create_app(empty_db, settings(upload_max_mb=50, login_body_max_kb=16, body_timeout_s=0.5))
    upload = {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=x"}
    status, _, body, asked = asgi_call(app, "POST", "/activities/1/attachments",
                                       {**upload, "Content-Length": str(51 * 2**20)})
    assert (status, asked) == (413, 0) and "50 MB" in json.loads(body)["description"]
    # 20 MB is a video's size: not refused unread; the app asks for the body, which never comes: 408
    status, _, body, asked = asgi_call(app, "POST", "/activities/1/attachments",
                                       {**upload, "Content-Length": str(20 * 2**20)})
    assert (status, asked) == (408, 1) and "stalled for more than 0.5 s" in json.loads(body)["description"]
    status, _, body, asked = asgi_call(app, "POST", "/auth/login",
                                       {"Content-Type": "application/json", "Content-Length": str(17 * 1024)})
    assert (status, asked) == (413, 0) and "16 KB" in json.loads(body)["description"]


def test_a_chunked_body_is_cut_at_the_limit_and_nothing_is_saved(empty_db, conn, medan, token):
    app = create_app(empty_db, settings(body_max_mb=0.05))
    padding = "x" * 200_000  # a 200 KB title in a body sent in chunks, without Content-Length

    def chunks():
        text = json.dumps({**feature(), "properties": {**feature()["properties"], "note": padding}}).encode()
        for start in range(0, len(text), 16_384):
            yield text[start:start + 16_384]

    with TestClient(app) as client:
        response = client.post(ITEMS, content=chunks(), headers={"Authorization": f"Bearer {token}",
                                                                 "Content-Type": "application/json"})
        assert response.status_code == 413, response.text
        error = response.json()
        assert error["code"] == "too_large" and "cut after" in error["description"]
        assert error["details"]["limit_bytes"] == int(0.05 * 2**20)
        assert count(conn) == 0
        small = client.post(ITEMS, json=feature(), headers={"Authorization": f"Bearer {token}"})
        assert small.status_code == 201, small.text  # the same route takes a body under the limit


# -- who before what -----------------------------------------------------------------------------------------------

BROKEN = b'{"type": "Feature", "geometry": {"type": "LineStr'


@pytest.mark.parametrize("method, path", [("post", ITEMS), ("put", f"{ITEMS}/1"), ("patch", f"{ITEMS}/1"),
                                          ("delete", f"{ITEMS}/1"), ("post", "/activities/1/transitions"),
                                          ("post", "/users"), ("post", "/activities/1/attachments")])
def test_an_anonymous_write_with_a_broken_body_is_401_not_a_400_about_the_body(empty_db, method, path):
    with TestClient(create_app(empty_db)) as client:
        response = client.request(method.upper(), path, content=BROKEN, headers={"Content-Type": "application/json"})
    assert response.status_code == 401, response.text
    error = response.json()
    assert error["code"] == "unauthorized" and "needs a user" in error["description"] and "LineStr" not in \
        response.text


def test_a_user_s_broken_body_is_400_and_a_wrong_token_401(empty_db, token):
    with TestClient(create_app(empty_db)) as client:
        mine = client.post(ITEMS, content=BROKEN, headers={"Content-Type": "application/json",
                                                           "Authorization": f"Bearer {token}"})
        assert mine.status_code == 400 and mine.json()["code"] == "invalid_input"
        wrong = client.post(ITEMS, content=BROKEN, headers={"Content-Type": "application/json",
                                                            "Authorization": "Bearer ktk_salah"})
        assert wrong.status_code == 401
        # the overlap check is public: anyone's broken body is a 400 about the body
        public = client.post("/overlap-check", content=BROKEN, headers={"Content-Type": "application/json"})
        assert public.status_code == 400
        unknown = client.post("/tidak-ada", content=BROKEN)
        assert unknown.status_code in (404, 405)  # unknown paths keep their answer


# -- vertices ------------------------------------------------------------------------------------------------------

def test_geometries_with_more_vertices_than_their_kind_allows_are_400(empty_db, conn, medan, token):
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(empty_db)) as client:
        too_long = client.post(ITEMS, json=feature(road(5_001)), headers=auth)
        assert too_long.status_code == 400, too_long.text
        error = too_long.json()
        assert "geometry has 5,001 vertices" in error["description"] and "'jalan_paving' may have at most 5,000" \
            in error["description"] and error["details"][0]["field"] == "geometry"
        two_points = {"type": "MultiPoint", "coordinates": [[98.6850, 3.5832], [98.6851, 3.5833]]}
        point = client.post(ITEMS, json=feature(two_points, kind="hidran_umum"), headers=auth)
        assert point.status_code == 400 and "at most 1" in point.json()["description"]
        assert count(conn) == 0
        fine = client.post(ITEMS, json=feature(road(4_999)), headers=auth)
        assert fine.status_code == 201, fine.text
        checked = client.post("/overlap-check", json=feature(road(6_000)))
        assert checked.status_code == 400 and "6,000 vertices" in checked.text


def test_the_vertex_limit_is_catalogue_data(conn):
    limits = dict(conn.execute("SELECT geometry_type, max(max_vertices) FROM activity_kinds GROUP BY 1"))
    assert limits == {"point": 1, "line": 5000, "polygon": 20000}


def test_a_bulk_import_names_the_feature_with_too_many_vertices(conn, medan, tmp_path):
    coordinates = ", ".join(f"{98.6850 + i * 1e-7:.7f} 3.5832" for i in range(5_200))
    path = tmp_path / "usulan.csv"
    path.write_text("title,kind,year_start,program,funding_source,WKT\n"
                    'Paving,jalan_paving,2025,REGULER,APBD_KABKOTA,"LINESTRING (98.6900 3.5832, 98.6910 3.5832)"\n'
                    f'Paving panjang,jalan_paving,2025,REGULER,APBD_KABKOTA,"LINESTRING ({coordinates})"\n')
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    (error,) = failed.value.report.errors
    assert error.feature == 2 and error.field == "geometry" and "5,200 vertices" in error.reason
    assert count(conn) == 0


# -- exports -------------------------------------------------------------------------------------------------------

def test_export_slots_let_one_more_wait_then_refuse_with_retry_after():
    slots = ExportSlots(1, wait_s=0.2)
    with slots.slot():
        with pytest.raises(ServiceUnavailable) as refused, slots.slot():
            pass
        assert refused.value.retry_after == 1 and "KOTAKU_EXPORT_CONCURRENCY" in refused.value.message
    with slots.slot():  # free again once the first is done
        pass


def test_an_export_over_the_concurrency_limit_is_503_with_retry_after(empty_db):
    app = create_app(empty_db, settings(export_concurrency=1, export_wait_s=0))
    with TestClient(app) as client:
        with app.state.export_slots.slot():  # another export is being written
            busy = client.get("/exports/keterpaduan.csv", params={"tenant": "12.71"})
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1", busy.text
        assert busy.json()["code"] == "unavailable" and "ekspor" in busy.json()["description"]
        free = client.get("/exports/keterpaduan.csv", params={"tenant": "12.71"})
        assert free.status_code != 503


# -- login attempts ------------------------------------------------------------------------------------------------

def login(client: TestClient, username: str, password: str):
    return client.post("/auth/login", json={"username": username, "password": password})


def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


@pytest.fixture
def accounts(empty_db) -> list[str]:
    with psycopg.connect(empty_db) as conn:  # empty_db keeps this table (tests/conftest.py DATA_TABLES)
        conn.execute("TRUNCATE login_attempts")
    names = ["pokja.satu", "pokja.dua", "pokja.tiga", "pokja.empat", "pokja.lima"]
    for name in names:
        run(empty_db, lambda c, name=name: users.add_user(c, ADMIN, name, "pokja", "12.71", password=PASSWORD))
    return names


def test_failed_logins_of_one_account_from_many_addresses_are_429(empty_db, accounts):
    app = create_app(empty_db, settings(login_max_failures=3, login_max_failures_address=100, login_window_s=600))
    with TestClient(app):
        for number in range(3):
            with from_address(app, f"10.0.0.{number + 1}") as client:
                assert login(client, "pokja.satu", "salah").status_code == 401
        with from_address(app, "10.0.0.9") as client:
            refused = login(client, "pokja.satu", PASSWORD)  # even the right password waits
            assert refused.status_code == 429, refused.text
            error = refused.json()
            assert error["code"] == "too_many_requests" and "Terlalu banyak" in error["description"] and \
                "Too many failed logins for account 'pokja.satu'" in error["description"]
            wait = int(refused.headers["Retry-After"])
            assert 590 <= wait <= 600 and f"{wait} detik" in error["description"]
            assert login(client, "pokja.dua", PASSWORD).status_code == 200  # other accounts are not locked


def test_failed_logins_from_one_address_across_accounts_are_429(empty_db, accounts):
    app = create_app(empty_db, settings(login_max_failures=100, login_max_failures_address=4))
    with from_address(app, "10.0.0.7") as client:
        for name in accounts[:4]:
            assert login(client, name, "salah").status_code == 401
        refused = login(client, accounts[4], PASSWORD)
        assert refused.status_code == 429 and "from address 10.0.0.7" in refused.json()["description"]
        assert "Retry-After" in refused.headers
    with from_address(app, "10.0.0.8") as other:
        assert login(other, accounts[4], PASSWORD).status_code == 200


def test_a_login_after_the_window_works(empty_db, accounts, conn):
    app = create_app(empty_db, settings(login_max_failures=2, login_window_s=600))
    with TestClient(app) as client:
        for _ in range(2):
            assert login(client, "pokja.satu", "salah").status_code == 401
        refused = login(client, "pokja.satu", PASSWORD)
        assert refused.status_code == 429 and 590 <= int(refused.headers["Retry-After"]) <= 600
        # ten minutes later (the failures moved back in time rather than the test waiting for them)
        conn.execute("UPDATE login_attempts SET at = at - interval '601 seconds'")
        conn.commit()
        assert login(client, "pokja.satu", PASSWORD).status_code == 200


def test_two_apps_on_one_database_share_the_counts(empty_db, accounts, conn):
    limits = settings(login_max_failures=4, login_window_s=600)
    first, second = create_app(empty_db, limits), create_app(empty_db, limits)
    with from_address(first, "10.1.0.1") as one, from_address(second, "10.2.0.2") as two:
        for client in (one, two, one, two):
            assert login(client, "pokja.tiga", "salah").status_code == 401
        assert login(one, "pokja.tiga", PASSWORD).status_code == 429
        assert login(two, "pokja.tiga", PASSWORD).status_code == 429
    assert conn.execute("SELECT count(*) FROM login_attempts WHERE username = 'pokja.tiga' AND NOT succeeded"
                        ).fetchone()[0] == 4  # the refused ones are not counted


def test_a_form_login_over_the_limit_shows_the_page_with_429(empty_db, accounts):
    import re

    app = create_app(empty_db, settings(login_max_failures=1))
    with TestClient(app) as client:
        assert login(client, "pokja.empat", "salah").status_code == 401
        page = client.get("/auth/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        refused = client.post("/auth/login", data={"username": "pokja.empat", "password": PASSWORD,
                                                   "csrf_token": csrf, "next": "/peta"}, follow_redirects=False)
        assert refused.status_code == 429 and "Terlalu banyak percobaan masuk" in refused.text
        assert math.isfinite(int(refused.headers["Retry-After"]))
