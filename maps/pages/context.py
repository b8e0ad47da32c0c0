"""What a page needs from the database when it is built: reference options, the kab/kota to show and its extent,
and the kelurahan search. Small reads only; the layers themselves reach the page as tiles, never inline.
Every read of a tenant-owned collection ANDs the caller's row filter (layers/accounts/access.py)."""

from __future__ import annotations

from typing import LiteralString

from psycopg import AsyncConnection, sql

from layers.accounts.access import Principal, row_filter
from layers.db.rows import column_names
from layers.values.codes import tenant_code

SEARCH_LIMIT = 20
SEARCH_LEVELS = ("desa_kelurahan", "kecamatan")


async def _rows(conn: AsyncConnection, query: LiteralString | sql.SQL | sql.Composed,
                params: list | dict | None = None) -> list[dict]:
    cur = await conn.execute(query, params or [])
    names = column_names(cur)
    return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def reference_options(conn: AsyncConnection) -> dict[str, list[dict]]:
    """Programmes, funding sources and activity kinds: the options of the proposal form and the legends."""
    kinds = await _rows(conn, "SELECT code, name, criteria, unit, unit_price::float8 AS unit_price, geometry_type "
                              "FROM activity_kinds ORDER BY name")
    return {
        "programs": await _rows(conn, "SELECT code, name FROM programs ORDER BY code = 'LAINNYA', code"),
        "funding_sources": await _rows(conn, "SELECT code, name, category FROM funding_sources "
                                             "ORDER BY code = 'LAINNYA', code"),
        "kinds": [{**k, "criteria": list(k["criteria"])} for k in kinds],
    }


async def tenant_choices(conn: AsyncConnection, principal: Principal) -> list[dict]:
    """The kab/kota that have slum areas this caller may see, named as in `regions`, or "Kab/kota 12.71" when its
    boundary was never imported (a city that loaded only its kelurahan still gets its entry).

    The distinct tenants come from the (tenant, decree_id) index one step at a time (a recursive skip scan): a
    lookup per kab/kota that has any, instead of reading every slum area at each page build."""
    query = sql.SQL(
        "WITH RECURSIVE found(code) AS ("
        "(SELECT t.tenant FROM slum_areas t WHERE {f} ORDER BY t.tenant LIMIT 1) UNION ALL "
        "SELECT (SELECT t.tenant FROM slum_areas t WHERE t.tenant > found.code AND {f} ORDER BY t.tenant LIMIT 1) "
        "FROM found WHERE found.code IS NOT NULL) "
        "SELECT found.code, coalesce(r.name, 'Kab/kota ' || found.code) AS name FROM found "
        "LEFT JOIN regions r ON r.code = found.code AND r.level = 'kabkota' "
        "WHERE found.code IS NOT NULL ORDER BY r.name IS NULL, r.name, found.code"
    ).format(f=row_filter(principal, "slum-areas"))
    return await _rows(conn, query)


async def with_shown(conn: AsyncConnection, choices: list[dict], tenant: str | None) -> list[dict]:
    """The choices with the kab/kota shown first when it has no slum areas yet (a permalink, a new city), named as
    `tenant_choices` names them: the chooser never shows blank."""
    if tenant is None or any(choice["code"] == tenant for choice in choices):
        return choices
    shown = await _rows(conn, "SELECT %(code)s AS code, coalesce((SELECT name FROM regions WHERE code = %(code)s "
                              "AND level = 'kabkota'), 'Kab/kota ' || %(code)s) AS name", {"code": tenant})
    return shown + choices


def chosen_tenant(asked: str | None, principal: Principal, choices: list[dict]) -> str | None:
    """The kab/kota a page opens on: the one asked for, else the caller's, else the first with slum areas."""
    if asked and asked.strip():
        return tenant_code(asked)
    if principal.tenant:
        return principal.tenant
    return choices[0]["code"] if choices else None


async def region_bounds(conn: AsyncConnection, code: str | None) -> list[list[float]] | None:
    """[[south, west], [north, east]] of a kab/kota for the first view: its boundary, else (boundaries not
    imported) the extent of its slum areas; None when neither is known."""
    if not code:
        return None
    cur = await conn.execute(
        "SELECT ST_YMin(b), ST_XMin(b), ST_YMax(b), ST_XMax(b) FROM (SELECT coalesce("
        "(SELECT ST_Extent(geom) FROM regions WHERE code = %(code)s), "
        "(SELECT ST_Extent(geom) FROM slum_areas WHERE tenant = %(code)s))::box2d AS b) x", {"code": code})
    row = await cur.fetchone()
    if row is None or row[0] is None:
        return None
    return [[row[0], row[1]], [row[2], row[3]]]


def _like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_regions(conn: AsyncConnection, text: str, tenant: str | None = None,
                         limit: int = SEARCH_LIMIT) -> list[dict]:
    """Kelurahan/desa and kecamatan whose name contains `text` (any case) or whose code starts with it (dotted
    or digits only), best matches first, each with its parent's name and its extent."""
    text = " ".join(text.split())
    if not text:
        return []
    digits = text.replace(".", "")
    pattern = _like_pattern(text.casefold())
    return await _rows(conn, """
        SELECT r.code, r.name, r.level, p.name AS parent_name,
               ARRAY[ST_YMin(r.geom), ST_XMin(r.geom), ST_YMax(r.geom), ST_XMax(r.geom)] AS bounds
        FROM regions r LEFT JOIN regions p ON p.code = r.parent_code
        WHERE r.level = ANY(%(levels)s)
          AND (%(tenant)s::text IS NULL OR r.tenant = %(tenant)s)
          AND (lower(r.name) LIKE '%%' || %(pattern)s || '%%'
               OR (%(digits)s ~ '^[0-9]+$' AND replace(r.code, '.', '') LIKE %(digits)s || '%%'))
        ORDER BY replace(r.code, '.', '') = %(digits)s DESC, lower(r.name) = %(text)s DESC,
                 lower(r.name) LIKE %(pattern)s || '%%' DESC, r.level = 'desa_kelurahan' DESC, r.name, r.code
        LIMIT %(limit)s
    """, {"levels": list(SEARCH_LEVELS), "tenant": tenant, "pattern": pattern, "digits": digits,
          "text": text.casefold(), "limit": limit})
