"""One palette everywhere (issue 13 item 6): a programme has the same colour in the page legend, in every export
(GPKG/SHP styles, KML, HTML, PDF: maps/exports/symbology.py) and in the published MapLibre style, whatever order a
caller lists the programmes in; no programme and kelurahan boundaries look as on the pages."""

from __future__ import annotations

import csv

from data import data_path
from maps.exports.symbology import BOUNDARY_COLOUR, NO_PROGRAMME_COLOUR, programme_colours
from maps.pages.legend import categorical
from maps.style_json import style_document
from maps.styles import NO_DATA_COLOUR, REGION_OUTLINE_COLOURS


def catalogue() -> list[dict]:
    with data_path("reference", "programs.csv").open(encoding="utf-8") as f:
        return [{"code": row["code"], "name": row["name"]} for row in csv.DictReader(f)]


def test_a_programme_has_one_colour_on_pages_exports_and_the_style():
    rows = catalogue()
    assert len(rows) >= 5
    # the pages list LAINNYA last (maps/pages/context.py), the exports by code: the colours do not depend on it
    page_order = sorted(rows, key=lambda r: (r["code"] == "LAINNYA", r["code"]))
    legend = {c["value"]: c["colour"] for c in categorical("Kegiatan per program", "program", page_order)["classes"]}
    exports = programme_colours(sorted(r["code"] for r in rows))
    reversed_exports = programme_colours([r["code"] for r in reversed(rows)])
    layer = next(layer for layer in style_document("kegiatan", "http://x")["layers"] if layer["id"] == "kegiatan-lines")
    match = layer["paint"]["line-color"]
    style = dict(zip(match[2:-1:2], match[3:-1:2], strict=True))
    for row in rows:
        code = row["code"]
        assert legend[code] == exports[code] == reversed_exports[code] == style[code], code
    assert len(set(exports.values())) == len(rows)  # distinct hues
    assert legend[None] == NO_PROGRAMME_COLOUR == match[-1] == NO_DATA_COLOUR
    assert REGION_OUTLINE_COLOURS["desa_kelurahan"] == BOUNDARY_COLOUR
