"""Bringing a frame to EPSG:4326, and catching a missing or wrong coordinate reference system on the way.

Two mistakes are common in uploads: a shapefile whose .prj was lost, and metres (UTM, TM-3) written into a file
that declares longitude/latitude (every GeoJSON does). Both are judged from the feature extents: coordinates
within +-180 on both axes "look like longitude/latitude" (either axis order: a swapped file is still degrees,
and validation names that mistake per feature); anything beyond can only be projected metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo.errors import InvalidInput
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
    return f"x {x0:,.6g} to {x1:,.6g}, y {y0:,.6g} to {y1:,.6g}"


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(reason, details=[Problem(reason).as_dict()])


def to_wgs84(frame: gpd.GeoDataFrame, declared: CRS | None) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """`frame` reprojected from `declared` to EPSG:4326, with warnings about what was assumed."""
    lonlat = _lonlat_like(frame)
    if declared is None:
        if not lonlat.all():
            raise _invalid(
                "the file has no coordinate reference system (.prj missing?) and its coordinates are not "
                f"longitude/latitude ({_extent_text(frame)}); add the .prj file or state the CRS"
            )
        warning = Problem(
            "the file has no coordinate reference system; its coordinates look like longitude/latitude, "
            "so EPSG:4326 (WGS 84) is assumed",
            severity="warning",
        )
        return frame.set_crs(WGS84, allow_override=True), [warning]
    if declared.is_geographic and len(lonlat) and not lonlat.any():
        raise _invalid(
            f"coordinates look projected (metres, e.g. UTM) but the file declares {crs_label(declared)} "
            f"({_extent_text(frame)}); fix the file's CRS or state the right one"
        )
    if declared.is_projected and len(lonlat) and lonlat.all():
        raise _invalid(
            f"coordinates look like longitude/latitude (degrees) but the file declares {crs_label(declared)} "
            f"({_extent_text(frame)}); fix the file's CRS or state the right one"
        )
    if declared.equals(WGS84, ignore_axis_order=True):
        return frame.set_crs(WGS84, allow_override=True), []
    frame = frame.set_crs(declared, allow_override=True)
    return frame.to_crs(WGS84), []
