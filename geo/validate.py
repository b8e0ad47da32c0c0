"""Check and repair the geometries of a layer before import, with shapely 2 array functions throughout.

Each rule runs once over the whole array; Python only loops over the problems found, to word them. Rows are
reported as `feature` = 1-based row number and `field` = the geometry column, as a user counts them.
The frame must be in EPSG:4326 (as `geo.read.read_vector` returns it).

What comes out, per layer kind:
- "polygon": every geometry a MultiPolygon (a GeometryCollection of polygons is accepted and merged);
- "line": LineString and MultiLineString unchanged (a line is never split or merged here);
- "point": Point (a MultiPoint or collection holding exactly one point is unwrapped);
- "any": geometry types unchanged, invalid ones repaired.
Rows with errors keep their original geometry: an import with any error is refused as a whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

import numpy as np
import shapely

from geo.bounds import INDONESIA, Bounds
from geo.measure import flatten_parts, geodesic_area_ha
from geo.messages import Nested
from geo.parallel import threaded
from geo.problems import Problem

if TYPE_CHECKING:
    import geopandas as gpd

Kind = Literal["polygon", "line", "point", "any"]

TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
              "GeometryCollection")  # fmt: skip
_PART_TYPE = {"polygon": 3, "line": 1, "point": 0}
_ACCEPTED = {"polygon": (3, 6), "line": (1, 5), "point": (0,), "any": tuple(range(8))}
_EXPECTED = {kind: f"geometry.expected_{kind}" for kind in ("polygon", "line", "point")}  # message keys
_COLLECTION = 7


@dataclass
class ValidationResult:
    """The frame with repaired geometries, the errors that block an import and the repairs made."""

    frame: gpd.GeoDataFrame
    errors: list[Problem] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _collect(parts: np.ndarray, owner: np.ndarray, n: int, type_id: int) -> np.ndarray:
    """Per geometry 0..n-1, its non-empty parts of `type_id` gathered into one Multi*; None where there are none."""
    keep = (shapely.get_type_id(parts) == type_id) & ~shapely.is_empty(parts)
    parts, owner = parts[keep], owner[keep]
    out = np.full(n, None, dtype=object)
    if len(parts):
        present, index = np.unique(owner, return_inverse=True)
        make = {3: shapely.multipolygons, 1: shapely.multilinestrings, 0: shapely.multipoints}[type_id]
        out[present] = make(parts, indices=index)
    return out


def promote_to_multipolygon(geoms: np.ndarray) -> np.ndarray:
    """Polygon -> MultiPolygon, MultiPolygon unchanged, collections -> MultiPolygon of their polygons.

    None where a geometry holds no polygon (points, lines, empty or missing geometries).
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, owner = flatten_parts(geoms)
    return _collect(parts, owner, len(geoms), 3)


def _unwrap_collections(geoms: np.ndarray, rows: np.ndarray, kind: Kind) -> np.ndarray:
    """Collections whose parts are all of the layer's kind become a Multi* (for points: a Point if single)."""
    part_type = _PART_TYPE[kind]
    parts, owner = flatten_parts(geoms[rows])
    foreign = np.bincount(owner[shapely.get_type_id(parts) != part_type], minlength=len(rows)) > 0
    merged = _collect(parts, owner, len(rows), part_type)
    ok = ~foreign & ~shapely.is_missing(merged)
    out = geoms.copy()
    out[rows[ok]] = merged[ok]
    return out


class _Report:
    def __init__(self, column: str) -> None:
        self.column = column
        self.errors: list[Problem] = []
        self.repairs: list[Problem] = []

    def error_of(self, row: int | np.integer, key: str, **params) -> None:
        """An error from the message catalogue (geo/messages.py): readable in Indonesian and English."""
        self.errors.append(Problem.of(key, feature=int(row) + 1, field=self.column, **params))

    def repair_of(self, row: int | np.integer, key: str, **params: object) -> None:
        self.repairs.append(Problem.of(key, feature=int(row) + 1, field=self.column, severity="repair", **params))


def _repair(geoms: np.ndarray, rows: np.ndarray, kind: Kind) -> np.ndarray:
    """make_valid on `rows`; for polygon/line layers only the polygonal/linear part is kept (None if nothing)."""
    if kind == "polygon":
        fixed = shapely.make_valid(geoms[rows], method="structure", keep_collapsed=False)
        return promote_to_multipolygon(fixed)
    fixed = shapely.make_valid(geoms[rows])
    if kind == "line":
        parts, owner = flatten_parts(fixed)
        lines = _collect(parts, owner, len(rows), 1)
        single = shapely.get_num_geometries(lines) == 1
        lines[single] = shapely.get_geometry(lines[single], 0)
        return lines
    return fixed


