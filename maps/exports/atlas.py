"""The atlas: one PDF (A4 landscape) with a map page for the kab/kota, then one per kecamatan (every kecamatan of
the kab/kota, in code order), then one per kawasan (the named slum-area groups of the decree, `slum_areas.kawasan`,
in the order of their main kecamatan then name): 1 + kecamatan + kawasan pages. Slum areas without a kawasan name
are on the kab/kota and kecamatan pages only.

Every page has its title, the legend in the one palette of the exports (maps/exports/symbology.py, maps/styles.py),
a metric scale bar, a north arrow, its figures (money in its three states, never added up), the sources and, where
the kab/kota has a basemap in PostGIS (`basemap_features`), the basemap drawn under the layers with the
OpenStreetMap attribution (ODbL). Labels never overlap (maps/exports/labels.py); names are printed as written in
the data.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd
import psycopg
import shapely
from matplotlib.backends.backend_pdf import PdfPages

from layers.accounts.access import Principal
from layers.basemap.extract import basemap_query
from layers.db.frames import Query, run
from layers.values.progress import Progress, no_progress
from maps.exports.atlas_page import draw_page
from maps.exports.atlas_parts import Atlas, Page, prepare_layers
from maps.exports.atomic import atomic_output
from maps.print_sheet import utm_crs

MEDIA_TYPE = "application/pdf"


def _single(query: Query):
    frame = yield query
    return frame


def collect_atlas(conn: psycopg.Connection, tenant: str, principal: Principal, *,
                  decree: str | None = None) -> Atlas:
    """The export bundle (as `principal` may see it) and the kab/kota's basemap (public data)."""
    from maps.exports import collect

    bundle = collect(conn, tenant, principal, decree=decree)
    frame = run(conn, _single(basemap_query(bundle.tenant)))
    geometry = gpd.GeoSeries(shapely.from_wkb([bytes(v) for v in frame["wkb"]]) if len(frame) else [],
                             index=frame.index, crs="EPSG:4326")
    basemap = gpd.GeoDataFrame(frame.drop(columns=["wkb"]), geometry=geometry, crs="EPSG:4326")
    return Atlas(bundle, basemap)


def file_name(tenant: str) -> str:
    return f"atlas_{tenant.replace('.', '')}.pdf"


def _rupiah_millions(value) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{float(value) / 1e6:,.0f}".replace(",", ".")


def _ha(value) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{float(value):,.1f}".replace(",", "#").replace(".", ",").replace("#", ".")


def _money_facts(row) -> list[tuple[str, str]]:
    """The three states of money, each on its own line (never added up)."""
    return [("Usulan belum dianggarkan (Rp juta)", _rupiah_millions(row.get("proposed_cost"))),
            ("Pagu anggaran (Rp juta)", _rupiah_millions(row.get("budgeted"))),
            ("Realisasi (Rp juta)", _rupiah_millions(row.get("realised")))]


def _summary_facts(row) -> list[tuple[str, str]]:
    if row is None:
        return [("Kawasan kumuh", "0"), ("Kegiatan", "0")]
    return [("Kawasan kumuh (bagian)", str(int(row["slum_areas"]))), ("Luas kumuh (ha)", _ha(row["slum_ha"])),
            ("Proyeksi kumuh (ha)", _ha(row["projected_slum_ha"])), ("Kegiatan", str(int(row["activities"]))),
            ("Program", str(int(row["program_count"]))), *_money_facts(row)]


def _row(layer: gpd.GeoDataFrame, code: str):
    rows = layer[layer["code"] == code] if len(layer) else layer
    return rows.iloc[0] if len(rows) else None


def _kawasan_groups(areas: gpd.GeoDataFrame) -> list[tuple[str, gpd.GeoDataFrame]]:
    named = areas[areas["kawasan"].notna() & (areas["kawasan"].astype(str).str.strip() != "")]
    groups = []
    for name, group in named.groupby("kawasan", sort=False):
        main = group.sort_values("area_ha", ascending=False).iloc[0]
        groups.append((str(main["kecamatan_code"] or ""), str(name), group))
    return [(name, group) for _, name, group in sorted(groups, key=lambda g: (g[0], g[1]))]


