"""A shared HTTP cache in front (issue 14 item 2): Varnish with deploy/varnish/kotaku.vcl before a real
`kotaku serve`. Public tiles and items are kept and revalidated with If-None-Match (the origin answers 304 from the
data versions alone), an edit shows on the next request, a logged-in caller's answer never reaches anyone else,
and static files are kept."""

from __future__ import annotations

import asyncio

import httpx
import morecantile
import psycopg
import pytest

from layers.accounts import users
from layers.accounts.access import cli_principal
from layers.db.connection import connect_async
from tests.e2e.servers import running_server
from tests.e2e.varnish import available, varnish

pytestmark = pytest.mark.skipif(not available(), reason="varnishd is not installed (Debian package varnish; "
                                                        "`make test` installs it)")
TMS = morecantile.tms.get("WebMercatorQuad")
PASSWORD = "kata-sandi-pokja-123"
SLUMS = "/collections/slum-areas/items"


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
    with running_server(url) as origin, varnish(origin) as cache:
        yield {"url": url, "origin": origin, "cache": cache, "token": token, "hidden": hidden,
               "tile": TMS.tile(lon, lat, 14), "activity": activity}
    fresh_demo.drop(url)


def count(response: httpx.Response) -> int:
    return len(response.json()["features"])


def test_a_repeated_public_tile_comes_from_the_cache_revalidated_by_a_304(site):
    tile = site["tile"]
    path = f"/tiles/activities/14/{tile.x}/{tile.y}.pbf"
    first = httpx.get(site["cache"] + path)
    second = httpx.get(site["cache"] + path)
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    # the body comes from Varnish; the origin only said 304 (its layer versions unchanged, no tile drawn)
    assert second.headers["x-cache"] == "REVALIDATED" and second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert "public" in second.headers["cache-control"] and "Authorization" in second.headers["vary"]
    # and a client revalidating through the cache gets its 304 from the cache
    again = httpx.get(site["cache"] + path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_an_edit_shows_through_the_cache_on_the_next_request(site):
    path = f"/collections/activities/items/{site['activity']}"
    before = httpx.get(site["cache"] + path)
    assert httpx.get(site["cache"] + path).headers["x-cache"] == "REVALIDATED"
    with psycopg.connect(site["url"]) as conn:
        conn.execute("UPDATE activities SET title = 'Judul baru lewat cache' WHERE id = %s", [site["activity"]])
        conn.commit()
    after = httpx.get(site["cache"] + path)
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
    assert httpx.get(site["cache"] + SLUMS, params={"limit": 4999}).headers["x-cache"] == "REVALIDATED"
    again = httpx.get(site["cache"] + SLUMS, params={"limit": 4999}, headers=bearer)
    assert again.headers["x-cache"] == "PASS" and count(again) == count(scoped)
    # a session cookie (pages) is a credential too; another cookie is not
    with httpx.Client(base_url=site["cache"]) as browser:
        login = browser.post("/auth/login", json={"username": "pokja.kota", "password": PASSWORD})
        assert login.status_code == 200 and browser.cookies.get("kotaku_session")
        page_user = browser.get(SLUMS, params={"limit": 4999})
        assert page_user.headers["x-cache"] == "PASS" and count(page_user) == count(scoped)
    other = httpx.get(site["cache"] + SLUMS, params={"limit": 4999}, headers={"Cookie": "_ga=GA1.2.3"})
    assert other.headers["x-cache"] == "REVALIDATED" and count(other) == count(public)


def test_static_files_are_kept_by_the_cache(site):
    first = httpx.get(site["cache"] + "/static/kotaku/kotaku.css")
    second = httpx.get(site["cache"] + "/static/kotaku/kotaku.css")
    assert first.status_code == 200 and second.headers["x-cache"] == "HIT" and second.content == first.content
    assert int(second.headers["age"]) >= 0 and "max-age" in second.headers["cache-control"]
