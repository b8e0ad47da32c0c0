"""gzip where the pages load their weight (api/compression.py): the vendored scripts, the vector tiles and the
styles come gzipped to a browser that accepts it, decode to the very bytes a client without gzip gets, and
revalidate with the same ETag; PNG tiles and GeoPackage exports, compressed already, pass untouched."""

from __future__ import annotations

import gzip
import os

import morecantile
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from maps.static_files import STATIC_DIR

TMS = morecantile.tms.get("WebMercatorQuad")
MEDAN = (98.675, 3.60)
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def client(fresh_demo):
    with TestClient(create_app(fresh_demo())) as test_client:
        yield test_client


def raw(client: TestClient, url: str, headers: dict) -> tuple[bytes, dict]:
    """The body as it travelled (not decoded) and the headers."""
    with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, url
        return b"".join(response.iter_raw()), dict(response.headers)


def test_maplibre_script_travels_gzipped_and_decodes_to_the_file(client):
    on_disk = (STATIC_DIR / "vendor" / "maplibre-gl" / "maplibre-gl.js").read_bytes()
    body, headers = raw(client, "/static/vendor/maplibre-gl/maplibre-gl.js", GZIP)
    assert headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body) == on_disk
    assert len(body) < 0.4 * len(on_disk)  # 1 MB of JavaScript: about a quarter travels
    plain, headers = raw(client, "/static/vendor/maplibre-gl/maplibre-gl.js", PLAIN)
    assert plain == on_disk and "content-encoding" not in headers


def test_vector_tiles_and_styles_gzipped_same_bytes_same_etag(client):
    tile = TMS.tile(*MEDAN, 11)
    for url in (f"/tiles/regions/11/{tile.x}/{tile.y}.pbf", f"/tiles/slum-areas/11/{tile.x}/{tile.y}.pbf",
                "/styles/basemap.json?tenant=12.71", "/tiles/basemap/tilejson.json?tenant=12.71"):
        zipped, zipped_headers = raw(client, url, GZIP)
        plain, plain_headers = raw(client, url, PLAIN)
        assert zipped_headers["content-encoding"] == "gzip", url
        assert gzip.decompress(zipped) == plain and len(zipped) < len(plain), url
        if url.endswith(".pbf"):
            assert zipped_headers["etag"] == plain_headers["etag"]
            again = client.get(url, headers={**GZIP, "If-None-Match": zipped_headers["etag"]})
            assert again.status_code == 304, url


def test_png_tiles_and_exports_are_not_gzipped(client):
    tile = TMS.tile(*MEDAN, 12)
    for url in (f"/tiles/slum-areas/12/{tile.x}/{tile.y}.png", "/exports/keterpaduan.gpkg?tenant=12.71"):
        body, headers = raw(client, url, GZIP)
        assert "content-encoding" not in headers and len(body) > 500, url


def test_static_files_are_gzipped_once_per_version_and_revalidate(tmp_path, monkeypatch):
    from starlette.applications import Starlette
    from starlette.routing import Mount

    import api.compression

    script = tmp_path / "peta.js"
    script.write_text("var kotaku = 1;\n" * 2000)
    calls = []
    real = api.compression.gzip.compress
    monkeypatch.setattr(api.compression.gzip, "compress", lambda data, **kw: calls.append(1) or real(data, **kw))
    app = Starlette(routes=[Mount("/static", api.compression.PrecompressedStaticFiles(directory=tmp_path))])
    with TestClient(app) as test_client:
        first, headers = raw(test_client, "/static/peta.js", GZIP)
        again, _ = raw(test_client, "/static/peta.js", GZIP)
        assert gzip.decompress(first) == script.read_bytes() and again == first and len(calls) == 1
        assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
        assert int(headers["content-length"]) == len(first)
        revalidated = test_client.get("/static/peta.js", headers={**GZIP, "If-None-Match": headers["etag"]})
        assert revalidated.status_code == 304
        part = test_client.get("/static/peta.js", headers={**GZIP, "Range": "bytes=0-3"})
        assert part.status_code == 206 and part.content == b"var "  # ranges of the file itself
        plain, plain_headers = raw(test_client, "/static/peta.js", PLAIN)
        assert plain == script.read_bytes() and "content-encoding" not in plain_headers

        script.write_text("var kotaku = 2;\n" * 2000)  # a new version of the file is compressed again
        os.utime(script, ns=(script.stat().st_atime_ns, script.stat().st_mtime_ns + 10**9))
        changed, _ = raw(test_client, "/static/peta.js", GZIP)
        assert gzip.decompress(changed) == script.read_bytes() and len(calls) == 2
