"""PNG basemap tiles, drawn by the server from the rows of the vector tile of the same address.

Why the server draws them: a browser without a usable GPU (headless, many phones) draws MapLibre's WebGL with
SwiftShader, on the CPU: 100-300 ms a frame at a laptop's size, and the page waits for each. A PNG costs the page
a decode in a background thread. So the pages draw the basemap's ground (landuse, water, buildings, roads) from
these tiles at every zoom, and its names from them below STREET_NAMES_FROM, where names are points; from there on
MapLibre writes the names, along the streets (maps/static/kotaku/basemap.js). GDAL reads them as XYZ tiles too.

One style: colours, widths, opacities and the names' sizes come from maps/styles.py, as the MapLibre style does
(maps/style_json.py); the names' letter spacing is left out (Pillow writes text whole). A tile is 512 CSS pixels
(the style's widths are per CSS pixel at MapLibre's zoom, whose tiles are 512 px), `scale` 2 for screens of two
device pixels per CSS pixel. Shapes are drawn SUPERSAMPLE times larger with Pillow and reduced (box filter): smooth
edges and lines thinner than a pixel.

Names: each belongs to the one tile that holds its point; its box is moved inside that tile if it would cross an
edge, so no name is ever cut in two, and a name that would overlap one placed before it (kab/kota, kecamatan, then
other places by importance) is left out, as MapLibre does. Street names are not written (see above).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import matplotlib
import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont

from layers.basemap.classes import LAYERS, PLACE_CLASSES
from layers.basemap.tiles import TILE_EXTENT
from maps.styles import (
    BASEMAP_COLOURS,
    CASING_WIDTHS,
    KABKOTA_NAMES,
    KECAMATAN_NAMES,
    LABEL_HALO_WIDTH,
    LANDUSE_OPACITY,
    MAJOR_ROADS,
    PLACE_NAME_SIZES,
    PLACE_NAMES,
    ROAD_WIDTHS,
    WATERWAY_WIDTH,
    NameStyle,
    hex_rgb,
)

TILE_PX = 512
SCALES = (1, 2)
PARTS = ("all", "ground", "names")
SUPERSAMPLE = {1: 4, 2: 2}
BUILDINGS_FROM = 15  # the style's basemap-buildings minzoom
LABEL_PADDING = 2  # CSS px kept free around a name (MapLibre's text-padding)
LINE_HEIGHT = 1.2  # ems (MapLibre's)
PNG_LEVEL = 3  # zlib: about a third of level 6's time for a few per cent more bytes
# matplotlib ships DejaVu Sans: the same letters on every machine, with no system font package
FONT_FILE = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
PLACE_RANK = {cls: i for i, (cls, _) in enumerate(PLACE_CLASSES)}
Row = tuple[str, "str | None", "str | None", bytes]


@cache
def drawing_definition() -> str:
    """What the PNGs' look depends on besides the rows, for their ETag: a style change is a new ETag."""
    return repr((BASEMAP_COLOURS, CASING_WIDTHS, ROAD_WIDTHS, WATERWAY_WIDTH, LANDUSE_OPACITY, MAJOR_ROADS,
                 LABEL_HALO_WIDTH, PLACE_NAMES, PLACE_NAME_SIZES, KECAMATAN_NAMES, KABKOTA_NAMES, SUPERSAMPLE,
                 BUILDINGS_FROM, LABEL_PADDING, LINE_HEIGHT, FONT_FILE.name))


def layers_of(part: str) -> tuple[str, ...]:
    """The basemap layers a part is drawn from: the names read only `places`, the ground everything else."""
    if part == "names":
        return ("places",)
    return tuple(layer for layer in LAYERS if part == "all" or layer != "places")


def render_basemap_png(rows: list[Row], z: int, *, part: str = "all", scale: int = 1) -> bytes:
    """The PNG of one basemap tile at zoom `z` from its rows; b"" when nothing is drawn (an empty tile)."""
    if part not in PARTS or scale not in SCALES:
        raise ValueError(f"part {part!r} / scale {scale!r}")
    size = TILE_PX * scale
    layers: dict[str, list[tuple[str | None, str | None, object]]] = {}
    for layer, cls, name, wkb in rows:
        layers.setdefault(layer, []).append((cls, name, shapely.from_wkb(wkb)))
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    drawn = False
    if part in ("all", "ground"):
        ground = _ground(layers, z, scale)
        if ground is not None:
            image, drawn = ground, True
    if part in ("all", "names"):
        drawn = _names(image, layers.get("places", []), z, scale) or drawn
    if not drawn:
        return b""
    out = io.BytesIO()
    # 256 colours (with their alpha) look the same here and weigh a third: antialiased edges are the only blends
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=PNG_LEVEL)
    return out.getvalue()


