"""/peta is one kab/kota at a time: over the demo's two cities (Medan 12.71 and Jakarta Pusat 31.71, far apart), the
page draws the layers of the one it opened on, and its chooser opens the other on that city's whole view (not on
the view the permalink held for the first)."""

from __future__ import annotations

import psycopg
import pytest

from layers.imports.demo import load_demo_jakarta_pusat
from tests.e2e.conftest import Watched
from tests.e2e.servers import running_server
from tests.e2e.test_pages_browser import TILE, assert_clean, tiles_loaded

LAYERS = ("wilayah", "tingkat", "program")


@pytest.fixture(scope="module")
def two_cities(fresh_demo):
    database_url = fresh_demo()
    with psycopg.connect(database_url) as conn:
        load_demo_jakarta_pusat(conn)
        conn.commit()
    with running_server(database_url, "--no-access-log") as base:
        yield base


def test_the_chooser_opens_the_other_kabkota_and_its_layers(browser, two_cities):
    watched = Watched(browser, two_cities)
    page = watched.page
    tiles: list[str] = []
    page.on("request", lambda r: TILE.search(r.url) and tiles.append(r.url))
    try:
        page.goto(f"{two_cities}/peta?tenant=12.71#peta=16/3.6/98.675")  # a permalink's view in Medan
        tiles_loaded(page, *LAYERS)
        options = page.locator("#pilih-tenant option").evaluate_all("os => os.map(o => o.value)")
        assert sorted(options) == ["12.71", "31.71"] and page.input_value("#pilih-tenant") == "12.71"
        assert tiles and all(url.endswith("?tenant=12.71") for url in tiles), tiles

        tiles.clear()
        with page.expect_navigation():
            page.select_option("#pilih-tenant", "31.71")
        tiles_loaded(page, *LAYERS)
        assert page.url.split("#")[0] == f"{two_cities}/peta?tenant=31.71", page.url
        assert page.input_value("#pilih-tenant") == "31.71"
        assert tiles and all(url.endswith("?tenant=31.71") for url in tiles), tiles
        south, west, north, east = page.evaluate("(() => { const b = kotaku.map.getBounds(); "
                                                 "return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; })()")
        # Jakarta Pusat's whole view, not the view the permalink held in Medan
        assert south < -6.17 < north and west < 106.83 < east and north - south > 0.03, (south, west, north, east)
        assert_clean(watched)
    finally:
        watched.close()


def test_the_chooser_shows_a_kabkota_that_has_no_slum_areas_yet(browser, two_cities):
    """A permalink to a kab/kota with nothing imported yet: the chooser names it (it used to show blank)."""
    watched = Watched(browser, two_cities)
    page = watched.page
    try:
        page.goto(f"{two_cities}/peta?tenant=73.07")
        page.wait_for_selector("#pilih-tenant option[value='31.71']", state="attached")  # the list is built
        options = page.locator("#pilih-tenant option").evaluate_all("os => os.map(o => o.value)")
        assert sorted(options) == ["12.71", "31.71", "73.07"] and page.input_value("#pilih-tenant") == "73.07"
        assert page.locator("#pilih-tenant option:checked").inner_text() == "Kab/kota 73.07 (73.07)"
        assert_clean(watched)
    finally:
        watched.close()
