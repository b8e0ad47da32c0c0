"""MapLibre style documents (style spec v8) of our layers, built from the one palette in maps/styles.py.

`/styles` lists them and `/styles/{id}.json` serves each (api/routes/styles.py): `basemap` (roads by class with
name labels along the lines, buildings, water, landuse, place and region names), `wilayah` (region outlines),
the thematic styles of the PNG tiles (`tingkat-kumuh`, `prioritas`, `cakupan-program`: the same classes and
colours), `kegiatan` (activities: points, lines, polygons), `aset` (assets by condition) and `peta`, the page map:
basemap + regions + slum areas + activities in one document. Every source points at our TileJSON
(`/tiles/{id}/tilejson.json`, with `?tenant=` when asked for one kab/kota). Online basemaps (setting
KOTAKU_ONLINE_BASEMAPS) appear as raster sources with hidden layers in `basemap` and `peta`; none without it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

from data import data_path
from geo.errors import NotFound
from maps.styles import (
    BASEMAP_COLOURS,
    CASING_WIDTHS,
    CONDITION_CLASSES,
    KABKOTA_NAMES,
    KECAMATAN_NAMES,
    LABEL_HALO_WIDTH,
    LANDUSE_OPACITY,
    MAJOR_ROADS,
    NO_DATA_COLOUR,
    OUTLINE_COLOUR,
    PLACE_NAME_SIZES,
    PLACE_NAMES,
    REGION_OUTLINE_COLOURS,
    ROAD_WIDTHS,
    STREET_NAMES_FROM,
    WATERWAY_WIDTH,
    NameStyle,
    Style,
    category_colours,
    styles,
)

FONT = ["Noto Sans Regular"]
ATTRIBUTION_OSM = "© OpenStreetMap contributors (ODbL)"
ATTRIBUTION = "kotaku-gis; batas wilayah: cahyadsn/wilayah_boundaries (MIT)"  # our tiles (TileJSON), the regions'
BASEMAP_ATTRIBUTION = f"{ATTRIBUTION_OSM}; {ATTRIBUTION}"  # the basemap: OSM data, and region names as places


@dataclass(frozen=True)
class OnlineBasemap:
    id: str
    url: str
    attribution: str


def online_basemaps(setting: str | None) -> list[OnlineBasemap]:
    """Entries of KOTAKU_ONLINE_BASEMAPS (`id=URL[|attribution];...`, checked by layers/settings.py)."""
    out = []
    for entry in filter(None, (e.strip() for e in (setting or "").split(";"))):
        key, _, rest = entry.partition("=")
        url, _, attribution = rest.partition("|")
        out.append(OnlineBasemap(key.strip(), url.strip(), attribution.strip()))
    return out


STYLE_TITLES = {
    "basemap": "Peta dasar (OpenStreetMap)",
    "wilayah": "Batas wilayah administrasi",
    "kegiatan": "Kegiatan dan usulan",
    "aset": "Aset menurut kondisi",
    "peta": "Peta: peta dasar, wilayah, kawasan kumuh (tingkat) dan kegiatan",
}


def style_ids() -> list[str]:
    return ["peta", "basemap", "wilayah", *styles().keys(), "kegiatan", "aset"]


def style_title(style_id: str) -> str:
    thematic = styles().get(style_id)
    return thematic.title if thematic else STYLE_TITLES[style_id]


def _source(base: str, collection: str, tenant: str | None) -> dict:
    suffix = f"?tenant={tenant}" if tenant else ""
    return {"type": "vector", "url": f"{base}/tiles/{collection}/tilejson.json{suffix}"}


def _by_zoom(stops: tuple[tuple[int, float], ...]) -> list:
    return ["interpolate", ["linear"], ["zoom"], *(v for stop in stops for v in stop)]


def _basemap_layers() -> list[dict]:
    c = BASEMAP_COLOURS
    halo = {"text-color": c["label"], "text-halo-color": c["label_halo"], "text-halo-width": LABEL_HALO_WIDTH}
    return [
        {"id": "basemap-landuse", "type": "fill", "source": "basemap", "source-layer": "landuse",
         "paint": {"fill-color": c["landuse"], "fill-opacity": LANDUSE_OPACITY}},
        {"id": "basemap-water", "type": "fill", "source": "basemap", "source-layer": "water",
         "filter": ["==", "$type", "Polygon"], "paint": {"fill-color": c["water"]}},
        {"id": "basemap-waterway", "type": "line", "source": "basemap", "source-layer": "water",
         "filter": ["==", "$type", "LineString"], "paint": {"line-color": c["water"], "line-width": WATERWAY_WIDTH}},
        {"id": "basemap-buildings", "type": "fill", "source": "basemap", "source-layer": "buildings", "minzoom": 15,
         "paint": {"fill-color": c["building"], "fill-outline-color": c["building_outline"]}},
        {"id": "basemap-roads-casing", "type": "line", "source": "basemap", "source-layer": "roads",
         "layout": {"line-cap": "round", "line-join": "round"},
         "paint": {"line-color": c["road_casing"], "line-width": _by_zoom(CASING_WIDTHS)}},
        {"id": "basemap-roads", "type": "line", "source": "basemap", "source-layer": "roads",
         "layout": {"line-cap": "round", "line-join": "round"},
         "paint": {"line-color": ["match", ["get", "class"], list(MAJOR_ROADS), c["major_road"], c["road"]],
                   "line-width": _by_zoom(ROAD_WIDTHS)}},
        {"id": "basemap-road-names", "type": "symbol", "source": "basemap", "source-layer": "roads",
         "minzoom": STREET_NAMES_FROM,
         "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": FONT, "text-size": 11},
         "paint": halo},
        *_place_name_layers(halo),
    ]


def _names(name: NameStyle) -> dict:
    layout: dict = {"text-field": ["get", "name"], "text-font": FONT, "text-size": name.size,
                    "text-max-width": name.max_width_em}
    if name.uppercase:
        layout["text-transform"] = "uppercase"
    if name.letter_spacing:
        layout["text-letter-spacing"] = name.letter_spacing
    return layout


def _place_name_layers(halo: dict) -> list[dict]:
    """Place names over street names, kecamatan over kelurahan, kab/kota over all: MapLibre places the labels of
    the last layer first and drops any label that would overlap one already placed (its collision is left on).
    Kecamatan and kab/kota names are capitals, so 'GAMBIR' (kecamatan) and 'Gambir' (kelurahan) read apart; the
    kab/kota name leaves the map from zoom 10 (MapLibre's; Leaflet's 11, about a city's whole view), where it would
    hide the kecamatan names and the page's title says it. Constant properties per layer (no data-driven
    text-transform), which QGIS's converter reads too. The PNG basemap (maps/basemap_png.py) writes the same."""
    region = ["kabkota", "kecamatan"]
    sizes: list = ["match", ["get", "class"]]
    for cls, size in PLACE_NAME_SIZES.items():
        sizes += [[cls], size]
    return [
        {"id": "basemap-place-names", "type": "symbol", "source": "basemap", "source-layer": "places",
         "filter": ["match", ["get", "class"], region, False, True],
         "layout": {**_names(PLACE_NAMES), "text-size": [*sizes, PLACE_NAMES.size]},
         "paint": halo},
        {"id": "basemap-kecamatan-names", "type": "symbol", "source": "basemap", "source-layer": "places",
         "filter": ["==", ["get", "class"], "kecamatan"], "layout": _names(KECAMATAN_NAMES),
         "paint": {**halo, "text-color": KECAMATAN_NAMES.colour}},
        {"id": "basemap-kabkota-names", "type": "symbol", "source": "basemap", "source-layer": "places",
         "maxzoom": KABKOTA_NAMES.below_zoom, "filter": ["==", ["get", "class"], "kabkota"],
         "layout": _names(KABKOTA_NAMES), "paint": {**halo, "text-color": KABKOTA_NAMES.colour}},
    ]


