"""Colours of the export maps (GIS styles, KML, print sheet, HTML): slum areas by level (the tile style of
maps/styles.py), activities by programme (a qualitative ColorBrewer palette in the order of the programme
catalogue, so a programme keeps its colour in every export), summaries by number of programmes."""

from __future__ import annotations

from maps.styles import NO_DATA_COLOUR, OUTLINE_COLOUR, hex_rgb, styles

# ColorBrewer Dark2 then Set1 (qualitative, print-safe); beyond that colours repeat.
PROGRAMME_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#377eb8",
                     "#e41a1c", "#984ea3", "#ff7f00", "#4daf4a")
NO_PROGRAMME_COLOUR = "#636363"
BOUNDARY_COLOUR = "#737373"


def level_classes() -> list[tuple[str, str, str]]:
    """(level code, colour, label) most severe first, then (None, no-data colour, label)."""
    style = styles()["tingkat-kumuh"]
    return [(str(c.value), c.colour, c.label) for c in style.classes] + [("", NO_DATA_COLOUR, style.no_data_label)]


def level_colour(level: str | None) -> str:
    return next((colour for code, colour, _ in level_classes() if code == (level or "")), NO_DATA_COLOUR)


def programme_colours(codes: list[str]) -> dict[str, str]:
    """Catalogue order -> colour; codes outside the catalogue (no programme) grey."""
    out = {code: PROGRAMME_PALETTE[i % len(PROGRAMME_PALETTE)] for i, code in enumerate(codes)}
    return out


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
