"""The printable keterpaduan map sheet (A3 landscape) as PDF or PNG, drawn with matplotlib: title, the map in the
local UTM zone (slum areas by level, activities by programme, kelurahan boundaries and labels), legend, scale
bar, north arrow, date, sources with the boundary licence notice, and the summary table per kecamatan."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle

from layers.values.progress import Progress, no_progress
from maps.exports.bundle import Bundle
from maps.exports.labels import Label, QuietCanvas, place_labels
from maps.exports.symbology import (
    BOUNDARY_COLOUR,
    NO_PROGRAMME_COLOUR,
    OUTLINE_COLOUR,
    level_classes,
    programme_colours,
)

matplotlib.use("Agg")  # no display: files only (harmless when another backend is already chosen)

A3_LANDSCAPE = (16.54, 11.69)  # inches
PNG_DPI = 150
TABLE_ROWS = 24
# White boxes rather than path-effect halos: text stays text in the PDF (searchable, selectable).
BOX = {"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
LABEL_BOX = {"boxstyle": "round,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.55}


def utm_crs(frame: gpd.GeoDataFrame) -> str:
    """The UTM zone (WGS 84) of the frame's centre: metres for the scale bar, little distortion."""
    minx, miny, maxx, maxy = frame.total_bounds
    lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of the map width (1, 2 or 5 x 10^n metres)."""
    target = span_m / 5
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def scale_bar(ax, extent: tuple[float, float, float, float]) -> list[Artist]:
    """A metric scale bar (4 alternating segments) at the lower left; returns its texts (obstacles for labels)."""
    minx, miny, maxx, maxy = extent
    length = _nice_length(maxx - minx)
    x0, y0 = minx + (maxx - minx) * 0.04, miny + (maxy - miny) * 0.04
    height = (maxy - miny) * 0.008
    parts: list[Artist] = [
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, height, facecolor="black" if i % 2 == 0
                               else "white", edgecolor="black", linewidth=0.8, zorder=10)) for i in range(4)]
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    return parts + [ax.text(x, y0 + height * 2.2, text, ha="center", va="bottom", fontsize=8, zorder=10, bbox=BOX)
                    for x, text in ((x0, "0"), (x0 + length, label))]


def north_arrow(ax, extent: tuple[float, float, float, float]) -> list[Artist]:
    """An arrow with "U" (utara) at the upper right (the map is in UTM: north is up); returns the arrow and its
    text (obstacles for labels)."""
    minx, miny, maxx, maxy = extent
    x, y = maxx - (maxx - minx) * 0.05, maxy - (maxy - miny) * 0.13
    length = (maxy - miny) * 0.07
    arrow = ax.add_patch(FancyArrow(x, y, 0, length, width=length * 0.12, head_width=length * 0.45,
                                    head_length=length * 0.45, length_includes_head=True, color="black", zorder=10))
    letter = ax.text(x, y + length * 1.08, "U", ha="center", va="bottom", fontsize=14, fontweight="bold", zorder=10,
                     bbox=BOX)
    return [arrow, letter]


def _activities(bundle: Bundle, crs: str) -> gpd.GeoDataFrame | None:
    acts = bundle.activities()
    return acts.to_crs(crs) if len(acts) else None


def _draw_map(ax, bundle: Bundle, regions: gpd.GeoDataFrame, crs: str) -> list[str]:
    """Returns the programme codes drawn (for the legend)."""
    areas = bundle.layers["kawasan_kumuh"].to_crs(crs)
    kelurahan = regions[regions["level"] == "desa_kelurahan"]
    city = regions[regions["level"] == "kabkota"]
    if len(kelurahan):
        kelurahan.plot(ax=ax, facecolor="#f7f7f7", edgecolor=BOUNDARY_COLOUR, linewidth=0.35, zorder=1)
    if len(city):
        city.plot(ax=ax, facecolor="none", edgecolor="#252525", linewidth=1.4, zorder=5)
    colours = {code: colour for code, colour, _ in level_classes()}
    if len(areas):
        fill = areas["level"].astype(object).map(lambda v: colours.get(v if isinstance(v, str) else "",
                                                                        colours[""]))
        areas.plot(ax=ax, color=list(fill), edgecolor="#252525", linewidth=0.7, alpha=0.9, zorder=2)
    drawn: list[str] = []
    acts = _activities(bundle, crs)
    if acts is not None:
        drawn = plot_activities(ax, acts, list(bundle.programs))
    return drawn


def plot_activities(ax, acts: gpd.GeoDataFrame, programs: list[str], *, polygon_width: float = 1.2,
                    marker_size: float = 9) -> list[str]:
    """Activities in their programme's colour (the pages' palette): polygons hatched, lines, points; returns the
    programmes drawn, in the bundle's order, "" for none (the legend's entries). Used by the sheet and the atlas."""
    palette = programme_colours(programs)
    program = acts["program"].astype(object).where(acts["program"].notna(), "")
    colour = program.map(lambda p: palette.get(p, NO_PROGRAMME_COLOUR))
    dims = acts.geometry.geom_type
    polys, lines, points = dims.str.contains("Polygon"), dims.str.contains("Line"), dims == "Point"
    if polys.any():
        acts[polys].plot(ax=ax, facecolor="none", edgecolor=list(colour[polys]), linewidth=polygon_width,
                         hatch="///", zorder=3)
    if lines.any():
        acts[lines].plot(ax=ax, color=list(colour[lines]), linewidth=1.6, zorder=4)
    if points.any():
        acts[points].plot(ax=ax, color=list(colour[points]), markersize=marker_size, edgecolor="white",
                          linewidth=0.3, zorder=4)
    return [p for p in [*programs, ""] if (program == p).any()]


def kelurahan_labels(bundle: Bundle, regions: gpd.GeoDataFrame) -> list[Label]:
    """Names of the kelurahan where there is something to see (slum areas or activities), as written in the
    data, the busiest first (they win where labels would collide)."""
    summary = bundle.layers["ringkasan_kelurahan"]
    if not len(summary):
        return []
    busy = summary.loc[(summary["slum_areas"] > 0) | (summary["activities"] > 0)]
    weight = dict(zip(busy["code"], busy["slum_areas"] * 1000 + busy["activities"], strict=True))
    kelurahan = regions[(regions["level"] == "desa_kelurahan") & regions["code"].isin(weight)]
    return [Label(p.x, p.y, str(name), priority=-int(weight[code]), size=5.2,
                  style={"color": "#252525", "zorder": 6, "bbox": LABEL_BOX})
            for p, name, code in zip(kelurahan.geometry.representative_point(), kelurahan["name"],
                                     kelurahan["code"], strict=True)]


def _legend(ax, bundle: Bundle, programs: list[str]) -> None:
    ax.axis("off")
    handles = [Patch(facecolor=colour, edgecolor=OUTLINE_COLOUR, label=label) for _, colour, label in level_classes()]
    palette = programme_colours(list(bundle.programs))
    prog = [Line2D([0], [0], color=palette.get(p, NO_PROGRAMME_COLOUR), linewidth=2.5, marker="o", markersize=5,
                   label=(f"{p}: {bundle.programs.get(p, p)}" if p else "Tanpa program")[:58]) for p in programs]
    other = [Line2D([0], [0], color="#252525", linewidth=1.4, label="Batas kab/kota"),
             Patch(facecolor="#f7f7f7", edgecolor=BOUNDARY_COLOUR, label="Batas kelurahan/desa")]
    first = ax.legend(handles=handles, title="Tingkat kekumuhan kawasan (skor terkini)", loc="upper left",
                      fontsize=8, title_fontsize=9, frameon=False, alignment="left")
    ax.add_artist(first)
    second = ax.legend(handles=prog, title="Kegiatan per program (titik, garis, area)", loc="upper left",
                       bbox_to_anchor=(0.0, 0.62), fontsize=7.5, title_fontsize=9, frameon=False, alignment="left")
    ax.add_artist(second)
    ax.legend(handles=other, loc="upper left", bbox_to_anchor=(0.0, 0.07), fontsize=7.5, frameon=False, ncol=2)


MONEY = ("proposed_cost", "budgeted", "realised")  # three states of money, in columns of their own


def _money_millions(value) -> str:
    return f"{float(value) / 1e6:,.0f}".replace(",", ".") if value is not None and not pd.isna(value) else "-"


def _ha(value) -> str:
    return f"{float(value):,.1f}".replace(",", "#").replace(".", ",").replace("#", ".") if not pd.isna(value) else "-"


def summary_rows(bundle: Bundle) -> tuple[list[str], list[list[str]]]:
    """The table on the sheet: per kecamatan (the largest budgets when there are many) and the total; money in
    its three states (proposed, budgeted, realised), never added up."""
    header = ["Kecamatan", "Kawasan", "Kumuh\n(ha)", "Proyeksi\n(ha)", "Kegiatan", "Program", "Usulan", "Pagu",
              "Realisasi"]  # two lines where one would overflow its column
    kec = bundle.layers["ringkasan_kecamatan"]
    rows = []
    if len(kec):
        kec = kec.sort_values(["budgeted", "proposed_cost"], ascending=False) if len(kec) > TABLE_ROWS else kec
        shown = kec.head(TABLE_ROWS - 1 if len(kec) > TABLE_ROWS else TABLE_ROWS)
        for _, r in shown.sort_values("code").iterrows():
            rows.append([str(r["name"] or r["code"])[:22], str(int(r["slum_areas"])), _ha(r["slum_ha"]),
                         _ha(r["projected_slum_ha"]), str(int(r["activities"])), str(int(r["program_count"])),
                         *(_money_millions(r[m]) for m in MONEY)])
        if len(kec) > len(shown):
            rest = kec.iloc[len(shown):]
            rows.append([f"{len(rest)} kecamatan lain", str(int(rest["slum_areas"].sum())), _ha(rest["slum_ha"].sum()),
                         _ha(rest["projected_slum_ha"].sum()), str(int(rest["activities"].sum())), "",
                         *(_money_millions(rest[m].sum()) for m in MONEY)])
    city = bundle.layers["ringkasan_kabkota"]
    if len(city):
        r = city.iloc[0]
        rows.append(["JUMLAH", str(int(r["slum_areas"])), _ha(r["slum_ha"]), _ha(r["projected_slum_ha"]),
                     str(int(r["activities"])), str(int(r["program_count"])), *(_money_millions(r[m]) for m in MONEY)])
    return header, rows


def _table(ax, bundle: Bundle) -> None:
    ax.axis("off")
    header, rows = summary_rows(bundle)
    ax.set_title("Ringkasan keterpaduan per kecamatan (Rp juta)", fontsize=9.5, loc="left", fontweight="bold")
    if not rows:
        ax.text(0, 0.9, "Belum ada kawasan atau kegiatan.", fontsize=8)
        return
    table = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="right", colLoc="center",
                     colWidths=[0.19, 0.08, 0.1, 0.11, 0.08, 0.08, 0.11, 0.1, 0.11])
    table.auto_set_font_size(False)
    table.set_fontsize(6.2)
    table.scale(1, 1.12)
    for (row, col), cell in table.get_celld().items():
        cell.set_linewidth(0.3)
        if row == 0:
            cell.set_height(cell.get_height() * 1.9)
            cell.set_facecolor("#dde9f5")
            cell.set_text_props(fontweight="bold")
        if col == 0:
            cell.set_text_props(ha="left")
            cell.get_text().set_horizontalalignment("left")
        if row == len(rows):
            cell.set_text_props(fontweight="bold")


def render(bundle: Bundle, progress: Progress = no_progress) -> Figure:
    progress("peta: menyiapkan", 0, 4)
    fig = Figure(figsize=A3_LANDSCAPE)
    QuietCanvas(fig)
    region_frame = bundle.regions
    base = region_frame if len(region_frame) else bundle.layers["kawasan_kumuh"]
    crs = utm_crs(base if len(base) else gpd.GeoDataFrame(geometry=gpd.points_from_xy([106.8], [-6.2]),
                                                          crs="EPSG:4326"))
    regions = region_frame.to_crs(crs)
    place = f"{bundle.tenant_name or 'Kab/kota'} ({bundle.tenant})"
    fig.text(0.02, 0.965, "PETA KETERPADUAN PROGRAM PENANGANAN PERMUKIMAN KUMUH", fontsize=17, fontweight="bold",
             va="top")
    fig.text(0.02, 0.93, f"{place}  ·  SK kumuh: {bundle.decree or '-'}", fontsize=11, va="top")
    ax = fig.add_axes((0.02, 0.06, 0.6, 0.85))
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    progress("peta: menggambar", 1, 4)
    programs = _draw_map(ax, bundle, regions, crs)
    ax.set_xlabel("")
    ax.set_ylabel("")
    extent_frame = regions if len(regions) else bundle.layers["kawasan_kumuh"].to_crs(crs)
    if len(extent_frame):
        minx, miny, maxx, maxy = extent_frame.total_bounds
        pad = max(maxx - minx, maxy - miny) * 0.04
        extent = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        ax.set_xlim(extent[0], extent[2])
        ax.set_ylim(extent[1], extent[3])
        obstacles = scale_bar(ax, extent) + north_arrow(ax, extent)
        ax.apply_aspect()  # the frame as it will be drawn: labels are measured in it
        place_labels(ax, kelurahan_labels(bundle, regions), obstacles)
    progress("peta: legenda dan tabel", 2, 4)
    _legend(fig.add_axes((0.645, 0.56, 0.34, 0.36)), bundle, programs)
    _table(fig.add_axes((0.645, 0.16, 0.34, 0.38)), bundle)
    zone = crs.split(":")[1]
    notes = [f"Tanggal: {bundle.generated_at:%d-%m-%Y}",
             f"Proyeksi peta: WGS 84 / UTM zona {int(zone[-2:])}{'N' if zone.startswith('326') else 'S'} "
             f"({crs}); data dalam EPSG:4326",
             "Isi: " + ("hanya data publik (SK yang diumumkan), tanpa data pribadi" if bundle.public_only
                        else "data kab/kota sesuai hak akses, tanpa data pribadi"),
             "Proyeksi kumuh: skor survei terakhir dikurangi volume kegiatan hidup dan selesai",
             *[f"Sumber: {line}" if i == 0 else line for i, line in enumerate(bundle.sources)],
             "Dibuat dengan kotaku-gis"]
    fig.text(0.645, 0.145, "\n".join(notes), fontsize=7, va="top", linespacing=1.45, wrap=True)
    progress("peta: menyimpan", 3, 4)
    return fig


def write_pdf(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    # TrueType (42) rather than Type 3 fonts: readers and pdftotext select and search the text with its real boxes
    with matplotlib.rc_context({"pdf.fonttype": 42}):
        fig = render(bundle, progress)
        fig.savefig(path, format="pdf", metadata={"Title": f"Peta keterpaduan program {bundle.tenant}",
                                                  "Creator": "kotaku-gis"})
    progress("peta: selesai", 4, 4)


def write_png(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    fig = render(bundle, progress)
    fig.savefig(path, format="png", dpi=PNG_DPI, facecolor="white")
    progress("peta: selesai", 4, 4)