def _region_layers() -> list[dict]:
    return [{"id": f"wilayah-{level}", "type": "line", "source": "regions", "source-layer": "regions",
             "filter": ["==", ["get", "level"], level],
             "paint": {"line-color": colour, "line-width": 2.5 if level == "kabkota" else 1.2,
                       "line-dasharray": [1, 0] if level == "kabkota" else [3, 2]}}
            for level, colour in REGION_OUTLINE_COLOURS.items()]


def colour_expression(style: Style) -> list:
    """The style's classes as a MapLibre expression over its property (no data: the grey of the PNG tiles)."""
    if style.numeric:  # integer ranges [value, next value) as "match" (QGIS converts match, not step over data)
        ranges: list = ["match", ["get", style.property]]
        bounds = [int(c.value) for c in style.classes]
        for c, low, high in zip(style.classes[:-1], bounds, bounds[1:], strict=False):
            ranges += [list(range(low, high)), c.colour]
        return [*ranges, style.classes[-1].colour]  # the last class is open-ended; no value: the no-data layer
    match: list = ["match", ["to-string", ["get", style.property]]]
    for c in style.classes:
        match += [str(c.value), c.colour]
    return [*match, NO_DATA_COLOUR]


def _thematic_layers(style: Style) -> list[dict]:
    return [
        {"id": f"{style.id}-no-data", "type": "fill", "source": style.collection, "source-layer": style.collection,
         "filter": ["!has", style.property], "paint": {"fill-color": NO_DATA_COLOUR, "fill-opacity": 0.4}},
        {"id": f"{style.id}-fill", "type": "fill", "source": style.collection, "source-layer": style.collection,
         "filter": ["has", style.property],
         "paint": {"fill-color": colour_expression(style), "fill-opacity": 0.6}},
        {"id": f"{style.id}-outline", "type": "line", "source": style.collection, "source-layer": style.collection,
         "paint": {"line-color": OUTLINE_COLOUR, "line-width": 0.8}},
    ]


