"""Bringing a frame to EPSG:4326, and catching a missing or wrong coordinate reference system on the way.

Two mistakes are common in uploads: a shapefile whose .prj was lost, and metres (UTM, TM-3) written into a file
that declares longitude/latitude (every GeoJSON does). Both are judged from the feature extents: coordinates
within +-180 on both axes "look like longitude/latitude" (either axis order: a swapped file is still degrees,
and validation names that mistake per feature); anything beyond can only be projected metres.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo.errors import InvalidInput, KotakuError
from geo.problems import Problem

WGS84 = CRS.from_epsg(4326)


def crs_label(crs: CRS) -> str:
    """The CRS as "EPSG:32751" when it has an authority code, else its name."""
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def _lonlat_like(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Per non-empty, finite geometry: are all its coordinates within +-180 on both axes?"""
    extents = shapely.bounds(np.asarray(frame.geometry.array))
    extents = extents[np.isfinite(extents).all(axis=1)]
    return (np.abs(extents) <= 180.0).all(axis=1)


def _extent_text(frame: gpd.GeoDataFrame) -> str:
    x0, y0, x1, y1 = frame.geometry.total_bounds
    return f"x {x0:,.6g} – {x1:,.6g}, y {y0:,.6g} – {y1:,.6g}"


def _invalid(key: str, **params: Any) -> KotakuError:
    return InvalidInput.of(key, details=[Problem.of(key, **params).as_dict()], **params)


def to_wgs84(frame: gpd.GeoDataFrame, declared: CRS | None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """`frame` reprojected from `declared` to EPSG:4326, with warnings about what was assumed."""
    lonlat = _lonlat_like(frame)
    if declared is None:
        if not lonlat.all():
            raise _invalid("crs.missing_not_lonlat", extent=_extent_text(frame))
        warning = Problem.of("crs.missing_assumed_wgs84", severity="warning")
        return frame.set_crs(WGS84, allow_override=True), [warning]
    if declared.is_geographic and len(lonlat) and not lonlat.any():
        raise _invalid("crs.projected_declared_geographic", crs=crs_label(declared), extent=_extent_text(frame))
    if declared.is_projected and len(lonlat) and lonlat.all():
        raise _invalid("crs.lonlat_declared_projected", crs=crs_label(declared), extent=_extent_text(frame))
    if declared.equals(WGS84, ignore_axis_order=True):
        return frame.set_crs(WGS84, allow_override=True), []
    frame = frame.set_crs(declared, allow_override=True)
    return frame.to_crs(WGS84), []
