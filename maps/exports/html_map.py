"""A standalone HTML map (folium) that works offline: Leaflet's JS and CSS are inlined from the copy vendored in
maps/static/vendor/leaflet, no basemap tiles are fetched (kelurahan boundaries are the base), and no other
script or stylesheet is linked. Every text shown (tooltips, legend, title) is HTML-escaped here, and only those
escaped texts and colours go into the embedded GeoJSON, so a name like `<script>` is shown, never run."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure

from geo.errors import ServiceUnavailable
from layers.values.progress import Progress, no_progress
from maps.exports.bundle import Bundle
from maps.exports.symbology import (
    BOUNDARY_COLOUR,
    NO_PROGRAMME_COLOUR,
    OUTLINE_COLOUR,
    level_classes,
    programme_colours,
)

LEAFLET_DIR = Path(__file__).resolve().parents[1] / "static" / "vendor" / "leaflet"
INLINE_JS, INLINE_CSS = "kotaku-inline:leaflet.js", "kotaku-inline:leaflet.css"


def _leaflet() -> tuple[str, str]:
    js, css = LEAFLET_DIR / "leaflet.js", LEAFLET_DIR / "leaflet.css"
    if not js.is_file() or not css.is_file():
        raise ServiceUnavailable(f"the html export inlines Leaflet from {LEAFLET_DIR}, which is missing")
    return js.read_text(encoding="utf-8"), css.read_text(encoding="utf-8")


def _fmt(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}".replace(",", ".") if abs(value) >= 1000 else f"{value:g}"
    return str(value)


def _tip(pairs: list[tuple[str, object]]) -> str:
    """An escaped HTML snippet (label: value lines) for a tooltip."""
    return "<br>".join(f"<b>{html.escape(label)}</b>: {html.escape(_fmt(value))}" for label, value in pairs)


def _features(frame: gpd.GeoDataFrame, tips: list[str], colours: list[str]) -> dict:
    """GeoJSON with only the escaped tooltip and the colour as properties."""
    slim = gpd.GeoDataFrame({"tip": tips, "colour": colours}, geometry=frame.geometry.values, crs=frame.crs)
    return json.loads(slim.to_json(drop_id=True))


def _activity_style(feature: dict) -> dict:
    colour = feature["properties"]["colour"]
    if feature["geometry"]["type"] == "Point":
        return {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
    return {"color": colour, "weight": 4, "fillColor": colour, "fillOpacity": 0.3}


def _legend_html(bundle: Bundle, programs: list[str]) -> str:
    palette = programme_colours(list(bundle.programs))
    rows = [f"<div><span style='background:{c};border:1px solid {OUTLINE_COLOUR}'></span>{html.escape(label)}</div>"
            for _, c, label in level_classes()]
    prog = [f"<div><span style='background:{palette.get(p, NO_PROGRAMME_COLOUR)}'></span>"
            f"{html.escape(p + ': ' + bundle.programs.get(p, p) if p else 'Tanpa program')}</div>" for p in programs]
    sources = "".join(f"<div class='src'>{html.escape(s)}</div>" for s in bundle.sources)
    place = html.escape(f"{bundle.tenant_name or ''} ({bundle.tenant})".strip())
    return (
        "<style>#kotaku-legend{position:absolute;z-index:1000;right:10px;bottom:20px;background:#fff;padding:8px 10px;"
        "font:12px sans-serif;max-width:330px;box-shadow:0 1px 4px rgba(0,0,0,.3);border-radius:4px}"
        "#kotaku-legend span{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle}"
        "#kotaku-legend .src{font-size:10px;color:#555}"
        "#kotaku-title{position:absolute;z-index:1000;left:50px;top:10px;background:#fff;padding:6px 10px;"
        "font:bold 15px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3);border-radius:4px}</style>"
        f"<div id='kotaku-title'>Peta keterpaduan program {place}<br><span style='font-weight:normal;"
        f"font-size:12px'>SK: {html.escape(bundle.decree or '-')} &middot; {bundle.generated_at:%d-%m-%Y}</span></div>"
        f"<div id='kotaku-legend'><b>Tingkat kekumuhan</b>{''.join(rows)}<b>Kegiatan per program</b>{''.join(prog)}"
        f"{sources}</div>"
    )


def build_map(bundle: Bundle) -> folium.Map:
    areas = bundle.layers["kawasan_kumuh"]
    base = bundle.regions if len(bundle.regions) else areas
    minx, miny, maxx, maxy = base.total_bounds if len(base) else (106.7, -6.3, 106.9, -6.1)
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, control_scale=True,
                   zoom_start=12, prefer_canvas=False)
    m.default_js = [("leaflet", INLINE_JS)]
    m.default_css = [("leaflet_css", INLINE_CSS)]
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    kel = bundle.regions[bundle.regions["level"] == "desa_kelurahan"]
    if len(kel):
        folium.GeoJson(_features(kel, [_tip([("Kelurahan", n), ("Kode", c)]) for n, c in zip(kel["name"], kel["code"],
                                                                                                 strict=True)],
                                 [BOUNDARY_COLOUR] * len(kel)),
                       name="Batas kelurahan/desa",
                       style_function=lambda f: {"color": BOUNDARY_COLOUR, "weight": 0.8, "fillColor": "#f7f7f7",
                                                 "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)
    colours = {code: colour for code, colour, _ in level_classes()}
    if len(areas):
        tips = [_tip([("Kawasan", r.kawasan), ("Unit", r.unit_label), ("Kelurahan", r.kelurahan),
                      ("Tingkat", r.level_name), ("Skor", r.total_score), ("Proyeksi", r.projected_level),
                      ("Kegiatan", r.activities), ("Program", r.program_count),
                      ("Usulan belum dianggarkan (Rp)", r.proposed_cost), ("Pagu anggaran (Rp)", r.budgeted),
                      ("Realisasi (Rp)", r.realised),
                      ("Kriteria ditangani", r.criteria_addressed), ("Kriteria skor 3/5", r.criteria_remaining),
                      ("Belum ditangani", r.criteria_gap)]) for r in areas.itertuples()]
        fills = [colours.get(v if isinstance(v, str) else "", colours[""]) for v in areas["level"]]
        folium.GeoJson(_features(areas, tips, fills), name="Kawasan kumuh",
                       style_function=lambda f: {"color": "#252525", "weight": 1, "fillOpacity": 0.8,
                                                 "fillColor": f["properties"]["colour"]},
                       tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(m)
    palette = programme_colours(list(bundle.programs))
    acts = bundle.activities()
    programs: list[str] = []
    if len(acts):
        program = acts["program"].astype(object).where(acts["program"].notna(), "")
        programs = [p for p in [*bundle.programs, *sorted(set(program) - set(bundle.programs) - {""}), ""]
                    if (program == p).any()]
        for code in programs:
            rows = acts[program == code]
            colour = palette.get(code, NO_PROGRAMME_COLOUR)
            tips = [_tip([("Kegiatan", r.title), ("Jenis", r.kind_name), ("Program", r.program_name),
                          ("Sumber dana", r.funding_name), ("Volume", f"{_fmt(r.volume)} {r.unit or ''}"),
                          ("Perkiraan biaya (Rp)", r.cost), ("Pagu (Rp)", r.budgeted),
                          ("Realisasi (Rp)", r.realised), ("Tahun", r.year_start), ("Tahap", r.stage),
                          ("Status", r.status),
                          ("Progres (%)", r.progress), ("Kelurahan", r.kelurahan)]) for r in rows.itertuples()]
            group = folium.FeatureGroup(name=html.escape(f"Kegiatan {code}" if code else "Kegiatan tanpa program"))
            folium.GeoJson(_features(rows, tips, [colour] * len(rows)),
                           style_function=_activity_style,
                           marker=folium.CircleMarker(radius=5, weight=1, color="#ffffff", fill=True,
                                                      fill_color=colour, fill_opacity=0.95),
                           tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False)).add_to(group)
            group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    figure = m.get_root()
    if not isinstance(figure, Figure):  # branca types get_root as any Element; a folium Map's root is a Figure
        raise TypeError(f"the map's root is a {type(figure).__name__}, not a Figure")
    figure.html.add_child(Element(_legend_html(bundle, programs)))
    return m


def html_document(bundle: Bundle) -> str:
    js, css = _leaflet()
    page = build_map(bundle).get_root().render()
    page = page.replace(f'<script src="{INLINE_JS}"></script>', "<script>" + js.replace("</script", "<\\/script")
                        + "</script>")
    page = re.sub(rf'<link rel="stylesheet" href="{re.escape(INLINE_CSS)}"\s*/?>', lambda _: f"<style>{css}</style>",
                  page)
    if INLINE_JS in page or INLINE_CSS in page:
        raise RuntimeError("folium's page layout changed: Leaflet could not be inlined")
    return page


def write_html(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    progress("HTML", 0, 1)
    path.write_text(html_document(bundle), encoding="utf-8")
    progress("HTML", 1, 1)
