"""/peta: the viewer for Pokja PKP. Kelurahan boundaries, slum areas by level and by priority, activities by
programme and by funding source, assets by condition (vector tiles), a layer control and legend, kelurahan search,
year and stage filters, and popups that fetch the clicked feature from the OGC API (scores, activity details)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from psycopg import AsyncConnection

from layers.accounts.access import Principal
from maps.pages.config import LayerSpec, build_page, page_context

TITLE = "Peta Kawasan Kumuh"
FIRST_YEAR = 2015  # KOTAKU started in 2016; older works are rare
LAYERS = [
    LayerSpec("wilayah", "regions", "Batas wilayah (kab/kota, kecamatan, kelurahan)", "region", interactive=False),
    LayerSpec("tingkat", "slum-areas", "Kawasan kumuh menurut tingkat", "slum", "tingkat"),
    LayerSpec("prioritas", "slum-areas", "Kawasan kumuh menurut prioritas", "slum", "prioritas", show=False),
    LayerSpec("program", "activities", "Kegiatan menurut program", "activity", "program"),
    LayerSpec("sumber", "activities", "Kegiatan menurut sumber dana", "activity", "sumber", show=False),
    LayerSpec("aset", "assets", "Aset menurut kondisi", "asset", "kondisi", show=False),
]
BODY = """
<section><label>Kabupaten/kota <select id="pilih-tenant"></select></label></section>
<section class="cari"><h2>Cari kelurahan</h2>
<form id="cari-form" role="search"><input id="cari" type="search" autocomplete="off"
 placeholder="Nama atau kode, mis. Belawan atau 12.71.08" aria-label="Nama atau kode kelurahan">
<button type="submit">Cari</button></form>
<ul id="hasil-cari" class="hasil"></ul></section>
<section><h2>Filter kegiatan</h2>
<label>Tahun anggaran <select id="filter-tahun"><option value="">Semua tahun</option></select></label>
<label>Tahap perencanaan <select id="filter-tahap"><option value="">Semua tahap</option></select></label>
<p class="catatan" id="catatan-filter"></p></section>
<section><h2>Petunjuk</h2><p>Klik kawasan kumuh atau kegiatan di peta untuk melihat skor dan rinciannya.
Pilih lapisan di kanan atas; legenda di kanan bawah.</p></section>
"""


async def viewer_page(conn: AsyncConnection, principal: Principal, tenant: str | None = None) -> str:
    """The page of one kab/kota (asked, the caller's, else the first): its layers' tiles carry `?tenant=`, as on
    /peta/keterpaduan and as the search and the downloads are, so a city view draws that kab/kota's kelurahan and
    not every neighbour's in view (five times as many polygons in a province loaded whole: 2,519 against 474 for
    Kab. Lamongan). The panel's chooser opens another kab/kota."""
    context = await page_context(conn, principal, tenant)
    years = list(range(date.today().year + 5, FIRST_YEAR - 1, -1))
    query = urlencode({"tenant": context.tenant}) if context.tenant else ""
    return build_page("peta", TITLE, context, LAYERS, {"years": years}, BODY, tile_query=query)
