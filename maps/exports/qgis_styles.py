"""Layer styles QGIS (QML) and other GIS (SLD 1.0) read: slum areas by level, activities by programme, summaries
by number of programmes, with labels. The GeoPackage writer stores them in the `layer_styles` table QGIS reads
on opening a layer; the Shapefile writer puts `<layer>.qml` (QGIS loads it automatically) and `<layer>.sld`
beside each `.shp`. Field names go through `field` so the Shapefile's short names are used there."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from maps.exports.symbology import (
    NO_PROGRAMME_COLOUR,
    OUTLINE_COLOUR,
    level_classes,
    programme_colours,
    programme_count_classes,
    rgba_text,
)
from maps.styles import CONDITION_CLASSES

QGIS_VERSION = "3.28.0"
SLD_NS = "http://www.opengis.net/sld"
OGC_NS = "http://www.opengis.net/ogc"
ET.register_namespace("sld", SLD_NS)
ET.register_namespace("ogc", OGC_NS)


@dataclass(frozen=True)
class Category:
    value: str | None  # None: the "everything else / empty" class
    colour: str
    label: str


@dataclass(frozen=True)
class Range:
    lower: float
    upper: float | None
    colour: str
    label: str


def _geometry_kind(layer: str) -> str:
    if layer == "kegiatan_titik":
        return "marker"
    if layer in ("kegiatan_garis", "aset"):  # aset: roads and drains mostly (points and areas draw as outlines)
        return "line"
    return "fill"


def _rules(layer: str, programs: list[str]) -> tuple[str, list[Category] | list[Range], str | None]:
    """(attribute, classes, label attribute) of a layer."""
    if layer == "kawasan_kumuh":
        return "level", [Category(code or None, colour, label) for code, colour, label in level_classes()], "kawasan"
    if layer == "aset":
        return "condition", [Category(code, colour, label) for code, colour, label in CONDITION_CLASSES], "title"
    if layer.startswith("kegiatan_"):
        colours = programme_colours(programs)
        cats: list[Category] = [Category(code, colours[code], code) for code in programs]
        return "program", [*cats, Category(None, NO_PROGRAMME_COLOUR, "Tanpa program")], None
    ranges = [Range(lo, hi, colour, label) for lo, hi, colour, label in programme_count_classes()]
    return "program_count", ranges, "name"


# -- QML -------------------------------------------------------------------------------------------
def _option(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, "Option", type="QString", name=name, value=value)
    ET.SubElement(parent, "prop", k=name, v=value)  # read by QGIS versions before the Option maps


def _symbol(parent: ET.Element, kind: str, name: str, colour: str) -> None:
    symbol = ET.SubElement(parent, "symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    if kind == "fill":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
        options = ET.SubElement(layer, "Option", type="Map")
        for k, v in (("color", rgba_text(colour, 190)), ("outline_color", rgba_text(OUTLINE_COLOUR)),
                     ("outline_style", "solid"), ("outline_width", "0.3"), ("outline_width_unit", "MM"),
                     ("style", "solid")):
            _option(options, k, v)
    elif kind == "line":
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleLine", "enabled": "1", "locked": "0", "pass": "0"})
        options = ET.SubElement(layer, "Option", type="Map")
        for k, v in (("line_color", rgba_text(colour)), ("line_width", "0.8"), ("line_width_unit", "MM"),
                     ("line_style", "solid"), ("capstyle", "round"), ("joinstyle", "round")):
            _option(options, k, v)
    else:
        layer = ET.SubElement(symbol, "layer", {"class": "SimpleMarker", "enabled": "1", "locked": "0", "pass": "0"})
        options = ET.SubElement(layer, "Option", type="Map")
        for k, v in (("color", rgba_text(colour)), ("name", "circle"), ("size", "2.6"), ("size_unit", "MM"),
                     ("outline_color", "255,255,255,255"), ("outline_width", "0.3"), ("outline_width_unit", "MM")):
            _option(options, k, v)


def qml(layer: str, programs: list[str], field: Callable[[str], str] = str) -> str:
    """A QGIS style (.qml) of an export layer: symbology and labels."""
    attribute, classes, label_attribute = _rules(layer, programs)
    kind = _geometry_kind(layer)
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling")
    ranges = [c for c in classes if isinstance(c, Range)]
    categories = [c for c in classes if isinstance(c, Category)]
    if ranges:
        renderer = ET.SubElement(root, "renderer-v2", type="graduatedSymbol", attr=field(attribute),
                                 graduatedMethod="GraduatedColor", symbollevels="0", enableorderby="0",
                                 forceraster="0")
        ranges_element = ET.SubElement(renderer, "ranges")
        for i, r in enumerate(ranges):
            upper = r.upper - 0.5 if r.upper is not None else 1e9
            lower = r.lower - 0.5 if i else -0.5
            ET.SubElement(ranges_element, "range", render="true", symbol=str(i), lower=f"{lower:g}", upper=f"{upper:g}",
                          label=r.label)
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=field(attribute),
                                 symbollevels="0", enableorderby="0", forceraster="0")
        categories_element = ET.SubElement(renderer, "categories")
        for i, c in enumerate(categories):
            ET.SubElement(categories_element, "category", render="true", symbol=str(i), value=c.value or "",
                          label=c.label)
    symbols = ET.SubElement(renderer, "symbols")
    for i, colour in enumerate(c.colour for c in classes):
        _symbol(symbols, kind, str(i), colour)
    if label_attribute:
        labeling = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(labeling, "settings", calloutType="simple")
        text = ET.SubElement(settings, "text-style", fieldName=field(label_attribute), fontSize="8",
                             fontSizeUnit="Point", textColor="20,20,20,255", isExpression="0")
        ET.SubElement(text, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM",
                      bufferColor="255,255,255,255")
        ET.SubElement(settings, "placement", placement="1", dist="0", priority="5")
        ET.SubElement(settings, "rendering", scaleVisibility="1", scaleMin="1", scaleMax="60000", obstacle="1")
    ET.SubElement(root, "layerGeometryType").text = {"marker": "0", "line": "1", "fill": "2"}[kind]
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


# -- SLD -------------------------------------------------------------------------------------------
def _s(tag: str) -> str:
    return f"{{{SLD_NS}}}{tag}"


def _o(tag: str) -> str:
    return f"{{{OGC_NS}}}{tag}"


def _css(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, _s("CssParameter"), name=name).text = value


def _symbolizer(rule: ET.Element, kind: str, colour: str) -> None:
    if kind == "fill":
        sym = ET.SubElement(rule, _s("PolygonSymbolizer"))
        fill = ET.SubElement(sym, _s("Fill"))
        _css(fill, "fill", colour)
        _css(fill, "fill-opacity", "0.75")
        stroke = ET.SubElement(sym, _s("Stroke"))
        _css(stroke, "stroke", OUTLINE_COLOUR)
        _css(stroke, "stroke-width", "1")
    elif kind == "line":
        sym = ET.SubElement(rule, _s("LineSymbolizer"))
        stroke = ET.SubElement(sym, _s("Stroke"))
        _css(stroke, "stroke", colour)
        _css(stroke, "stroke-width", "3")
    else:
        sym = ET.SubElement(rule, _s("PointSymbolizer"))
        graphic = ET.SubElement(sym, _s("Graphic"))
        mark = ET.SubElement(graphic, _s("Mark"))
        ET.SubElement(mark, _s("WellKnownName")).text = "circle"
        fill = ET.SubElement(mark, _s("Fill"))
        _css(fill, "fill", colour)
        stroke = ET.SubElement(mark, _s("Stroke"))
        _css(stroke, "stroke", "#ffffff")
        ET.SubElement(graphic, _s("Size")).text = "9"


def sld(layer: str, programs: list[str], field: Callable[[str], str] = str) -> str:
    """An OGC SLD 1.0 style of an export layer (GeoServer, QGIS, ArcGIS Pro import)."""
    attribute, classes, label_attribute = _rules(layer, programs)
    kind = _geometry_kind(layer)
    root = ET.Element(_s("StyledLayerDescriptor"), version="1.0.0")
    named = ET.SubElement(root, _s("NamedLayer"))
    ET.SubElement(named, _s("Name")).text = layer
    user = ET.SubElement(named, _s("UserStyle"))
    ET.SubElement(user, _s("Title")).text = layer
    fts = ET.SubElement(user, _s("FeatureTypeStyle"))
    name = field(attribute)
    for c in classes:
        rule = ET.SubElement(fts, _s("Rule"))
        ET.SubElement(rule, _s("Name")).text = c.label
        ET.SubElement(rule, _s("Title")).text = c.label
        if isinstance(c, Range):
            flt = ET.SubElement(rule, _o("Filter"))
            cond = ET.SubElement(flt, _o("And")) if c.upper is not None else flt
            ge = ET.SubElement(cond, _o("PropertyIsGreaterThanOrEqualTo"))
            ET.SubElement(ge, _o("PropertyName")).text = name
            ET.SubElement(ge, _o("Literal")).text = f"{c.lower:g}"
            if c.upper is not None:
                lt = ET.SubElement(cond, _o("PropertyIsLessThan"))
                ET.SubElement(lt, _o("PropertyName")).text = name
                ET.SubElement(lt, _o("Literal")).text = f"{c.upper:g}"
        elif c.value is not None:
            eq = ET.SubElement(ET.SubElement(rule, _o("Filter")), _o("PropertyIsEqualTo"))
            ET.SubElement(eq, _o("PropertyName")).text = name
            ET.SubElement(eq, _o("Literal")).text = c.value
        else:
            ET.SubElement(rule, _s("ElseFilter"))
        _symbolizer(rule, kind, c.colour)
    if label_attribute:
        rule = ET.SubElement(fts, _s("Rule"))
        ET.SubElement(rule, _s("Name")).text = "label"
        ET.SubElement(rule, _s("MaxScaleDenominator")).text = "60000"
        text = ET.SubElement(rule, _s("TextSymbolizer"))
        ET.SubElement(ET.SubElement(text, _s("Label")), _o("PropertyName")).text = field(label_attribute)
        font = ET.SubElement(text, _s("Font"))
        _css(font, "font-family", "Sans-Serif")
        _css(font, "font-size", "10")
        halo = ET.SubElement(text, _s("Halo"))
        ET.SubElement(halo, _s("Radius")).text = "1.5"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
