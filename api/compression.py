"""gzip for what the pages load, and only that: the vendored scripts and styles (/static: MapLibre GL JS is 1 MB,
about 0.3 MB gzipped), the vector tiles (/tiles/.../*.pbf; MVT is protobuf without compression of its own, a city
view's 70 tiles shrink to about a third) and the MapLibre styles and TileJSON (JSON).

Starlette's GZipMiddleware does the work, at level 6 (level 9 costs about twice the CPU for a few per cent less);
it answers gzip only to clients that accept it, adds `Vary: Accept-Encoding` and keeps small answers (< 500 bytes)
as they are. Exports (ZIP, GeoPackage, PDF), PNG tiles and the API's other answers pass untouched: they are
compressed already or streamed, and compressing them would cost CPU for nothing. ETags stay as they are: kotaku
compares If-None-Match weakly (layers/serving/versions.py), so a gzipped answer revalidates as the plain one.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

LEVEL = 6


def compressed(path: str) -> bool:
    """Paths whose answers are worth gzip: static files, vector tiles, styles and TileJSON."""
    if path.startswith(("/static/", "/styles/")):
        return True
    return path.startswith("/tiles/") and path.endswith((".pbf", ".json"))


class PageAssetsGZip:
    """GZipMiddleware for the paths of `compressed`; every other request goes straight to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, compresslevel=LEVEL)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and compressed(scope["path"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
