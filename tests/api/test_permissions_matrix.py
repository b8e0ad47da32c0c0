"""Role x action x own/other tenant over HTTP, with real bearer tokens: every write endpoint answers its success
status when allowed and 401 (anonymous) or 403 (logged in, not allowed) otherwise; reads of items (and tiles, when
served) show another tenant's non-public rows to nobody but admin (404 for one item, absent from lists).

The callers belong to tenant A (12.71): a kepling of 12.71.01.1001/Lingkungan 02, the lurah of that kelurahan, the
camat of 12.71.01, an opd (Dinas PU), bappeda, pokja, a konsultan assigned to 12.71, and an admin. 'own' targets lie
in that very lingkungan of tenant A (created by the kepling, sent to Dinas PU); 'other' targets are the same in
tenant B (73.07). `test_every_write_endpoint_is_in_the_matrix` fails when an endpoint is added without a row here.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from tests.conftest import DATA_TABLES
from tests.two_tenants import ORIGIN, seed

A, B = "12.71", "73.07"
TENANT = {"own": A, "other": B}
ROLES = ("publik", "kepling", "lurah", "camat", "opd", "bappeda", "pokja", "konsultan", "admin")
ACCOUNTS = {  # role -> (user name, area)
    "kepling": ("kepling.a", f"{A}.01.1001/Lingkungan 02"),
    "lurah": ("lurah.a", f"{A}.01.1001"),
    "camat": ("camat.a", f"{A}.01"),
    "opd": ("pu.a", f"{A}/Dinas PU"),
    "bappeda": ("bappeda.a", A),
    "pokja": ("pokja.a", A),
    "konsultan": ("konsultan.a", A),
    "admin": ("admin.a", None),
}
PASSWORD = "kata-sandi-uji"


@dataclass
class World:
    client: TestClient
    url: str
    tokens: dict[str, str]
    ids: dict[str, dict[str, int]]
    counter: itertools.count

    def headers(self, role: str) -> dict[str, str]:
        self.client.cookies.clear()
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role != "publik" else {}

    def owner(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True)

    def point(self, place: str) -> dict:
        """A new spot in the kelurahan 1001 of the place's tenant, ~110 m from every other: no overlap."""
        n = next(self.counter)
        lon, lat = ORIGIN[TENANT[place]]
        return {"type": "Point", "coordinates": [round(lon + 0.004 + 0.001 * (n % 40), 6),
                                                 round(lat + 0.001 + 0.001 * (n // 40), 6)]}

    def activity(self, place: str, stage: str = "rembuk_warga") -> int:
        """A fresh proposal: in Lingkungan 02 of the place's kelurahan 1001, sent to Dinas PU, by its kepling."""
        tenant = TENANT[place]
        lon, lat = self.point(place)["coordinates"]
        with self.owner() as conn:
            return conn.execute(
                "INSERT INTO activities (tenant, title, kind, year_start, year_end, proposer_area, proposer_name, "
                "proposer_phone, target_agency, kelurahan_code, stage, created_by, geom) VALUES (%s, 'Hidran', "
                "'hidran_umum', 2025, 2025, 'Lingkungan 02', 'Pak Budi', '0812', 'Dinas PU', %s, %s, %s, "
                "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
                [tenant, f"{tenant}.01.1001", stage, "kepling.a" if place == "own" else "kepling.b", lon, lat],
            ).fetchone()[0]

    def asset(self, place: str) -> int:
        """A fresh asset: a proposal of the place handed over (serah terima), registered as the workflow does."""
        from layers.planning.assets import register_asset

        activity = self.activity(place, "serah_terima")
        with self.owner() as conn:
            return register_asset(conn, activity, actor="pokja.a")

    def group(self, place: str) -> int:
        """A fresh KPP in the kelurahan 1001 of the place's tenant."""
        tenant = TENANT[place]
        with self.owner() as conn:
            return conn.execute("INSERT INTO groups (tenant, kind, name, kelurahan_code) VALUES (%s, 'kpp', "
                                "'KPP uji', %s) RETURNING id", [tenant, f"{tenant}.01.1001"]).fetchone()[0]

    def plan(self, place: str) -> int:
        """A fresh RKM of the kelurahan 1001 of the place's tenant."""
        tenant = TENANT[place]
        with self.owner() as conn:
            return conn.execute("INSERT INTO plans (tenant, kind, title, kelurahan_code, year_start, year_end) "
                                "VALUES (%s, 'rkm', 'RKM uji', %s, 2026, 2026) RETURNING id",
                                [tenant, f"{tenant}.01.1001"]).fetchone()[0]

    def plan_item(self, place: str) -> int:
        with self.owner() as conn:
            return conn.execute("INSERT INTO plan_items (plan_id, title) VALUES (%s, 'Butir uji') RETURNING id",
                                [self.plan(place)]).fetchone()[0]

    def pending_step(self, place: str) -> int:
        """A fresh activity at pelaksanaan whose progress step 0 waits for verification (reported by someone else)."""
        activity = self.activity(place, "pelaksanaan")
        with self.owner() as conn:
            photo = conn.execute("INSERT INTO activity_attachments (activity_id, file_name, stored_path, media_type, "
                                 "size_bytes, sha256) VALUES (%s, 'a.png', 'x', 'image/png', 1, 'ab') RETURNING id",
                                 [activity]).fetchone()[0]
            conn.execute("INSERT INTO progress_steps (activity_id, step, attachment_id, state, reported_by) VALUES "
                         "(%s, 0, %s, 'perlu_verifikasi', 'pelapor.lain')", [activity, photo])
        return activity

    def decree_version(self, place: str) -> str:
        """A fresh decree of the place's tenant whose one area was replaced away: version 1, ready to restore."""
        from layers.imports.decree_versions import archive_and_remove

        tenant, n = TENANT[place], next(self.counter)
        lon, lat = ORIGIN[tenant]
        with self.owner() as conn, conn.cursor() as cur:
            decree = cur.execute("INSERT INTO decrees (tenant, number) VALUES (%s, %s) RETURNING id",
                                 [tenant, f"SK uji/{n}"]).fetchone()[0]
            cur.execute("INSERT INTO slum_areas (tenant, decree_id, kawasan, kelurahan_code, area_ha, geom) VALUES "
                        "(%s, %s, 'Kawasan uji', %s, 1, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
                        "0.0003)))", [tenant, decree, f"{tenant}.01.1001", lon + 0.04, lat + 0.04])
            archive_and_remove(cur, tenant, decree, reason="replace", replaced_by="uji.geojson", actor="uji")
        return f"SK uji/{n}"

    def restore(self, role: str, place: str):
        """Restore version 1 of a fresh decree over HTTP; the area it brings back is deleted afterwards, so the
        read tests below see the seeded rows only."""
        number = self.decree_version(place)
        response = self.client.post(f"/tenants/{TENANT[place]}/decree-versions/1/restore", params={"decree": number},
                                    headers=self.headers(role))
        with self.owner() as conn:
            conn.execute("DELETE FROM slum_areas WHERE decree_id = (SELECT id FROM decrees WHERE number = %s)",
                         [number])
        return response

    def user(self, place: str) -> str:
        """A fresh user of the place's tenant (written straight to the table: no password needed here)."""
        name = f"target{next(self.counter)}"
        with self.owner() as conn:
            conn.execute("INSERT INTO users (username, role, area_code, tenant) VALUES (%s, 'lurah', %s, %s)",
                         [name, f"{TENANT[place]}.01.1001", TENANT[place]])
        return name

    def token_of(self, username: str) -> int:
        with self.owner() as conn:
            return conn.execute("INSERT INTO api_tokens (user_id, kind, secret_hash) SELECT id, 'token', 'x' "
                                "FROM users WHERE username = %s RETURNING id", [username]).fetchone()[0]


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with psycopg.connect(database_url) as conn:
        conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
        ids = seed(conn)

    async def accounts() -> dict[str, str]:
        tokens = {}
        async with await connect_async(database_url, autocommit=True) as conn:
            for role, (name, area) in ACCOUNTS.items():
                await users.add_user(conn, cli_principal(), name, role, area, password=PASSWORD)
                tokens[role] = (await users.issue_token(conn, cli_principal(), name))[1]
        return tokens

    tokens = asyncio.run(accounts())
    patch = pytest.MonkeyPatch()
    patch.setenv("KOTAKU_ATTACHMENTS", str(tmp_path_factory.mktemp("attachments")))
    with TestClient(create_app(database_url)) as client:
        yield World(client, database_url, tokens, ids, itertools.count())
    patch.undo()


# -- the write endpoints ---------------------------------------------------------------------------------------
def feature(world: World, place: str, **properties) -> dict:
    props = {"tenant": TENANT[place], "title": "Hidran umum", "kind": "hidran_umum", "year_start": 2026,
             "proposer_area": "Lingkungan 02", "target_agency": "Dinas PU", **properties}
    return {"type": "Feature", "geometry": world.point(place), "properties": props}


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 80, 20)).save(buffer, format="PNG")
    return buffer.getvalue()


# The step each role takes in the workflow, and the stage a proposal must be at for it.
STEPS = {
    "publik": ("teruskan", "rembuk_warga"), "kepling": ("batalkan", "rembuk_warga"),
    "lurah": ("teruskan", "rembuk_warga"), "camat": ("teruskan", "musrenbang_kelurahan"),
    "opd": ("teruskan", "musrenbang_kecamatan"), "bappeda": ("teruskan", "renja_opd"),
    "pokja": ("teruskan", "renja_opd"), "konsultan": ("teruskan", "rembuk_warga"),
    "admin": ("teruskan", "rembuk_warga"),
}


def track(world: World) -> bytes:
    """A phone's GeoJSON track of two fixes in tenant A: reading it stores nothing."""
    start, end = world.point("own")["coordinates"], world.point("own")["coordinates"]
    line = {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [start, end]}}
    return json.dumps({"type": "FeatureCollection", "features": [line]}).encode()


def transition(world: World, role: str, place: str):
    action, stage = STEPS[role]
    activity = world.activity(place, stage)
    return world.client.post(f"/activities/{activity}/transitions", headers=world.headers(role),
                             json={"action": action, "reason": "uji matriks"})


def login(world: World, role: str, place: str):
    name = ACCOUNTS[role][0] if role != "publik" else "tidak.ada"
    world.client.cookies.clear()
    return world.client.post("/auth/login", json={"username": name, "password": PASSWORD})


def logout(world: World, role: str, place: str):
    world.client.cookies.clear()
    csrf = "none"
    if role != "publik":
        csrf = world.client.post("/auth/login", json={"username": ACCOUNTS[role][0], "password": PASSWORD}
                                 ).json()["csrf_token"]
    response = world.client.post("/auth/logout", headers={"X-CSRF-Token": csrf})
    world.client.cookies.clear()
    return response


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document
    call: Callable[[World, str, str], object]
    allowed: dict[str, tuple[str, ...]]  # role -> places where it is allowed
    success: int
    places: tuple[str, ...] = ("own", "other")


EVERYWHERE = ("own", "other")
ADMIN_ONLY = {"admin": EVERYWHERE}
ALL_ROLES = {role: ("-",) for role in ROLES}
LOGGED_IN = {role: ("-",) for role in ROLES if role != "publik"}
KEPLING_OWN = {"kepling": ("own",), "admin": EVERYWHERE}
ASSET_INSPECTORS = {**{role: ("own",) for role in ("opd", "lurah", "bappeda", "pokja")}, "admin": EVERYWHERE}
GROUP_MANAGERS = {**{role: ("own",) for role in ("lurah", "bappeda", "pokja")}, "admin": EVERYWHERE}

ENDPOINTS = {
    "login": Endpoint("post", "/auth/login", login, LOGGED_IN, 200, ("-",)),
    "logout": Endpoint("post", "/auth/logout", logout, LOGGED_IN, 204, ("-",)),
    "user.add": Endpoint("post", "/users", lambda w, r, p: w.client.post(
        "/users", headers=w.headers(r), json={"username": f"baru{next(w.counter)}", "role": "kepling",
                                              "area": f"{TENANT[p]}.01.1001/Lingkungan 09"}), ADMIN_ONLY, 201),
    "user.disable": Endpoint("post", "/users/{username}/disable", lambda w, r, p: w.client.post(
        f"/users/{w.user(p)}/disable", headers=w.headers(r)), ADMIN_ONLY, 200),
    "user.enable": Endpoint("post", "/users/{username}/enable", lambda w, r, p: w.client.post(
        f"/users/{w.user(p)}/enable", headers=w.headers(r)), ADMIN_ONLY, 200),
    "user.password": Endpoint("post", "/users/{username}/password", lambda w, r, p: w.client.post(
        f"/users/{w.user(p)}/password", headers=w.headers(r), json={}), ADMIN_ONLY, 200),
    "token.issue": Endpoint("post", "/users/{username}/tokens", lambda w, r, p: w.client.post(
        f"/users/{w.user(p)}/tokens", headers=w.headers(r), json={"label": "uji"}), ADMIN_ONLY, 201),
    "token.revoke": Endpoint("delete", "/users/{username}/tokens/{token_id}", lambda w, r, p: (
        lambda name: w.client.delete(f"/users/{name}/tokens/{w.token_of(name)}", headers=w.headers(r)))(w.user(p)),
        ADMIN_ONLY, 200),
    "overlap-check": Endpoint("post", "/overlap-check", lambda w, r, p: w.client.post(
        "/overlap-check", headers=w.headers(r), json=feature(w, "own")), ALL_ROLES, 200, ("-",)),
    "drawing.snap": Endpoint("post", "/drawing/snap", lambda w, r, p: w.client.post(
        "/drawing/snap", headers=w.headers(r), json={"geometry": w.point("own"), "tolerance_m": 20, "tenant": A}),
        ALL_ROLES, 200, ("-",)),
    "drawing.track": Endpoint("post", "/drawing/track", lambda w, r, p: w.client.post(
        "/drawing/track", headers=w.headers(r), files={"file": ("jejak.geojson", track(w), "application/geo+json")}),
        LOGGED_IN, 200, ("-",)),
    "activity.create": Endpoint("post", "/collections/activities/items", lambda w, r, p: w.client.post(
        "/collections/activities/items", headers=w.headers(r), json=feature(w, p)),
        {**KEPLING_OWN, "bappeda": ("own",), "pokja": ("own",)}, 201),
    "activity.put": Endpoint("put", "/collections/activities/items/{activity_id}", lambda w, r, p: w.client.put(
        f"/collections/activities/items/{w.activity(p)}", headers=w.headers(r), json=feature(w, p)),
        KEPLING_OWN, 200),
    "activity.patch": Endpoint("patch", "/collections/activities/items/{activity_id}", lambda w, r, p: w.client.patch(
        f"/collections/activities/items/{w.activity(p)}", headers=w.headers(r),
        json={"type": "Feature", "properties": {"title": "Hidran umum (diperbaiki)"}}), KEPLING_OWN, 200),
    "activity.delete": Endpoint("delete", "/collections/activities/items/{activity_id}", lambda w, r, p: (
        w.client.delete(f"/collections/activities/items/{w.activity(p)}", headers=w.headers(r))), KEPLING_OWN, 204),
    "activity.transition": Endpoint("post", "/activities/{activity_id}/transitions", transition,
                                    {**{role: ("own",) for role in ("kepling", "lurah", "camat", "opd", "bappeda",
                                                                    "pokja")}, "admin": EVERYWHERE}, 200),
    "activity.attach": Endpoint("post", "/activities/{activity_id}/attachments", lambda w, r, p: w.client.post(
        f"/activities/{w.activity(p)}/attachments", headers=w.headers(r),
        files={"file": ("foto.png", png(), "image/png")}),
        {**{role: ("own",) for role in ("kepling", "opd", "bappeda", "pokja")}, "admin": EVERYWHERE}, 201),
    # the asset register (issue 12): the receiving OPD (Dinas PU), planners, and for inspections the lurah
    "asset.patch": Endpoint("patch", "/assets/{asset_id}", lambda w, r, p: w.client.patch(
        f"/assets/{w.asset(p)}", headers=w.headers(r), json={"handover_number": "BA/uji/2025"}),
        {**{role: ("own",) for role in ("opd", "bappeda", "pokja")}, "admin": EVERYWHERE}, 200),
    "asset.inspect": Endpoint("post", "/assets/{asset_id}/inspections", lambda w, r, p: w.client.post(
        f"/assets/{w.asset(p)}/inspections", headers=w.headers(r),
        json={"inspected_on": "2025-01-10", "condition": "rusak_ringan"}), ASSET_INSPECTORS, 201),
    "asset.maintain": Endpoint("post", "/assets/{asset_id}/maintenance", lambda w, r, p: w.client.post(
        f"/assets/{w.asset(p)}/maintenance", headers=w.headers(r),
        json={"done_on": "2025-02-01", "kind": "pemeliharaan"}), ASSET_INSPECTORS, 201),
    "group.create": Endpoint("post", "/groups", lambda w, r, p: w.client.post(
        "/groups", headers=w.headers(r), json={"tenant": TENANT[p], "kind": "kpp", "name": "KPP baru",
                                               "kelurahan_code": f"{TENANT[p]}.01.1001"}), GROUP_MANAGERS, 201),
    "group.member": Endpoint("post", "/groups/{group_id}/members", lambda w, r, p: w.client.post(
        f"/groups/{w.group(p)}/members", headers=w.headers(r), json={"name": "Anggota uji"}), GROUP_MANAGERS, 201),
    # issue 12 items 3-4: progress verification, plans, budget lines (layers/accounts/permissions.py)
    "progress.verify": Endpoint("post", "/activities/{activity_id}/progress/{step}/verification",
                                lambda w, r, p: w.client.post(
        f"/activities/{w.pending_step(p)}/progress/0/verification", headers=w.headers(r),
        json={"decision": "konfirmasi", "reason": "dicek di lapangan"}),
        {**{role: ("own",) for role in ("lurah", "opd", "pokja")}, "admin": EVERYWHERE}, 200),
    "plan.create": Endpoint("post", "/plans", lambda w, r, p: w.client.post(
        "/plans", headers=w.headers(r), json={"kind": "rkm", "tenant": TENANT[p], "year_start": 2026,
                                              "kelurahan_code": f"{TENANT[p]}.01.1001"}), GROUP_MANAGERS, 201),
    "plan.item": Endpoint("post", "/plans/{plan_id}/items", lambda w, r, p: w.client.post(
        f"/plans/{w.plan(p)}/items", headers=w.headers(r), json={"title": "Paving gang", "year": 2026}),
        GROUP_MANAGERS, 201),
    "plan.link": Endpoint("put", "/activities/{activity_id}/plan-item", lambda w, r, p: w.client.put(
        f"/activities/{w.activity(p)}/plan-item", headers=w.headers(r), json={"plan_item_id": w.plan_item(p)}),
        GROUP_MANAGERS, 200),
    "budget.line": Endpoint("post", "/activities/{activity_id}/budget-lines", lambda w, r, p: w.client.post(
        f"/activities/{w.activity(p)}/budget-lines", headers=w.headers(r),
        json={"year": 2026, "account_code": "5.1.02.01", "funding_source": "APBN", "allocated": 1000000}),
        {**{role: ("own",) for role in ("opd", "bappeda", "pokja")}, "admin": EVERYWHERE}, 201),
    # decree versions (issue 11): restoring what a --replace removed needs decree.manage in the kab/kota
    "decree.restore": Endpoint("post", "/tenants/{tenant}/decree-versions/{version}/restore",
                               lambda w, r, p: w.restore(r, p), {"bappeda": ("own",), "pokja": ("own",),
                                                                 "admin": EVERYWHERE}, 200),
}
CASES = [(name, role, place) for name, endpoint in ENDPOINTS.items() for role in ROLES for place in endpoint.places]


def test_every_write_endpoint_is_in_the_matrix(world):
    writes = {(method, path) for path, operations in world.client.get("/openapi.json").json()["paths"].items()
              for method in operations if method in ("post", "put", "patch", "delete")}
    covered = {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS.values()}
    assert writes - covered == set(), "write endpoints without a row in the permission matrix"


@pytest.mark.parametrize(("endpoint", "role", "place"), CASES, ids=["-".join(case) for case in CASES])
def test_write_matrix(world, endpoint, role, place):
    spec = ENDPOINTS[endpoint]
    response = spec.call(world, role, place)
    allowed = place in spec.allowed.get(role, ())
    expected = spec.success if allowed else (401 if role == "publik" else 403)
    assert response.status_code == expected, response.text[:400]
    if not allowed:
        assert response.json()["code"] in ("unauthorized", "forbidden")


# -- reads -------------------------------------------------------------------------------------------------------
ROWS = {"slum-areas": ("published", "unpublished"), "survey-units": ("unit_published", "unit_unpublished")}


PUBLISHED = {"published", "unit_published"}


def readable(role: str, tenant_place: str, state: str) -> bool:
    """Published rows: everyone; unpublished: the own tenant's users and admin."""
    if state in PUBLISHED or role == "admin":
        return True
    return tenant_place == "own" and role != "publik"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("collection", list(ROWS))
def test_item_reads(world, role, collection):
    listed = world.client.get(f"/collections/{collection}/items", params={"limit": 1000},
                              headers=world.headers(role))
    assert listed.status_code == 200
    ids = {feature["id"] for feature in listed.json()["features"]}
    for place, tenant in TENANT.items():
        for state in ROWS[collection]:
            fid = world.ids[tenant][state]
            one = world.client.get(f"/collections/{collection}/items/{fid}", headers=world.headers(role))
            expected = readable(role, place, state)
            assert one.status_code == (200 if expected else 404), (place, state, one.text[:200])
            assert (fid in ids) is expected, (place, state)


@pytest.mark.parametrize("role", ROLES)
def test_public_collections_and_no_personal_data(world, role):
    regions = world.client.get("/collections/regions/items", params={"limit": 100}, headers=world.headers(role))
    assert regions.json()["numberMatched"] == 6
    activities = world.client.get("/collections/activities/items", params={"limit": 1000},
                                  headers=world.headers(role)).json()
    seeded = {world.ids[A]["activity"], world.ids[B]["activity"]}
    assert seeded <= {f["id"] for f in activities["features"]}  # proposals are public, with their stage
    text = str(activities)
    assert "Pak Budi" not in text and "0812" not in text  # never the proposer's name or phone


SUMMARIES = {"slum-areas": "/slum-areas/{slum_area_id}/scores", "survey-units": "/survey-units/{unit_id}/scores"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("collection", list(SUMMARIES))
def test_summary_reads(world, role, collection):
    """Score summaries of one slum area or survey unit: 404 where its item is not readable."""
    assert SUMMARIES[collection] in world.client.get("/openapi.json").json()["paths"], (
        f"{SUMMARIES[collection]} is not served: renamed or dropped? this matrix must read through it")
    for place, tenant in TENANT.items():
        for state in ROWS[collection]:
            url = re.sub(r"\{\w+\}", str(world.ids[tenant][state]), SUMMARIES[collection])
            response = world.client.get(url, headers=world.headers(role))
            assert response.status_code == (200 if readable(role, place, state) else 404), (place, state)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


TILE_ROUTES = {  # the served tile paths this test reads through, and the URL of one tile
    "/tiles/{collection_id}/{z}/{x}/{y}.pbf": "/tiles/{c}/{z}/{x}/{y}.pbf",
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}":
        "/collections/{c}/tiles/WebMercatorQuad/{z}/{y}/{x}",
}
PNG_ROUTES = {
    "/tiles/{collection_id}/{z}/{x}/{y}.png": "/tiles/{c}/{z}/{x}/{y}.png",
    "/collections/{collection_id}/map/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}":
        "/collections/{c}/map/tiles/WebMercatorQuad/{z}/{y}/{x}",
}


def served(world: World, routes: dict[str, str]) -> list[str]:
    """The URLs of `routes`; every one must be served (a renamed or dropped route fails here, never skips)."""
    paths = world.client.get("/openapi.json").json()["paths"]
    missing = [path for path in routes if path not in paths]
    assert not missing, f"not served (renamed or dropped?): {missing}"
    return list(routes.values())


def mvt(world: World, role: str, url: str) -> dict:
    import mapbox_vector_tile

    response = world.client.get(url, headers=world.headers(role))
    assert response.status_code in (200, 204), response.text[:200]
    return mapbox_vector_tile.decode(response.content) if response.status_code == 200 and response.content else {}


@pytest.mark.parametrize("role", ROLES)
def test_vector_tile_reads(world, role):
    """Tiles hold another tenant's non-public slum areas for nobody but admin: features at zoom 15, and the
    counts of the per-kelurahan aggregates at zoom 10 count only what the caller may read."""
    urls = served(world, TILE_ROUTES)
    for url, (place, tenant) in itertools.product(urls, TENANT.items()):
        lon, lat = ORIGIN[tenant]
        for state, offset in (("published", 0.015), ("unpublished", 0.035)):
            x, y = tile_of(lon + offset, lat + offset, 15)
            layers = mvt(world, role, url.format(c="slum-areas", z=15, x=x, y=y))
            ids = {f["id"] for f in layers.get("slum-areas", {}).get("features", [])}
            assert (world.ids[tenant][state] in ids) is readable(role, place, state), (url, place, state)
        x, y = tile_of(lon + 0.025, lat + 0.025, 10)
        layers = mvt(world, role, url.format(c="slum-areas", z=10, x=x, y=y))
        counts = [f["properties"]["slum_areas"] for f in layers.get("slum-areas", {}).get("features", [])]
        assert counts == [1 + readable(role, place, "unpublished")], (url, place)


@pytest.mark.parametrize("role", ROLES)
def test_png_tile_reads(world, role):
    """A PNG tile showing only another tenant's unpublished slum area is blank for everyone but admin."""
    from PIL import Image

    urls = served(world, PNG_ROUTES)
    for url, (place, tenant) in itertools.product(urls, TENANT.items()):
        lon, lat = ORIGIN[tenant]
        x, y = tile_of(lon + 0.035, lat + 0.035, 15)
        response = world.client.get(url.format(c="slum-areas", z=15, x=x, y=y), headers=world.headers(role))
        assert response.status_code in (200, 204), response.text[:200]
        painted = False
        if response.status_code == 200 and response.content:
            image = Image.open(io.BytesIO(response.content)).convert("RGBA")
            painted = image.getchannel("A").getextrema()[1] > 0  # some pixel is not transparent
        assert painted is readable(role, place, "unpublished"), (url, place)
