"""The map pages on phones (360x740 and 390x844, touch), in Indonesian formats, with their permalink and downloads,
in Debian's headless Chromium against a live `kotaku serve` over the Medan demo (tests/e2e/conftest.py).

Phones: the layer list and the legend are folded behind buttons that open and close them, the map is not covered,
the zoom and draw buttons are on screen, not overlapped and thumb-sized (44 px), and nothing is wider than the
screen. Formats: a metric scale bar only, a number and a date in id-ID as a user reads them in a popup. The
permalink restores centre, zoom, layers and filters in a new page; the download links answer 200 with their type.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import psycopg
import pytest

from layers.planning.assets import register_asset
from tests.e2e.conftest import Watched
from tests.e2e.test_pages_browser import assert_clean, go_to, tiles_loaded

PHONES = [(360, 740), (390, 844)]
MAP_BUTTONS = (".leaflet-control-zoom-in", ".leaflet-control-zoom-out", "#tombol-lapisan", ".legenda-tombol")
DRAW_BUTTONS = (".leaflet-draw-draw-polyline", ".leaflet-draw-draw-polygon", ".leaflet-draw-draw-marker",
                "#lokasi-saya")
# the share of the map's area covered by its panels (layer list, legend, attribution): the buttons are not counted
COVERED = """() => {
    const map = kotaku.map.getContainer().getBoundingClientRect();
    let covered = 0;
    for (const c of document.querySelectorAll(
            '.leaflet-control-layers, .legenda, .leaflet-control-attribution')) {
        const r = c.getBoundingClientRect();
        const w = Math.min(r.right, map.right) - Math.max(r.left, map.left);
        const h = Math.min(r.bottom, map.bottom) - Math.max(r.top, map.top);
        if (w > 0 && h > 0) covered += w * h;
    }
    return covered / (map.width * map.height);
}"""
REACHABLE = """selector => {
    const e = document.querySelector(selector);
    const r = e.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height,
            onTop: hit === e || e.contains(hit), inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth
            && r.bottom <= innerHeight};
}"""
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
        '#panel button, #panel select, #panel summary, #panel input:not([type=checkbox]):not([type=radio])'))
    .filter(e => e.getClientRects().length)
    .map(e => [e.id || e.name || e.textContent.trim().slice(0, 30), e.getBoundingClientRect()])
    .filter(([, r]) => r.height < 44 || r.right > innerWidth + 0.5)
    .map(([name, r]) => name + ': ' + Math.round(r.width) + 'x' + Math.round(r.height))"""