def width_at(stops: tuple[tuple[int, float], ...], z: int) -> float:
    """The style's ["interpolate", ["linear"], ["zoom"], ...] at zoom z (clamped at both ends, as MapLibre does)."""
    zooms, widths = zip(*stops, strict=True)
    return float(np.interp(z, zooms, widths))


class _Painter:
    """The tile's RGBA, painted one layer after another as MapLibre does: each layer's shapes are drawn into a
    coverage mask SUPERSAMPLE times larger, reduced, and composited in its colour (Pillow, in C)."""

    def __init__(self, scale: int):
        self.scale = scale
        self.factor = SUPERSAMPLE[scale]
        self.size = TILE_PX * scale
        self.big = self.size * self.factor
        self.to_px = self.big / TILE_EXTENT  # tile units -> supersampled pixels
        self.image = Image.new("RGBA", (self.size, self.size), (0, 0, 0, 0))
        self.painted = False

    def _mask(self) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        mask = Image.new("L", (self.big, self.big), 0)
        return mask, ImageDraw.Draw(mask)

    def _paint(self, mask: Image.Image, colour: str, opacity: float = 1.0) -> None:
        if mask.getbbox() is None:
            return
        cover = mask.reduce(self.factor)
        if opacity < 1:
            cover = cover.point([round(v * opacity) for v in range(256)])
        layer = Image.new("RGBA", cover.size, (*hex_rgb(colour), 0))
        layer.putalpha(cover)
        self.image.alpha_composite(layer)
        self.painted = True

    def fill(self, geometries: list, colour: str, opacity: float = 1.0) -> None:
        if not geometries:
            return
        mask, draw = self._mask()
        for polygon in _parts(geometries, 2):
            draw.polygon(self._coords(shapely.get_exterior_ring(polygon)), fill=255)
            for i in range(shapely.get_num_interior_rings(polygon)):
                draw.polygon(self._coords(shapely.get_interior_ring(polygon, i)), fill=0)
        self._paint(mask, colour, opacity)

    def line(self, geometries: list, width_css: float, colour: str) -> None:
        """Lines `width_css` wide with round caps and joins (the style's line-cap and line-join)."""
        if not geometries:
            return
        mask, draw = self._mask()
        width = max(1, round(width_css * self.scale * self.factor))
        radius = width / 2
        for line in _parts(geometries, 1):
            coords = self._coords(line)
            if len(coords) < 4:
                continue
            draw.line(coords, fill=255, width=width, joint="curve")
            if width > 2:  # round caps
                for x, y in (coords[:2], coords[-2:]):
                    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
        self._paint(mask, colour)

    def _coords(self, geometry) -> list[float]:
        return (shapely.get_coordinates(geometry) * self.to_px).ravel().tolist()


def _parts(geometries: list, dimension: int) -> list:
    """The single polygons (dimension 2) or lines (1) of the geometries, whatever their collection types."""
    parts = shapely.get_parts(np.asarray(geometries, dtype=object))
    return list(parts[(shapely.get_dimensions(parts) == dimension) & ~shapely.is_empty(parts)])


def _ground(layers: dict, z: int, scale: int) -> Image.Image | None:
    c = BASEMAP_COLOURS
    painter = _Painter(scale)

    def shapes(layer: str, classes: tuple[str, ...] | None = None, exclude: bool = False) -> list:
        return [g for cls, _, g in layers.get(layer, [])
                if classes is None or ((cls in classes) != exclude)]

    painter.fill(shapes("landuse"), c["landuse"], LANDUSE_OPACITY)
    water = shapes("water")
    painter.fill(water, c["water"])
    painter.line(water, WATERWAY_WIDTH, c["water"])  # _parts keeps the lines (the style's $type LineString)
    if z >= BUILDINGS_FROM:
        buildings = shapes("buildings")
        painter.fill(buildings, c["building"])
        painter.line([shapely.boundary(g) for g in buildings], 1 / scale, c["building_outline"])
    roads = shapes("roads")
    painter.line(roads, width_at(CASING_WIDTHS, z), c["road_casing"])
    width = width_at(ROAD_WIDTHS, z)
    painter.line(shapes("roads", MAJOR_ROADS, exclude=True), width, c["road"])
    painter.line(shapes("roads", MAJOR_ROADS), width, c["major_road"])
    return painter.image if painter.painted else None


