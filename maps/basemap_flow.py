"""One basemap tile, start to end (as maps/tile_flow.py does for collections): ETag -> 304 -> cache -> render -> 204.

The basemap is public (OpenStreetMap data and boundaries): the ETag depends on the `basemap` and `regions` data
versions (region names are its label points), the address, the tenant and, for a PNG (maps/basemap_png.py), its
part and scale, never on who asks. A PNG is drawn from the rows of the MVT of the same address, in a thread.
"""

from __future__ import annotations

import anyio.to_thread

from geo.errors import InvalidInput
from layers.accounts.access import PUBLIC
from layers.basemap.tiles import LAYER_FIELDS, basemap_rows, basemap_sql, render_basemap
from layers.serving.cache import CachedTile, TileCache
from layers.serving.tiles import TileAddress, check_tenant
from layers.serving.versions import cache_control, conditional, definition_hash, strong_etag
from maps.basemap_png import PARTS, SCALES, drawing_definition, layers_of, render_basemap_png
from maps.tile_flow import MVT, PNG, ConnectionSource, TileAnswer, VersionSource

BASEMAP_VERSIONS = ("basemap", "regions")


async def answer_basemap_tile(pool: ConnectionSource, cache: TileCache, versions: VersionSource, z: int, x: int,
                              y: int, *, tenant: str | None = None, if_none_match: str | None = None,
                              png: bool = False, part: str = "all", scale: int = 1) -> TileAnswer:
    """Tile z/x/y of the basemap: the MVT, or with `png` the PNG of `part` (all, ground, names) at `scale` (1, 2).
    Raises NotFound (tile address) and InvalidInput (tenant, part, scale)."""
    address = TileAddress.checked(z, x, y)
    tenant = check_tenant(tenant)
    if png and part not in PARTS:
        raise InvalidInput(f"part '{part}' is not a part of the basemap; parts: {', '.join(PARTS)}")
    if png and scale not in SCALES:
        raise InvalidInput(f"scale {scale} is not offered; scales: {', '.join(map(str, SCALES))}")
    media = PNG if png else MVT
    layer_versions = await versions.versions(BASEMAP_VERSIONS)
    drawing = (drawing_definition(), part, scale) if png else ()
    etag = strong_etag(definition_hash("basemap", (repr(basemap_sql()), LAYER_FIELDS)), layer_versions,
                       PUBLIC, media, "basemap", address.z, address.x, address.y, tenant, *drawing)
    revalidate = cache_control(PUBLIC)
    if conditional(etag, if_none_match):
        return TileAnswer(304, b"", media, etag, revalidate, layers=BASEMAP_VERSIONS)
    tile = cache.get(etag) if cache.enabled else None
    if tile is None:
        async with pool.connection() as conn:
            if png:
                rows = await basemap_rows(conn, address.z, address.x, address.y, tenant, layers_of(part))
            else:
                data, features = await render_basemap(conn, address.z, address.x, address.y, tenant)
        if png:  # drawn outside the connection, in a thread: the pool and the event loop stay free
            data = await anyio.to_thread.run_sync(lambda: render_basemap_png(rows, address.z, part=part, scale=scale))
            features = len(rows)
        tile = CachedTile(data, features)
        cache.put(etag, tile)
    return TileAnswer(200 if tile.data else 204, tile.data, media, etag, revalidate, tile.features, BASEMAP_VERSIONS)
