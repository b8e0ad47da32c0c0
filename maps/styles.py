"""Choropleth styles of the PNG tiles and their legends: which property, which classes, which colours.

Level names come from the scoring schemes and priority classes from the priority matrix (indicators/), so a
scheme or matrix change shows in maps and legends without code. The same property names exist on features and
on the low-zoom aggregates (worst level, most urgent priority, number of programmes), so one style serves every
zoom. Colours: ColorBrewer ramps (RdBu for levels, Reds/Oranges/YlOrBr for priority letters, YlGn for programmes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from indicators.priority import load_priority_tables
from indicators.schemes import load_scheme

NO_DATA_COLOUR = "#bdbdbd"
OUTLINE_COLOUR = "#4d4d4d"
LEVEL_COLOURS = {"KB": "#b2182b", "KS": "#ef8a62", "KR": "#fddbc7", "TK": "#92c5de"}
PRIORITY_RAMPS = {"A": ("#67000d", "#fb6a4a"), "B": ("#7f2704", "#fdae6b"), "C": ("#8c6d00", "#fee391")}
PROGRAMME_COLOURS = ("#f7fcb9", "#addd8e", "#41ab5d", "#006837")
# Asset condition classes (issue 12), in the order of a legend: (code, colour, label); the /peta layer and the
# exports' `aset` style use them.
CONDITION_CLASSES = (("baik", "#1a9641", "Baik"), ("rusak_ringan", "#fdae61", "Rusak ringan"),
                     ("rusak_berat", "#d7191c", "Rusak berat"))
# The basemap (issue 13) and the outlines drawn over it; the MapLibre styles (maps/style_json.py) use these only.
BASEMAP_COLOURS = {"background": "#f2efe9", "water": "#aad3df", "landuse": "#e0e8d0", "building": "#d9d0c9",
                   "building_outline": "#bfb5ab", "road": "#ffffff", "road_casing": "#b5aea3", "major_road": "#fcd6a4",
                   "label": "#333333", "label_halo": "#ffffff", "region_label": "#3f007d"}
# Basemap lines (CSS pixels at MapLibre zoom, linear between the stops), opacities, the street names' first zoom
# and the names of places: the MapLibre style (maps/style_json.py) and the PNG basemap (maps/basemap_png.py).
ROAD_WIDTHS = ((10, 0.5), (14, 2), (18, 14))
CASING_WIDTHS = ((10, 1), (14, 3.5), (18, 16))
WATERWAY_WIDTH = 1.5
LANDUSE_OPACITY = 0.6
MAJOR_ROADS = ("motorway", "trunk", "primary", "secondary")
STREET_NAMES_FROM = 13  # names along the streets (MapLibre zoom; Leaflet's 14): drawn by MapLibre on the pages
LABEL_HALO_WIDTH = 1.5


@dataclass(frozen=True)
class NameStyle:
    """How one kind of place name is written: size (px), wrap width (ems), colour, capitals, letter spacing (ems)
    and the zoom from which it leaves the map (None: never)."""

    size: float
    max_width_em: float
    colour: str
    uppercase: bool = False
    letter_spacing: float = 0.0
    below_zoom: int | None = None


PLACE_NAMES = NameStyle(11, 7, BASEMAP_COLOURS["label"])
PLACE_NAME_SIZES = {"city": 15, "town": 13}  # other OSM places: PLACE_NAMES.size
KECAMATAN_NAMES = NameStyle(12, 8, BASEMAP_COLOURS["region_label"], uppercase=True, letter_spacing=0.08)
KABKOTA_NAMES = NameStyle(14, 10, BASEMAP_COLOURS["region_label"], uppercase=True, letter_spacing=0.05,
                          below_zoom=10)
REGION_OUTLINE_COLOURS = {"kabkota": "#54278f", "kecamatan": "#756bb1", "desa_kelurahan": "#9e9ac8"}
ACTIVITY_COLOUR = "#2171b5"
# Programmes and funding sources (reference codes): ColorBrewer Paired (12) and Dark2, then greys, distinct hues for
# up to 20 codes, given in catalogue order with LAINNYA last (category_colours), so a code has the same colour on the
# pages, the exports (GPKG/SHP styles, KML, HTML, PDF) and the style JSON.
QUALITATIVE = ("#1f78b4", "#e31a1c", "#33a02c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#fb9a99", "#b2df8a",
               "#fdbf6f", "#cab2d6", "#e7298a", "#66a61e", "#e6ab02", "#1b9e77", "#7570b3", "#d95f02", "#666666",
               "#999999", "#000000")


def category_colours(codes: list[str]) -> dict[str, str]:
    """Reference code -> colour, the same whatever order a caller has the codes in: by code, LAINNYA last."""
    ordered = sorted(codes, key=lambda code: (code == "LAINNYA", code))
    return {code: QUALITATIVE[i % len(QUALITATIVE)] for i, code in enumerate(ordered)}


@dataclass(frozen=True)
class StyleClass:
    value: str | int  # the category, or the lower bound (inclusive) of a numeric class
    colour: str
    label: str


@dataclass(frozen=True)
class Style:
    id: str
    collection: str
    property: str
    title: str
    classes: tuple[StyleClass, ...]
    numeric: bool = False  # classes are ranges [value, next value)
    no_data_label: str = "Belum dinilai"

    def class_numbers(self, values: list) -> np.ndarray:
        """1..n: the class of each value; n + 1: no data (None or not a known category)."""
        no_data = len(self.classes) + 1
        if self.numeric:
            bounds = np.array([c.value for c in self.classes], dtype=float)
            numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
            out = np.searchsorted(bounds, numbers, side="right")
            out[np.isnan(numbers) | (out == 0)] = no_data
            return out.astype(np.uint8)
        index = {c.value: i + 1 for i, c in enumerate(self.classes)}
        return np.array([index.get(v, no_data) for v in values], dtype=np.uint8)

    def palette(self) -> np.ndarray:
        """RGBA rows: 0 transparent, 1..n the classes, n + 1 no data; 255 the outline."""
        table = np.zeros((256, 4), dtype=np.uint8)
        for i, c in enumerate(self.classes):
            table[i + 1] = (*hex_rgb(c.colour), 215)
        table[len(self.classes) + 1] = (*hex_rgb(NO_DATA_COLOUR), 170)
        table[255] = (*hex_rgb(OUTLINE_COLOUR), 255)
        return table


def hex_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _mix(a: str, b: str, t: float) -> str:
    ra, rb = hex_rgb(a), hex_rgb(b)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ra, rb, strict=True))


def _level_style() -> Style:
    scheme = load_scheme("permen14_2018")
    order = [level.code for level in sorted(scheme.levels, key=lambda level: level.min_total, reverse=True)]
    return Style("tingkat-kumuh", "slum-areas", "level", "Tingkat kekumuhan", tuple(
        StyleClass(code, LEVEL_COLOURS.get(code, NO_DATA_COLOUR), scheme.level_name(code).capitalize())
        for code in order))


def _priority_style() -> Style:
    matrix = load_priority_tables().matrix.sort_values("rank")
    classes = list(dict.fromkeys(matrix["class"]))
    letters: dict[str, list[str]] = {}
    for code in classes:
        letters.setdefault(code[0], []).append(code)
    out = []
    for code in classes:
        group = letters[code[0]]
        dark, light = PRIORITY_RAMPS.get(code[0], ("#525252", "#d9d9d9"))
        t = group.index(code) / max(1, len(group) - 1)
        level = matrix.loc[matrix["class"] == code, "level"].iloc[0]
        out.append(StyleClass(code, _mix(dark, light, t), f"{code} ({level})"))
    return Style("prioritas", "slum-areas", "priority", "Kelas prioritas penanganan", tuple(out))


def _programme_style() -> Style:
    labels = ("Belum ada program", "1 program", "2 program", "3 program atau lebih")
    return Style("cakupan-program", "keterpaduan", "program_count", "Cakupan program (jumlah program)", tuple(
        StyleClass(i, colour, label) for i, (colour, label) in enumerate(zip(PROGRAMME_COLOURS, labels, strict=True))
    ), numeric=True, no_data_label="Tanpa data")


@cache
def styles() -> dict[str, Style]:
    return {s.id: s for s in (_level_style(), _priority_style(), _programme_style())}


DEFAULT_STYLE = {"slum-areas": "tingkat-kumuh", "keterpaduan": "cakupan-program"}


def style_for(collection_id: str, style_id: str | None) -> Style | None:
    """The style asked for (or the collection's default); None when the collection has no PNG style."""
    chosen = style_id or DEFAULT_STYLE.get(collection_id)
    style = styles().get(chosen) if chosen else None
    if style is None or style.collection != collection_id:
        return None
    return style


def styles_of(collection_id: str) -> list[Style]:
    return [s for s in styles().values() if s.collection == collection_id]
