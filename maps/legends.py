"""Legends of the choropleth styles: JSON for web maps, SVG to show or print (labels in Bahasa Indonesia)."""

from __future__ import annotations

from html import escape
from typing import Any

from maps.styles import NO_DATA_COLOUR, OUTLINE_COLOUR, Style

ROW = 22


def legend_json(style: Style) -> dict:
    classes: list[dict[str, Any]] = [{"value": c.value, "label": c.label, "colour": c.colour} for c in style.classes]
    classes.append({"value": None, "label": style.no_data_label, "colour": NO_DATA_COLOUR})
    return {
        "style": style.id,
        "title": style.title,
        "collection": style.collection,
        "property": style.property,
        "kind": "rentang" if style.numeric else "kategori",
        "outline": OUTLINE_COLOUR,
        "classes": classes,
    }


def legend_svg(style: Style) -> str:
    entries = legend_json(style)["classes"]
    width, height = 260, 30 + ROW * len(entries)
    rows = []
    for i, entry in enumerate(entries):
        y = 28 + i * ROW
        rows.append(
            f'<rect x="8" y="{y}" width="24" height="16" fill="{entry["colour"]}" stroke="{OUTLINE_COLOUR}"/>'
            f'<text x="40" y="{y + 13}">{escape(entry["label"])}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="13">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="8" y="18" font-weight="bold">{escape(style.title)}</text>{"".join(rows)}</svg>'
    )
