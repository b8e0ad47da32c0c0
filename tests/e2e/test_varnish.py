"""A shared HTTP cache in front (issue 14 item 2 and the cache goal): Varnish with deploy/varnish/kotaku.vcl before a
real `kotaku serve` that sends it BAN on writes (KOTAKU_CACHE_PURGE_URLS). Public tiles and items are kept for an
hour and served without asking the origin, a write through the API shows on the next request (the app bans the
layers it changed before it answers), an edit in bare SQL shows once `kotaku cache purge` bans its layer, BAN is
refused from outside the ACL's addresses... (loopback here: checked by its syntax answer), a logged-in caller's
answer never reaches anyone else, and static files are kept."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import morecantile
import psycopg
import pytest

from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from layers.serving.purge import REBAN_DELAY_S
from tests.e2e.servers import free_port, running_server
from tests.e2e.varnish import available, varnish

pytestmark = pytest.mark.skipif(not available(), reason="varnishd is not installed (Debian package varnish; "
                                                        "`make test` installs it)")
TMS = morecantile.tms.get("WebMercatorQuad")
PASSWORD = "kata-sandi-pokja-123"
SLUMS = "/collections/slum-areas/items"
KOTAKU = str(Path(sys.executable).with_name("kotaku"))


@pytest.fixture(scope="module")
def site(fresh_demo):
    url = fresh_demo()
    with psycopg.connect(url) as conn:  # one decree unpublished: its slum areas are for logged-in users only
        hidden = conn.execute("UPDATE decrees SET published = false WHERE id = (SELECT min(id) FROM decrees) "
                              "RETURNING (SELECT count(*) FROM slum_areas s WHERE s.decree_id = decrees.id)"
                              ).fetchone()[0]
        tenant = conn.execute("SELECT tenant FROM decrees ORDER BY id LIMIT 1").fetchone()[0]
        lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Extent(geom)) c "
                                "FROM slum_areas) s").fetchone()
        activity = conn.execute("SELECT min(id) FROM activities").fetchone()[0]
        conn.commit()
    assert hidden > 0

    async def add():
        async with await connect_async(url, autocommit=True) as aconn:
            await users.add_user(aconn, cli_principal(), "pokja.kota", "pokja", tenant, password=PASSWORD)
            return (await users.issue_token(aconn, cli_principal(), "pokja.kota"))[1]
    token = asyncio.run(add())
    port = free_port()
    purge = {"KOTAKU_CACHE_PURGE_URLS": f"http://127.0.0.1:{port}"}
    with running_server(url, env=purge) as origin, varnish(origin, port=port) as cache:
        yield {"url": url, "origin": origin, "cache": cache, "token": token, "hidden": hidden,
               "tile": TMS.tile(lon, lat, 14), "activity": activity, "purge": purge,
               "tenant": tenant}
    fresh_demo.drop(url)


def count(response: httpx.Response) -> int:
    return len(response.json()["features"])


def test_a_repeated_public_tile_comes_from_the_cache_without_asking_the_origin(site):
    tile = site["tile"]
    path = f"/tiles/activities/14/{tile.x}/{tile.y}.pbf"
    first = httpx.get(site["cache"] + path)
    second = httpx.get(site["cache"] + path)
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert first.headers["x-kotaku-layers"] == "activities"  # what a ban of the layer reaches
    assert second.headers["x-cache"] == "HIT" and second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert "public" in second.headers["cache-control"] and "Authorization" in second.headers["vary"]
    # and a client revalidating through the cache gets its 304 from the cache
    again = httpx.get(site["cache"] + path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_a_write_through_the_api_shows_through_the_cache_on_the_next_request(site):
    tile = site["tile"]
    paths = [f"/tiles/activities/14/{tile.x}/{tile.y}.pbf", "/collections/activities/items?limit=5000",
             f"/tiles/slum-areas/14/{tile.x}/{tile.y}.pbf"]
    for path in paths:
        httpx.get(site["cache"] + path)
    before = {path: httpx.get(site["cache"] + path) for path in paths}
    assert all(answer.headers["x-cache"] == "HIT" for answer in before.values())
    with psycopg.connect(site["url"]) as conn:  # a step the city's pokja may take on one of its proposals
        activity = conn.execute(
            "SELECT id, CASE stage WHEN 'renja_opd' THEN 'teruskan' ELSE 'teruskan_pokir' END FROM activities "
            "WHERE stage IN ('renja_opd', 'musrenbang_kecamatan') AND status = 'aktif' AND tenant = %s "
            "ORDER BY id LIMIT 1",
            [site["tenant"]]).fetchone()
    assert activity, "the demo should have a proposal the pokja may take a step on"
    bearer = {"Authorization": f"Bearer {site['token']}"}
    write = httpx.post(f"{site['cache']}/activities/{activity[0]}/transitions", json={"action": activity[1]},
                       headers=bearer)
    assert write.status_code < 300, write.text
    after = {path: httpx.get(site["cache"] + path) for path in paths}
    for path in paths[:2]:  # the activities layer was banned: the very next request is fetched, and current
        assert after[path].headers["x-cache"] == "MISS", path
        assert after[path].headers["etag"] != before[path].headers["etag"]
        assert after[path].headers["etag"] == httpx.get(site["origin"] + path).headers["etag"]
    assert after[paths[2]].headers["x-cache"] == "HIT"  # slum areas did not change: still served from the cache


def test_an_edit_in_sql_shows_once_its_layer_is_purged(site):
    path = f"/collections/activities/items/{site['activity']}"
    # the write of the test before bans `activities` again REBAN_DELAY_S after it answered (layers/serving/purge.py):
    # let that second ban pass first, or it drops the copy stored below
    time.sleep(REBAN_DELAY_S + 1)
    before = httpx.get(site["cache"] + path)
    assert httpx.get(site["cache"] + path).headers["x-cache"] == "HIT"
    with psycopg.connect(site["url"]) as conn:
        conn.execute("UPDATE activities SET title = 'Judul baru lewat cache' WHERE id = %s", [site["activity"]])
        conn.commit()
    # bare SQL sends no ban: the stored copy is still served ...
    assert httpx.get(site["cache"] + path).headers["x-cache"] == "HIT"
    done = subprocess.run([KOTAKU, "cache", "purge", "activities"], capture_output=True, text=True,
                          env={**os.environ, **site["purge"], "DATABASE_URL": site["url"]})
    assert done.returncode == 0, done.stderr
    after = httpx.get(site["cache"] + path)  # ... until the layer is banned
    assert after.headers["x-cache"] == "MISS" and after.headers["etag"] != before.headers["etag"]
    assert after.json()["properties"]["title"] == "Judul baru lewat cache"
    tile = site["tile"]  # the tile of the same layer changes its tag too
    tile_path = f"/tiles/activities/14/{tile.x}/{tile.y}.pbf"
    assert httpx.get(site["cache"] + tile_path).headers["etag"] == httpx.get(site["origin"] + tile_path).headers["etag"]


def test_a_logged_in_answer_is_never_served_to_anyone_else(site):
    bearer = {"Authorization": f"Bearer {site['token']}"}
    # logged in first, on a URL nobody asked for yet: passed, not stored
    scoped = httpx.get(site["cache"] + SLUMS, params={"limit": 4999}, headers=bearer)
    assert scoped.status_code == 200 and scoped.headers["x-cache"] == "PASS"
    assert scoped.headers["cache-control"].startswith("private")
    public = httpx.get(site["cache"] + SLUMS, params={"limit": 4999})
    assert public.headers["x-cache"] == "MISS"
    assert count(public) == count(scoped) - site["hidden"]  # not the logged-in answer
    # anonymous first (stored), then logged in: never the public copy
    assert httpx.get(site["cache"] + SLUMS, params={"limit": 4999}).headers["x-cache"] == "HIT"
    again = httpx.get(site["cache"] + SLUMS, params={"limit": 4999}, headers=bearer)
    assert again.headers["x-cache"] == "PASS" and count(again) == count(scoped)
    # a session cookie (pages) is a credential too; another cookie is not
    with httpx.Client(base_url=site["cache"]) as browser:
        login = browser.post("/auth/login", json={"username": "pokja.kota", "password": PASSWORD})
        assert login.status_code == 200 and browser.cookies.get("kotaku_session")
        page_user = browser.get(SLUMS, params={"limit": 4999})
        assert page_user.headers["x-cache"] == "PASS" and count(page_user) == count(scoped)
    other = httpx.get(site["cache"] + SLUMS, params={"limit": 4999}, headers={"Cookie": "_ga=GA1.2.3"})
    assert other.headers["x-cache"] == "HIT" and count(other) == count(public)


def test_static_files_are_kept_by_the_cache(site):
    first = httpx.get(site["cache"] + "/static/kotaku/kotaku.css")
    second = httpx.get(site["cache"] + "/static/kotaku/kotaku.css")
    assert first.status_code == 200 and second.headers["x-cache"] == "HIT" and second.content == first.content
    assert int(second.headers["age"]) >= 0 and "max-age" in second.headers["cache-control"]


def test_a_ban_names_layers_only(site):
    refused = httpx.request("BAN", site["cache"] + "/", headers={"X-Kotaku-Ban": ".*"})
    assert refused.status_code == 400  # no regular expression reaches the ban list
    assert httpx.request("BAN", site["cache"] + "/", headers={"X-Kotaku-Ban": "regions"}).status_code == 200


def test_a_command_line_write_bans_what_it_changed_before_it_ends(site):
    tile = site["tile"]
    path = f"/tiles/slum-areas/14/{tile.x}/{tile.y}.pbf"
    httpx.get(site["cache"] + path)
    before = httpx.get(site["cache"] + path)
    assert before.headers["x-cache"] == "HIT"
    # a real writing command (it rewrites slum_area_regions): compares the layer versions at its start and end
    done = subprocess.run([KOTAKU, "batch", "join", "--single"], capture_output=True, text=True,
                          env={**os.environ, **site["purge"], "DATABASE_URL": site["url"]})
    assert done.returncode == 0, done.stderr
    after = httpx.get(site["cache"] + path)
    assert after.headers["x-cache"] == "MISS"
    assert after.headers["etag"] == httpx.get(site["origin"] + path).headers["etag"] != before.headers["etag"]
