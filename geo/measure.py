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
from pyproj import Geod

from geo.parallel import threaded

WGS84 = Geod(ellps="WGS84")
# The equal-area projection whose areas the fast path gives (_equal_area_m2, within 1e-4): EPSG:6933 (WGS 84 /
# NSIDC EASE-Grid 2.0 Global, Lambert cylindrical equal area). tests/geo/test_geo_measure.py checks it against PROJ.
EQUAL_AREA_CRS = "EPSG:6933"
_A = 6378137.0  # WGS 84 semi-major axis (m) and first eccentricity squared
_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563)
# ~55 km: below this the fast path agrees with GeographicLib within 2e-4 on real boundaries (measured: 1.3e-5 at
# most over the 8,492 desa of Jawa Timur, all below it; 1.5e-4 over the 6,856 of Indonesia's 7,284 kecamatan
# below it; 4.6e-6 over random polygons up to 0.44 degrees across). The rule is 1e-3 (KOTAKU.md).
SMALL_EXTENT_DEGREES = 0.5

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

    Geometries less than SMALL_EXTENT_DEGREES across (every slum area, RT, kelurahan and desa, most kecamatan) are
    measured as an equal-area projection of the ellipsoid (EPSG:6933) measures them, vectorised:
    the projection keeps areas, and at that size straight projected edges and geodesic edges enclose areas
    that differ very little (measured against GeographicLib: at most 1.3e-5 over the 8,492 desa of Jawa Timur,
    1.5e-4 over the 6,856 kecamatan of Indonesia below the limit; the rule is 1e-3). Larger ones go through
    GeographicLib exactly (`geodesic_area_ha_exact`). On a province of desa this is about four times faster than
    the exact path alone. (The limit was 0.1 degrees: the 157 Jawa Timur desa between 0.1 and 0.5 degrees across,
    with most of the vertices, cost more than the other 8,335 together.)
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
    """Area in m² of each geometry less than SMALL_EXTENT_DEGREES across, as the cylindrical equal-area projection
    of the ellipsoid (EQUAL_AREA_CRS) measures it, without projecting a single vertex.

    That projection's area element is a²/2 · q'(φ) dλ dφ (q: the authalic latitude function, Snyder 1987
    eq. 3-12), so the area is a²/2 times the integral of q' over the polygon in radians. Over less than 0.5° q'
    is nearly q'(φc) at the centroid's latitude (its first-order term integrates to zero about the centroid): GEOS's
    area and centroid in degrees give the projection's area within 1e-4 (measured: 4.4e-6 at most over the 8,492
    desa of Jawa Timur, 6.2e-5 over the 6,856 kecamatan below the limit), vectorised in C, seven times faster than
    projecting every vertex. Holes are subtracted; points, lines and empty geometries have 0.
    """
    area = np.zeros(len(geoms))
    some = ~shapely.is_empty(geoms)
    lat = np.radians(shapely.get_y(shapely.centroid(geoms[some])))
    sin = np.sin(lat)
    slope = 2 * (1 - _E2) * np.cos(lat) / (1 - _E2 * sin * sin) ** 2  # q'(φ)
    area[some] = _A * _A / 2 * slope * shapely.area(geoms[some]) * (np.pi / 180) ** 2
    return area


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