def _check_presence(geoms: np.ndarray, report: _Report) -> tuple[np.ndarray, np.ndarray]:
    """Report missing/empty geometries and non-finite coordinates.

    Returns (usable: True where a geometry can be checked further, valid: GEOS validity of each geometry). GEOS
    finds every NaN or infinite coordinate invalid ("Invalid Coordinate"), so only the invalid geometries are
    scanned for them: reading every coordinate of a national file out to numpy cost half a second.
    """
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for row in np.flatnonzero(empty):
        report.error_of(row, "geometry.empty")
    valid = np.zeros(len(geoms), dtype=bool)
    valid[~empty] = threaded(shapely.is_valid, geoms[~empty])
    suspect = np.flatnonzero(~empty & ~valid)
    coords, owner = shapely.get_coordinates(geoms[suspect], return_index=True)
    nonfinite = np.zeros(len(geoms), dtype=bool)
    nonfinite[suspect[owner[~np.isfinite(coords).all(axis=1)]]] = True
    for row in np.flatnonzero(nonfinite):
        report.error_of(row, "geometry.not_finite")
    return ~empty & ~nonfinite, valid


def _check_types(geoms: np.ndarray, usable: np.ndarray, kind: Kind, report: _Report) -> np.ndarray:
    """Unwrap collections of the layer's kind in place; report other types. True where the type is wrong."""
    types = shapely.get_type_id(geoms)
    if kind != "any" and (usable & (types == _COLLECTION)).any():
        geoms[:] = _unwrap_collections(geoms, np.flatnonzero(usable & (types == _COLLECTION)), kind)
        types = shapely.get_type_id(geoms)
    if kind == "point":
        single = usable & (types == 4) & (shapely.get_num_geometries(geoms) == 1)
        geoms[single] = shapely.get_geometry(geoms[single], 0)
        types = shapely.get_type_id(geoms)
    wrong = usable & ~np.isin(types, _ACCEPTED[kind])
    for row in np.flatnonzero(wrong):
        if kind == "point" and types[row] == 4:
            count = shapely.get_num_geometries(geoms[row])
            report.error_of(row, "geometry.multipoint_for_point", count=count)
        else:
            report.error_of(row, "geometry.wrong_type", type=TYPE_NAMES[types[row]], expected=Nested(_EXPECTED[kind]))
    return wrong


def _repair_invalid(geoms: np.ndarray, rows: np.ndarray, valid: np.ndarray, kind: Kind, report: _Report) -> np.ndarray:
    """Repair the invalid geometries among `rows` (`valid`: GEOS validity of every row) in place; return the rows
    whose repair left nothing."""
    invalid = rows[~valid[rows]]
    if not len(invalid):
        return invalid
    reasons = shapely.is_valid_reason(geoms[invalid])
    fixed = _repair(geoms, invalid, kind)
    left = ~shapely.is_missing(fixed) & ~shapely.is_empty(fixed) & shapely.is_valid(fixed)
    kept = fixed.copy()
    kept[~left] = None
    before, after = geodesic_area_ha(geoms[invalid]), geodesic_area_ha(kept)
    what = Nested({"polygon": "geometry.a_polygon", "line": "geometry.a_line"}.get(kind, "geometry.a_geometry"))
    for k, row in enumerate(invalid):
        if not left[k]:
            report.error_of(row, "geometry.unrepairable", reason=reasons[k], what=what)
            continue
        if np.isclose(before[k], after[k], rtol=1e-9, atol=1e-6):
            report.repair_of(row, "geometry.repaired", reason=reasons[k])
        else:
            report.repair_of(row, "geometry.repaired_area", reason=reasons[k], before=f"{before[k]:.4f}",
                             after=f"{after[k]:.4f}")
        geoms[row] = fixed[k]
    return invalid[~left]


def _check_bounds(geoms: np.ndarray, rows: np.ndarray, bounds: Bounds, report: _Report) -> None:
    extents = shapely.bounds(geoms[rows])
    inside = bounds.contains_extents(extents)
    swapped = bounds.contains(extents[:, 1], extents[:, 0], extents[:, 3], extents[:, 2])
    for k in np.flatnonzero(~inside):
        x0, y0, x1, y1 = extents[k]
        report.error_of(rows[k], "geometry.swapped" if swapped[k] else "geometry.outside_indonesia",
                        area=bounds.name, bbox=bounds.describe(), x0=f"{x0:.6g}", x1=f"{x1:.6g}", y0=f"{y0:.6g}",
                        y1=f"{y1:.6g}")


def validate_geometries(
    frame: gpd.GeoDataFrame, *, kind: Kind = "polygon", bounds: Bounds | None = INDONESIA
) -> ValidationResult:
    """Check every geometry of `frame` against the rules of a `kind` layer; repair what can be repaired.

    Errors: empty or missing geometry, NaN/infinite coordinates, a type the layer does not take, an invalid
    geometry whose repair leaves nothing of the layer's kind, an extent outside `bounds` (with a hint when
    swapping latitude and longitude would put it inside; `bounds=None` skips that rule). Repairs: invalid
    geometries made valid with `shapely.make_valid`, reported with GEOS's reason and the area before/after
    when it changed.
    """
    column = frame.geometry.name
    geoms, errors, repairs = validate_array(np.asarray(frame.geometry.array, dtype=object), kind=kind,
                                            bounds=bounds, column=column)
    import geopandas as gpd  # here: the region importer's plain path checks arrays and never loads it

    out = frame.copy()
    out[column] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return ValidationResult(out, errors, repairs)


