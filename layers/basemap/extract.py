"""The basemap of one kab/kota as a table (for printed maps): the features of `basemap_features` that are the
tenant's own or shared (tenant NULL) and lie within the tenant's outline box, with class, name and min_zoom, the
geometry simplified to about a metre (ST_Simplify in degrees) and as WKB.

Printed pages choose what to draw by `min_zoom` (the zoom a page's scale corresponds to), as the tiles do.
`limit` keeps a huge extract (a whole province's buildings) from filling memory: the most important features
(`rank`, then the lower `min_zoom`) come first.
"""

from __future__ import annotations

from psycopg import sql

from layers.db.frames import Query

SIMPLIFY_DEGREES = 0.00001  # about 1 m: invisible on a printed page, and far fewer vertices
DEFAULT_LIMIT = 200_000


def basemap_query(tenant: str, *, max_zoom: int = 16, limit: int = DEFAULT_LIMIT) -> Query:
    """Columns: layer, class, name, min_zoom, wkb (EPSG:4326). Empty when no basemap is loaded for the tenant."""
    return Query(sql.SQL(
        """
        WITH box AS (SELECT ST_Envelope(ST_Collect(geom)) AS geom FROM regions WHERE tenant = %(t)s)
        SELECT f.layer, f.class, f.name, f.min_zoom,
               ST_AsBinary(ST_Simplify(f.geom, %(tolerance)s, true)) AS wkb
        FROM basemap_features f, box
        WHERE (f.tenant = %(t)s OR f.tenant IS NULL) AND f.min_zoom <= %(max_zoom)s AND f.geom && box.geom
        ORDER BY f.rank DESC, f.min_zoom, f.id
        LIMIT %(limit)s
        """), {"t": tenant, "tolerance": SIMPLIFY_DEGREES, "max_zoom": max_zoom, "limit": limit})
