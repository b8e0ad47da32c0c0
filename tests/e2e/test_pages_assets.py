"""The pages without a browser: every script, style and image they name is served by the app (none from a CDN),
the vendored libraries carry their licences, database text cannot break out of the page's JSON, and the
kelurahan search finds by name (any case) or code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from maps.static_files import STATIC_DIR

PAGES = ("/peta", "/peta/usulan", "/peta/keterpaduan")
VENDORED = {"leaflet": ("leaflet.js", "leaflet.css"), "leaflet-draw": ("leaflet.draw.js", "leaflet.draw.css"),
            "leaflet-vectorgrid": ("Leaflet.VectorGrid.bundled.min.js",), "chartjs": ("chart.umd.js",)}
LINK = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""")


@pytest.fixture
def conn(demo_conn):
    """Here `conn` reaches the demo the client serves (the module's copy, or the test's own under `writes_demo`)."""
    return demo_conn


@pytest.fixture
def client(demo_url):
    with TestClient(create_app(demo_url)) as test_client:
        yield test_client


def test_every_asset_of_every_page_is_served_by_the_app(client):
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        html = response.text
        assert html.startswith("<!DOCTYPE html>") and '<html lang="id">' in html
        assert "connect-src 'self'" in response.headers["content-security-policy"]
        links = LINK.findall(html)
        assert any(link.endswith("leaflet.js") for link in links)
        for link in links:
            assert link.startswith("/") and not link.startswith("//"), f"{page} links {link}"
            if not link.startswith("/static/"):
                continue  # the page links (/peta/...)
            asset = client.get(link)
            assert asset.status_code == 200, link
        assert not re.search(r"(cdn|unpkg|jsdelivr|cdnjs|bootstrapcdn|jquery)", html, re.I), page
    assert client.get("/favicon.ico").status_code == 200


def test_vendored_libraries_are_complete_and_licensed():
    vendor = STATIC_DIR / "vendor"
    for folder, files in VENDORED.items():
        assert (vendor / folder / "LICENSE").stat().st_size > 500, folder
        for name in files:
            assert (vendor / folder / name).stat().st_size > 1000
        for css in (vendor / folder).glob("*.css"):
            for url in re.findall(r"url\(([^)]+)\)", css.read_text()):
                url = url.strip("'\"")
                assert url.startswith(("data:", "#")) or (css.parent / url).exists(), f"{css.name}: {url}"
    bundled = (vendor / "leaflet-vectorgrid" / "LICENSE").read_text()
    for library in ("pbf", "ieee754", "vector-tile", "point-geometry", "whatwg-fetch"):
        assert f"== {library}" in bundled


def test_page_scripts_never_write_html():
    for script in (STATIC_DIR / "kotaku").glob("*.js"):
        text = script.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write", text), script.name


@pytest.mark.writes_demo
def test_database_text_cannot_close_the_config_script(client, conn):
    conn.execute("UPDATE regions SET name = %s WHERE code = '12.71'", ["Kota </script><script>alert(1)</script>"])
    conn.commit()
    html = client.get("/peta").text
    assert "</script><script>alert(1)" not in html
    assert "Kota \\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in html


def test_pages_open_on_the_kabkota_asked_for(client):
    assert '"tenant":"12.71"' in client.get("/peta?tenant=1271").text
    wrong = client.get("/peta/keterpaduan?tenant=ABC")
    assert wrong.status_code == 400 and wrong.json()["code"]


def test_the_viewer_draws_the_layers_of_the_kabkota_it_opens_on(client):
    html = client.get("/peta?tenant=1271").text
    layers = re.findall(r"'(/tiles/[a-z-]+/\{z\}/\{x\}/\{y\}\.pbf[^']*)'", html)
    assert len(layers) == 6 and all(url.endswith(".pbf?tenant=12.71") for url in layers), layers
    assert '<select id="pilih-tenant">' in html  # the panel's chooser opens another kab/kota


def test_kelurahan_search_by_name_or_code(client):
    def names(query: str, **params) -> list[str]:
        response = client.get("/peta/cari", params={"q": query, **params})
        assert response.status_code == 200
        return [(r["code"], r["name"]) for r in response.json()["results"]]

    by_name = names("BELAWAN")
    assert by_name and all("belawan" in name.lower() for _, name in by_name)
    assert names("12.71.08")[0] == ("12.71.08", "Medan Belawan")  # the kecamatan itself first
    assert names("1271081006")[0][0] == "12.71.08.1006"
    assert names("belawan", tenant="73.07") == []
    assert names("%") == [] and names("_") == []
    assert len(names("a", limit=3)) == 3
    assert client.get("/peta/cari", params={"q": "x" * 101}).status_code in (400, 422)


def test_static_folder_is_package_data():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"maps" = ["static/**/*"]' in text


@pytest.mark.writes_demo
def test_public_record_serves_its_own_assets_escapes_text_and_checks_its_scope(client, conn):
    conn.execute("UPDATE activities SET title = %s WHERE id = (SELECT min(id) FROM activities)",
                 ["<script>alert(5)</script>"])
    conn.commit()
    response = client.get("/publik?tenant=12.71")
    assert response.status_code == 200 and "connect-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert "<script>alert(5)" not in html and "&lt;script&gt;alert(5)&lt;/script&gt;" in html
    links = LINK.findall(html)
    assert "/static/vendor/chartjs/chart.umd.js" in links
    for link in links:
        assert link.startswith("/") and not link.startswith("//")
        if link.startswith("/static/"):
            assert client.get(link).status_code == 200, link
    assert 'href="/publik"' in client.get("/peta").text  # in the other pages' navigation
    assert "Kota Medan" in client.get("/publik").text  # without a place: the kab/kota to choose from
    assert client.get("/publik?kelurahan=12.71.01").status_code == 400
    assert client.get("/publik?kelurahan=12.71.99.9999").status_code == 404


@pytest.mark.writes_demo
def test_the_chooser_lists_a_kabkota_whose_boundary_was_never_imported(client, conn):
    config = re.compile(r'<script type="application/json" id="kotaku-config">(.*?)</script>', re.S)
    tenants = json.loads(config.search(client.get("/peta").text).group(1))["tenants"]
    assert {"code": "12.71", "name": "Kota Medan"} in tenants
    conn.execute("DELETE FROM regions WHERE code = '12.71' AND level = 'kabkota'")  # only its kelurahan loaded
    conn.commit()
    tenants = json.loads(config.search(client.get("/peta/keterpaduan").text).group(1))["tenants"]
    assert {"code": "12.71", "name": "Kab/kota 12.71"} in tenants  # was left out: the chooser showed blank
