"""Colours of the export maps (GIS styles, KML, print sheet, HTML): slum areas by level (the tile style of
maps/styles.py), activities by programme (the pages' qualitative palette, maps/styles.py category_colours, so a
programme keeps its colour in every export and on the pages), summaries by number of programmes."""

from __future__ import annotations

from maps.styles import NO_DATA_COLOUR, OUTLINE_COLOUR, REGION_OUTLINE_COLOURS, category_colours, hex_rgb, styles

# one palette with the pages (maps/styles.py): no programme is the pages' "Tanpa keterangan" grey, kelurahan
# boundaries their kelurahan outline
NO_PROGRAMME_COLOUR = NO_DATA_COLOUR
BOUNDARY_COLOUR = REGION_OUTLINE_COLOURS["desa_kelurahan"]


def level_classes() -> list[tuple[str, str, str]]:
    """(level code, colour, label) most severe first, then (None, no-data colour, label)."""
    style = styles()["tingkat-kumuh"]
    return [(str(c.value), c.colour, c.label) for c in style.classes] + [("", NO_DATA_COLOUR, style.no_data_label)]


def level_colour(level: str | None) -> str:
    return next((colour for code, colour, _ in level_classes() if code == (level or "")), NO_DATA_COLOUR)


def programme_colours(codes: list[str]) -> dict[str, str]:
    """Catalogue order -> colour; codes outside the catalogue (no programme) grey."""
    return category_colours(codes)


def programme_count_classes() -> list[tuple[float, float | None, str, str]]:
    """(lower, upper or None, colour, label) of the programme-coverage style."""
    style = styles()["cakupan-program"]
    classes = list(style.classes)
    out = []
    for i, c in enumerate(classes):
        upper = float(classes[i + 1].value) if i + 1 < len(classes) else None
        out.append((float(c.value), upper, c.colour, c.label))
    return out


def kml_colour(colour: str, alpha: int = 255) -> str:
    """'#rrggbb' -> KML's aabbggrr."""
    r, g, b = hex_rgb(colour)
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def rgba_text(colour: str, alpha: int = 255) -> str:
    """'#rrggbb' -> QGIS 'r,g,b,a'."""
    return ",".join(str(v) for v in (*hex_rgb(colour), alpha))


__all__ = ["BOUNDARY_COLOUR", "NO_DATA_COLOUR", "NO_PROGRAMME_COLOUR", "OUTLINE_COLOUR", "kml_colour",
           "level_classes", "level_colour", "programme_colours", "programme_count_classes", "rgba_text"]
