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

from psycopg import AsyncConnection

from indicators.priority import load_priority_tables
from layers.accounts.access import Principal
from layers.serving.collections import LEVEL_ORDER, LIVE_ACTIVITY, SCORES_JOIN, render_joins

ALL = "*"
TALLY_LAYERS = {"slum-areas": "slum_area_tallies", "activities": "activity_tallies"}
# Which tallies a collection's aggregate tiles read.
TALLIES_OF = {"slum-areas": ("slum-areas",), "activities": ("activities",),
              "keterpaduan": ("slum-areas", "activities")}
SYSTEM = Principal(role="admin", username="kotaku-tallies")  # tallies hold every row; reads apply row filters


def level_order_sql() -> str:
    return "ARRAY[" + ", ".join(f"'{code}'" for code in LEVEL_ORDER) + "]"


@lru_cache(maxsize=1)
def priority_order_sql() -> str:
    matrix = load_priority_tables().matrix.sort_values("rank")
    return "ARRAY[" + ", ".join(f"'{c}'" for c in dict.fromkeys(matrix["class"])) + "]"


def _activity_measures(live: bool) -> str:
    where = f" FILTER (WHERE {LIVE_ACTIVITY})" if live else ""
    return (f"count(*){where}, sum(a.cost){where}, "
            f"coalesce(array_remove(array_agg(DISTINCT a.program){where}, NULL), '{{}}'), "
            f"coalesce(array_remove(array_agg(DISTINCT a.funding_source){where}, NULL), '{{}}'), "
            f"min(a.year_start){where}, max(a.year_end){where}")


def _insert_sql(layer: str, some: bool) -> str:
    only = " AND {column} = ANY(%(codes)s)" if some else ""
    if layer == "activities":
        return ("INSERT INTO activity_tallies (kelurahan_code, features, cost, programs, funding_sources, year_min, "
                "year_max, live_features, live_cost, live_programs, live_funding_sources, live_year_min, "
                "live_year_max) SELECT a.kelurahan_code, " + _activity_measures(False) + ", "
                + _activity_measures(True) + " FROM activities a WHERE a.kelurahan_code IS NOT NULL"
                + only.format(column="a.kelurahan_code") + " GROUP BY a.kelurahan_code")
    scores = render_joins((SCORES_JOIN,), SYSTEM).as_string(None)
    return (
        "INSERT INTO slum_area_tallies (kelurahan_code, decree_id, tenant, features, area_ha, worst_level, "
        "score_sum, scored, urgent_priority) SELECT t.kelurahan_code, t.decree_id, min(t.tenant), count(*), "
        f"sum(t.area_ha), max(array_position({level_order_sql()}, sc.level)), sum(sc.score), count(sc.score), "
        f"min(array_position({priority_order_sql()}, sc.priority)) FROM slum_areas t {scores} "
        "WHERE t.kelurahan_code IS NOT NULL" + only.format(column="t.kelurahan_code")
        + " GROUP BY t.kelurahan_code, t.decree_id"
    )


async def dirty_layers(conn: AsyncConnection, layers: tuple[str, ...]) -> list[str]:
    cur = await conn.execute("SELECT DISTINCT layer FROM tally_dirty WHERE layer = ANY(%s)", [list(layers)])
    return [row[0] for row in await cur.fetchall()]


async def refresh_tallies(conn: AsyncConnection, layers: tuple[str, ...]) -> dict[str, int]:
    """Recompute the tallies of `layers` where writes left them stale; kelurahan recomputed per layer."""
    done: dict[str, int] = {}
    for layer in await dirty_layers(conn, layers):
        table = TALLY_LAYERS[layer]
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('kotaku-tallies'), hashtext(%s))", [layer])
            cur = await conn.execute("DELETE FROM tally_dirty WHERE layer = %s RETURNING kelurahan_code", [layer])
            codes = {row[0] for row in await cur.fetchall()}
            if not codes:  # another process did it while we waited for the lock
                continue
            if ALL in codes:
                await conn.execute(f"DELETE FROM {table}")
                await conn.execute(_insert_sql(layer, some=False))
            else:
                await conn.execute(f"DELETE FROM {table} WHERE kelurahan_code = ANY(%s)", [list(codes)])
                await conn.execute(_insert_sql(layer, some=True), {"codes": list(codes)})
            done[layer] = len(codes)
    return done
