"""/peta/keterpaduan: the programme integration map. Slum areas filled by how many programmes work in them and
outlined by their level, the live activities of every programme and funding source, and a side panel fed by
GET /tenants/{tenant}/keterpaduan: per slum area the activities per programme, money per funding source
(proposed, budgeted and realised apart), criteria addressed against criteria still scoring 3 or 5, the projected
level after the planned work and the collaboration links; summaries per kelurahan, kecamatan and kab/kota."""

from __future__ import annotations

from urllib.parse import urlencode

from psycopg import AsyncConnection

from layers.accounts.access import Principal
from maps.pages.config import LayerSpec, build_page, page_context

TITLE = "Peta Keterpaduan Program"
LAYERS = [
    LayerSpec("wilayah", "regions", "Batas wilayah (kab/kota, kecamatan, kelurahan)", "region", interactive=False),
    LayerSpec("cakupan", "keterpaduan", "Kawasan kumuh: cakupan program (isi) dan tingkat (garis tepi)",
              "keterpaduan", "cakupan"),
    LayerSpec("program", "activities", "Kegiatan berjalan menurut program", "activity", "program"),
    LayerSpec("sumber", "activities", "Kegiatan berjalan menurut sumber dana", "activity", "sumber", show=False),
]
BODY = """
<section><label>Kabupaten/kota <select id="pilih-tenant"></select></label>
<div id="ringkasan-kabkota" class="ringkasan"></div></section>
<section id="rincian-kawasan" hidden><h2 id="rincian-judul"></h2><div id="rincian-isi"></div></section>
<section><h2>Ringkasan per wilayah</h2><div class="tab" role="tablist">
<button type="button" role="tab" data-tab="kawasan" aria-selected="true">Kawasan</button>
<button type="button" role="tab" data-tab="kelurahan" aria-selected="false">Kelurahan</button>
<button type="button" role="tab" data-tab="kecamatan" aria-selected="false">Kecamatan</button></div>
<div id="tabel-keterpaduan" class="tabel-wadah"><p class="catatan">Memuat ringkasan...</p></div>
<p class="catatan">Klik baris untuk rincian dan lokasinya di peta.</p></section>
"""


async def keterpaduan_page(conn: AsyncConnection, principal: Principal, tenant: str | None = None) -> str:
    context = await page_context(conn, principal, tenant)
    query = urlencode({"tenant": context.tenant}) if context.tenant else ""
    return build_page("keterpaduan", TITLE, context, LAYERS, {"liveOnly": True}, BODY, tile_query=query)
