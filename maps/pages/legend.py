"""What the pages' layers are coloured by, as JSON for the page scripts (one definition for map and legend).

Levels, priority classes and programme coverage come from maps/styles.py (the PNG tiles use the same colours);
programmes and funding sources get a qualitative palette in the order of their reference tables, so a code keeps
its colour on every page. Activities below the feature zoom arrive as per-region aggregates
(layers/serving/tiles.py) and are drawn by how many activities a region has.
"""

from __future__ import annotations

from indicators.schemes import load_scheme
from layers.planning.activities import STAGES
from layers.serving.tiles import FEATURE_MIN_ZOOM
from maps.legends import legend_json
from maps.styles import CONDITION_CLASSES, NO_DATA_COLOUR, OUTLINE_COLOUR, category_colours, styles

ACTIVITY_COUNT_RAMP = ((1, "#deebf7"), (10, "#9ecae1"), (50, "#4292c6"), (200, "#08519c"))
STAGE_NAMES = {"rembuk_warga": "Rembuk warga", "musrenbang_kelurahan": "Musrenbang kelurahan",
               "musrenbang_kecamatan": "Musrenbang kecamatan", "pokir_dprd": "Pokok pikiran DPRD",
               "renja_opd": "Renja OPD", "rkpd": "RKPD", "pelaksanaan": "Pelaksanaan", "selesai": "Selesai",
               "serah_terima": "Serah terima aset"}


def style_legend(style_id: str) -> dict:
    legend = legend_json(styles()[style_id])
    return {"title": legend["title"], "property": legend["property"], "kind": legend["kind"],
            "outline": legend["outline"], "classes": legend["classes"]}


def categorical(title: str, prop: str, rows: list[dict]) -> dict:
    """A legend over reference codes: code -> colour, labelled with the code's name."""
    colours = category_colours([row["code"] for row in rows])
    classes = [{"value": row["code"], "label": row["code"], "title": row["name"], "colour": colours[row["code"]]}
               for row in rows]
    classes.append({"value": None, "label": "Tanpa keterangan", "colour": NO_DATA_COLOUR})
    return {"title": title, "property": prop, "kind": "kategori", "outline": OUTLINE_COLOUR, "classes": classes}


def activity_aggregates() -> dict:
    bounds = [low for low, _ in ACTIVITY_COUNT_RAMP]
    labels = [f"{low}-{high - 1} kegiatan" for low, high in zip(bounds, bounds[1:], strict=False)]
    labels.append(f"{bounds[-1]} kegiatan atau lebih")
    classes = [{"value": low, "label": label, "colour": colour}
               for (low, colour), label in zip(ACTIVITY_COUNT_RAMP, labels, strict=True)]
    # The pages draw activities from tiles of one zoom less (maps/static/kotaku/common.js): features from 13.
    return {"title": f"Jumlah kegiatan per wilayah (zoom di bawah {FEATURE_MIN_ZOOM + 1})", "property": "activities",
            "kind": "rentang", "outline": OUTLINE_COLOUR, "classes": classes}


def asset_conditions() -> dict:
    """Assets (issue 12) by condition class: baik, rusak ringan, rusak berat (maps/styles.py CONDITION_CLASSES)."""
    classes: list[dict] = [{"value": code, "label": label, "colour": colour}
                           for code, colour, label in CONDITION_CLASSES]
    classes.append({"value": None, "label": "Belum diketahui", "colour": NO_DATA_COLOUR})
    return {"title": "Aset menurut kondisi", "property": "condition", "kind": "kategori", "outline": OUTLINE_COLOUR,
            "classes": classes}


def levels() -> dict[str, str]:
    scheme = load_scheme("permen14_2018")
    return {level.code: scheme.level_name(level.code).capitalize() for level in scheme.levels}


def criteria_names() -> dict[str, str]:
    return {c.id: c.name for c in load_scheme("permen14_2018").criteria}


def stages() -> list[dict]:
    return [{"code": code, "name": STAGE_NAMES.get(code, code.replace("_", " ").capitalize())} for code in STAGES]


def legends(reference: dict) -> dict[str, dict]:
    """Every legend a page may show, by key."""
    return {
        "tingkat": style_legend("tingkat-kumuh"),
        "prioritas": style_legend("prioritas"),
        "cakupan": style_legend("cakupan-program"),
        "program": categorical("Kegiatan per program", "program", reference["programs"]),
        "sumber": categorical("Kegiatan per sumber dana", "funding_source", reference["funding_sources"]),
        "agregat": activity_aggregates(),
        "kondisi": asset_conditions(),
    }
