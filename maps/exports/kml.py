"""KML and KMZ for Google Earth: slum areas coloured by level, activities in one folder per programme coloured
by programme, assets in a folder "Aset" coloured by condition, a description balloon per feature and every
attribute as ExtendedData (GDAL reads them as fields). Built with ElementTree, so names are XML-escaped; balloon
HTML is escaped once more, so a name like `<script>` shows as text in Google Earth and never runs."""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import shapely

from layers.values.progress import Progress, no_progress
from maps.exports.bundle import Bundle
from maps.exports.codebook import field_of
from maps.exports.symbology import NO_PROGRAMME_COLOUR, kml_colour, level_classes, programme_colours
from maps.styles import CONDITION_CLASSES

KML_NS = "http://www.opengis.net/kml/2.2"
ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"  # Google Earth's own icon set
SLUM_AREA_BALLOON = ("kawasan", "kelurahan", "kecamatan", "area_ha", "level_name", "total_score", "projected_level",
                     "activities", "program_count", "proposed_cost", "budgeted", "realised",
                     "criteria_addressed", "criteria_remaining",
                     "criteria_gap", "collaborations")
ACTIVITY_BALLOON = ("title", "kind_name", "program_name", "funding_name", "volume", "unit", "cost", "budgeted",
                    "realised", "year_start", "year_end", "stage", "status", "progress", "kelurahan", "kawasan")
NO_PROGRAM_FOLDER = "Kegiatan tanpa program"
ASSET_BALLOON = ("title", "kind", "recipient", "handover_date", "handover_number", "value", "condition",
                 "service_life_years", "life_ends_year", "remaining_life_years", "last_inspected_on")


