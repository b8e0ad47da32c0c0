"""Per-kelurahan tallies behind the low-zoom aggregate tiles, recomputed only where writes changed them.

A zoom-8 tile over Java covers half a million activities; summing them per tile costs most of a second. Writes
therefore note the kelurahan they touched in `tally_dirty` (statement triggers of migration 0004), and before an
aggregate tile is drawn `refresh_tallies` recomputes the tallies of those kelurahan, set-based, under an advisory
lock (several server processes may ask at once). The tallies use the same SQL as the features (the slum-area
score hook of layers/serving/collections.py included), so an aggregate always agrees with the features below it, and an
edit shows in the next tile. A bulk import makes one full recomputation (seconds for a million rows).
"""

from __future__ import annotations

from functools import lru_cache

from psycopg import AsyncConnection, sql

from indicators.priority import load_priority_tables
from layers.accounts.access import Principal
from layers.serving.collections import LEVEL_ORDER, LIVE_ACTIVITY, SCORES_JOIN, render_joins

ALL = "*"
TALLY_LAYERS = {"slum-areas": "slum_area_tallies", "activities": "activity_tallies"}
# Which tallies a collection's aggregate tiles read.
TALLIES_OF = {"slum-areas": ("slum-areas",), "activities": ("activities",),
              "keterpaduan": ("slum-areas", "activities")}
SYSTEM = Principal(role="admin", username="kotaku-tallies")  # tallies hold every row; reads apply row filters
DIRTY_LAYERS_SQL = sql.SQL("SELECT DISTINCT layer FROM tally_dirty WHERE layer = ANY(%s)")
LOCK_SQL = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('kotaku-tallies'), hashtext(%s))")
TAKE_DIRTY_SQL = sql.SQL("DELETE FROM tally_dirty WHERE layer = %s RETURNING kelurahan_code")


def _array(codes) -> sql.Composable:
    return sql.SQL("ARRAY[{}]").format(sql.SQL(", ").join(sql.Literal(code) for code in codes))


@lru_cache(maxsize=1)
def level_order_sql() -> sql.Composable:
    """The slum levels, mildest first, as a SQL array (array_position gives a level's rank)."""
    return _array(LEVEL_ORDER)


@lru_cache(maxsize=1)
def priority_order_sql() -> sql.Composable:
    """The priority classes, most urgent first, as a SQL array."""
    matrix = load_priority_tables().matrix.sort_values("rank")
    return _array(dict.fromkeys(matrix["class"]))


def _activity_measures(live: bool) -> sql.Composable:
    where = sql.SQL(" FILTER (WHERE {})").format(LIVE_ACTIVITY) if live else sql.SQL("")
    return sql.SQL(
        "count(*){w}, sum(a.cost){w}, "
        "coalesce(array_remove(array_agg(DISTINCT a.program){w}, NULL), '{{}}'), "
        "coalesce(array_remove(array_agg(DISTINCT a.funding_source){w}, NULL), '{{}}'), "
        "min(a.year_start){w}, max(a.year_end){w}"
    ).format(w=where)


def _insert_sql(layer: str, some: bool) -> sql.Composed:
    """The INSERT of a layer's tallies, for every kelurahan or (`some`) those in %(codes)s."""
    def only(column: str) -> sql.Composable:
        return sql.SQL(" AND {} = ANY(%(codes)s)").format(sql.SQL(column)) if some else sql.SQL("")

    if layer == "activities":
        return sql.SQL(
            "INSERT INTO activity_tallies (kelurahan_code, features, cost, programs, funding_sources, year_min, "
            "year_max, live_features, live_cost, live_programs, live_funding_sources, live_year_min, "
            "live_year_max) SELECT a.kelurahan_code, {all}, {live} FROM activities a "
            "WHERE a.kelurahan_code IS NOT NULL{only} GROUP BY a.kelurahan_code"
        ).format(all=_activity_measures(False), live=_activity_measures(True), only=only("a.kelurahan_code"))
    return sql.SQL(
        "INSERT INTO slum_area_tallies (kelurahan_code, decree_id, tenant, features, area_ha, worst_level, "
        "score_sum, scored, urgent_priority) SELECT t.kelurahan_code, t.decree_id, min(t.tenant), count(*), "
        "sum(t.area_ha), max(array_position({levels}, sc.level)), sum(sc.score), count(sc.score), "
        "min(array_position({priorities}, sc.priority)) FROM slum_areas t {scores} "
        "WHERE t.kelurahan_code IS NOT NULL{only} GROUP BY t.kelurahan_code, t.decree_id"
    ).format(levels=level_order_sql(), priorities=priority_order_sql(),
             scores=render_joins((SCORES_JOIN,), SYSTEM), only=only("t.kelurahan_code"))


async def dirty_layers(conn: AsyncConnection, layers: tuple[str, ...]) -> list[str]:
    cur = await conn.execute(DIRTY_LAYERS_SQL, [list(layers)])
    return [row[0] for row in await cur.fetchall()]


async def refresh_tallies(conn: AsyncConnection, layers: tuple[str, ...]) -> dict[str, int]:
    """Recompute the tallies of `layers` where writes left them stale; kelurahan recomputed per layer."""
    done: dict[str, int] = {}
    for layer in await dirty_layers(conn, layers):
        table = sql.Identifier(TALLY_LAYERS[layer])
        async with conn.transaction():
            await conn.execute(LOCK_SQL, [layer])
            cur = await conn.execute(TAKE_DIRTY_SQL, [layer])
            codes = {row[0] for row in await cur.fetchall()}
            if not codes:  # another process did it while we waited for the lock
                continue
            if ALL in codes:
                await conn.execute(sql.SQL("DELETE FROM {}").format(table))
                await conn.execute(_insert_sql(layer, some=False))
            else:
                await conn.execute(sql.SQL("DELETE FROM {} WHERE kelurahan_code = ANY(%s)").format(table),
                                   [list(codes)])
                await conn.execute(_insert_sql(layer, some=True), {"codes": list(codes)})
            done[layer] = len(codes)
    return done