def validate_array(
    geometries: np.ndarray, *, kind: Kind = "polygon", bounds: Bounds | None = INDONESIA, column: str = "geometry"
) -> tuple[np.ndarray, list[Problem], list[Problem]]:
    """The rules of `validate_geometries` on a plain array of EPSG:4326 geometries (no frame to build: the
    hot path of a single proposal). Returns (repaired geometries, errors, repairs); rows count from 1."""
    report = _Report(column)
    geoms = np.asarray(geometries, dtype=object).copy()
    usable, valid = _check_presence(geoms, report)
    types = shapely.get_type_id(geoms)
    wrong = _check_types(geoms, usable, kind, report)
    unwrapped = np.flatnonzero(usable & (shapely.get_type_id(geoms) != types))  # collections and single MultiPoints
    valid[unwrapped] = shapely.is_valid(geoms[unwrapped])
    lost = _repair_invalid(geoms, np.flatnonzero(usable & ~wrong), valid, kind, report)
    usable[lost] = False
    if kind == "polygon":
        promote = usable & ~wrong & (shapely.get_type_id(geoms) != 6)  # MultiPolygons need no rebuild
        geoms[promote] = promote_to_multipolygon(geoms[promote])
    if bounds is not None:
        _check_bounds(geoms, np.flatnonzero(usable), bounds, report)
    by_row = attrgetter("feature")
    return geoms, sorted(report.errors, key=by_row), sorted(report.repairs, key=by_row)


# --- one GeoJSON geometry as a client sends it (the HTTP write path) ----------------------------------------------

# RFC 7946 types a drawn activity may be; its kind then decides which of them fits (validate_array).
GEOJSON_TYPES = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
                 "MultiPolygon": 3}  # type -> how many list levels lie between `coordinates` and a position


def geojson_problem(geometry: object, field: str = "geometry") -> str | None:
    """What makes a GeoJSON geometry object unusable (None when nothing), naming the place in it: not an object,
    an unknown type or a GeometryCollection (an activity is one geometry type), coordinates that are not nested
    lists of numbers, a position with other than 2 or 3 numbers, a non-finite number, a line of fewer than 2
    positions, a ring of fewer than 4 positions or not closed, nothing at all (empty)."""
    if not isinstance(geometry, dict):
        return f"{field} must be a GeoJSON geometry object, not {type(geometry).__name__.replace('str', 'text')}"
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return (f"{field} is a GeometryCollection: send one geometry type (Point, LineString, Polygon or their "
                "Multi* forms)")
    if kind is None:
        return f"{field}.type is missing: one of {', '.join(GEOJSON_TYPES)}"
    if kind not in GEOJSON_TYPES:
        return f"{field}.type {_what(kind)} is not one of {', '.join(GEOJSON_TYPES)}"
    coordinates = geometry.get("coordinates")
    return _coordinates_problem(coordinates, GEOJSON_TYPES[kind], str(kind), f"{field}.coordinates")


def _coordinates_problem(value: object, depth: int, kind: str, where: str) -> str | None:
    if depth == 0:
        return _position_problem(value, where)
    if not isinstance(value, list):
        return f"{where} must be a list, not {_what(value)}"
    if not value:
        return f"{where} is empty: the {kind} has no coordinates"
    for i, item in enumerate(value):
        reason = _coordinates_problem(item, depth - 1, kind, f"{where}[{i}]")
        if reason:
            return reason
    if depth == 1 and kind in ("LineString", "MultiLineString") and len(value) < 2:
        return f"{where} has {len(value)} position: a line needs at least 2"
    if depth == 1 and kind in ("Polygon", "MultiPolygon"):
        if len(value) < 4:
            return f"{where} has {len(value)} positions: a ring needs at least 4 (the last repeating the first)"
        if value[0][:2] != value[-1][:2]:
            return f"{where} is not closed: its last position {value[-1]} differs from its first {value[0]}"
    return None


def _position_problem(value: object, where: str) -> str | None:
    if not isinstance(value, list):
        return f"{where} must be a position [longitude, latitude], not {_what(value)}"
    if len(value) not in (2, 3):
        return f"{where} has {len(value)} numbers: a position is [longitude, latitude] (an optional height third)"
    for i, number in enumerate(value):
        if isinstance(number, bool) or not isinstance(number, int | float):
            return f"{where}[{i}] must be a number, not {_what(number)}"
        try:
            finite = math.isfinite(float(number))
        except OverflowError:  # an integer of hundreds of digits
            finite = False
        if not finite:
            return f"{where}[{i}] must be a finite number"
    return None


def _what(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an object" if isinstance(value, dict) else "an array"
