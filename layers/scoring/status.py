"""The status cache behind maps: current level, score and priority of every slum area of a tenant.

Built from the scores (layers/scoring/scores.py) and the priorities built on them (layers/scoring/priority.py);
kept in `slum_area_scores` and `slum_area_priorities`, read through the view `slum_area_status`.
"""

from __future__ import annotations

import psycopg

from layers.db.frames import run
from layers.scoring.priority import priorities_op
from layers.scoring.scores import SYSTEM, arrays, status_scores_op


def refresh_status(conn: psycopg.Connection, tenant: str) -> dict:
    """Rebuild the slum-area scores and priorities behind `slum_area_status` for one tenant, in one
    transaction. Returns counts. Call it after any change of surveys, units, slum areas or priority inputs
    (the importers of this project do)."""
    with conn.transaction():
        conn.execute("INSERT INTO scoring_state (tenant) VALUES (%s) ON CONFLICT DO NOTHING", [tenant])
        state = conn.execute("SELECT changes FROM scoring_state WHERE tenant = %s FOR UPDATE", [tenant]).fetchone()
        if state is None:
            raise RuntimeError(f"scoring_state has no row for tenant {tenant} after inserting it")
        changes = state[0]
        table, current = run(conn, status_scores_op(tenant, SYSTEM))
        conn.execute("DELETE FROM slum_area_scores WHERE tenant = %s", [tenant])
        conn.execute(
            """
            INSERT INTO slum_area_scores (slum_area_id, round, tenant, round_order, is_current, scheme, source,
                total_score, level, avg_overall, units, units_scored, coverage)
            SELECT a, r, %(t)s, o, c, sc, src, tot, lv, av, un, us, cov
            FROM unnest(%(a)s::bigint[], %(r)s::text[], %(o)s::int[], %(c)s::bool[], %(sc)s::text[], %(src)s::text[],
                        %(tot)s::int[], %(lv)s::text[], %(av)s::float8[], %(un)s::int[], %(us)s::int[],
                        %(cov)s::float8[]) AS x(a, r, o, c, sc, src, tot, lv, av, un, us, cov)
            """,
            {"t": tenant, **arrays(table, {"a": "slum_area_id", "r": "round", "o": "round_order", "c": "is_current",
                                           "sc": "scheme", "src": "source", "tot": "total", "lv": "level",
                                           "av": "avg_overall", "un": "units", "us": "units_scored",
                                           "cov": "coverage"})},
        )
        priorities = run(conn, priorities_op(tenant, SYSTEM, current=current, all_decrees=True))
        conn.execute("DELETE FROM slum_area_priorities WHERE tenant = %s", [tenant])
        conn.execute(
            """
            INSERT INTO slum_area_priorities (slum_area_id, tenant, round, priority_class, priority_rank, position,
                handling, kewenangan, pl, legality, basis, missing)
            SELECT a, %(t)s, r, cl, rk, pos, h, kw, pl, lg, b,
                   coalesce(string_to_array(nullif(m, ''), ', '), '{}')
            FROM unnest(%(a)s::bigint[], %(r)s::text[], %(cl)s::text[], %(rk)s::int[], %(pos)s::int[],
                        %(h)s::text[], %(kw)s::text[], %(pl)s::text[], %(lg)s::text[], %(b)s::text[], %(m)s::text[])
                 AS x(a, r, cl, rk, pos, h, kw, pl, lg, b, m)
            """,
            {"t": tenant, **arrays(priorities, {"a": "slum_area_id", "r": "round", "cl": "class", "rk": "rank",
                                                "pos": "position", "h": "handling", "kw": "kewenangan", "pl": "pl",
                                                "lg": "legality", "b": "basis", "m": "missing"})},
        )
        conn.execute("UPDATE scoring_state SET refreshed_changes = %s, refreshed_at = now() WHERE tenant = %s",
                     [changes, tenant])
    return {"tenant": tenant, "slum_area_scores": len(table), "current": len(current),
            "from_decree": int((current["source"] == "decree").sum()) if len(current) else 0,
            "priorities": len(priorities), "with_class": int(priorities["class"].notna().sum())}
