"""One page of the atlas (maps/exports/atlas.py), A4 landscape: title, the map (basemap when loaded, kelurahan,
slum areas by level, activities by programme, boundaries, the page's focus outlined and the rest dimmed), scale bar,
north arrow, labels placed without overlap, the legend, the page's figures and the sources."""

from __future__ import annotations

import math
from textwrap import shorten

import geopandas as gpd
import shapely
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from maps.exports.atlas_parts import Layers, Page
from maps.exports.labels import Label, QuietCanvas, place_labels
from maps.exports.symbology import NO_PROGRAMME_COLOUR, OUTLINE_COLOUR, level_classes, programme_colours
from maps.print_sheet import north_arrow, plot_activities, scale_bar
from maps.styles import BASEMAP_COLOURS, REGION_OUTLINE_COLOURS

A4_LANDSCAPE = (11.69, 8.27)  # inches
MAP_BOX = (0.025, 0.07, 0.64, 0.80)  # figure fraction: left, bottom, width, height
OSM_ATTRIBUTION = "Peta dasar: © OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"
MAJOR_ROADS = {"motorway", "trunk", "primary", "secondary", "tertiary"}
HALO = {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
MAX_ROAD_LABELS = 40


def _extent(focus: gpd.GeoSeries, aspect: float) -> tuple[float, float, float, float]:
    """The focus's box with a margin, at least 500 m wide, widened to the map frame's aspect (width/height)."""
    minx, miny, maxx, maxy = focus.total_bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    width = max(maxx - minx, 1.0) * 1.12
    height = max(maxy - miny, 1.0) * 1.12
    width = max(width, height * aspect, 500.0)
    height = width / aspect
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def _zoom(extent: tuple[float, float, float, float], width_in: float, lat: float) -> float:
    """The web-map zoom whose ground resolution matches this map on paper at 96 px an inch (tiles' min_zoom)."""
    metres_per_px = (extent[2] - extent[0]) / (width_in * 96)
    return math.log2(156543.03 * math.cos(math.radians(lat)) / max(metres_per_px, 0.01))


def _clip(frame: gpd.GeoDataFrame, extent) -> gpd.GeoDataFrame:
    return frame.cx[extent[0]:extent[2], extent[1]:extent[3]] if len(frame) else frame


def _draw_basemap(ax, basemap: gpd.GeoDataFrame, zoom: float) -> dict[str, bool]:
    """Landuse, water, buildings and roads of the classes drawn at this zoom (the tiles' rule, one zoom more:
    paper holds more detail than a screen). Returns which kinds were drawn (for the legend)."""
    c = BASEMAP_COLOURS
    shown = basemap[basemap["min_zoom"] <= zoom + 1] if len(basemap) else basemap
    drawn = {"roads": False, "buildings": False, "water": False}
    if not len(shown):
        return drawn
    layer = shown["layer"]
    polygons = shown.geometry.geom_type.str.contains("Polygon")
    for name, colour, z in (("landuse", c["landuse"], 0.2), ("water", c["water"], 0.3)):
        part = shown[(layer == name) & polygons]
        if len(part):
            part.plot(ax=ax, color=colour, linewidth=0, zorder=z)
    water_lines = shown[(layer == "water") & ~polygons]
    if len(water_lines):
        water_lines.plot(ax=ax, color=c["water"], linewidth=1.0, zorder=0.3)
    drawn["water"] = bool((layer == "water").any())
    buildings = shown[(layer == "buildings") & polygons]
    if len(buildings):
        buildings.plot(ax=ax, facecolor=c["building"], edgecolor=c["building_outline"], linewidth=0.15, zorder=0.4)
        drawn["buildings"] = True
    roads = shown[(layer == "roads") & ~polygons]
    if len(roads):
        major = roads["class"].isin(MAJOR_ROADS)
        roads.plot(ax=ax, color=c["road_casing"], linewidth=list(major.map({True: 2.6, False: 1.5})), zorder=0.5)
        roads.plot(ax=ax, color=list(major.map({True: c["major_road"], False: c["road"]})),
                   linewidth=list(major.map({True: 1.8, False: 0.9})), zorder=0.6)
        drawn["roads"] = True
    return drawn


def _road_labels(basemap: gpd.GeoDataFrame, zoom: float, box) -> list[Label]:
    if not len(basemap) or zoom < 13:
        return []
    roads = basemap[(basemap["layer"] == "roads") & basemap["name"].notna() & (basemap["min_zoom"] <= zoom)]
    if not len(roads):
        return []
    clipped = roads.geometry.intersection(box)
    frame = gpd.GeoDataFrame({"name": roads["name"].astype(str)}, geometry=clipped, crs=roads.crs)
    frame = frame[~frame.geometry.is_empty]
    frame["length"] = frame.geometry.length
    longest = frame.sort_values("length", ascending=False).drop_duplicates("name").head(MAX_ROAD_LABELS)
    labels = []
    for rank, (name, line) in enumerate(zip(longest["name"], longest.geometry, strict=True)):
        if line.geom_type.startswith("Multi"):
            line = max(line.geoms, key=lambda g: g.length)
        if line.geom_type != "LineString" or line.length <= 0:
            continue
        mid = line.interpolate(0.5, normalized=True)
        a, b = line.interpolate(0.45, normalized=True), line.interpolate(0.55, normalized=True)
        angle = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        labels.append(Label(mid.x, mid.y, name, priority=200 + rank, size=4.6,
                            style={"color": "#555555", "rotation": angle, "rotation_mode": "anchor",
                                   "style": "italic", "zorder": 7}))
    return labels


def _region_labels(layers: Layers, page: Page, box) -> list[Label]:
    regions = layers.regions
    labels: list[Label] = []
    if page.kind == "kabkota":
        level, size, priority = "kecamatan", 6.5, 0
    else:
        level, size, priority = "desa_kelurahan", 5.2, 100
    shown = regions[(regions["level"] == level) & regions.intersects(box)]
    for name, geom in zip(shown["name"], shown.geometry.intersection(box), strict=True):
        if geom.is_empty or geom.area < box.area * 0.002:
            continue
        point = geom.representative_point()
        labels.append(Label(point.x, point.y, str(name), priority=priority, size=size,
                            style={"color": REGION_OUTLINE_COLOURS["kabkota"] if level == "kecamatan" else "#252525",
                                   "fontweight": "bold" if level == "kecamatan" else "normal", "zorder": 8,
                                   "bbox": HALO}))
    return labels


def _kawasan_labels(layers: Layers, page: Page, box) -> list[Label]:
    areas = layers.areas
    if page.kind == "kawasan" or not len(areas):
        return []
    named = areas[areas["kawasan"].notna() & areas.intersects(box)]
    labels = []
    for name, group in named.groupby("kawasan"):
        union = shapely.union_all(group.geometry.values).intersection(box)
        if union.is_empty:
            continue
        point = union.representative_point()
        labels.append(Label(point.x, point.y, str(name), priority=10 if page.kind == "kecamatan" else 50, size=5.6,
                            style={"color": "#67000d", "fontweight": "bold", "zorder": 9, "bbox": HALO}))
    return labels


def _draw_layers(ax, layers: Layers, page: Page, extent) -> tuple[list[str], dict[str, bool]]:
    """Everything under the labels; returns the programmes drawn and which basemap kinds were drawn."""
    lat = gpd.GeoSeries([shapely.box(*extent)], crs=layers.crs).to_crs("EPSG:4326").iloc[0].centroid.y
    zoom = _zoom(extent, A4_LANDSCAPE[0] * MAP_BOX[2], lat)
    basemap = _clip(layers.basemap, extent)
    drawn = _draw_basemap(ax, basemap, zoom)
    ax.set_facecolor(BASEMAP_COLOURS["background"] if any(drawn.values()) else "white")
    regions = _clip(layers.regions, extent)
    kel = regions[regions["level"] == "desa_kelurahan"]
    if len(kel):
        kel.plot(ax=ax, facecolor="none" if any(drawn.values()) else "#f7f7f7",
                 edgecolor=REGION_OUTLINE_COLOURS["desa_kelurahan"], linewidth=0.4, zorder=1)
    colours = {code: colour for code, colour, _ in level_classes()}
    areas = _clip(layers.areas, extent)
    if len(areas):
        fill = areas["level"].astype(object).map(lambda v: colours.get(v if isinstance(v, str) else "", colours[""]))
        areas.plot(ax=ax, color=list(fill), edgecolor=OUTLINE_COLOUR, linewidth=0.6, alpha=0.8, zorder=2)
    programs: list[str] = []
    acts = _clip(layers.activities, extent)
    if len(acts):
        programs = plot_activities(ax, acts, list(layers.bundle.programs), polygon_width=1.0, marker_size=10)
    for level, width in (("kecamatan", 1.0), ("kabkota", 1.8)):
        part = regions[regions["level"] == level]
        if len(part):
            part.plot(ax=ax, facecolor="none", edgecolor=REGION_OUTLINE_COLOURS[level], linewidth=width, zorder=5)
    focus = shapely.union_all(page.focus.values)
    outside = shapely.box(*extent).difference(focus)
    if page.kind != "kabkota" and not outside.is_empty:
        gpd.GeoSeries([outside], crs=layers.crs).plot(ax=ax, color="white", alpha=0.45, linewidth=0, zorder=5.5)
    gpd.GeoSeries([focus], crs=layers.crs).boundary.plot(ax=ax, color="#000000", linewidth=1.6, zorder=6)
    return programs, drawn


def _legend(ax, layers: Layers, page: Page, programs: list[str], basemap: dict[str, bool]) -> None:
    ax.axis("off")
    palette = programme_colours(list(layers.bundle.programs))
    handles: list[Artist] = [Patch(facecolor=colour, edgecolor=OUTLINE_COLOUR, label=label)
                             for _, colour, label in level_classes()]
    handles += [Line2D([0], [0], color=palette.get(p, NO_PROGRAMME_COLOUR), linewidth=2.2, marker="o", markersize=4,
                       label=shorten(f"Kegiatan {p}: {layers.bundle.programs.get(p, p)}" if p
                                     else "Kegiatan tanpa program", 56, placeholder=" …")) for p in programs]
    focus = {"kabkota": "Batas kab/kota", "kecamatan": "Kecamatan ini", "kawasan": "Kawasan ini"}[page.kind]
    handles += [Line2D([0], [0], color="#000000", linewidth=1.6, label=focus),
                Line2D([0], [0], color=REGION_OUTLINE_COLOURS["kecamatan"], linewidth=1.0, label="Batas kecamatan"),
                Line2D([0], [0], color=REGION_OUTLINE_COLOURS["desa_kelurahan"], linewidth=0.6,
                       label="Batas kelurahan/desa")]
    c = BASEMAP_COLOURS
    if basemap["roads"]:
        handles.append(Line2D([0], [0], color=c["major_road"], linewidth=2.2, label="Jalan (OpenStreetMap)"))
    if basemap["buildings"]:
        handles.append(Patch(facecolor=c["building"], edgecolor=c["building_outline"], label="Bangunan (OSM)"))
    if basemap["water"]:
        handles.append(Patch(facecolor=c["water"], edgecolor="none", label="Perairan (OSM)"))
    ax.legend(handles=handles, title="Legenda", loc="upper left", fontsize=6.6, title_fontsize=8, frameon=False,
              alignment="left", handlelength=2.2)


def _facts(fig, page: Page, top: float) -> None:
    lines = [f"{label}: {value}" for label, value in page.facts]
    fig.text(0.69, top, "Ringkasan", fontsize=8, fontweight="bold", va="top")
    fig.text(0.69, top - 0.025, "\n".join(lines), fontsize=6.6, va="top", linespacing=1.5, parse_math=False,
             wrap=True)


def draw_page(page: Page, layers: Layers, number: int, total: int) -> Figure:
    bundle = layers.bundle
    fig = Figure(figsize=A4_LANDSCAPE)
    QuietCanvas(fig)
    fig.text(0.025, 0.975, "ATLAS KAWASAN KUMUH DAN KETERPADUAN PROGRAM", fontsize=8.5, color="#555555", va="top")
    fig.text(0.025, 0.952, page.title, fontsize=15, fontweight="bold", va="top", parse_math=False)
    fig.text(0.025, 0.912, page.subtitle, fontsize=8.5, va="top", parse_math=False)
    fig.text(0.975, 0.975, f"Halaman {number} dari {total}", fontsize=8, ha="right", va="top")
    ax = fig.add_axes(MAP_BOX)
    ax.set_xticks([])
    ax.set_yticks([])
    aspect = (A4_LANDSCAPE[0] * MAP_BOX[2]) / (A4_LANDSCAPE[1] * MAP_BOX[3])
    extent = _extent(page.focus, aspect)
    programs, basemap = _draw_layers(ax, layers, page, extent)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.apply_aspect()  # now, not at drawing time: the labels are measured in the final frame
    ax.set_xlabel("")
    ax.set_ylabel("")
    box = shapely.box(*extent)
    obstacles = scale_bar(ax, extent) + north_arrow(ax, extent)
    lat = gpd.GeoSeries([box], crs=layers.crs).to_crs("EPSG:4326").iloc[0].centroid.y
    labels = [*_kawasan_labels(layers, page, box), *_region_labels(layers, page, box),
              *_road_labels(_clip(layers.basemap, extent), _zoom(extent, A4_LANDSCAPE[0] * MAP_BOX[2], lat), box)]
    place_labels(ax, labels, obstacles)
    _legend(fig.add_axes((0.685, 0.46, 0.30, 0.44)), layers, page, programs, basemap)
    _facts(fig, page, 0.45)
    zone = layers.crs.split(":")[1]
    notes = [f"Tanggal: {bundle.generated_at:%d-%m-%Y}",
             f"Proyeksi: WGS 84 / UTM zona {int(zone[-2:])}{'N' if zone.startswith('326') else 'S'} ({layers.crs})",
             "Isi: " + ("data publik (SK yang diumumkan)" if bundle.public_only else "data kab/kota sesuai hak akses")
             + ", tanpa data pribadi",
             *[f"Sumber: {line}" if i == 0 else line for i, line in enumerate(bundle.sources)],
             *([OSM_ATTRIBUTION] if any(basemap.values()) else []), "Dibuat dengan kotaku-gis"]
    fig.text(0.69, 0.175, "\n".join(notes), fontsize=5.6, va="top", linespacing=1.4, parse_math=False, wrap=True)
    return fig
