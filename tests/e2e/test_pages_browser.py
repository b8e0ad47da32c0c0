"""The three pages in headless Chromium against a live `kotaku serve` over the Medan demo: they load without
console errors and without any request leaving the machine, draw their vector tiles, answer clicks with popups,
save a drawn line (201), block a duplicate drawn over it (409: conflict highlighted, overlap drawn, measures
listed), and show database text named like a script as text. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import SCRIPT_KAWASAN, SCRIPT_KELURAHAN, SCRIPT_TITLE

ITEMS = "/collections/activities/items"
TILE = re.compile(r"/tiles/(?P<collection>[a-z-]+)/\d+/\d+/\d+\.pbf")
PAINTED = """key => Array.from(document.querySelectorAll('.kotaku-lapisan-' + key + ' canvas')).reduce((n, c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
    return n + painted;
}, 0)"""


def tiles_loaded(page, *keys: str) -> None:
    for key in keys:
        page.wait_for_function(f"() => kotaku.refs[{key!r}] && !kotaku.refs[{key!r}].isLoading()", timeout=30_000)
    page.wait_for_timeout(300)  # VectorGrid paints on the next animation frame


def go_to(page, lon: float, lat: float, zoom: int, *keys: str) -> None:
    page.wait_for_function("() => !kotaku.map._animatingZoom")  # an animation running would undo the jump
    page.evaluate(f"void kotaku.map.setView([{lat}, {lon}], {zoom}, {{animate: false}})")
    page.wait_for_function(f"() => kotaku.map.getZoom() === {zoom}")
    tiles_loaded(page, *keys)


def screen_point(page, lon: float, lat: float) -> tuple[float, float]:
    x, y = page.evaluate(f"""(() => {{ const p = kotaku.map.latLngToContainerPoint([{lat}, {lon}]);
        const r = kotaku.map.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }})()""")
    return x, y


def draw_line(page, lon: float, lat: float, half_width: int = 100) -> None:
    x, y = screen_point(page, lon, lat)
    page.click("a.leaflet-draw-draw-polyline")
    page.mouse.click(x - half_width, y)
    page.wait_for_timeout(200)
    page.mouse.click(x + half_width, y)
    page.wait_for_timeout(200)
    page.click('.leaflet-draw-actions a[title="Selesai menggambar"]')
    page.wait_for_selector("#info-geometri:has-text('Garis sepanjang')")


def fill_proposal(page, title: str, funding: str, kind: str = "jalan_paving") -> None:
    page.fill("input[name=title]", title)
    page.select_option("select[name=kind]", kind)
    page.select_option("select[name=program]", "NSUP")
    page.select_option("select[name=funding_source]", funding)
    page.select_option("select[name=year_start]", "2027")


def submit(page, selector: str = "#kirim"):
    with page.expect_response(lambda r: r.url.endswith(ITEMS) and r.request.method == "POST") as response:
        page.click(selector)
    return response.value


def assert_clean(watched, expected_errors: tuple[str, ...] = ()) -> None:
    assert watched.external_requests() == []
    assert watched.dialogs == []
    unexpected = [e for e in watched.errors if not any(x in e for x in expected_errors)]
    assert unexpected == []


def test_viewer_draws_vector_tiles_offline_with_legend_and_layer_control(watched, site):
    page = watched.page
    tile_responses, tile_urls = [], []
    page.on("response", lambda r: TILE.search(r.url) and tile_responses.append((TILE.search(r.url)["collection"],
                                                                                   r.status)))
    page.on("request", lambda r: TILE.search(r.url) and tile_urls.append(r.url))
    page.goto(f"{site.base}/peta")
    tiles_loaded(page, "wilayah", "tingkat", "program")
    assert page.title() == "Peta Kawasan Kumuh - kotaku-gis"
    assert page.input_value("#pilih-tenant") == "12.71"  # the kab/kota it opened on, and only its layers
    assert tile_urls and all(url.endswith("?tenant=12.71") for url in tile_urls), tile_urls
    # every layer reads 512-pixel tiles of one zoom less than the map's (a quarter as many requests)
    zoom = page.evaluate("kotaku.map.getZoom()")
    zooms = {int(url.split("/tiles/")[1].split("/")[1]) for url in tile_urls}
    assert zooms == {zoom - 1}, (zoom, sorted(tile_urls))
    assert page.evaluate("document.querySelector('.kotaku-lapisan-tingkat canvas').width") == 512
    fetched = {c for c, status in tile_responses if status == 200}
    assert {"regions", "slum-areas", "activities"} <= fetched
    assert "slum-areas" in {c for c, _ in tile_responses} and all(s in (200, 204, 304) for _, s in tile_responses)
    for key in ("wilayah", "tingkat", "program"):
        assert page.evaluate(PAINTED, key) > 0, f"layer {key} drew nothing"
    assert page.evaluate(PAINTED, "prioritas") == 0  # off until chosen in the layer control
    watched.screenshot("peta")
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [o.strip() for o in overlays] == ["Batas wilayah (kab/kota, kecamatan, kelurahan)",
                                             "Kawasan kumuh menurut tingkat", "Kawasan kumuh menurut prioritas",
                                             "Kegiatan menurut program", "Kegiatan menurut sumber dana",
                                             "Aset menurut kondisi", "Peta dasar OpenStreetMap",
                                             "Nama jalan dan wilayah"]
    legend = page.inner_text("#legenda")
    assert "Tingkat kekumuhan" in legend and "Kumuh berat" in legend
    page.check(".leaflet-control-layers-overlays label:has-text('prioritas') input")
    tiles_loaded(page, "prioritas")
    assert page.evaluate(PAINTED, "prioritas") > 0
    assert "Kelas prioritas penanganan" in page.inner_text("#legenda")
    page.check(".leaflet-control-layers-overlays label:has-text('Aset') input")  # assets by condition
    tiles_loaded(page, "aset")
    assert "assets" in {c for c, _ in tile_responses}
    legend = page.inner_text("#legenda")
    assert "Aset menurut kondisi" in legend and "Rusak berat" in legend
    assert_clean(watched)
    assert all(u.startswith(site.base) for u in watched.requests)


def test_viewer_search_filters_and_popups(watched, site):
    page = watched.page
    page.goto(f"{site.base}/peta")
    tiles_loaded(page, "tingkat", "program")
    page.fill("#cari", "belawan")
    page.wait_for_selector("#hasil-cari li button")
    results = page.locator("#hasil-cari li button").all_inner_texts()
    assert any("Belawan" in r and "12.71.08" in r for r in results)
    page.fill("#cari", "12.71.08.1006")
    page.wait_for_selector("#hasil-cari li button:has-text('Bagan Deli')")
    page.click("#hasil-cari li button >> nth=0")
    page.wait_for_selector("path.kotaku-sorotan-wilayah")
    lon, lat, slum_id = site.slum_area_point
    go_to(page, lon, lat, 16, "tingkat", "program")
    page.evaluate("void kotaku.map.removeLayer(kotaku.refs.program)")  # the click must land on the slum area
    page.mouse.click(*screen_point(page, lon, lat))
    popup = page.wait_for_selector(".leaflet-popup-content:has-text('Skor total')")
    page.wait_for_selector(".leaflet-popup-content:has-text('Skor per putaran survei')")
    page.wait_for_timeout(400)  # the popup fades in
    text = popup.inner_text()
    assert "Tingkat kekumuhan" in text and re.search(r"Kumuh (berat|sedang|ringan)|Tidak kumuh", text)
    watched.screenshot("peta-popup")
    page.evaluate("kotaku.map.closePopup(); void kotaku.map.addLayer(kotaku.refs.program)")
    go_to(page, 98.675, 3.60, 14, "program")
    everything = page.evaluate(PAINTED, "program")
    page.select_option("#filter-tahun", "2015")  # no activity that year
    tiles_loaded(page, "program")
    assert everything > 0 and page.evaluate(PAINTED, "program") == 0
    page.select_option("#filter-tahun", "")
    page.select_option("#filter-tahap", "selesai")
    tiles_loaded(page, "program")
    assert 0 < page.evaluate(PAINTED, "program") < everything
    assert_clean(watched)


def test_a_drawn_line_is_saved_and_a_duplicate_is_blocked_then_overridden(watched, site):
    page = watched.page
    watched.login("pokja_medan", "/peta/usulan")
    lon, lat = site.spots[0]
    tiles_loaded(page, "program")
    go_to(page, lon, lat, 17, "program")
    draw_line(page, lon, lat)
    fill_proposal(page, "Paving gang uji halaman", "BPM_BDI")
    saved = submit(page)
    assert saved.status == 201, saved.text()
    first_id = saved.json()["id"]
    page.wait_for_selector(f"#pesan:has-text('Usulan tersimpan dengan nomor {first_id}')")
    assert page.locator("path.kotaku-konflik").count() == 0

    draw_line(page, lon, lat)  # the same road again, another funding source
    fill_proposal(page, "Paving gang yang sama", "APBD_KABKOTA")
    with page.expect_response(lambda r: r.url.endswith("/overlap-check")) as checked:
        page.click("#periksa")  # the dry run first: nothing saved
    assert checked.value.status == 200 and checked.value.json()["blocked"] is True
    page.wait_for_selector(f"#daftar-konflik li[data-id='{first_id}']")
    blocked = submit(page)
    assert blocked.status == 409
    item = page.wait_for_selector(f"#daftar-konflik li[data-id='{first_id}']")
    assert "Paving gang uji halaman" in item.inner_text()
    measure = page.inner_text(f"#daftar-konflik li[data-id='{first_id}'] .ukuran")
    assert re.search(r"Panjang tumpang tindih: \d{3}(,\d+)? m", measure) and "dari usulan baru" in measure
    page.wait_for_selector("path.kotaku-konflik", state="attached")
    page.wait_for_selector("path.kotaku-tumpang", state="attached")
    assert "tumpang tindih dengan 1 kegiatan" in page.inner_text("#pesan")
    assert page.is_visible("#persetujuan")  # pokja may override
    watched.screenshot("usulan-409")

    page.fill("#alasan", "Lapis kedua, disepakati rapat Pokja")
    accepted = submit(page, "#setujui")
    assert accepted.status == 201, accepted.text()
    page.wait_for_selector("#pesan:has-text('tumpang tindih disetujui')")
    history = httpx.get(f"{site.base}/activities/{accepted.json()['id']}/history").json()
    assert history["activity"]["override_reason"] == "Lapis kedua, disepakati rapat Pokja"
    assert_clean(watched, expected_errors=(f"409 (Conflict) at {site.base}{ITEMS}",))


def test_an_activity_named_like_a_script_shows_as_text_everywhere(watched, site):
    page = watched.page
    watched.login("kepling_uji", "/peta/usulan")
    lon, lat = site.kepling_spot
    tiles_loaded(page, "program")
    go_to(page, lon, lat, 17, "program")
    draw_line(page, lon, lat)
    fill_proposal(page, SCRIPT_TITLE, "DANA_DESA", kind="drainase")
    page.fill("input[name=proposer_area]", "Lingkungan 01")
    saved = submit(page)
    assert saved.status == 201, saved.text()
    script_id = saved.json()["id"]
    draw_line(page, lon, lat, half_width=80)
    fill_proposal(page, "Drainase kedua", "SWADAYA", kind="drainase")
    page.fill("input[name=proposer_area]", "Lingkungan 01")
    assert submit(page).status == 409
    heading = page.wait_for_selector(f"#daftar-konflik li[data-id='{script_id}'] h3")
    assert heading.inner_text() == f"#{script_id} {SCRIPT_TITLE}"
    assert page.locator("#daftar-konflik script").count() == 0
    assert not page.is_visible("#persetujuan")  # a kepling may not override
    page.select_option("select[name=year_start]", "2029")  # adjusted: another fiscal year, sent again
    resent = submit(page)
    assert resent.status == 201, resent.text()
    page.wait_for_selector(f"#pesan:has-text('nomor {resent.json()['id']}')")
    assert page.locator("#daftar-konflik li").count() == 0

    page.goto(f"{site.base}/peta")  # the popup of the activity
    tiles_loaded(page, "program")
    go_to(page, lon, lat, 17, "program")
    x, y = screen_point(page, lon, lat)
    page.mouse.click(x + 90, y)  # on the first line, beyond the adjusted second one (80 px each side)
    title = page.wait_for_selector(".leaflet-popup-content h3")
    page.wait_for_selector(".leaflet-popup-content:has-text('Tahap')")
    assert title.inner_text() == SCRIPT_TITLE

    page.fill("#cari", "alert(3)")  # a search result
    result = page.wait_for_selector("#hasil-cari li button strong")
    assert result.inner_text() == SCRIPT_KELURAHAN

    page.goto(f"{site.base}/peta/keterpaduan")  # a table row
    row = page.wait_for_selector(f"#tabel-kawasan tr[data-id='{site.script_slum_area}'] strong")
    assert row.inner_text() == SCRIPT_KAWASAN
    assert page.locator("#panel img").count() == 0
    assert_clean(watched, expected_errors=(f"409 (Conflict) at {site.base}{ITEMS}",))


def test_keterpaduan_panel_tables_details_and_collaboration_links(watched, site):
    lon, lat, slum_id = site.slum_area_point
    headers = {"Authorization": f"Bearer {site.token}"}
    for index, (start, end) in enumerate(((lon - 0.0005, lon), (lon, lon + 0.0005))):  # two roads end to end
        body = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[start, lat], [end, lat]]},
                "properties": {"title": f"Ruas {index + 1} jalan kolaborasi", "kind": "jalan_rabat_beton",
                               "year_start": 2027, "program": ["NSUP", "REGULER"][index],
                               "funding_source": ["BPM_BDI", "DANA_DESA"][index]}}
        created = httpx.post(f"{site.base}{ITEMS}", json=body, headers=headers)
        assert created.status_code == 201, created.text
    assert created.json()["collaborations"], created.json()
    summary = httpx.get(f"{site.base}/tenants/12.71/keterpaduan").json()

    page = watched.page
    tiles = []
    page.on("response", lambda r: "/tiles/keterpaduan/" in r.url and tiles.append((r.url, r.status)))
    page.goto(f"{site.base}/peta/keterpaduan")
    page.wait_for_selector("#tabel-kawasan tbody tr")
    tiles_loaded(page, "cakupan", "program")
    assert page.locator("#tabel-kawasan tbody tr").count() == len(summary["slum_areas"])
    assert any(status == 200 and "tenant=12.71" in url for url, status in tiles)
    assert page.evaluate(PAINTED, "cakupan") > 0
    kabkota = page.inner_text("#ringkasan-kabkota")
    assert "Kawasan kumuh" in kabkota and str(summary["kabkota"]["slum_areas"]) in kabkota
    legend = page.inner_text("#legenda")
    assert "Cakupan program" in legend and "garis tepi" in legend
    watched.screenshot("keterpaduan")

    page.click(f"#tabel-kawasan tr[data-id='{slum_id}']")
    # the demo has no budget lines: its money is all proposed, none budgeted or realised
    detail = page.wait_for_selector("#rincian-kawasan:has-text('Usulan belum dianggarkan per sumber dana')")
    assert "Pagu anggaran per sumber dana" not in detail.inner_text()
    text = detail.inner_text()
    for heading in ("Kegiatan per program", "Kriteria yang ditangani kegiatan", "Kriteria masih bernilai 3 atau 5",
                    "Proyeksi setelah kegiatan"):
        assert heading in text
    link = page.wait_for_selector("#daftar-kolaborasi li")
    assert "menyambung dengan" in link.inner_text() and "jalan kolaborasi" in link.inner_text()
    page.wait_for_selector("path.kotaku-kolaborasi", state="attached")
    page.wait_for_selector("path.kotaku-terpilih", state="attached")
    watched.screenshot("keterpaduan-rincian")

    page.click(".tab button[data-tab=kelurahan]")
    assert page.locator("#tabel-kelurahan tbody tr").count() == len(summary["kelurahan"])
    page.click(".tab button[data-tab=kecamatan]")
    assert page.locator("#tabel-kecamatan tbody tr").count() == len(summary["kecamatan"])
    assert_clean(watched)
