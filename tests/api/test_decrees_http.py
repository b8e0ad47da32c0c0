"""Decree versions over HTTP (GET /tenants/{tenant}/decree-versions, POST .../{version}/restore): after a real
--replace of the Medan demo decree, a bappeda of Medan lists what the replacement removed and restores it; the old
rows come back with their ids, the restore is in the audit trail under the caller's name. Unknown decrees and
versions are 404 naming what exists, in Indonesian when asked; callers without decree.manage are refused."""

from __future__ import annotations

import asyncio

import geopandas as gpd
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path
from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from layers.imports.slum_areas import import_slum_areas

VERSIONS = "/tenants/12.71/decree-versions"


def tokens(url: str) -> dict[str, str]:
    """Bearer tokens of a bappeda and a lurah of Medan and a bappeda of Sinjai (73.07)."""
    async def go() -> dict[str, str]:
        out = {}
        async with await connect_async(url, autocommit=True) as conn:
            for name, role, area in (("bappeda.medan", "bappeda", "12.71"), ("lurah.medan", "lurah", "12.71.01.1001"),
                                     ("bappeda.sinjai", "bappeda", "73.07")):
                await users.add_user(conn, cli_principal(), name, role, area, password="kata-sandi-uji-1")
                out[name] = (await users.issue_token(conn, cli_principal(), name))[1]
        return out

    return asyncio.run(go())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def areas(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT id, kawasan, area_ha, md5(ST_AsEWKB(geom)) FROM slum_areas WHERE tenant = '12.71' "
                        "ORDER BY id").fetchall()


@pytest.mark.writes_demo
def test_history_and_restore_over_http_bring_the_replaced_rows_back(demo_url, tmp_path):
    with psycopg.connect(demo_url, autocommit=True) as conn:
        decree = conn.execute("SELECT number FROM decrees WHERE tenant = '12.71'").fetchone()[0]
        old = areas(conn)
        revised = gpd.read_file(data_path("demo", "medan_slum_areas.geojson")).head(25)
        path = tmp_path / "sk_revisi.geojson"
        revised.to_file(path)
        with conn.transaction():
            import_slum_areas(conn, path, tenant="12.71", decree=decree, mode="replace")
        assert len(areas(conn)) == 25 and len(old) == 60
    token = tokens(demo_url)

    with TestClient(create_app(demo_url), raise_server_exceptions=False) as client:
        listed = client.get(VERSIONS, params={"decree": decree}, headers=bearer(token["bappeda.medan"]))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert (body["decree"], body["current"]["areas"]) == (decree, 25)
        [version] = body["versions"]
        assert (version["version"], version["areas"], version["replaced_by"]) == (1, 60, "sk_revisi.geojson")
        assert version["area_ha"] == round(sum(row[2] for row in old), 3)
        assert "Kawasan Pesisir Bagan Deli" in version["kawasan"] and version["restored_at"] is None
        # without ?decree= the tenant's only decree with versions
        assert client.get(VERSIONS, headers=bearer(token["bappeda.medan"])).json()["versions"] == body["versions"]

        for who, status in ((None, 401), ("lurah.medan", 403), ("bappeda.sinjai", 403)):
            headers = bearer(token[who]) if who else {}
            for response in (client.get(VERSIONS, headers=headers),
                             client.post(f"{VERSIONS}/1/restore", headers=headers)):
                assert response.status_code == status, (who, response.text)
        with psycopg.connect(demo_url) as conn:
            assert len(areas(conn)) == 25  # nothing restored by a refused caller

        missing = client.post(f"{VERSIONS}/9/restore", params={"decree": decree},
                              headers={**bearer(token["bappeda.medan"]), "Accept-Language": "id"})
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert missing.json()["description"] == (
            f"SK '{decree}' milik 12.71 tidak memiliki versi 9; versi yang ada: 1 (lihat 'kotaku decree history')")
        unknown = client.get(VERSIONS, params={"decree": "SK 999/2030"}, headers=bearer(token["bappeda.medan"]))
        assert unknown.status_code == 404
        assert unknown.json()["description"] == "kab/kota 12.71 has no decree 'SK 999/2030'"
        bad = client.get("/tenants/medan/decree-versions", headers=bearer(token["bappeda.medan"]))
        assert bad.status_code == 400 and "medan" in bad.json()["description"]

        restored = client.post(f"{VERSIONS}/1/restore", params={"decree": decree},
                               headers=bearer(token["bappeda.medan"]))
        assert restored.status_code == 200, restored.text
        result = restored.json()
        assert (result["restored_version"], result["restored_areas"]) == (1, 60)
        assert (result["replaced"]["version"], result["replaced"]["areas"]) == (2, 25)

        after = client.get(VERSIONS, headers=bearer(token["bappeda.medan"])).json()
        assert [v["version"] for v in after["versions"]] == [2, 1] and after["current"]["areas"] == 60
        assert after["versions"][1]["restored_at"] is not None

    with psycopg.connect(demo_url) as conn:
        assert areas(conn) == old  # the same ids, attributes and geometries
        audit = conn.execute("SELECT actor, actor_role, tenant, after FROM audit_log WHERE action = 'decree.restore'"
                             ).fetchall()
    assert audit == [("bappeda.medan", "bappeda", "12.71", {"version": 1, "areas": 60})]
