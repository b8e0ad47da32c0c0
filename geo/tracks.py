"""A track from a phone (GPX, KML/KMZ or GeoJSON) as one geometry to draw a proposal with (issue 13 item 3).

The file is read through GDAL like every other upload (geo/read.py `read_vector`: any CRS to EPSG:4326, 2D).
A GPX holds five layers (waypoints, routes, tracks and their points): its `tracks` are read, else its `routes`.
The lines of the file, in file order, become one LineString: a phone splits a walk into segments at every pause,
and the proposal is one road or channel. A file without lines gives its first polygon (an area walked around and
saved as a shape); points alone are not a track. Long tracks are simplified (Douglas-Peucker, growing tolerance in
metres) to at most MAX_VERTICES vertices, so the drawing stays editable in the browser. Errors name the file and
say what is wrong in both languages (data/messages/messages.csv, `track.*`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from geo.bounds import INDONESIA
from geo.errors import InvalidInput, KotakuError, TooLarge, UnsupportedFormat
from geo.read import read_vector

MAX_TRACK_BYTES = 10 * 1024 * 1024
MAX_VERTICES = 1_000
FORMATS = {".gpx": "GPX", ".kml": "KML", ".kmz": "KMZ", ".geojson": "GeoJSON", ".json": "GeoJSON"}
GPX_LAYERS = ("tracks", "routes")
SIMPLIFY_STEPS_M = (0.5, 1, 2, 5, 10, 20, 50, 100)
METRES_PER_DEGREE = 111_320.0


@dataclass
class Track:
    geometry: shapely.Geometry  # LineString or Polygon, EPSG:4326
    format: str
    parts: int  # lines (or polygons) found in the file
    vertices_read: int
    simplified_m: float | None  # the tolerance used when the track was simplified, else None

    def as_feature(self, file_name: str) -> dict:
        return {"type": "Feature", "geometry": shapely.geometry.mapping(self.geometry),
                "properties": {"file": file_name, "format": self.format, "parts": self.parts,
                               "vertices_read": self.vertices_read,
                               "vertices": int(shapely.get_num_coordinates(self.geometry)),
                               "simplified_m": self.simplified_m}}


def read_track(path: Path, file_name: str | None = None) -> Track:
    """The track in the file at `path` (named `file_name` in messages); see the module docstring."""
    name = file_name or path.name
    kind = FORMATS.get(Path(name).suffix.lower())
    if kind is None:
        raise UnsupportedFormat.of("track.format", file=name)
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput.of("track.empty", file=name)
    if size > MAX_TRACK_BYTES:
        raise TooLarge.of("track.too_large", file=name, size=f"{size / 2**20:.1f}", limit=MAX_TRACK_BYTES // 2**20)
    layer = _gpx_layer(path, name) if kind == "GPX" else None
    try:
        data = read_vector(path, layer=layer, max_bytes=MAX_TRACK_BYTES)
    except KotakuError as error:  # GDAL's own words go to details; the sentence is ours, in both languages
        raise InvalidInput.of("file.unreadable", details=[{"field": "file", "reason": error.message}],
                              file=name, format=kind) from None
    parts = [g for g in shapely.get_parts(np.asarray(data.frame.geometry.array)) if not g.is_empty]
    lines = [g for g in parts if g.geom_type == "LineString"]
    polygons = [g for g in parts if g.geom_type == "Polygon"]
    if lines:
        geometry: shapely.Geometry = shapely.LineString(_without_repeats(
            [xy for line in lines for xy in line.coords]))
        found = len(lines)
    elif polygons:
        geometry, found = shapely.Polygon(polygons[0].exterior.coords), len(polygons)
    else:
        raise InvalidInput.of("track.no_line", file=name)
    if geometry.geom_type == "LineString" and len(geometry.coords) < 2:
        raise InvalidInput.of("track.no_line", file=name)
    if not INDONESIA.contains(*geometry.bounds):
        raise InvalidInput.of("track.outside", file=name, where=INDONESIA.describe())
    read = int(shapely.get_num_coordinates(geometry))
    geometry, tolerance = _simplified(geometry)
    return Track(geometry, kind, found, read, tolerance)


def _gpx_layer(path: Path, name: str) -> str:
    """The GPX layer holding lines: tracks, else routes (GDAL lists all five layers, empty or not)."""
    for layer in GPX_LAYERS:
        try:
            if pyogrio.read_info(path, layer=layer, force_feature_count=True)["features"] > 0:
                return layer
        except (DataSourceError, DataLayerError) as error:
            raise InvalidInput.of("file.unreadable", details=[{"field": "file", "reason": str(error)}],
                                  file=name, format="GPX") from None
    raise InvalidInput.of("track.no_line", file=name)


def _without_repeats(coords: list) -> list:
    """Coordinates without a point equal to the one before (a phone standing still, the joint of two segments)."""
    out: list[tuple[float, float]] = []
    for xy in coords:
        point = (float(xy[0]), float(xy[1]))
        if not out or out[-1] != point:
            out.append(point)
    return out


def _simplified(geometry: shapely.Geometry) -> tuple[shapely.Geometry, float | None]:
    """At most MAX_VERTICES vertices: the smallest tolerance (metres, as degrees at the track's latitude) that gets
    there; topology kept, so a polygon stays valid."""
    if shapely.get_num_coordinates(geometry) <= MAX_VERTICES:
        return geometry, None
    scale = METRES_PER_DEGREE * max(math.cos(math.radians(geometry.centroid.y)), 0.1)
    for metres in SIMPLIFY_STEPS_M:
        simpler = shapely.simplify(geometry, metres / scale, preserve_topology=True)
        if shapely.get_num_coordinates(simpler) <= MAX_VERTICES:
            return simpler, metres
    return simpler, SIMPLIFY_STEPS_M[-1]