@cache
def _font(px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILE), px)


def _name_style(cls: str | None, z: int) -> tuple[int, NameStyle, float] | None:
    """(priority, style, size) of a place name at zoom z; None when the style does not show it there."""
    if cls == "kabkota":
        below = KABKOTA_NAMES.below_zoom
        return None if below is not None and z >= below else (0, KABKOTA_NAMES, KABKOTA_NAMES.size)
    if cls == "kecamatan":
        return 1, KECAMATAN_NAMES, KECAMATAN_NAMES.size
    return 2 + PLACE_RANK.get(cls or "", len(PLACE_RANK)), PLACE_NAMES, PLACE_NAME_SIZES.get(cls or "",
                                                                                               PLACE_NAMES.size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_px: float) -> str:
    """Words on lines no wider than max_px (a longer word keeps its own line), as text-max-width does."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(lines[-1] + " " + word) <= max_px:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


@dataclass(frozen=True)
class PlacedName:
    text: str  # as written (capitals, lines)
    box: tuple[float, float, float, float]  # left, top, right, bottom in the tile's pixels, halo included
    origin: tuple[float, float]  # where Pillow writes the text
    font_px: int
    style: NameStyle


def place_names(places: list, z: int, scale: int = 1) -> list[PlacedName]:
    """The names written on this tile: those of the places whose point lies in it, each box inside the tile and
    overlapping no box placed before it (with LABEL_PADDING), in order of importance."""
    size = TILE_PX * scale
    to_px = size / TILE_EXTENT
    candidates = []
    for cls, name, point in places:
        if not name or shapely.get_type_id(point) != 0:
            continue
        x, y = point.x, point.y
        if not (0 <= x < TILE_EXTENT and 0 <= y < TILE_EXTENT):
            continue  # another tile's name
        styled = _name_style(cls, z)
        if styled is not None:
            candidates.append((styled[0], str(name), x * to_px, y * to_px, styled[1], styled[2]))
    candidates.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
    measure = ImageDraw.Draw(Image.new("L", (1, 1)))
    halo = _halo(scale)
    pad = LABEL_PADDING * scale
    placed: list[PlacedName] = []
    for _, name, x, y, style, px in candidates:
        font_px = round(px * scale)
        font = _font(font_px)
        text = _wrap(name.upper() if style.uppercase else name, font, style.max_width_em * px * scale)
        left, top, right, bottom = measure.multiline_textbbox((0, 0), text, font=font, spacing=_spacing(font_px),
                                                              stroke_width=halo, align="center")
        w, h = right - left, bottom - top
        if w > size - 2 or h > size - 2:
            continue
        x0 = min(max(x - w / 2, 1), size - 1 - w)  # inside the tile: never cut at its edge
        y0 = min(max(y - h / 2, 1), size - 1 - h)
        box = (x0, y0, x0 + w, y0 + h)
        if any(box[0] - pad < b.box[2] and b.box[0] < box[2] + pad and box[1] - pad < b.box[3]
               and b.box[1] < box[3] + pad for b in placed):
            continue
        placed.append(PlacedName(text, box, (x0 - left, y0 - top), font_px, style))
    return placed


def _halo(scale: int) -> int:
    return max(1, round(LABEL_HALO_WIDTH * scale))


def _spacing(font_px: int) -> int:
    return round((LINE_HEIGHT - 1) * font_px)


def _names(image: Image.Image, places: list, z: int, scale: int) -> bool:
    """Writes the names of place_names on the tile; True when any was written."""
    draw = ImageDraw.Draw(image)
    placed = place_names(places, z, scale)
    for name in placed:
        draw.multiline_text(name.origin, name.text, font=_font(name.font_px), fill=name.style.colour,
                            spacing=_spacing(name.font_px), align="center", stroke_width=_halo(scale),
                            stroke_fill=BASEMAP_COLOURS["label_halo"])
    return bool(placed)