def _kawasan_facts(group: gpd.GeoDataFrame, level_names: dict[str, str]) -> list[tuple[str, str]]:
    kelurahan = ", ".join(dict.fromkeys(str(k) for k in group["kelurahan"].dropna()))
    kecamatan = ", ".join(dict.fromkeys(str(k) for k in group["kecamatan"].dropna()))
    order = list(level_names)
    levels = [v for v in group["level"].dropna().astype(str) if v in order]
    worst = level_names[min(levels, key=order.index)] if levels else "-"
    sums = {m: group[m].sum() for m in ("proposed_cost", "budgeted", "realised")}
    return [("Kelurahan", kelurahan or "-"), ("Kecamatan", kecamatan or "-"),
            ("Bagian kawasan (poligon SK)", str(len(group))), ("Luas (ha)", _ha(group["area_ha"].sum())),
            ("Tingkat terberat", worst), ("Kegiatan", str(int(group["activities"].sum()))), *_money_facts(sums)]


def atlas_pages(atlas: Atlas, crs: str) -> list[Page]:
    """The pages in order: the kab/kota, every kecamatan, every kawasan."""
    from maps.exports.symbology import level_classes

    bundle = atlas.bundle
    regions = bundle.regions.to_crs(crs)
    areas = bundle.layers["kawasan_kumuh"].to_crs(crs)
    decree = f"SK kumuh: {bundle.decree or '-'}"
    city = regions[regions["level"] == "kabkota"]
    everything = city.geometry if len(city) else (regions.geometry if len(regions) else areas.geometry)
    place = bundle.tenant_name or "Kab/kota"
    pages = [Page("kabkota", bundle.tenant, f"{place} ({bundle.tenant})", decree, everything,
                  _summary_facts(_row(bundle.layers["ringkasan_kabkota"], bundle.tenant)))]
    kecamatan = regions[regions["level"] == "kecamatan"].sort_values("code")
    summary = bundle.layers["ringkasan_kecamatan"]
    for _, kec in kecamatan.iterrows():
        pages.append(Page("kecamatan", kec["code"], f"Kecamatan {kec['name']} ({kec['code']})", f"{place} · {decree}",
                          gpd.GeoSeries([kec.geometry], crs=crs), _summary_facts(_row(summary, kec["code"]))))
    level_names = {code: label for code, _, label in level_classes() if code}
    for name, group in _kawasan_groups(areas):
        kec_names = ", ".join(dict.fromkeys(str(k) for k in group["kecamatan"].dropna()))
        title = name if name.lower().startswith("kawasan") else f"Kawasan {name}"
        pages.append(Page("kawasan", name, title, f"Kecamatan {kec_names or '-'}, {place} · {decree}",
                          group.geometry, _kawasan_facts(group, level_names)))
    return pages


def write_atlas(atlas: Atlas, path: Path, progress: Progress = no_progress) -> int:
    """Draw every page into one PDF at `path`; returns the number of pages."""
    bundle = atlas.bundle
    base = bundle.regions if len(bundle.regions) else bundle.layers["kawasan_kumuh"]
    crs = utm_crs(base if len(base) else gpd.GeoDataFrame(geometry=gpd.points_from_xy([106.8], [-6.2]),
                                                          crs="EPSG:4326"))
    pages = atlas_pages(atlas, crs)
    layers = prepare_layers(atlas, crs)
    progress("atlas: halaman", 0, len(pages))
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path, metadata={
            "Title": f"Atlas kawasan kumuh dan keterpaduan program {bundle.tenant_name or ''} ({bundle.tenant})",
            "Creator": "kotaku-gis"}) as pdf:
        for number, page in enumerate(pages, 1):
            fig = draw_page(page, layers, number, len(pages))
            pdf.savefig(fig)
            progress(f"atlas: halaman {number}/{len(pages)}", number, len(pages))
    return len(pages)


def export_atlas(conn: psycopg.Connection, tenant: str, path: Path | str, principal: Principal, *,
                 decree: str | None = None, progress: Progress = no_progress) -> dict:
    """Collect and write the atlas of `tenant` to `path` (atomically). Returns what was written."""
    progress("membaca data", 0, 1)
    atlas = collect_atlas(conn, tenant, principal, decree=decree)
    return write_atlas_file(atlas, path, progress)


def write_atlas_file(atlas: Atlas, path: Path | str, progress: Progress = no_progress) -> dict:
    with atomic_output(path) as temp:
        pages = write_atlas(atlas, temp, progress)
    target = Path(path)
    bundle = atlas.bundle
    return {"tenant": bundle.tenant, "format": "pdf", "path": str(target), "bytes": target.stat().st_size,
            "pages": pages, "public_only": bundle.public_only, "decree": bundle.decree,
            "basemap_features": len(atlas.basemap)}
