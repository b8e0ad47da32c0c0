"""PNG choropleth tiles, rasterised with rasterio from the same rows as the vector tiles.

The rows come from layers/serving/tiles.py in MVT tile coordinates (0..4096, y down, clipped with a buffer), so a PNG
shows exactly what the MVT of the same address holds. Each shape is filled with its class colour, then its
outline is drawn; shapes come largest first, so small areas stay visible on top.
"""

from __future__ import annotations

import warnings

import numpy as np
import shapely
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning
from rasterio.features import rasterize
from rasterio.io import MemoryFile

from layers.serving.tiles import TILE_EXTENT
from maps.styles import Style

TILE_SIZE = 256
OUTLINE = 255


def render_png(rows: list[tuple[bytes, object]], style: Style, size: int = TILE_SIZE) -> bytes:
    """A `size` x `size` RGBA PNG of (WKB geometry in tile coordinates, property value) rows."""
    transform = Affine.scale(TILE_EXTENT / size)
    shape = (size, size)
    classes = np.zeros(shape, dtype=np.uint8)
    if rows:
        geometries = shapely.from_wkb([row[0] for row in rows])
        numbers = style.class_numbers([row[1] for row in rows])
        classes = rasterize(zip(geometries, numbers.tolist(), strict=True), out_shape=shape, transform=transform,
                            fill=0, dtype=np.uint8)
        outlines = shapely.boundary(geometries[shapely.get_dimensions(geometries) == 2])
        if len(outlines):
            edge = rasterize(((g, 1) for g in outlines), out_shape=shape, transform=transform, fill=0,
                             dtype=np.uint8)
            classes[edge == 1] = OUTLINE
    rgba = style.palette()[classes]
    return _png(rgba)


def _png(rgba: np.ndarray) -> bytes:
    height, width, _ = rgba.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as memory:
            with memory.open(driver="PNG", width=width, height=height, count=4, dtype="uint8") as png:
                png.write(np.moveaxis(rgba, 2, 0))
            return memory.read()
