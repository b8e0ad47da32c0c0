"""One tile, start to end, as a plain function: address -> ETag -> 304 -> cache -> render -> 204.

`answer_tile` is what every tile route does (api/routes/tiles.py adapts it to HTTP), what `kotaku tile` does
(api/cli/tiles.py writes the body to a file) and what the tests call directly; it imports nothing of HTTP.

Why in maps/: the flow picks the renderer. MVT comes out of PostGIS whole (layers/serving/tiles.py `render_mvt`);
a PNG is rasterised here in maps/ (png_tiles.py) from the same rows (`tile_shapes`). maps/ may import layers/ and
never the other way round, so the one function that knows both renderers lives here rather than in layers/serving
with the renderer passed in as a parameter.

Caching (DESIGN.md, Martin's approach tied to data): a strong ETag from the data versions of the collection's
layers, the tile address, format, style and the caller's row scope; a matching If-None-Match answers 304 without a
tile query; an empty tile is 204; rendered tiles are kept in the TileCache keyed by that ETag, so an edit (which
bumps the version) shows on the next request without a restart.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import anyio.to_thread
from psycopg import AsyncConnection

from geo.errors import NotFound
from layers.accounts.access import Principal
from layers.serving.cache import CachedTile, TileCache
from layers.serving.collections import COLLECTIONS, Collection, get_collection
from layers.serving.purge import HEADER as LAYERS_HEADER
from layers.serving.purge import layers_header
from layers.serving.tiles import MAX_FEATURES_PER_TILE, TileAddress, check_tenant, render_mvt, tile_shapes
from layers.serving.versions import VARY, cache_control, conditional, definition_hash, strong_etag
from maps.png_tiles import render_png
from maps.styles import Style, style_for, styles_of

MVT = "application/vnd.mapbox-vector-tile"
PNG = "image/png"


class ConnectionSource(Protocol):
    """Where tile queries get a connection: the app's AsyncConnectionPool (or anything with its `connection()`)."""

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection]: ...


class VersionSource(Protocol):
    """The data versions of layers: layers.serving.versions.VersionReader."""

    async def versions(self, layers: tuple[str, ...]) -> tuple[int, ...]: ...


@dataclass(frozen=True)
class TileAnswer:
    """What to answer: 200 with `body`, 204 (empty tile, no body) or 304 (the client's copy is current)."""

    status: int
    body: bytes
    media_type: str
    etag: str
    cache_control: str
    features: int | None = None  # features drawn; None on 304 (no tile was looked at)
    layers: tuple[str, ...] = ()  # the layers the ETag depends on: X-Kotaku-Layers, for cache bans

    @property
    def capped(self) -> bool:
        return self.features is not None and self.features >= MAX_FEATURES_PER_TILE

    def headers(self) -> dict[str, str]:
        """ETag and Cache-Control always; X-Tile-Features (and X-Tile-Capped) once a tile was read."""
        headers = {"ETag": self.etag, "Cache-Control": self.cache_control, "Vary": VARY,
                   LAYERS_HEADER: layers_header(self.layers)}
        if self.features is not None:
            headers["X-Tile-Features"] = str(self.features)
            if self.capped:
                headers["X-Tile-Capped"] = "true"
        return headers


def png_style(collection: Collection, style_id: str | None) -> Style:
    """The PNG style `style_id` of the collection (its default when None); NotFound lists what exists."""
    style = style_for(collection.id, style_id)
    if style is None:
        offered = {c: [s.id for s in styles_of(c)] for c in COLLECTIONS if styles_of(c)}
        raise NotFound(f"no PNG style '{style_id or ''}' for collection '{collection.id}'; PNG tiles exist for "
                       + "; ".join(f"{c} ({', '.join(ids)})" for c, ids in offered.items()))
    return style


async def answer_tile(pool: ConnectionSource, cache: TileCache, versions: VersionSource, collection_id: str,
                      z: int, x: int, y: int, principal: Principal, *, tenant: str | None = None,
                      png: bool = False, style: str | None = None, if_none_match: str | None = None) -> TileAnswer:
    """The tile `z/x/y` of a collection as `principal` may see it: MVT, or a PNG in `style` when `png`.

    Raises NotFound (unknown collection, style or tile address) and InvalidInput (a tenant that is no kab/kota
    code). One small version read decides 304 or a cache hit; only a miss takes a connection and renders."""
    collection = get_collection(collection_id)
    address = TileAddress.checked(z, x, y)
    tenant = check_tenant(tenant)
    chosen = png_style(collection, style) if png else None
    media = PNG if png else MVT
    layer_versions = await versions.versions(collection.versions)
    etag = strong_etag(definition_hash(collection.id, collection), layer_versions, principal, media,
                       chosen.id if chosen else "", z, x, y, tenant)
    revalidate = cache_control(principal)
    if conditional(etag, if_none_match):
        return TileAnswer(304, b"", media, etag, revalidate, layers=collection.versions)
    tile = cache.get(etag) if cache.enabled else None
    if tile is None:
        tile = await _render(pool, collection, address, principal, tenant, chosen)
        cache.put(etag, tile)
    return TileAnswer(200 if tile.data else 204, tile.data, media, etag, revalidate, tile.features,
                      collection.versions)


async def _render(pool: ConnectionSource, collection: Collection, address: TileAddress, principal: Principal,
                  tenant: str | None, style: Style | None) -> CachedTile:
    async with pool.connection() as conn:
        if style is None:
            rendered = await render_mvt(conn, collection, address, principal, tenant)
            return CachedTile(rendered.data, rendered.features)
        shapes = await tile_shapes(conn, collection, address, principal, style.property, tenant)
    if not shapes:
        return CachedTile(b"", 0)
    # rasterise outside the connection, in a thread: the pool and the event loop stay free
    return CachedTile(await anyio.to_thread.run_sync(render_png, shapes, style), len(shapes))