def _text(parent: ET.Element, tag: str, text: str | None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = text
    return el


def _value(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return f"{value:,.0f}".replace(",", ".") if abs(value) >= 1000 else f"{value:g}"
    return str(value)


def _coords(geom) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in shapely.get_coordinates(geom))


def _geometry(parent: ET.Element, geom) -> None:
    kind = geom.geom_type
    if kind.startswith("Multi") or kind == "GeometryCollection":
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in geom.geoms:
            _geometry(multi, part)
    elif kind == "Point":
        _text(ET.SubElement(parent, "Point"), "coordinates", _coords(geom))
    elif kind == "LineString":
        line = ET.SubElement(parent, "LineString")
        _text(line, "tessellate", "1")
        _text(line, "coordinates", _coords(geom))
    elif kind == "Polygon":
        poly = ET.SubElement(parent, "Polygon")
        _text(poly, "tessellate", "1")
        _text(ET.SubElement(ET.SubElement(poly, "outerBoundaryIs"), "LinearRing"), "coordinates",
              _coords(geom.exterior))
        for ring in geom.interiors:
            _text(ET.SubElement(ET.SubElement(poly, "innerBoundaryIs"), "LinearRing"), "coordinates", _coords(ring))


def _balloon(row: pd.Series, fields: tuple[str, ...], bundle: Bundle) -> str:
    rows = "".join(
        f"<tr><th align='left'>{html.escape(field_of(f, bundle.extra_fields).label)}</th>"
        f"<td>{html.escape(_value(row.get(f)))}</td></tr>" for f in fields if f in row.index)
    return f"<table border='0' cellpadding='2'>{rows}</table>"


def _placemark(folder: ET.Element, row: pd.Series, name: str, style: str, balloon: tuple[str, ...],
               bundle: Bundle) -> None:
    pm = ET.SubElement(folder, "Placemark")
    _text(pm, "name", name)
    _text(pm, "description", _balloon(row, balloon, bundle))
    _text(pm, "styleUrl", f"#{style}")
    data = ET.SubElement(pm, "ExtendedData")
    for col, value in row.items():
        if col == "geometry":
            continue
        item = ET.SubElement(data, "Data", name=str(col))
        _text(item, "displayName", field_of(str(col), bundle.extra_fields).label)
        _text(item, "value", _value(value) if not isinstance(value, bool) else ("1" if value else "0"))
    if row["geometry"] is not None and not row["geometry"].is_empty:
        _geometry(pm, row["geometry"])


def _styles(doc: ET.Element, programs: list[str]) -> None:
    for code, colour, _ in level_classes():
        style = ET.SubElement(doc, "Style", id=f"tingkat-{code or 'NA'}")
        line = ET.SubElement(style, "LineStyle")
        _text(line, "color", kml_colour("#4d4d4d"))
        _text(line, "width", "1.5")
        _text(ET.SubElement(style, "PolyStyle"), "color", kml_colour(colour, 0xB4))
    colours = {**programme_colours(programs), "": NO_PROGRAMME_COLOUR}
    for code, colour in colours.items():
        style = ET.SubElement(doc, "Style", id=f"program-{code or 'NA'}")
        icon = ET.SubElement(style, "IconStyle")
        _text(icon, "color", kml_colour(colour))
        _text(icon, "scale", "0.9")
        _text(ET.SubElement(icon, "Icon"), "href", ICON)
        line = ET.SubElement(style, "LineStyle")
        _text(line, "color", kml_colour(colour))
        _text(line, "width", "4")
        _text(ET.SubElement(style, "PolyStyle"), "color", kml_colour(colour, 0x99))
    for code, colour, _ in CONDITION_CLASSES:  # assets by condition
        style = ET.SubElement(doc, "Style", id=f"kondisi-{code}")
        icon = ET.SubElement(style, "IconStyle")
        _text(icon, "color", kml_colour(colour))
        _text(ET.SubElement(icon, "Icon"), "href", ICON)
        line = ET.SubElement(style, "LineStyle")
        _text(line, "color", kml_colour(colour))
        _text(line, "width", "5")
        _text(ET.SubElement(style, "PolyStyle"), "color", kml_colour(colour, 0x99))


def kml_document(bundle: Bundle, progress: Progress = no_progress) -> bytes:
    ET.register_namespace("", KML_NS)
    root = ET.Element("kml", xmlns=KML_NS)
    doc = ET.SubElement(root, "Document")
    place = bundle.tenant_name or bundle.tenant
    _text(doc, "name", f"Keterpaduan program {place}")
    _text(doc, "description", html.escape(" | ".join([f"SK: {bundle.decree or '-'}",
                                                       f"Dibuat {bundle.generated_at:%Y-%m-%d}", *bundle.sources])))
    programs = list(bundle.programs)
    _styles(doc, programs)
    areas = bundle.layers["kawasan_kumuh"]
    folder = ET.SubElement(doc, "Folder")
    _text(folder, "name", "Kawasan kumuh")
    progress("KML: kawasan kumuh", 0, 2)
    for _, row in areas.iterrows():
        label = " ".join(str(v) for v in (row["kawasan"], row["unit_label"]) if isinstance(v, str) and v)
        _placemark(folder, row, label or f"Kawasan {row['slum_area_id']}", f"tingkat-{row['level'] or 'NA'}"
                   if isinstance(row["level"], str) else "tingkat-NA", SLUM_AREA_BALLOON, bundle)
    progress("KML: kegiatan", 1, 2)
    activities = bundle.activities()
    if len(activities):
        program = activities["program"].astype(object).where(activities["program"].notna(), "")
        for code in [*programs, *sorted(set(program) - set(programs) - {""}), ""]:
            rows = activities[program == code]
            if rows.empty:
                continue
            folder = ET.SubElement(doc, "Folder")
            name = bundle.programs.get(code, code)
            _text(folder, "name", f"Kegiatan {code}" if code else NO_PROGRAM_FOLDER)
            _text(folder, "description", html.escape(name) if code else None)
            for _, row in rows.iterrows():
                _placemark(folder, row, str(row["title"]), f"program-{code or 'NA'}", ACTIVITY_BALLOON, bundle)
    if bundle.assets is not None and len(bundle.assets):
        folder = ET.SubElement(doc, "Folder")
        _text(folder, "name", "Aset")
        _text(folder, "description", "Aset hasil kegiatan yang sudah diserahterimakan, menurut kondisi")
        for _, row in bundle.assets.iterrows():
            _placemark(folder, row, str(row["title"]), f"kondisi-{row['condition']}", ASSET_BALLOON, bundle)
    progress("KML: selesai", 2, 2)
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def write_kml(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    path.write_bytes(kml_document(bundle, progress))


def write_kmz(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    """A KMZ is a zip whose first entry is doc.kml."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", kml_document(bundle, progress))
