"""One basemap tile, start to end (as maps/tile_flow.py does for collections): ETag -> 304 -> cache -> render -> 204.

The basemap is public (OpenStreetMap data and boundaries): the ETag depends on the `basemap` and `regions` data
versions (region names are its label points), the address and the tenant, never on who asks.
"""

from __future__ import annotations

from layers.accounts.access import PUBLIC
from layers.basemap.tiles import LAYER_FIELDS, basemap_sql, render_basemap
from layers.serving.cache import CachedTile, TileCache
from layers.serving.tiles import TileAddress, check_tenant
from layers.serving.versions import cache_control, conditional, definition_hash, strong_etag
from maps.tile_flow import MVT, ConnectionSource, TileAnswer, VersionSource

BASEMAP_VERSIONS = ("basemap", "regions")


async def answer_basemap_tile(pool: ConnectionSource, cache: TileCache, versions: VersionSource, z: int, x: int,
                              y: int, *, tenant: str | None = None, if_none_match: str | None = None) -> TileAnswer:
    address = TileAddress.checked(z, x, y)
    tenant = check_tenant(tenant)
    layer_versions = await versions.versions(BASEMAP_VERSIONS)
    etag = strong_etag(definition_hash("basemap", (repr(basemap_sql()), LAYER_FIELDS)), layer_versions,
                       PUBLIC, MVT, "basemap", address.z, address.x, address.y, tenant)
    revalidate = cache_control(PUBLIC)
    if conditional(etag, if_none_match):
        return TileAnswer(304, b"", MVT, etag, revalidate, layers=BASEMAP_VERSIONS)
    tile = cache.get(etag) if cache.enabled else None
    if tile is None:
        async with pool.connection() as conn:
            data, features = await render_basemap(conn, address.z, address.x, address.y, tenant)
        tile = CachedTile(data, features)
        cache.put(etag, tile)
    return TileAnswer(200 if tile.data else 204, tile.data, MVT, etag, revalidate, tile.features, BASEMAP_VERSIONS)
