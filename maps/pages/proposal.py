"""/peta/usulan: planners draw a point, line or polygon (Leaflet.draw through folium's Draw plugin), fill the form
(options from the reference tables) and submit it to the API. The drawing lands on the ground (issue 13 item 3): it
is snapped to the basemap roads and live activities (POST /drawing/snap; the "Tempel ke jalan/kegiatan" box, on by
default), a phone's GPX/KML/KMZ/GeoJSON track can be the geometry (POST /drawing/track), "Lokasi saya" centres the
map on the device, and a camera photo goes with the proposal as evidence with its position (EXIF, else the device's:
POST /activities/{id}/attachments with capture_lon/lat). The overlap verdict is drawn on the map (conflicting
activities highlighted, the shared part drawn, the measures listed); the user adjusts the drawing and resubmits,
or asks for an override with a reason when the role allows it (bappeda, pokja, admin)."""

from __future__ import annotations

from datetime import date

import folium
from psycopg import AsyncConnection

from geo.tracks import MAX_TRACK_BYTES
from layers.accounts.access import Principal
from layers.accounts.permissions import RULES
from layers.planning.attachments import MAX_PHOTO_BYTES
from layers.planning.snap import MAX_TOLERANCE_M
from maps.pages.base import OfflineDraw
from maps.pages.config import LayerSpec, build_page, page_context
from maps.pages.writes import guard_form

TITLE = "Usulan Kegiatan"
LAYERS = [
    LayerSpec("wilayah", "regions", "Batas wilayah (kab/kota, kecamatan, kelurahan)", "region", interactive=False),
    LayerSpec("tingkat", "slum-areas", "Kawasan kumuh menurut tingkat", "slum", "tingkat"),
    LayerSpec("program", "activities", "Kegiatan yang sudah ada (menurut program)", "activity", "program"),
]
DRAW_OPTIONS = {
    "polyline": {"shapeOptions": {"color": "#111111", "weight": 5}},
    "polygon": {"allowIntersection": False, "showArea": False, "shapeOptions": {"color": "#111111"}},
    "marker": True,
    "circle": False,
    "rectangle": False,
    "circlemarker": False,
}
BODY = """
<section><h2>1. Gambar lokasi</h2>
<p>Pakai alat gambar di kiri atas: <b>titik</b> untuk fasilitas (MCK, hidran, sambungan air), <b>garis</b> untuk
jalan atau saluran, <b>poligon</b> untuk penataan kawasan. Gambar dapat diubah dengan alat edit.</p>
<p id="info-geometri" class="catatan">Belum ada gambar.</p>
<label class="centang"><input type="checkbox" id="tempel" checked> Tempel ke jalan/kegiatan</label>
<p id="info-tempel" class="catatan" aria-live="polite"></p>
<div class="berkas"><span id="judul-jejak">Atau unggah jejak dari ponsel (GPX, KML/KMZ, GeoJSON)</span>
<label class="tombol-berkas">Pilih berkas jejak<input type="file" id="jejak" aria-labelledby="judul-jejak"
accept=".gpx,.kml,.kmz,.geojson,.json"></label>
<span class="nama-berkas catatan" data-berkas="jejak">Belum ada berkas dipilih</span></div>
<p id="info-jejak" class="catatan" aria-live="polite"></p>
<p id="info-lokasi" class="catatan" aria-live="polite"></p></section>
<section><h2>2. Isi usulan</h2>
<form id="form-usulan" novalidate>
<label>Nama kegiatan <input name="title" maxlength="300" required></label>
<label>Jenis kegiatan <select name="kind" required></select></label>
<div class="dua"><label>Volume <input name="volume" type="number" min="0" step="any"></label>
<label>Satuan <input name="unit" readonly tabindex="-1"></label></div>
<label>Perkiraan biaya (Rp) <input name="cost" type="number" min="0" step="1"></label>
<div class="dua"><label>Tahun mulai <select name="year_start"></select></label>
<label>Tahun selesai <select name="year_end"></select></label></div>
<label>Program <select name="program"></select></label>
<label>Sumber dana <select name="funding_source"></select></label>
<label>Lingkungan/RT pengusul <input name="proposer_area" maxlength="100"></label>
<label>OPD tujuan <input name="target_agency" maxlength="100"></label>
<div class="berkas"><span id="judul-foto">Foto lokasi (kamera)</span>
<label class="tombol-berkas">Ambil atau pilih foto<input type="file" id="foto" aria-labelledby="judul-foto"
accept="image/*" capture="environment"></label>
<span class="nama-berkas catatan" data-berkas="foto">Belum ada foto dipilih</span></div>
<p id="info-foto" class="catatan" aria-live="polite"></p>
<div class="tombol"><button type="button" id="periksa">Periksa tumpang tindih</button>
<button type="submit" id="kirim">Kirim usulan</button></div>
</form></section>
<section id="hasil" aria-live="polite"><h2>3. Hasil</h2>
<div id="pesan" class="pesan"></div>
<ul id="daftar-konflik" class="daftar konflik"></ul>
<ul id="daftar-kolaborasi" class="daftar kolaborasi"></ul>
<div id="persetujuan" hidden><label>Alasan menyetujui tumpang tindih
<textarea id="alasan" rows="3" maxlength="500"></textarea></label>
<button type="button" id="setujui">Simpan dengan persetujuan</button></div></section>
"""


async def proposal_page(conn: AsyncConnection, principal: Principal, tenant: str | None = None) -> str:
    context = await page_context(conn, principal, tenant)
    this_year = date.today().year
    drawn = folium.FeatureGroup(name="Gambar usulan", control=False)
    draw = OfflineDraw(feature_group=drawn, show_geometry_on_click=False, draw_options=DRAW_OPTIONS,
                       edit_options={"remove": True}, position="topleft")
    config = {
        "kinds": context.reference["kinds"],
        "programs": context.reference["programs"],
        "funding_sources": context.reference["funding_sources"],
        "years": list(range(this_year - 1, this_year + 6)),
        "defaultYear": this_year + 1,
        "createRoles": sorted({*RULES["proposal.create"], "admin"}),
        "overrideRoles": sorted({*RULES["overlap.override"], "admin"}),
        "trackMaxBytes": MAX_TRACK_BYTES,
        "photoMaxBytes": MAX_PHOTO_BYTES,
        "snapMaxMetres": MAX_TOLERANCE_M,
    }
    # a role that may not propose is told why instead of getting a form that fails (maps/pages/writes.py)
    body = guard_form(BODY, principal, "proposal.create", context.tenant, "mengirim usulan", "/peta/usulan",
                      '<form id="form-usulan"', '<button type="submit" id="kirim"')
    return build_page("usulan", TITLE, context, LAYERS, config, body, {"gambar": drawn, "draw": draw})
