"""Geographic boxes that input geometries must fall in.

`INDONESIA` is the national extent from KOTAKU.md §3 (94.9 E to 141.1 E, 11.1 S to 6.1 N) widened by half a degree
on every side: the outermost islands (Weh/Rondo in the north-west, Miangas in the north, Rote/Ndana in the south)
sit within a few kilometres of that box, and a digitised coastline or a buffer around them must not be rejected.
Anything beyond the margin is not in Indonesia, and most often is a swapped or projected coordinate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Bounds:
    """A lon/lat box (degrees, EPSG:4326) widened by `margin` degrees on every side."""

    name: str
    west: float
    south: float
    east: float
    north: float
    margin: float = 0.0

    @property
    def box(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) including the margin."""
        m = self.margin
        return (self.west - m, self.south - m, self.east + m, self.north + m)

    def contains(self, minx: ArrayLike, miny: ArrayLike, maxx: ArrayLike, maxy: ArrayLike) -> np.ndarray:
        """True where the extent (minx, miny, maxx, maxy) lies wholly inside the box.

        Works on scalars and on arrays alike (e.g. the columns of `shapely.bounds(geoms)`); NaN gives False.
        """
        x0, y0, x1, y1 = self.box
        return (np.asarray(minx) >= x0) & (np.asarray(maxx) <= x1) & (np.asarray(miny) >= y0) & (np.asarray(maxy) <= y1)

    def contains_extents(self, extents: ArrayLike) -> np.ndarray:
        """`contains` for an (n, 4) array of extents, as returned by `shapely.bounds`."""
        e = np.asarray(extents, dtype=float).reshape(-1, 4)
        return self.contains(e[:, 0], e[:, 1], e[:, 2], e[:, 3])

    def describe(self) -> str:
        """The box in numbers only, 'x 94.4 – 141.6, y -11.6 – 6.6', as the messages give a geometry's extent: the
        same text in every language (E/W/N/S would be BT/BB/LU/LS in Bahasa Indonesia)."""
        x0, y0, x1, y1 = self.box
        return f"x {x0:g} – {x1:g}, y {y0:g} – {y1:g}"


INDONESIA = Bounds("Indonesia", west=94.9, south=-11.1, east=141.1, north=6.1, margin=0.5)
