"""The tile flow called directly, without HTTP (maps/tile_flow.py): 200 with an ETag, 304 on a matching
If-None-Match without a tile query, 204 for an empty tile, a cache hit that renders nothing, a PNG, and an edit
that changes the ETag at once."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from geo.errors import NotFound
from layers.accounts.access import PUBLIC
from layers.db.connection import app_role_kwargs
from layers.serving.cache import TileCache
from layers.serving.versions import VersionReader
from maps.tile_flow import MVT, PNG, TileAnswer, answer_tile

TMS = morecantile.tms.get("WebMercatorQuad")


@pytest.fixture(scope="module")
def demo_db(fresh_demo):
    return fresh_demo()  # this module's own copy of the demo (its edits stay in it)


@pytest.fixture(scope="module")
def slum_tile(demo_db) -> tuple[int, int, int]:
    with psycopg.connect(demo_db) as conn:
        lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(geom) c FROM slum_areas "
                                "WHERE id = 1) s").fetchone()
    tile = TMS.tile(lon, lat, 14)
    return 14, tile.x, tile.y


class CountingPool:
    """The app's pool, counting the connections tile rendering takes (the version reader has its own)."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool
        self.renders = 0

    @asynccontextmanager
    async def connection(self):
        self.renders += 1
        async with self.pool.connection() as conn:
            yield conn


def run_flow(url: str, calls, cache_mb: float = 16):
    """Run `calls(flow)` where `flow(...)` is answer_tile bound to one pool, cache and version reader."""

    async def go():
        async with AsyncConnectionPool(url, min_size=1, max_size=2, open=False,
                                       kwargs={"autocommit": True, **app_role_kwargs(url)}) as pool:
            counting = CountingPool(pool)
            cache = TileCache(int(cache_mb * 1024 * 1024))
            reader = VersionReader(pool)

            async def flow(collection_id: str, z: int, x: int, y: int, **kwargs) -> TileAnswer:
                return await answer_tile(counting, cache, reader, collection_id, z, x, y, PUBLIC, **kwargs)

            return await calls(flow), counting, cache

    return asyncio.run(go())


def test_a_tile_is_200_then_304_then_a_cache_hit(demo_db, slum_tile):
    z, x, y = slum_tile

    async def calls(flow):
        first = await flow("slum-areas", z, x, y)
        unchanged = await flow("slum-areas", z, x, y, if_none_match=first.etag)
        again = await flow("slum-areas", z, x, y)
        return first, unchanged, again

    (first, unchanged, again), pool, cache = run_flow(demo_db, calls)
    assert first.status == 200 and first.media_type == MVT and first.features > 0
    assert first.etag.startswith('"') and first.cache_control == "public, no-cache"
    assert mapbox_vector_tile.decode(first.body)["slum-areas"]["features"]
    assert first.headers()["X-Tile-Features"] == str(first.features)
    assert unchanged.status == 304 and unchanged.body == b"" and unchanged.etag == first.etag
    assert unchanged.features is None and "X-Tile-Features" not in unchanged.headers()
    assert again.status == 200 and again.body == first.body and again.etag == first.etag
    assert pool.renders == 1 and cache.hits == 1  # the 304 and the cache hit queried no tile


def test_an_empty_tile_is_204_and_cached_too(demo_db):
    async def calls(flow):
        return await flow("activities", 14, 0, 0), await flow("activities", 14, 0, 0)

    (empty, again), pool, _ = run_flow(demo_db, calls)
    assert empty.status == 204 and empty.body == b"" and empty.features == 0 and empty.etag
    assert again.status == 204 and pool.renders == 1


def test_without_a_cache_every_tile_renders(demo_db, slum_tile):
    async def calls(flow):
        return [await flow("slum-areas", *slum_tile) for _ in range(2)]

    (first, second), pool, _ = run_flow(demo_db, calls, cache_mb=0)
    assert first.body == second.body and pool.renders == 2


def test_png_tiles_come_through_the_same_flow(demo_db, slum_tile):
    async def calls(flow):
        png = await flow("slum-areas", *slum_tile, png=True)
        mvt = await flow("slum-areas", *slum_tile)
        return png, mvt

    (png, mvt), _, _ = run_flow(demo_db, calls)
    assert png.status == 200 and png.media_type == PNG and png.body.startswith(b"\x89PNG")
    assert png.etag != mvt.etag  # format is part of the validator
    with pytest.raises(NotFound, match="PNG style"):
        run_flow(demo_db, lambda flow: flow("slum-areas", *slum_tile, png=True, style="no-such-style"))


def test_an_edit_changes_the_etag_at_once(demo_db, slum_tile):
    async def calls(flow):
        before = await flow("slum-areas", *slum_tile)
        with psycopg.connect(demo_db) as conn:  # a write bumps the layer's data version
            conn.execute("UPDATE slum_areas SET kawasan = kawasan || ' (revisi)' WHERE id = 1")
        after = await flow("slum-areas", *slum_tile, if_none_match=before.etag)
        return before, after

    (before, after), pool, _ = run_flow(demo_db, calls)
    assert after.status == 200 and after.etag != before.etag and after.body != before.body
    assert pool.renders == 2


def test_kotaku_tile_writes_what_the_flow_answers(demo_db, slum_tile, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    kotaku = str(Path(sys.executable).with_name("kotaku"))
    env = {**os.environ, "DATABASE_URL": demo_db}
    z, x, y = slum_tile
    target = tmp_path / "tile.pbf"
    result = subprocess.run([kotaku, "tile", "slum-areas", str(z), str(x), str(y), "-o", str(target), "--public",
                             "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (answer, _, _) = run_flow(demo_db, lambda flow: flow("slum-areas", z, x, y))
    assert report["status"] == 200 and report["etag"] == answer.etag and target.read_bytes() == answer.body
    png = tmp_path / "tile.png"
    result = subprocess.run([kotaku, "tile", "slum-areas", str(z), str(x), str(y), "--png", "-o", str(png)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes().startswith(b"\x89PNG") and "image/png" in result.stdout
