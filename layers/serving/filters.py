"""What an items request asks for (OGC API Features Part 1 and 3), checked and turned into SQL.

`bbox`, `datetime`, `tenant`, property equality (`?stage=selesai`, one per queryable) and a CQL2 `filter`
(layers/serving/cql2.py). Every bad parameter is an InvalidInput naming the parameter and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from psycopg import sql

from geo.bounds import INDONESIA
from geo.errors import InvalidInput
from layers.accounts.access import PUBLIC, Principal, row_filter
from layers.serving.collections import Collection
from layers.serving.cql2 import cql2_where
from layers.values.codes import tenant_code

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 100
INT64_MAX = 2**63 - 1
# Parameters of /items that are not property filters.
RESERVED_PARAMETERS = frozenset({
    "limit", "offset", "bbox", "bbox-crs", "datetime", "tenant", "f", "filter", "filter-lang", "filter-crs", "crs",
})
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """'minLon,minLat,maxLon,maxLat' in EPSG:4326 (OGC API order); 6 numbers allowed (heights ignored)."""
    if text is None or not text.strip():
        return None
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox '{text}' must be four numbers: minLon,minLat,maxLon,maxLat") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise InvalidInput(f"bbox '{text}' must be four numbers: minLon,minLat,maxLon,maxLat")
    minx, miny, maxx, maxy = numbers
    if not _overlaps_indonesia(minx, miny, maxx, maxy) and _overlaps_indonesia(miny, minx, maxy, maxx):
        raise InvalidInput(f"bbox '{text}' lies outside Indonesia; latitude and longitude look swapped "
                           "(the order is minLon,minLat,maxLon,maxLat)")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise InvalidInput(f"bbox '{text}' is not longitude/latitude in degrees")
    if miny > maxy:
        raise InvalidInput(f"bbox '{text}': minLat is greater than maxLat")
    if minx > maxx:
        raise InvalidInput(f"bbox '{text}': minLon is greater than maxLon (antimeridian boxes are not supported)")
    return minx, miny, maxx, maxy


def _overlaps_indonesia(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    x0, y0, x1, y1 = INDONESIA.box
    return minx <= x1 and maxx >= x0 and miny <= y1 and maxy >= y0


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None] | None:
    """RFC 3339 instant or interval ('a/b', '../b', 'a/..'); a bare date covers the whole day (UTC)."""
    if text is None or not text.strip():
        return None
    parts = text.strip().split("/")
    if len(parts) > 2:
        raise InvalidInput(f"datetime '{text}' must be an instant or an interval 'start/end'")
    if len(parts) == 1:
        return _instant(parts[0], text, end=False), _instant(parts[0], text, end=True)
    start = None if parts[0] in ("", "..") else _instant(parts[0], text, end=False)
    end = None if parts[1] in ("", "..") else _instant(parts[1], text, end=True)
    if start is None and end is None:
        raise InvalidInput(f"datetime '{text}': an interval needs at least one end")
    if start and end and start > end:
        raise InvalidInput(f"datetime '{text}': the start is after the end")
    return start, end


def _instant(part: str, text: str, *, end: bool) -> datetime:
    try:
        if "T" not in part.upper():
            day = date.fromisoformat(part)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(part.replace("z", "Z"))
    except ValueError:
        raise InvalidInput(f"datetime '{text}': '{part}' is not an RFC 3339 date or date-time "
                           "(e.g. 2023-01-01 or 2023-01-01T00:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ItemsQuery:
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    datetime: tuple[datetime | None, datetime | None] | None = None
    tenant: str | None = None
    filters: dict[str, str] = field(default_factory=dict)
    cql: sql.Composable | None = None
    cql_params: tuple = ()
    cql_joins: frozenset[str] = frozenset()
    principal: Principal = PUBLIC

    @classmethod
    def parse(cls, collection: Collection, *, limit: int | None = None, offset: int | None = None,
              bbox: str | None = None, datetime_text: str | None = None, tenant: str | None = None,
              filters: dict[str, str] | None = None, cql: str | None = None, cql_lang: str | None = None,
              filter_crs: str | None = None, bbox_crs: str | None = None,
              principal: Principal = PUBLIC) -> ItemsQuery:

        limit = DEFAULT_LIMIT if limit is None else limit
        offset = 0 if offset is None else offset
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1 (got {limit})", details=[{"field": "limit"}])
        if offset < 0:
            raise InvalidInput(f"offset must be 0 or more (got {offset})", details=[{"field": "offset"}])
        for parameter, number in (("limit", limit), ("offset", offset)):
            if number > INT64_MAX:  # PostgreSQL's LIMIT and OFFSET are 64-bit: beyond, the query itself fails
                raise InvalidInput(f"{parameter} {number} is beyond the largest whole number allowed ({INT64_MAX})",
                                   details=[{"field": parameter}])
        for name, value in (("bbox-crs", bbox_crs), ("filter-crs", filter_crs)):
            if value and value.strip() != CRS84:
                raise InvalidInput(f"{name} '{value}' is not supported: coordinates are {CRS84} (lon/lat)")
        when = parse_datetime(datetime_text)
        if when is not None and collection.temporal is None:
            raise InvalidInput(f"datetime: collection '{collection.id}' has no time property to filter on")
        filters = dict(filters or {})
        for name, value in filters.items():
            _check_property_filter(collection, name, value)
        where: sql.Composable | None = None
        cql_params: list = []
        joins: frozenset[str] = frozenset()
        if cql is not None and cql.strip():
            where, cql_params, joins = cql2_where(collection, cql, cql_lang)
        return cls(
            limit=min(limit, MAX_LIMIT),
            offset=offset,
            bbox=parse_bbox(bbox),
            datetime=when,
            tenant=tenant_code(tenant) if tenant else None,
            filters=filters,
            cql=where,
            cql_params=tuple(cql_params),
            cql_joins=joins,
            principal=principal,
        )


def _check_property_filter(collection: Collection, name: str, value: str) -> None:
    prop = collection.find_property(name)
    if prop is None or not prop.filterable:
        known = sorted(p.name for p in collection.properties if p.filterable)
        raise InvalidInput(f"unknown parameter '{name}' for collection '{collection.id}': use a queryable "
                           f"({', '.join(known)}) or limit, offset, bbox, datetime, tenant, filter")
    _typed(prop.type, name, value, prop.format)


def _typed(kind: str, name: str, value: str, fmt: str | None = None) -> object:
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise InvalidInput(f"{name}: '{value}' is not a whole number") from None
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise InvalidInput(f"{name}: '{value}' is not a number") from None
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise InvalidInput(f"{name}: '{value}' must be true or false")
        return value.lower() == "true"
    if fmt == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name}: '{value}' is not a date (YYYY-MM-DD)") from None
    return value


def where_clause(collection: Collection, query: ItemsQuery) -> tuple[sql.Composable, list]:
    """The WHERE of an items query (row filter always first) and its parameters."""
    clauses = [row_filter(query.principal, collection.access_id), collection.where]
    params: list = []
    if query.bbox:
        clauses.append(sql.SQL("t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) "
                               "AND ST_Intersects(t.geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"))
        params += [*query.bbox, *query.bbox]
    if query.tenant:
        clauses.append(sql.SQL("{} = %s").format(collection.tenant_column))
        params.append(query.tenant)
    if query.datetime:
        clause, values = _temporal_clause(collection, query.datetime)
        clauses.append(clause)
        params += values
    for name, value in query.filters.items():
        prop = collection.find_property(name)
        if prop is None:
            raise InvalidInput(f"unknown property '{name}' for collection '{collection.id}'")
        typed = _typed(prop.type, name, value, prop.format)
        if prop.type == "array":
            clauses.append(sql.SQL("%s = ANY({})").format(prop.sql))
        else:
            clauses.append(sql.SQL("{} = %s").format(prop.sql))
        params.append(typed)
    if query.cql is not None:
        clauses.append(query.cql)
        params += query.cql_params
    return sql.SQL(" AND ").join(clauses), params


def _temporal_clause(collection: Collection, when: tuple[datetime | None, datetime | None]
                     ) -> tuple[sql.Composable, list]:
    temporal = collection.temporal
    if temporal is None:
        raise InvalidInput(f"datetime: collection '{collection.id}' has no time property to filter on")
    start, end = when
    clauses: list[sql.Composable] = []
    params: list[object] = []
    if temporal.unit == "year":
        if start is not None:
            clauses.append(sql.SQL("{} >= %s").format(temporal.end))
            params.append(start.astimezone(UTC).year)
        if end is not None:
            clauses.append(sql.SQL("{} <= %s").format(temporal.start))
            params.append(end.astimezone(UTC).year)
    else:
        if start is not None:
            clauses.append(sql.SQL("{} >= %s").format(temporal.end))
            params.append(start.astimezone(UTC).date())
        if end is not None:
            clauses.append(sql.SQL("{} <= %s").format(temporal.start))
            params.append(end.astimezone(UTC).date())
    return sql.SQL("({})").format(sql.SQL(" AND ").join(clauses)), params
