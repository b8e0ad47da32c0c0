"""The basemap's layers and classes: which OSM tags make which layer, and from which zoom each class is drawn.

One table of classes per layer, written once: the importer takes `min_zoom` and `rank` from it, the tiles read
them back, and the MapLibre styles (maps/style_json.py) draw the same classes.
"""

from __future__ import annotations

LAYERS = ("roads", "buildings", "water", "landuse", "places")

# (class, min_zoom), most important first: the order is the rank (features kept first under a tile's cap).
ROAD_CLASSES = (
    ("motorway", 8), ("trunk", 8), ("primary", 10), ("secondary", 11), ("tertiary", 12), ("unclassified", 13),
    ("residential", 14), ("living_street", 14), ("road", 14), ("construction", 14), ("service", 15),
    ("track", 15), ("pedestrian", 16), ("footway", 16), ("path", 16), ("cycleway", 16), ("steps", 16),
    ("bridleway", 16),
)
WATER_CLASSES = (("river", 10), ("water", 10), ("riverbank", 10), ("canal", 11), ("stream", 13), ("drain", 14),
                 ("ditch", 14))
LANDUSE_CLASSES = (("forest", 10), ("farmland", 11), ("residential", 12), ("commercial", 12), ("industrial", 12),
                   ("park", 12), ("cemetery", 13), ("grass", 13))
PLACE_CLASSES = (("city", 6), ("town", 9), ("kabkota", 8), ("suburb", 11), ("kecamatan", 11), ("village", 12),
                 ("quarter", 13), ("kelurahan", 13), ("desa", 13), ("hamlet", 14), ("neighbourhood", 14),
                 ("locality", 15), ("isolated_dwelling", 16))
CLASSES = {"roads": ROAD_CLASSES, "water": WATER_CLASSES, "landuse": LANDUSE_CLASSES, "places": PLACE_CLASSES,
           "buildings": (("building", 15),)}
DEFAULT_ZOOM = {"roads": 14, "water": 12, "landuse": 12, "places": 13, "buildings": 15}
DEFAULT_CLASS = {"roads": "road", "water": "water", "landuse": "landuse", "places": "locality",
                 "buildings": "building"}
# Region levels shown as label points in `places` (class, from which zoom), read live from `regions`.
REGION_LABELS = (("kabkota", "kabkota", 8), ("kecamatan", "kecamatan", 10), ("desa_kelurahan", "kelurahan", 12))


def normalise_class(value: object) -> str | None:
    """'Primary road' -> 'primary_road', 'primary_link' stays; None for empty values."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    return text or None


def zoom_and_rank(layer: str, cls: str) -> tuple[str, int, int]:
    """(class as stored, min_zoom, rank) of a layer's class; unknown classes get the layer's default zoom.

    Links (`primary_link`) are drawn from one zoom after their road; 'Primary road' style values (InaSAFE, other
    exports) match by their first word."""
    table = CLASSES[layer]
    zooms = {name: zoom for name, zoom in table}
    link = cls.endswith("_link")
    base = cls.removesuffix("_link")
    if base not in zooms:
        first = base.split("_")[0].strip(",.")
        base = first if first in zooms else base
    if base in zooms:
        rank = len(table) - [name for name, _ in table].index(base)
        return (base + "_link" if link else base), zooms[base] + (1 if link else 0), rank * 2 - (1 if link else 0)
    return cls, DEFAULT_ZOOM[layer], 0
