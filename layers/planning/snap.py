"""Snapping a drawn proposal to the roads of the basemap and to live activities (issue 13 item 3), in PostGIS.

Each vertex moves to the closest point of the nearest road (basemap `roads`) or live activity (a line, a polygon's
outline: never onto another activity's point, which would only duplicate it) within `tolerance_m`; one farther
from all stays where it was drawn.
Two consecutive vertices on the same line (the next within ON_LINE_M of the line the first landed on, or the
other way round) are joined by that line's own course between them (ST_LineSubstring), so a line drawn along a
bending road follows the road, not the chord. Distances are taken in
the drawing's UTM zone (kotaku_utm_srid), in metres. A polygon whose snapped ring would cross itself keeps its
snapped vertices without the followed courses, and the drawing as drawn when even that is not valid.

Roads are the caller's kab/kota's and the shared ones (like the basemap tiles); activities are public
(layers/accounts/access.py ALWAYS_PUBLIC), rejected and cancelled ones left out (they hold no ground).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import shapely
from psycopg import AsyncConnection, sql

from geo.errors import InvalidInput, TooLarge

MAX_TOLERANCE_M = 50.0
MAX_EXTENT_M = 5_000.0
MAX_VERTICES = 2_000
METRES_PER_DEGREE = 111_320.0
SNAPPABLE = ("Point", "LineString", "Polygon")
# Two snapped vertices are joined along a line when the next one lies on it (an activity laid on a road lies on
# the road: a vertex on either follows the road's course to the other).
ON_LINE_M = 0.5


def _along(line: str, start: str, end: str) -> sql.Composable:
    """The course of `line` from fraction `start` to `end` (reversed when going back); NULL when they meet."""
    return sql.SQL("CASE WHEN {a} < {b} THEN ST_LineSubstring({line}, {a}, {b}) "
                   "WHEN {a} > {b} THEN ST_Reverse(ST_LineSubstring({line}, {b}, {a})) END").format(
        line=sql.SQL(line), a=sql.SQL(start), b=sql.SQL(end))


_SNAP = sql.SQL("""
WITH src AS (
    SELECT g, kotaku_utm_srid(g) AS srid, ST_Expand(g, %(margin)s) AS box
    FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(geometry)s), 4326) AS g) s),
pts AS (
    SELECT CASE WHEN cardinality((d).path) > 1 THEN (d).path[1] ELSE 0 END AS ring,
           (d).path[cardinality((d).path)] AS n, ST_Transform((d).geom, src.srid) AS v
    FROM src, ST_DumpPoints(src.g) d),
near AS (
    SELECT 'jalan' AS source, f.id AS ref, f.name, ST_Transform(f.geom, src.srid) AS geom
    FROM basemap_features f, src
    WHERE f.layer = 'roads' AND f.geom && src.box
      AND (%(tenant)s::text IS NULL OR f.tenant IS NULL OR f.tenant = %(tenant)s)
    UNION ALL
    SELECT 'kegiatan', a.id, a.title,
           ST_Transform(CASE WHEN ST_Dimension(a.geom) = 2 THEN ST_Boundary(a.geom) ELSE a.geom END, src.srid)
    FROM activities a, src
    WHERE a.geom && src.box AND a.status NOT IN ('ditolak', 'dibatalkan')
      AND ST_Dimension(a.geom) > 0),
parts AS (
    SELECT source, ref, name, coalesce((d).path[1], 0) AS part, (d).geom AS line
    FROM near, ST_Dump(near.geom) d),
snapped AS (
    SELECT p.ring, p.n, p.v, c.source, c.ref, c.name, c.part, c.line,
           CASE WHEN c.line IS NULL THEN p.v ELSE ST_ClosestPoint(c.line, p.v) END AS p,
           CASE WHEN GeometryType(c.line) = 'LINESTRING' THEN ST_LineLocatePoint(c.line, p.v) END AS loc
    FROM pts p LEFT JOIN LATERAL (
        SELECT * FROM parts c WHERE ST_DWithin(c.line, p.v, %(tolerance)s)
        ORDER BY ST_Distance(c.line, p.v), c.source, c.ref LIMIT 1) c ON true),
joined AS (
    SELECT *, lead(p) OVER w AS next_p, lead(line) OVER w AS next_line, lead(loc) OVER w AS next_loc
    FROM snapped WINDOW w AS (PARTITION BY ring ORDER BY n))
SELECT ring, n, source, ref, name, ST_AsText(ST_Transform(p, 4326), 9),
       ST_AsText(ST_Transform(CASE
           WHEN loc IS NOT NULL AND next_p IS NOT NULL AND ST_DWithin(line, next_p, {on_line})
                THEN {along_mine}
           WHEN next_loc IS NOT NULL AND line IS NOT NULL AND ST_DWithin(next_line, p, {on_line})
                THEN {along_next}
       END, 4326), 9) AS course