def _geometry_layers(prefix: str, source: str, colour: object) -> list[dict]:
    return [
        {"id": f"{prefix}-polygons", "type": "fill", "source": source, "source-layer": source,
         "filter": ["==", "$type", "Polygon"], "paint": {"fill-color": colour, "fill-opacity": 0.45}},
        {"id": f"{prefix}-lines", "type": "line", "source": source, "source-layer": source,
         "filter": ["==", "$type", "LineString"], "paint": {"line-color": colour, "line-width": 3}},
        {"id": f"{prefix}-points", "type": "circle", "source": source, "source-layer": source,
         "filter": ["==", "$type", "Point"],
         "paint": {"circle-color": colour, "circle-radius": 5, "circle-stroke-color": "#ffffff",
                   "circle-stroke-width": 1}},
    ]


def _programme_colour() -> list:
    """Activities by programme, as the pages draw them (maps/styles.py category_colours over the shipped programme
    catalogue, data/reference/programs.csv); no programme in the pages' no-data grey."""
    with data_path("reference", "programs.csv").open(encoding="utf-8") as f:
        codes = [row["code"] for row in csv.DictReader(f)]
    match: list = ["match", ["get", "program"]]
    for code, colour in category_colours(codes).items():
        match += [code, colour]
    return [*match, NO_DATA_COLOUR]


def _condition_colour() -> list:
    match: list = ["match", ["get", "condition"]]
    for code, colour, _ in CONDITION_CLASSES:
        match += [code, colour]
    return [*match, NO_DATA_COLOUR]


def _online(basemaps: list[OnlineBasemap]) -> tuple[dict, list[dict]]:
    sources = {f"online-{b.id}": {"type": "raster", "tiles": [b.url], "tileSize": 256,
                                  **({"attribution": b.attribution} if b.attribution else {})} for b in basemaps}
    layers = [{"id": f"online-{b.id}", "type": "raster", "source": f"online-{b.id}",
               "layout": {"visibility": "none"}} for b in basemaps]
    return sources, layers


def style_document(style_id: str, base: str, *, tenant: str | None = None,
                   online: list[OnlineBasemap] | None = None) -> dict:
    """The MapLibre style `style_id` with its sources at `base` (the server's URL); NotFound lists the styles."""
    if style_id not in style_ids():
        raise NotFound(f"style '{style_id}' does not exist; styles: {', '.join(style_ids())}")
    sources: dict[str, dict] = {}
    layers: list[dict] = [{"id": "background", "type": "background",
                           "paint": {"background-color": BASEMAP_COLOURS["background"]}}]
    with_basemap = style_id in ("peta", "basemap")
    if with_basemap:
        online_sources, online_layers = _online(online or [])
        sources.update(online_sources)
        layers += online_layers
        sources["basemap"] = _source(base, "basemap", tenant)
        layers += _basemap_layers()
    if style_id in ("peta", "wilayah"):
        sources["regions"] = _source(base, "regions", tenant)
    thematic = styles().get("tingkat-kumuh" if style_id == "peta" else style_id)
    if thematic is not None:
        sources[thematic.collection] = _source(base, thematic.collection, tenant)
        layers += _thematic_layers(thematic)
    if style_id in ("peta", "wilayah"):
        layers += _region_layers()
    if style_id in ("peta", "kegiatan"):
        sources["activities"] = _source(base, "activities", tenant)
        layers += _geometry_layers("kegiatan", "activities", _programme_colour())
    if style_id == "aset":
        sources["assets"] = _source(base, "assets", tenant)
        layers += _geometry_layers("aset", "assets", _condition_colour())
    if with_basemap:  # names over everything
        labels = [layer for layer in layers if layer["type"] == "symbol"]
        layers = [layer for layer in layers if layer["type"] != "symbol"] + labels
    return {
        "version": 8,
        "name": style_title(style_id),
        "metadata": {"kotaku:id": style_id},
        "center": [117.0, -2.5],
        "zoom": 4,
        "sources": sources,
        "glyphs": f"{base}/static/glyphs/{{fontstack}}/{{range}}.pbf",
        "layers": layers,
    }