def indonesian_number(value: float) -> str:
    """What Intl.NumberFormat('id-ID', {maximumFractionDigits: 2}) writes: 1.234,5."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", "#").replace(".", ",").replace("#", ".")


@pytest.fixture
def phone(browser, site, request):
    width, height = request.param
    session = Watched(browser, site.base, viewport={"width": width, "height": height}, is_mobile=True,
                      has_touch=True, device_scale_factor=2)
    yield session
    session.close()


def visible(page, selector: str) -> bool:
    return page.evaluate(f"(() => {{ const e = document.querySelector({selector!r}); "
                         "return !!e && e.getClientRects().length > 0; })()")


@pytest.mark.parametrize("phone", PHONES, indirect=True, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("path", ["/peta", "/peta/usulan", "/peta/keterpaduan"])
def test_a_phone_sees_the_map_and_reaches_every_button(phone, site, path):
    page = phone.page
    page.goto(f"{site.base}{path}")
    tiles_loaded(page, "wilayah")
    page.wait_for_selector("#tautan-tampilan")
    assert not visible(page, ".leaflet-control-layers") and not visible(page, ".legenda-isi")
    legend = page.locator("#legenda").bounding_box()
    assert legend["height"] <= 50 and legend["width"] <= 100, legend  # the folded legend is its button
    assert page.evaluate(COVERED) < 0.08
    for selector in MAP_BUTTONS + (DRAW_BUTTONS if path.endswith("usulan") else ()):
        box = page.evaluate(REACHABLE, selector)
        assert box["inside"] and box["onTop"], f"{selector} is off screen or covered: {box}"
        assert box["width"] >= 43.5 and box["height"] >= 43.5, f"{selector} is {box['width']}x{box['height']}"
    scale = page.evaluate(REACHABLE, ".leaflet-control-scale-line")  # the scale bar is readable, not covered
    assert scale["inside"] and scale["onTop"], scale
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.evaluate("(() => { const p = document.getElementById('panel'); "
                         "return p.scrollWidth <= p.clientWidth; })()")
    assert page.evaluate(SMALL_TARGETS) == []

    page.tap("#tombol-lapisan")  # the layer list opens over the map, and closes again
    assert visible(page, ".leaflet-control-layers") and page.get_attribute("#tombol-lapisan", "aria-expanded") == "true"
    assert page.locator(".leaflet-control-layers-overlays label").first.bounding_box()["height"] >= 43.5
    page.tap("#tombol-lapisan")
    assert not visible(page, ".leaflet-control-layers")
    page.tap(".legenda-tombol")  # so does the legend
    assert visible(page, ".legenda-isi") and "Tingkat kekumuhan" in page.inner_text("#legenda")
    page.tap(".legenda-tombol")
    assert not visible(page, ".legenda-isi")
    assert page.evaluate(COVERED) < 0.08
    if path.endswith("usulan"):  # a visitor is told to sign in instead of getting a form that fails
        assert "Anda belum masuk" in page.inner_text("#tidak-boleh")
        assert page.get_attribute("#tidak-boleh a", "href") == "/auth/login?next=/peta/usulan"
        assert not page.is_visible("#kirim")
    phone.screenshot(f"ponsel{path.replace('/', '-')}-{page.viewport_size['width']}")
    assert_clean(phone)


def test_scale_bar_is_metric_and_popups_write_numbers_and_dates_in_indonesian(watched, site):
    page = watched.page
    with psycopg.connect(site.database_url) as conn:  # a work handed over on 6 December 2026
        activity = conn.execute("SELECT min(id) FROM activities WHERE tenant = '12.71'").fetchone()[0]
        asset_id = register_asset(conn, activity, actor="uji", handover_date=date(2026, 12, 6))
        conn.commit()
        area = conn.execute("SELECT area_ha FROM slum_areas WHERE id = %s", [site.slum_area_point[2]]).fetchone()[0]
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{site.base}/peta")
    tiles_loaded(page, "tingkat")
    scales = page.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scales) == 1 and re.fullmatch(r"\d+ (m|km)", scales[0].strip()), scales
    lon, lat, slum_id = site.slum_area_point
    go_to(page, lon, lat, 16, "tingkat")
    assert re.fullmatch(r"\d+ m", page.inner_text(".leaflet-control-scale-line").strip())
    page.wait_for_function("document.querySelector('.leaflet-control-attribution').textContent"
                           ".includes('OpenStreetMap')")  # the basemap's credit, the longest
    scale = page.evaluate(REACHABLE, ".leaflet-control-scale-line")  # on a desktop too: readable, not covered
    assert scale["inside"] and scale["onTop"], scale

    def popup(key: str, fid: int) -> str:
        page.evaluate(f"kotaku.featurePopup(kotaku.map, kotaku.config().layers.{key}, "
                      f"{{latlng: kotaku.map.getCenter(), layer: {{properties: {{id: {fid}}}}}}})")
        return page.wait_for_selector(".leaflet-popup-content table.rincian").inner_text()

    text = popup("tingkat", slum_id)
    luas = re.search(r"Luas \(ha\)\s+(\S+)", text)
    assert luas and luas[1] == indonesian_number(float(area)), text
    page.evaluate("void kotaku.map.closePopup()")
    page.wait_for_selector(".leaflet-popup", state="detached")  # not the slum area's table read again
    text = popup("aset", asset_id)
    assert re.search(r"Serah terima\s+6 Desember 2026\n", text), text
    assert_clean(watched)


def test_the_permalink_restores_the_view_in_a_new_page(watched, browser, site):
    page = watched.page
    page.goto(f"{site.base}/peta")
    tiles_loaded(page, "tingkat", "program")
    lon, lat, _ = site.slum_area_point
    go_to(page, lon + 0.003, lat - 0.002, 15, "tingkat")
    page.check(".leaflet-control-layers-overlays label:has-text('prioritas') input")
    page.uncheck(".leaflet-control-layers-overlays label:has-text('Kegiatan menurut program') input")
    page.select_option("#filter-tahun", "2025")
    page.wait_for_function("() => document.getElementById('tautan-tampilan').value.includes('tahun=2025')")
    link = page.input_value("#tautan-tampilan")
    assert link == page.url  # the address bar follows the view too
    view = "() => [kotaku.map.getZoom(), kotaku.map.getCenter().lat, kotaku.map.getCenter().lng]"
    shown = """() => Object.keys(kotaku.config().layers).filter(k => kotaku.map.hasLayer(kotaku.refs[k]))"""
    before, layers = page.evaluate(view), page.evaluate(shown)
    assert "prioritas" in layers and "program" not in layers

    again = Watched(browser, site.base)
    try:
        other = again.page
        other.goto(link)
        tiles_loaded(other, "tingkat")
        zoom, centre_lat, centre_lon = other.evaluate(view)
        assert zoom == before[0] == 15
        assert abs(centre_lat - before[1]) < 1e-5 and abs(centre_lon - before[2]) < 1e-5
        assert other.evaluate(shown) == layers
        assert other.input_value("#filter-tahun") == "2025"
        assert other.evaluate("kotaku.filters.year") == 2025
        assert other.is_checked(".leaflet-control-layers-overlays label:has-text('prioritas') input")
        assert_clean(again)
    finally:
        again.close()
    assert_clean(watched)


def test_the_keterpaduan_permalink_keeps_the_chosen_kawasan_and_region(watched, browser, site):
    """The chosen kawasan (or kelurahan) is part of the view: its link opens the page with it chosen again."""
    _, _, slum_id = site.slum_area_point
    page = watched.page
    page.goto(f"{site.base}/peta/keterpaduan")
    page.click(f"#tabel-kawasan tr[data-id='{slum_id}']")
    page.wait_for_function(f"() => document.getElementById('tautan-tampilan').value.includes('kawasan={slum_id}')")
    link = page.input_value("#tautan-tampilan")
    title = page.inner_text("#rincian-judul")

    again = Watched(browser, site.base)
    try:
        other = again.page
        other.goto(link)
        other.wait_for_selector("path.kotaku-terpilih", state="attached")
        assert other.inner_text("#rincian-judul") == title
        assert other.locator(f"#tabel-kawasan tr.dipilih[data-id='{slum_id}']").count() == 1
        other.click(".tab button[data-tab=kelurahan]")
        row = other.locator("#tabel-kelurahan tbody tr").first
        code = row.get_attribute("data-code")
        row.click()
        other.wait_for_function(
            f"() => document.getElementById('tautan-tampilan').value.includes('wilayah={code}')")
        assert "kawasan=" not in other.input_value("#tautan-tampilan")  # one choice at a time
        region_link = other.input_value("#tautan-tampilan")
        other.goto("about:blank")
        other.goto(region_link)
        other.wait_for_selector(f"#rincian-judul:has-text('({code})')")
        assert_clean(again)
    finally:
        again.close()
    assert_clean(watched)


def test_download_links_give_what_the_page_shows(watched, site):
    page = watched.page
    page.goto(f"{site.base}/peta")
    tiles_loaded(page, "program")
    page.select_option("#filter-tahun", "2025")
    page.click("#unduh summary")
    page.wait_for_selector("#daftar-unduhan a[href*='datetime=2025']")
    links = page.eval_on_selector_all("#daftar-unduhan a", "as => as.map(a => [a.textContent, a.href, a.type])")
    by_name = {text: (href, kind) for text, href, kind in links}
    activities, kind = by_name["Kegiatan menurut program (GeoJSON)"]
    assert "tenant=12.71" in activities and kind == "application/geo+json"
    answer = httpx.get(activities, timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
    features = answer.json()["features"]
    assert features and all(f["properties"]["year"] <= 2025 <= (f["properties"]["year_end"] or 9999)
                            for f in features)
    for name in ("Keterpaduan kab/kota 12.71: GeoPackage", "Keterpaduan kab/kota 12.71: Excel"):
        href, kind = by_name[name]
        with httpx.stream("GET", href, timeout=120) as answer:
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind), name
    assert_clean(watched)


@pytest.mark.parametrize("phone", PHONES[:1], indirect=True, ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_public_record_fits_a_phone_and_offers_its_downloads(phone, site):
    page = phone.page
    page.goto(f"{site.base}/publik?tenant=12.71")
    page.wait_for_selector("#unduh a")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    links = page.eval_on_selector_all("#unduh a", "as => as.map(a => [a.textContent, a.href, a.type, "
                                                  "a.getBoundingClientRect().height])")
    assert [text for text, *_ in links] == ["Excel", "CSV", "Lembar PDF", "GeoPackage", "KML"]
    assert all(height >= 43.5 for *_, height in links)
    for text, href, kind, _ in links[:2]:
        with httpx.stream("GET", href, timeout=120) as answer:  # a visitor: the public rows
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind), text
    money = page.inner_text("#tabel-dana")
    assert re.search(r"Rp \d{1,3}(\.\d{3})+", money) and not re.search(r"Rp \d+,\d{3}", money)
    assert_clean(phone)


def test_keterpaduan_downloads_hold_only_the_live_activities_it_draws(watched, site):
    page = watched.page
    with psycopg.connect(site.database_url) as conn:  # one activity rejected: off the map, out of the download
        rejected = conn.execute("UPDATE activities SET status = 'ditolak' WHERE id = (SELECT min(id) FROM activities "
                                "WHERE tenant = '12.71' AND status <> 'ditolak') RETURNING id").fetchone()[0]
        conn.commit()
    page.goto(f"{site.base}/peta/keterpaduan")
    tiles_loaded(page, "program")
    href = page.get_attribute("#daftar-unduhan a[type='application/geo+json'][href*='activities']", "href")
    answer = httpx.get(f"{site.base}{href}", timeout=60)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/geo+json")
    features = answer.json()["features"]
    assert features and rejected not in {f["properties"]["id"] for f in features}
    assert {f["properties"]["status"] for f in features}.isdisjoint({"ditolak", "dibatalkan"})
    everything = httpx.get(f"{site.base}{href.split('&filter=')[0]}", timeout=60).json()["features"]
    assert rejected in {f["properties"]["id"] for f in everything}  # the collection itself still holds it
    assert_clean(watched)


def test_an_api_error_shows_the_apis_own_message_in_indonesian_in_an_english_browser(browser, site):
    english = Watched(browser, site.base, locale="en-US")
    try:
        page = english.page
        page.goto(f"{site.base}/peta")
        tiles_loaded(page, "tingkat")
        url = f"{site.base}/collections/slum-areas/items/987654321"
        said = {lang: httpx.get(url, headers={"Accept-Language": lang}).json()["description"] for lang in ("id", "en")}
        assert said["id"] != said["en"]
        page.evaluate("kotaku.featurePopup(kotaku.map, kotaku.config().layers.tingkat, "
                      "{latlng: kotaku.map.getCenter(), layer: {properties: {id: 987654321}}})")
        shown = page.wait_for_selector(f".leaflet-popup-content p:has-text({said['id'][:20]!r})").inner_text()
        assert shown == said["id"]
        assert_clean(english, expected_errors=("404 (Not Found)",))
    finally:
        english.close()