FROM joined ORDER BY ring, n
""").format(on_line=sql.Literal(ON_LINE_M),
            along_mine=_along("line", "loc", "ST_LineLocatePoint(line, next_p)"),
            along_next=_along("next_line", "ST_LineLocatePoint(next_line, p)", "next_loc"))


@dataclass
class Snapped:
    geometry: shapely.Geometry
    vertices: int  # vertices drawn
    moved: int  # vertices that landed on a road or an activity
    targets: list[dict] = field(default_factory=list)  # what they landed on: source (jalan/kegiatan), id, name
    followed: bool = False  # whether the courses of the lines were followed between vertices

    def as_feature(self, tolerance_m: float) -> dict:
        return {"type": "Feature", "geometry": shapely.geometry.mapping(self.geometry),
                "properties": {"vertices": self.vertices, "snapped": self.moved, "targets": self.targets,
                               "followed": self.followed, "tolerance_m": tolerance_m}}


def check_drawing(geometry: shapely.Geometry) -> None:
    """InvalidInput unless a single point, line or polygon of at most MAX_VERTICES vertices and MAX_EXTENT_M across."""
    if geometry.geom_type not in SNAPPABLE:
        raise InvalidInput.of("snap.geometry", details=[{"field": "geometry", "reason": geometry.geom_type}],
                              kind=geometry.geom_type)
    count = int(shapely.get_num_coordinates(geometry))
    if count > MAX_VERTICES:
        raise TooLarge.of("snap.vertices", details=[{"field": "geometry", "reason": f"{count} > {MAX_VERTICES}"}],
                          count=count, limit=MAX_VERTICES)
    west, south, east, north = geometry.bounds
    across = max((east - west) * math.cos(math.radians((south + north) / 2)), north - south) * METRES_PER_DEGREE
    if across > MAX_EXTENT_M:
        raise TooLarge.of("snap.too_large", details=[{"field": "geometry", "reason": f"{across:.0f} m"}],
                          size=f"{across:,.0f}", limit=f"{MAX_EXTENT_M:,.0f}")


async def snap(conn: AsyncConnection, geometry: shapely.Geometry, tolerance_m: float, tenant: str | None
               ) -> Snapped:
    """The drawing snapped (see the module docstring); `geometry` checked with check_drawing first."""
    check_drawing(geometry)
    margin = tolerance_m / (METRES_PER_DEGREE * max(math.cos(math.radians(geometry.centroid.y)), 0.1)) * 1.5
    cur = await conn.execute(_SNAP, {"geometry": json.dumps(shapely.geometry.mapping(geometry)), "margin": margin,
                                     "tolerance": tolerance_m, "tenant": tenant})
    rows = await cur.fetchall()
    drawn = int(shapely.get_num_coordinates(geometry))
    targets: dict[tuple[str, int], dict] = {}
    for _, _, source, ref, name, _, _ in rows:
        if source is not None:
            targets.setdefault((source, ref), {"source": source, "id": ref, "name": name})
    moved = sum(1 for row in rows if row[2] is not None)
    if geometry.geom_type == "Point":
        return Snapped(shapely.from_wkt(rows[0][5]), drawn, moved, list(targets.values()))
    rings: dict[int, list[tuple[str, str | None]]] = {}
    for ring, _, _, _, _, point, course in rows:
        rings.setdefault(ring, []).append((point, course))
    for follow in (True, False):
        shaped = _shape(geometry.geom_type, rings, follow)
        if shaped is not None and shaped.is_valid:
            return Snapped(shaped, drawn, moved, list(targets.values()), followed=follow and any(
                course for ring in rings.values() for _, course in ring))
    return Snapped(geometry, drawn, 0)


def _shape(kind: str, rings: dict[int, list[tuple[str, str | None]]], follow: bool) -> shapely.Geometry | None:
    coords = [_ring_coords(rows, follow) for _, rows in sorted(rings.items())]
    if kind == "LineString":
        return shapely.LineString(coords[0]) if len(coords[0]) >= 2 else None
    if any(len(ring) < 4 for ring in coords):
        return None
    return shapely.Polygon(coords[0], coords[1:])


def _ring_coords(rows: list[tuple[str, str | None]], follow: bool) -> list[tuple[float, float]]:
    """The vertices of one line or ring, each followed by the inner vertices of the course to the next."""
    out: list[tuple[float, float]] = []
    for point, course in rows:
        between = list(shapely.from_wkt(course).coords) if follow and course else []
        for xy in [shapely.from_wkt(point).coords[0], *between[1:-1]]:
            if not out or out[-1] != xy:
                out.append(xy)
    return out
