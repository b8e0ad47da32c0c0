"""gzip for what the pages load, and only that: the vendored scripts and styles (/static: MapLibre GL JS is 1 MB,
about 0.3 MB gzipped), the vector tiles (/tiles/.../*.pbf; MVT is protobuf without compression of its own, a city
view's 70 tiles shrink to about a third) and the MapLibre styles and TileJSON (JSON).

Starlette's GZipMiddleware does the work for tiles and styles, at level 6 (level 9 costs about twice the CPU for a
few per cent less); it answers gzip only to clients that accept it, adds `Vary: Accept-Encoding` and keeps small
answers (< 500 bytes) as they are. Static files come gzipped already (PrecompressedStaticFiles: once per file, at
level 9) and the middleware lets them pass. Exports (ZIP, GeoPackage, PDF), PNG tiles and the API's other answers
pass untouched: they are compressed already or streamed, and compressing them would cost CPU for nothing. ETags
stay as they are: kotaku compares If-None-Match weakly (layers/serving/versions.py), so a gzipped answer
revalidates as the plain one.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

LEVEL = 6
STATIC_LEVEL = 9  # once per file and process, not per request
STATIC_COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".txt", ".html")


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


class PrecompressedStaticFiles(StaticFiles):
    """StaticFiles that gzips each script, style or SVG once per process (again when the file changes) and answers
    every browser that accepts gzip from memory, where the middleware above would compress it at every request:
    MapLibre GL JS alone is 1 MB, about 40 ms of a core at level 6 for each browser that has not cached it yet, on
    the way to the page's first draw. 304s, ranges and clients without gzip are StaticFiles' own answers."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._gzipped: dict[str, tuple[int, int, bytes]] = {}  # path: (mtime_ns, size, gzip)

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        path = str(full_path)
        asked = Headers(scope=scope)
        if (response.status_code != 200 or not path.endswith(STATIC_COMPRESSIBLE) or "range" in asked
                or "gzip" not in asked.get("accept-encoding", "")):
            return response
        known = self._gzipped.get(path)
        if known is None or known[:2] != (stat_result.st_mtime_ns, stat_result.st_size):
            known = (stat_result.st_mtime_ns, stat_result.st_size,
                     gzip.compress(Path(path).read_bytes(), compresslevel=STATIC_LEVEL, mtime=0))
            self._gzipped[path] = known
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        headers.update({"content-encoding": "gzip", "vary": "Accept-Encoding"})
        return Response(known[2], status_code=200, headers=headers)
