"""From plan to asset, the whole story on a live `kotaku serve` over the Medan demo, with each role's own login:

kepling draws and sends a proposal on /peta/usulan (browser) and adds a photo (HTTP, the page has no upload) ->
lurah -> camat -> OPD -> bappeda puts it in the RKPD (plan, item, budget line) -> OPD reports 0/50/100 % with a
photo each, taken at the work and just now -> selesai, realisation booked -> serah terima, the asset handed to a KPP
with its berita acara -> the asset is in /collections/assets/items and drawn on a visitor's /peta -> next year
a new paving over it is blocked (409) on /peta/usulan and pokja accepts it there as rehabilitation with a
reason -> /publik (no login, desktop and a 390 px phone) shows the work's stage, money and photos, the berita
acara and the rehabilitation reason, draws its charts with the vendored Chart.js, and shows nobody's name.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
from PIL import Image

from layers.accounts.access import cli_principal
from layers.accounts.users import add_user, issue_token
from tests.e2e.conftest import ARTIFACTS, PASSWORD, Watched
from tests.e2e.servers import running_server
from tests.e2e.test_pages_browser import (
    ITEMS,
    PAINTED,
    assert_clean,
    draw_line,
    fill_proposal,
    go_to,
    submit,
    tiles_loaded,
)

TITLE = "Paving gang cerita lengkap"
BERITA_ACARA = "BA-017/KOTAKU/2027"
REASON = "Paving lama rusak berat akibat banjir, rehabilitasi disepakati rapat Pokja"
PDF = b"%PDF-1.4\n% berita acara serah terima\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
NEXT_YEAR = 2028


def jpeg(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (shade, 120, 255 - shade)).save(out, "JPEG")
    return out.getvalue()


async def _users(url: str, kel: str) -> dict[str, str]:
    roles = {"kepling_cerita": ("kepling", f"{kel}/Lingkungan 01"), "lurah_cerita": ("lurah", kel),
             "camat_cerita": ("camat", kel[:8]), "opd_cerita": ("opd", "12.71/Dinas PU"),
             "bappeda_cerita": ("bappeda", "12.71"), "pokja_cerita": ("pokja", "12.71")}
    tokens = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for name, (role, area) in roles.items():
            await add_user(conn, cli_principal(), name, role, area, password=PASSWORD)
            tokens[role] = (await issue_token(conn, cli_principal(), name, label="cerita"))[1]
    return tokens


@pytest.fixture(scope="module")
def story_site(fresh_demo):
    url = fresh_demo()
    with psycopg.connect(url) as conn:
        kel, lon, lat = conn.execute(
            "SELECT r.code, ST_X(r.p), ST_Y(r.p) FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM regions "
            "WHERE level = 'desa_kelurahan' AND tenant = '12.71') r WHERE NOT EXISTS (SELECT 1 FROM activities a "
            "WHERE ST_DWithin(a.geom::geography, r.p::geography, 500)) ORDER BY r.code DESC LIMIT 1").fetchone()
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API may run an event loop in this thread
        tokens = pool.submit(asyncio.run, _users(url, kel)).result()
    with running_server(url, "--no-access-log") as base:
        yield {"base": base, "url": url, "kel": kel, "spot": (lon, lat), "tokens": tokens}


def test_from_proposal_to_asset_to_the_public_record(browser, story_site):
    base, kel, tokens = story_site["base"], story_site["kel"], story_site["tokens"]
    lon, lat = story_site["spot"]
    http = httpx.Client(base_url=base, timeout=30)

    def as_role(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    def step(role: str, action: str, **extra) -> dict:
        answer = http.post(f"/activities/{activity}/transitions", json={"action": action, **extra},
                           headers=as_role(role))
        assert answer.status_code == 200, (role, action, answer.text)
        return answer.json()

    def photo(role: str, shade: int, progress_step: int | None = None) -> dict:
        fields = {"capture_lon": str(lon + 0.00005), "capture_lat": str(lat), "capture_accuracy_m": "8",
                  "captured_at": datetime.now(UTC).isoformat()}  # near the work, taken just now (the device's)
        if progress_step is not None:
            fields["progress_step"] = str(progress_step)
        answer = http.post(f"/activities/{activity}/attachments", data=fields, headers=as_role(role),
                           files={"file": (f"foto-{shade}.jpg", jpeg(shade), "image/jpeg")})
        assert answer.status_code == 201, answer.text
        return answer.json()

    # 1. kepling draws and sends the proposal on /peta/usulan (browser, its own login)
    kepling = Watched(browser, base)
    page = kepling.page
    kepling.login("kepling_cerita", "/peta/usulan")
    tiles_loaded(page, "program")
    go_to(page, lon, lat, 17, "program")
    draw_line(page, lon, lat)
    fill_proposal(page, TITLE, "APBD_KABKOTA")
    page.fill("input[name=proposer_area]", "Lingkungan 01")
    page.fill("input[name=target_agency]", "Dinas PU")
    saved = submit(page)
    assert saved.status == 201, saved.text()
    activity = saved.json()["id"]
    page.wait_for_selector(f"#pesan:has-text('nomor {activity}')")
    assert_clean(kepling)
    kepling.close()
    proposal_photo = photo("kepling", 40)  # the page has no upload: the kepling's token over HTTP
    assert proposal_photo["flagged"] is False, proposal_photo

    # 2. the chain: lurah -> camat -> OPD -> bappeda (RKPD with its plan item and budget line), each with its token
    step("lurah", "teruskan")
    step("camat", "teruskan")
    step("opd", "teruskan")
    step("bappeda", "teruskan")
    plan = http.post("/plans", json={"kind": "rkpd", "tenant": "12.71", "year_start": 2027,
                                     "document_number": "Perkada RKPD 2027"}, headers=as_role("bappeda"))
    assert plan.status_code == 201, plan.text
    item = http.post(f"/plans/{plan.json()['id']}/items", json={"title": "Paving gang", "kind": "jalan_paving",
                                                                "kelurahan_code": kel, "year": 2027},
                     headers=as_role("bappeda"))
    assert item.status_code == 201, item.text
    linked = http.put(f"/activities/{activity}/plan-item", json={"plan_item_id": item.json()["id"]},
                      headers=as_role("bappeda"))
    assert linked.status_code == 200, linked.text
    line = {"year": 2027, "account_code": "5.1.02.01", "dpa_number": "DPA-PU-2027-04", "allocated": 150_000_000}
    etag = http.get("/collections/keterpaduan/items", params={"limit": 1}).headers["etag"]
    budget = http.post(f"/activities/{activity}/budget-lines", json=line, headers=as_role("bappeda"))
    assert budget.status_code == 201, budget.text
    fresh = http.get("/collections/keterpaduan/items", params={"limit": 1}, headers={"If-None-Match": etag})
    assert fresh.status_code == 200  # the money changed: a cache may not keep serving the old items

    # 3. pelaksanaan 0/50/100 %, a fresh photo near the work for each step (OPD)
    step("opd", "teruskan")
    for shade, percent in ((80, 0), (140, 50), (200, 100)):
        photo("opd", shade, percent)
        moved = step("opd", "kemajuan", progress=percent)
        assert moved.get("progress", percent) == percent, moved
    record = http.get(f"/activities/{activity}/history").json()
    assert [(s["step"], s["state"]) for s in record["progress_steps"]] == [
        (0, "terverifikasi"), (50, "terverifikasi"), (100, "terverifikasi")]

    # 4. selesai with the realisation booked, then serah terima to a KPP with its berita acara
    step("opd", "teruskan")
    realised = http.post(f"/activities/{activity}/budget-lines", json={**line, "realised": 142_500_000},
                         headers=as_role("opd"))
    assert realised.status_code in (200, 201), realised.text
    group = http.post("/groups", json={"name": "KPP Gang Cerita", "kind": "kpp", "tenant": "12.71",
                                       "kelurahan_code": kel}, headers=as_role("pokja"))
    assert group.status_code == 201, group.text
    step("pokja", "teruskan")
    assets = http.get("/collections/assets/items", params={"limit": 1000}).json()["features"]
    [asset] = [f for f in assets if f["properties"]["activity_id"] == activity]  # 5. on the map's collection
    handed = http.patch(f"/assets/{asset['id']}", headers=as_role("pokja"),
                        data={"handover_number": BERITA_ACARA, "handover_date": "2027-11-20",
                              "recipient_group_id": str(group.json()["id"])},
                        files={"document": ("berita-acara.pdf", PDF, "application/pdf")})
    assert handed.status_code == 200, handed.text
    assert http.get(f"/assets/{asset['id']}/document").content == PDF  # public: no login

    # 5b. the asset on the map: a visitor's /peta draws it in the "Aset menurut kondisi" layer
    viewer = Watched(browser, base)
    page = viewer.page
    page.goto(f"{base}/peta")
    tiles_loaded(page, "wilayah")
    page.check(".leaflet-control-layers-overlays label:has-text('Aset') input")
    go_to(page, lon, lat, 17, "aset")
    assert page.evaluate(PAINTED, "aset") > 0, "the handed-over asset is not drawn on /peta"
    assert_clean(viewer)
    viewer.close()

    # 6. next year a new paving over it is blocked, and pokja accepts it as rehabilitation (/peta/usulan)
    pokja = Watched(browser, base)
    page = pokja.page
    pokja.login("pokja_cerita", "/peta/usulan")
    tiles_loaded(page, "program")
    go_to(page, lon, lat, 17, "program")
    draw_line(page, lon, lat)
    fill_proposal(page, "Paving ulang gang cerita", "APBD_KABKOTA")
    page.select_option("select[name=year_start]", str(NEXT_YEAR))
    blocked = submit(page)
    assert blocked.status == 409, blocked.text()
    conflicts = blocked.json()["details"]["conflicts"]
    assert any(c.get("source") == "aset" and c["activity_id"] == activity for c in conflicts), conflicts
    page.wait_for_selector("path.kotaku-konflik", state="attached")
    page.fill("#alasan", REASON)
    accepted = submit(page, "#setujui")
    assert accepted.status == 201, accepted.text()
    rehab = accepted.json()["id"]
    links = http.get(f"/activities/{rehab}/links").json()["links"]
    assert {"relation": "rehabilitasi", "other_id": activity} in [
        {"relation": x["relation"], "other_id": x["other_id"]} for x in links]
    assert_clean(pokja, expected_errors=(f"409 (Conflict) at {base}{ITEMS}",))
    pokja.close()

    # 7. the public record, no login: desktop, then a 390 px phone
    visitor = Watched(browser, base)
    page = visitor.page
    page.goto(f"{base}/publik?kelurahan={kel}")
    work = page.locator(f"#kegiatan-{activity}")
    text = work.inner_text()
    assert TITLE in text and "Serah terima aset (100 %)" in text
    assert "Pagu anggaran: Rp 150.000.000" in text and "Realisasi: Rp 142.500.000" in text
    page.wait_for_function(f"""() => Array.from(document.querySelectorAll('#kegiatan-{activity} img'))
        .every(i => i.complete && i.naturalWidth === 320)""")
    assert work.locator("img").count() == 4  # the proposal's photo and one per step
    shown = page.locator(f"#aset-{asset['id']}").inner_text()
    assert BERITA_ACARA in shown and "20 November 2027" in shown and "Penerima: KPP Gang Cerita" in shown
    assert page.locator(f"#aset-{asset['id']} a[href='/assets/{asset['id']}/document']").count() == 1
    again = page.locator(f"#kegiatan-{rehab}").inner_text()
    assert REASON in again and f"aset {asset['id']}" in again and "Usulan (belum dianggarkan)" in again
    table = page.inner_text("#tabel-dana")
    assert "2027" in table and "Rp 150.000.000" in table and "Rp 142.500.000" in table
    for canvas in ("grafik-dana",):  # drawn by the vendored Chart.js
        assert page.evaluate(f"Chart.getChart('{canvas}') !== undefined")
    page.wait_for_timeout(300)
    visitor.screenshot("publik-kelurahan")
    html = page.content()
    for secret in ("kepling_cerita", "pokja_cerita", "opd_cerita", "lurah_cerita", "camat_cerita", "bappeda_cerita"):
        assert secret not in html  # no user names: roles only, and not even those here
    page.goto(f"{base}/publik?tenant=12.71")
    page.wait_for_selector(f"#aset-{asset['id']}")
    assert page.evaluate("Chart.getChart('grafik-kumuh') !== undefined")  # slum hectares per year
    assert page.locator(f".daftar-kel a[href='/publik?kelurahan={kel}']").count() == 1
    visitor.screenshot("publik")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/publik?kelurahan={kel}")
    page.wait_for_selector(f"#aset-{asset['id']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    page.wait_for_timeout(300)
    visitor.screenshot("publik-ponsel")
    page.screenshot(path=str(ARTIFACTS / "publik-ponsel-penuh.png"), full_page=True)
    assert_clean(visitor)
    visitor.close()
