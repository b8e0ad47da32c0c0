"""Geodesic area and length on the WGS 84 ellipsoid, and the UTM zone of a place.

Areas and lengths are never taken in degrees (KOTAKU.md §3). pyproj's `Geod` runs GeographicLib's algorithms
(Karney 2013), which are exact to well below a millimetre: this is the "careful geodesic computation" the
0.1 % rule is measured against. Segment lengths are computed in one vectorised `Geod.inv` call; ring areas need
one `Geod.polygon_area_perimeter` call per ring (GeographicLib has no batched polygon area).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer

from geo.parallel import threaded

WGS84 = Geod(ellps="WGS84")
# EPSG:6933 (WGS 84 / NSIDC EASE-Grid 2.0 Global, Lambert cylindrical equal area) as its PROJ operation: the same
# numbers as Transformer.from_crs("EPSG:4326", "EPSG:6933", always_xy=True) to the last bit
# (tests/geo/test_geo_measure.py), for about a quarter less CPU: pyproj turns the degrees into radians itself
# instead of PROJ running a unitconvert step per point.
EQUAL_AREA_DEFINITION = "+proj=cea +lat_ts=30 +lon_0=0 +x_0=0 +y_0=0 +ellps=WGS84"
_EQUAL_AREA = Transformer.from_pipeline(EQUAL_AREA_DEFINITION)
SMALL_EXTENT_DEGREES = 0.1  # ~11 km; below this the equal-area projection agrees with GeographicLib within 1e-4

_SIMPLE = (0, 1, 2, 3)  # Point, LineString, LinearRing, Polygon
_LINEAR = (1, 2)
_POLYGON = 3


def _as_geometry_array(geoms: Any) -> np.ndarray:
    crs = getattr(geoms, "crs", None)
    if crs is not None and not crs.is_geographic:
        raise ValueError(f"geodesic measures need longitude/latitude geometries, got {crs.name}")
    return np.asarray(geoms, dtype=object).reshape(-1)


def flatten_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split multi-part geometries and collections (at any depth) into simple parts.

    Returns the parts and, for each part, the index of the geometry it came from. Missing geometries yield no part.
    """
    parts = np.asarray(geoms, dtype=object)
    owner = np.arange(len(parts))
    while True:
        types = shapely.get_type_id(parts)
        if np.isin(types, _SIMPLE).all():
            return parts, owner
        parts, index = shapely.get_parts(parts, return_index=True)
        owner = owner[index]


def geodesic_area_ha(geoms: Any) -> np.ndarray:
    """Area in hectares on the WGS 84 ellipsoid of each EPSG:4326 geometry (0 for points and lines, NaN for missing).

    Geometries less than SMALL_EXTENT_DEGREES across (every slum area, RT and kelurahan, most desa) are
    projected to an equal-area projection of the ellipsoid (EPSG:6933) and measured in the plane, vectorised:
    the projection keeps areas, and at that size straight projected edges and geodesic edges enclose areas
    that differ very little (measured against GeographicLib: at most 1.5e-5 over the 8,492 desa of Jawa Timur,
    8.4e-5 over the 7,284 kecamatan of Indonesia; the rule is 1e-3). Larger ones go through GeographicLib
    exactly (`geodesic_area_ha_exact`). On a province of desa this is about four times faster than the exact
    path alone.
    """
    arr = _as_geometry_array(geoms)
    area = np.full(len(arr), np.nan)
    present = ~shapely.is_missing(arr)
    bounds = shapely.bounds(arr)
    small = present & (np.fmax(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) < SMALL_EXTENT_DEGREES)
    if small.any():
        area[small] = threaded(_equal_area_m2, arr[small]) / 10_000.0
    large = present & ~small
    if large.any():
        area[large] = geodesic_area_ha_exact(arr[large])
    return area


def _equal_area_m2(geoms: np.ndarray) -> np.ndarray:
    # Coordinates beyond the projection's domain (e.g. a swapped lat/lon, reported by validation) give NaN, quietly.
    with np.errstate(invalid="ignore"):
        return shapely.area(shapely.transform(geoms, _to_equal_area))


def _to_equal_area(xy: np.ndarray) -> np.ndarray:
    x, y = _EQUAL_AREA.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def geodesic_area_ha_exact(geoms: Any) -> np.ndarray:
    """Absolute geodesic area in hectares by GeographicLib (Karney 2013), one call per ring: the reference.

    Holes are subtracted; ring orientation does not matter.
    """
    arr = _as_geometry_array(geoms)
    out = np.where(shapely.is_missing(arr), np.nan, 0.0)
    parts, owner = flatten_parts(arr)
    polygons = shapely.get_type_id(parts) == _POLYGON
    rings, ring_polygon = shapely.get_rings(parts[polygons], return_index=True)
    if len(rings) == 0:
        return out
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_polygon[1:] != ring_polygon[:-1]
    coords = shapely.get_coordinates(rings)
    ends = np.cumsum(shapely.get_num_coordinates(rings))
    starts = ends - shapely.get_num_coordinates(rings)
    ring_area = np.empty(len(rings))
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        area, _ = WGS84.polygon_area_perimeter(coords[start:end, 0], coords[start:end, 1])
        ring_area[k] = abs(area)
    signed = np.where(exterior, ring_area, -ring_area)
    ring_owner = owner[polygons][ring_polygon]
    out += np.bincount(ring_owner, weights=signed, minlength=len(arr))
    return np.abs(out) / 10_000.0


def geodesic_length_m(geoms: Any) -> np.ndarray:
    """Geodesic length in metres of each EPSG:4326 geometry.

    Lines: their length; polygons: their perimeter (all rings, holes included); points: 0; collections: the sum
    of their parts; missing geometries: NaN.
    """
    arr = _as_geometry_array(geoms)
    out = np.where(shapely.is_missing(arr), np.nan, 0.0)
    parts, owner = flatten_parts(arr)
    types = shapely.get_type_id(parts)
    rings, ring_polygon = shapely.get_rings(parts[types == _POLYGON], return_index=True)
    linear = np.isin(types, _LINEAR)
    lines = np.concatenate([parts[linear], rings])
    line_owner = np.concatenate([owner[linear], owner[types == _POLYGON][ring_polygon]]).astype(np.intp)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    if len(coords) < 2:
        return out
    same = index[1:] == index[:-1]
    _, _, dist = WGS84.inv(coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same])
    out += np.bincount(line_owner[index[1:][same]], weights=dist, minlength=len(arr))
    return out


def utm_epsg_for(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 / UTM zone holding (lon, lat): 326zz north of the equator, 327zz south.

    Plain 6-degree zones; the Norway/Svalbard exceptions do not touch Indonesia.
    """
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise ValueError(f"no UTM zone for ({lon}, {lat})")
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone
