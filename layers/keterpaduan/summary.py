"""Programme integration (keterpaduan): per slum area every programme and funding source working in it, what it
invests, which criteria the work addresses against those still scoring 3 or 5, the level projected once the
planned work is done, and collaboration links; rolled up per kelurahan, kecamatan and kab/kota.

- Slum areas: the tenant's newest decree the caller may see (or the one named), through the `slum-areas` row
  filter (the public sees published decrees only). Activities: live ones (not rejected or cancelled) linked to
  the slum area (`activities.slum_area_id`, set by the spatial join at creation/import); public rows, read
  without personal data.
- Level and total score: the latest scored survey round of the area (its units' volumes summed and scored, as
  `layers.scoring.scores` does), else the decree's stated score. `criteria_remaining`: criteria scoring 3 or 5 in that
  round; `criteria_gap`: those of them no live activity addresses.
- Projected level (kumuh akhir of the planned work): the latest round's volumes minus the volumes of live and
  completed activities ending in or after that round's year, converted per criterion as `layers.scoring.progress`
  does (units that do not convert are counted in `volumes_not_counted`, never guessed), rescored by
  `indicators.progress.kumuh_akhir`. Areas without surveys keep their level.
- Money in three states that are never added up (KOTAKU brief 10): `proposed_cost`, the cost estimate of live
  activities that have no budget line yet (year and source of the activity); `budgeted`, the allocated amounts of
  their budget lines and `realised`, the realised amounts (year and source of the budget line); each also per
  funding source (`*_by_source`) and, for the kab/kota, per year and source (`by_year`).
- Roll-ups: one GROUPING SETS query over kelurahan, kecamatan and kab/kota in PostGIS, hectares by the
  slum-area/kelurahan overlap shares (`slum_area_regions`), activities by their own kelurahan.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from psycopg import sql

from geo.errors import NotFound
from indicators.progress import NOT_SLUM, kumuh_akhir
from indicators.schemes import load_scheme
from indicators.scoring import score_units
from layers.accounts.access import Principal, row_filter
from layers.db.frames import Op, Query, records
from layers.scoring.progress import _criterion_volumes
from layers.scoring.scores import DECREE_SCORE_FIELDS, SK, SURVEI, _aggregate_query, arrays, decree_scores
from layers.scoring.surveys import HEADER_COLUMNS, rounds_query, with_round_orders
from layers.values.fields import field_key

DEAD_STATUSES = ("ditolak", "dibatalkan")
HIGH_SCORES = (3, 5)  # a criterion "still to handle"
NO_PROGRAM = "TANPA_PROGRAM"
NO_FUNDING = "TANPA_SUMBER"
MONEY_STATES = {"proposed": "proposed_cost", "budgeted": "budgeted", "realised": "realised"}
MONEY_FIELDS = tuple(MONEY_STATES.values())
MONEY_BY_SOURCE = tuple(f"{state}_by_source" for state in MONEY_STATES)
SLUM_AREA_COLUMNS = [
    "slum_area_id", "kawasan", "unit_label", "decree", "kelurahan_code", "kelurahan", "kecamatan_code", "kecamatan",
    "area_ha", "level", "total_score", "scheme", "round", "score_source", "projected_level", "projected_total",
    "activities", "activities_completed", "programs", *MONEY_FIELDS, *MONEY_BY_SOURCE, "criteria_addressed",
    "criteria_remaining", "criteria_gap", "collaborations", "volumes_not_counted", "year_first", "year_last",
]


def tenant_known_query(tenant: str) -> Query:
    return Query(sql.SQL("SELECT EXISTS (SELECT 1 FROM regions WHERE code = %(t)s) "
                         "OR EXISTS (SELECT 1 FROM decrees WHERE tenant = %(t)s) "
                         "OR EXISTS (SELECT 1 FROM activities WHERE tenant = %(t)s) AS known"), {"t": tenant})


def _money_cte(columns: str) -> sql.Composed:
    """`money`: one row per amount of the live activities of the CTE `act` (which has id, funding_source,
    year_start, cost): (columns..., state, funding, year, amount). An activity without a budget line is `proposed`
    at its cost estimate, year and source; one with budget lines is `budgeted` (allocated) and `realised` per line,
    at the line's year and source. The three states are kept apart by `state`, never summed across."""
    cols = sql.SQL(columns)
    return sql.SQL(
        """money AS (
            SELECT {cols}, 'proposed' AS state, coalesce(x.funding_source, %(no_funding)s) AS funding,
                   x.year_start AS year, coalesce(x.cost, 0)::float8 AS amount
            FROM act x WHERE NOT EXISTS (SELECT 1 FROM budget_lines b WHERE b.activity_id = x.id)
            UNION ALL
            SELECT {cols}, s.state, b.funding_source, b.year,
                   (CASE s.state WHEN 'budgeted' THEN b.allocated ELSE b.realised END)::float8
            FROM act x JOIN budget_lines b ON b.activity_id = x.id
            CROSS JOIN (VALUES ('budgeted'), ('realised')) s(state)
        )"""
    ).format(cols=cols)


def _money_sums(prefix: str = "") -> sql.Composed:
    """coalesce(sum(amount) FILTER (WHERE state = ...), 0) AS proposed_cost, ... (`prefix`: an extra condition)."""
    parts = [sql.SQL("coalesce(sum(amount) FILTER (WHERE state = {state}{extra}), 0)::float8 AS {name}").format(
        state=sql.Literal(state), extra=sql.SQL(prefix), name=sql.Identifier(name + ("_in_slum_areas" if prefix
                                                                                      else "")))
        for state, name in MONEY_STATES.items()]
    return sql.SQL(", ").join(parts)


def _money_by_source() -> sql.Composed:
    """jsonb {funding: amount} per state from rows (state, funding, amount) already summed."""
    parts = [sql.SQL("coalesce(jsonb_object_agg(funding, amount ORDER BY funding) FILTER (WHERE state = {state}), "
                     "'{{}}'::jsonb) AS {name}").format(state=sql.Literal(state),
                                                       name=sql.Identifier(f"{state}_by_source"))
             for state in MONEY_STATES]
    return sql.SQL(", ").join(parts)


def _slum_areas_query(tenant: str, principal: Principal, decree: str | None) -> Query:
    """Per visible slum area of the chosen decree: place, area and the roll-up of its live activities."""
    text = sql.SQL(
        """
        WITH d AS (
            SELECT DISTINCT d.id, d.number, d.decree_date
            FROM decrees d JOIN slum_areas s ON s.decree_id = d.id
            WHERE d.tenant = %(t)s AND (%(decree)s::text IS NULL OR d.number = %(decree)s::text) AND {sa_filter}
            ORDER BY d.decree_date DESC NULLS LAST, d.id DESC
            LIMIT 1
        ), sa AS (
            SELECT s.id AS slum_area_id, s.kawasan, s.unit_label, d.number AS decree, s.kelurahan_code,
                   k.name AS kelurahan, left(s.kelurahan_code, 8) AS kecamatan_code, kc.name AS kecamatan, s.area_ha
            FROM slum_areas s JOIN d ON d.id = s.decree_id
            LEFT JOIN regions k ON k.code = s.kelurahan_code
            LEFT JOIN regions kc ON kc.code = left(s.kelurahan_code, 8)
            WHERE s.tenant = %(t)s AND {sa_filter}
        ), act AS (
            SELECT a.id, a.slum_area_id, a.program, a.funding_source, a.cost, a.criteria, a.status, a.progress,
                   a.year_start, a.year_end
            FROM activities a JOIN sa ON sa.slum_area_id = a.slum_area_id
            WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s) AND {act_filter}
        ), {money}, n AS (
            SELECT slum_area_id, count(*) AS activities,
                   count(*) FILTER (WHERE status = 'selesai' OR progress = 100) AS activities_completed,
                   min(year_start) AS year_first, max(year_end) AS year_last
            FROM act GROUP BY slum_area_id
        ), m AS (
            SELECT slum_area_id, {money_sums} FROM money GROUP BY slum_area_id
        ), p AS (
            SELECT slum_area_id, jsonb_object_agg(program, n ORDER BY program) AS programs
            FROM (SELECT slum_area_id, coalesce(program, %(no_program)s) AS program, count(*) AS n
                  FROM act GROUP BY 1, 2) x
            GROUP BY slum_area_id
        ), f AS (
            SELECT slum_area_id, {money_by_source}
            FROM (SELECT slum_area_id, state, funding, sum(amount) AS amount FROM money GROUP BY 1, 2, 3) x
            GROUP BY slum_area_id
        ), c AS (
            SELECT slum_area_id, array_agg(DISTINCT criterion ORDER BY criterion) AS criteria_addressed
            FROM act CROSS JOIN LATERAL unnest(act.criteria) AS criterion
            GROUP BY slum_area_id
        ), l AS (
            SELECT x.slum_area_id, count(DISTINCT (lk.activity_id, lk.other_id)) AS collaborations
            FROM activity_links lk
            JOIN act x ON x.id IN (lk.activity_id, lk.other_id)
            JOIN activities o ON o.id = CASE WHEN x.id = lk.activity_id THEN lk.other_id ELSE lk.activity_id END
            WHERE lk.relation = 'kolaborasi' AND NOT o.status = ANY(%(dead)s)
            GROUP BY x.slum_area_id
        )
        SELECT sa.*, coalesce(n.activities, 0) AS activities,
               coalesce(n.activities_completed, 0) AS activities_completed,
               coalesce(m.proposed_cost, 0) AS proposed_cost, coalesce(m.budgeted, 0) AS budgeted,
               coalesce(m.realised, 0) AS realised, n.year_first, n.year_last,
               coalesce(p.programs, '{{}}'::jsonb) AS programs,
               coalesce(f.proposed_by_source, '{{}}'::jsonb) AS proposed_by_source,
               coalesce(f.budgeted_by_source, '{{}}'::jsonb) AS budgeted_by_source,
               coalesce(f.realised_by_source, '{{}}'::jsonb) AS realised_by_source,
               coalesce(c.criteria_addressed, '{{}}'::text[]) AS criteria_addressed,
               coalesce(l.collaborations, 0) AS collaborations
        FROM sa
        LEFT JOIN n USING (slum_area_id) LEFT JOIN m USING (slum_area_id) LEFT JOIN p USING (slum_area_id)
        LEFT JOIN f USING (slum_area_id)
        LEFT JOIN c USING (slum_area_id) LEFT JOIN l USING (slum_area_id)
        ORDER BY sa.kelurahan_code, sa.kawasan, sa.unit_label, sa.slum_area_id
        """
    ).format(sa_filter=row_filter(principal, "slum-areas", "s"), act_filter=row_filter(principal, "activities", "a"),
             money=_money_cte("x.slum_area_id"), money_sums=_money_sums(), money_by_source=_money_by_source())
    return Query(text, {"t": tenant, "decree": decree, "dead": list(DEAD_STATUSES), "no_program": NO_PROGRAM,
                        "no_funding": NO_FUNDING})


def _planned_query(tenant: str, ids: list[int]) -> Query:
    """Criterion volumes of the live activities of these slum areas (the rows `layers.scoring.progress` converts)."""
    return Query(sql.SQL(
        """
        SELECT a.id AS activity_id, a.kind, a.status, a.year_end, c.criterion, a.volume::float8 AS volume,
               lower(a.unit) AS activity_unit,
               CASE WHEN jsonb_typeof(a.attributes -> 'criteria_volumes' -> c.criterion) = 'number'
                    THEN (a.attributes -> 'criteria_volumes' ->> c.criterion)::float8 END AS stated_volume,
               a.slum_area_id AS unit_id
        FROM activities a CROSS JOIN LATERAL unnest(a.criteria) AS c(criterion)
        WHERE a.tenant = %(t)s AND a.slum_area_id = ANY(%(ids)s) AND NOT a.status = ANY(%(dead)s)
        ORDER BY a.id, c.criterion
        """),
        {"t": tenant, "ids": ids, "dead": list(DEAD_STATUSES)},
    )


def _decree_stated_query(tenant: str, ids: list[int]) -> Query:
    keys = [field_key(k) for k in DECREE_SCORE_FIELDS]
    return Query(sql.SQL(
        """
        SELECT s.id AS slum_area_id, d.scheme, d.number AS decree, s.stated_level, s.stated_score,
               (SELECT e.value FROM jsonb_each_text(s.attributes) e
                WHERE lower(regexp_replace(e.key, '[^A-Za-z0-9]', '', 'g')) = ANY(%(keys)s)
                ORDER BY array_position(%(keys)s, lower(regexp_replace(e.key, '[^A-Za-z0-9]', '', 'g')))
                LIMIT 1) AS stated
        FROM slum_areas s JOIN decrees d ON d.id = s.decree_id
        WHERE s.tenant = %(t)s AND s.id = ANY(%(ids)s)
        """),
        {"t": tenant, "keys": keys, "ids": ids},
    )


def _latest_scores(agg: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """One row per slum area: its latest scored round with volumes, header counts and s_<id> scores."""
    if agg.empty:
        return pd.DataFrame(columns=["slum_area_id", "round", "round_order", "scheme", "total", "level"])
    agg = agg.merge(rounds[["round", "round_order", "first_date"]], on="round", how="left", suffixes=("", "_r"))
    agg[list(HEADER_COLUMNS)] = agg[list(HEADER_COLUMNS)].astype(float)
    pieces = []
    for name, group in agg.groupby("scheme", sort=False):  # one loop step per scheme, never per row
        scheme = load_scheme(str(name))
        table = group.reindex(columns=[*group.columns,
                                       *(c.volume_column for c in scheme.criteria if c.volume_column not in group)])
        scored = score_units(table, scheme)
        pieces.append(group.join(scored[[c for c in scored.columns if c.startswith("s_")]
                                        + ["total", "level"]]))
    scored = pd.concat(pieces)
    scored = scored[scored["total"].notna()]
    latest = scored.sort_values(["slum_area_id", "round_order", "units_scored"], ascending=[True, False, False])
    return latest.drop_duplicates("slum_area_id").reset_index(drop=True)


def _projection(latest: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """Per slum area with a latest score: projected total and level after the live activities that end in or
    after the year of its latest round, and how many activity criterion volumes could not be counted."""
    cols = ["slum_area_id", "projected_total", "projected_level", "volumes_not_counted"]
    if latest.empty:
        return pd.DataFrame(columns=cols)
    year = pd.to_datetime(latest["first_date"], errors="coerce").dt.year
    year = year.fillna(pd.to_numeric(latest["round"].astype("string").str.extract(r"((?:19|20)\d{2})",
                                                                                  expand=False), errors="coerce"))
    since = dict(zip(latest["slum_area_id"], year, strict=True))
    pieces = []
    for scheme_name, base in latest.groupby("scheme", sort=False):
        rows = planned[planned["unit_id"].isin(base["slum_area_id"])]
        after_survey = rows["year_end"].astype(float) >= rows["unit_id"].map(since).fillna(-1).astype(float)
        rows = rows[after_survey.to_numpy()]
        if rows.empty:
            applied, skipped = pd.DataFrame(columns=["unit_id", "criterion", "volume"]), rows
        else:
            applied, skipped = _criterion_volumes(rows.reset_index(drop=True), str(scheme_name))
        frame = base.rename(columns={"slum_area_id": "unit_id"}).reset_index(drop=True)
        scheme = load_scheme(str(scheme_name))
        for c in scheme.criteria:
            if c.volume_column not in frame:
                frame[c.volume_column] = float("nan")
        ka = kumuh_akhir(frame, applied, scheme, unit="unit_id")
        not_counted = skipped.groupby("unit_id").size() if len(skipped) else pd.Series(dtype=int)
        pieces.append(pd.DataFrame({
            "slum_area_id": frame["unit_id"].to_numpy(),
            "projected_total": ka["total_after"].to_numpy(),
            "projected_level": ka["level_after"].to_numpy(),
            "volumes_not_counted": frame["unit_id"].map(not_counted).fillna(0).astype(int).to_numpy(),
        }))
    return pd.concat(pieces, ignore_index=True)


def _high_criteria(latest: pd.DataFrame) -> pd.Series:
    """slum_area_id -> criterion ids scoring 3 or 5 in the latest round (in scheme order)."""
    if latest.empty:
        return pd.Series(dtype=object)
    score_cols = [c for c in latest.columns if c.startswith("s_")]
    high = latest[score_cols].apply(pd.to_numeric, errors="coerce").isin(HIGH_SCORES)
    ids = [c[2:] for c in score_cols]
    lists = [[i for i, flag in zip(ids, row, strict=True) if flag] for row in high.to_numpy()]
    return pd.Series(lists, index=latest["slum_area_id"].to_numpy())


def _scope_and_code(kel: sql.Composable) -> sql.Composed:
    """The (scope, code) of a row of GROUPING SETS ((kel), (left(kel, 8)), ()): kelurahan, kecamatan (the first
    8 characters of its code) or the whole kab/kota (the tenant code, parameter %(t)s)."""
    return sql.SQL(
        "CASE WHEN grouping({kel}) = 0 THEN 'kelurahan' WHEN grouping(left({kel}, 8)) = 0 THEN 'kecamatan' "
        "ELSE 'kabkota' END AS scope, "
        "CASE WHEN grouping({kel}) = 0 THEN {kel} WHEN grouping(left({kel}, 8)) = 0 THEN left({kel}, 8) "
        "ELSE %(t)s END AS code"
    ).format(kel=kel)


def _rollup_query(tenant: str, principal: Principal, areas: pd.DataFrame) -> Query:
    """Per kelurahan, kecamatan and the kab/kota: slum areas and hectares (current and projected, per level)
    from the per-area results passed as arrays, joined to the overlap shares; activities (all live ones of
    the region, and those in the slum areas) with programmes, funding sources and money (proposed, budgeted and
    realised apart, per funding source)."""
    params = arrays(areas, {"ids": "slum_area_id", "lv": "level", "plv": "projected_level",
                            "coll": "collaborations"})
    text = sql.SQL(
        """
        WITH r AS (
            SELECT * FROM unnest(%(ids)s::bigint[], %(lv)s::text[], %(plv)s::text[], %(coll)s::int[])
                 AS r(slum_area_id, level, projected_level, collaborations)
        ), shares AS (
            SELECT r.*, coalesce(sr.region_code, s.kelurahan_code) AS kel,
                   coalesce(sr.overlap_ha, s.area_ha) AS ha
            FROM r JOIN slum_areas s ON s.id = r.slum_area_id
            LEFT JOIN slum_area_regions sr ON sr.slum_area_id = r.slum_area_id
        ), sa AS (
            SELECT {scope_code_kel},
                   count(DISTINCT slum_area_id) AS slum_areas, sum(ha) AS slum_ha,
                   sum(ha) FILTER (WHERE level IS NOT NULL AND level <> %(tk)s) AS slum_ha_kumuh,
                   sum(ha) FILTER (WHERE projected_level IS NOT NULL AND projected_level <> %(tk)s)
                       AS projected_slum_ha,
                   sum(ha) FILTER (WHERE level IS NOT NULL AND level <> %(tk)s AND projected_level = %(tk)s)
                       AS leaving_slum_ha
            FROM shares
            GROUP BY GROUPING SETS ((kel), (left(kel, 8)), ())
        ), lv AS (
            SELECT scope, code, jsonb_object_agg(level, ha ORDER BY level) AS ha_by_level
            FROM (SELECT {scope_code_kel},
                         level, round(sum(ha)::numeric, 4)::float8 AS ha
                  FROM shares WHERE level IS NOT NULL
                  GROUP BY GROUPING SETS ((kel, level), (left(kel, 8), level), (level))) x
            GROUP BY scope, code
        ), plv AS (
            SELECT scope, code, jsonb_object_agg(projected_level, ha ORDER BY projected_level) AS projected_ha_by_level
            FROM (SELECT {scope_code_kel},
                         projected_level, round(sum(ha)::numeric, 4)::float8 AS ha
                  FROM shares WHERE projected_level IS NOT NULL
                  GROUP BY GROUPING SETS ((kel, projected_level), (left(kel, 8), projected_level),
                                          (projected_level))) x
            GROUP BY scope, code
        ), act AS (
            SELECT a.id, a.kelurahan_code AS kel, a.program, a.funding_source, coalesce(a.cost, 0)::float8 AS cost,
                   (a.slum_area_id = ANY(%(ids)s::bigint[])) AS in_slum, a.status, a.progress, a.year_start
            FROM activities a
            WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s) AND a.kelurahan_code IS NOT NULL
              AND {act_filter}
        ), ag AS (
            SELECT {scope_code_kel},
                   count(*) AS activities, count(*) FILTER (WHERE in_slum) AS activities_in_slum_areas,
                   count(*) FILTER (WHERE status = 'selesai' OR progress = 100) AS activities_completed
            FROM act GROUP BY GROUPING SETS ((kel), (left(kel, 8)), ())
        ), {money}, mg AS (
            SELECT {scope_code_kel}, {money_sums}, {money_sums_in_slum}
            FROM money GROUP BY GROUPING SETS ((kel), (left(kel, 8)), ())
        ), pg AS (
            SELECT scope, code, jsonb_object_agg(program, n ORDER BY program) AS programs
            FROM (SELECT {scope_code_kel},
                         coalesce(program, %(no_program)s) AS program, count(*) AS n
                  FROM act GROUP BY GROUPING SETS ((kel, coalesce(program, %(no_program)s)),
                                                   (left(kel, 8), coalesce(program, %(no_program)s)),
                                                   (coalesce(program, %(no_program)s)))) x
            GROUP BY scope, code
        ), fd AS (
            SELECT scope, code, {money_by_source}
            FROM (SELECT {scope_code_kel}, state, funding, sum(amount) AS amount
                  FROM money GROUP BY GROUPING SETS ((kel, state, funding), (left(kel, 8), state, funding),
                                                   (state, funding))) x
            GROUP BY scope, code
        ), co AS (
            SELECT {scope_code_unit},
                   sum(r.collaborations) AS collaborations
            FROM r JOIN slum_areas s ON s.id = r.slum_area_id
            GROUP BY GROUPING SETS ((s.kelurahan_code), (left(s.kelurahan_code, 8)), ())
        ), codes AS (
            SELECT scope, code FROM sa UNION SELECT scope, code FROM ag
        )
        SELECT codes.scope, codes.code, rg.name,
               coalesce(sa.slum_areas, 0) AS slum_areas, coalesce(sa.slum_ha, 0) AS slum_area_ha,
               coalesce(sa.slum_ha_kumuh, 0) AS slum_ha, coalesce(sa.projected_slum_ha, 0) AS projected_slum_ha,
               coalesce(sa.leaving_slum_ha, 0) AS leaving_slum_ha,
               coalesce(lv.ha_by_level, '{{}}'::jsonb) AS ha_by_level,
               coalesce(plv.projected_ha_by_level, '{{}}'::jsonb) AS projected_ha_by_level,
               coalesce(ag.activities, 0) AS activities,
               coalesce(ag.activities_in_slum_areas, 0) AS activities_in_slum_areas,
               coalesce(ag.activities_completed, 0) AS activities_completed,
               coalesce(mg.proposed_cost, 0) AS proposed_cost, coalesce(mg.budgeted, 0) AS budgeted,
               coalesce(mg.realised, 0) AS realised,
               coalesce(mg.proposed_cost_in_slum_areas, 0) AS proposed_cost_in_slum_areas,
               coalesce(mg.budgeted_in_slum_areas, 0) AS budgeted_in_slum_areas,
               coalesce(mg.realised_in_slum_areas, 0) AS realised_in_slum_areas,
               coalesce(pg.programs, '{{}}'::jsonb) AS programs,
               coalesce(fd.proposed_by_source, '{{}}'::jsonb) AS proposed_by_source,
               coalesce(fd.budgeted_by_source, '{{}}'::jsonb) AS budgeted_by_source,
               coalesce(fd.realised_by_source, '{{}}'::jsonb) AS realised_by_source,
               coalesce(co.collaborations, 0) AS collaborations
        FROM codes
        LEFT JOIN sa USING (scope, code) LEFT JOIN lv USING (scope, code) LEFT JOIN plv USING (scope, code)
        LEFT JOIN ag USING (scope, code) LEFT JOIN mg USING (scope, code) LEFT JOIN pg USING (scope, code)
        LEFT JOIN fd USING (scope, code)
        LEFT JOIN co USING (scope, code)
        LEFT JOIN regions rg ON rg.code = codes.code
        WHERE codes.code IS NOT NULL
        ORDER BY CASE codes.scope WHEN 'kabkota' THEN 0 WHEN 'kecamatan' THEN 1 ELSE 2 END, codes.code
        """
    ).format(act_filter=row_filter(principal, "activities", "a"), scope_code_kel=_scope_and_code(sql.Identifier("kel")),
             money=_money_cte("x.kel, x.in_slum"), money_sums=_money_sums(),
             money_sums_in_slum=_money_sums(" AND in_slum"), money_by_source=_money_by_source(),
             scope_code_unit=_scope_and_code(sql.Identifier("s", "kelurahan_code")))
    return Query(text, {**params, "t": tenant, "tk": NOT_SLUM, "dead": list(DEAD_STATUSES),
                        "no_program": NO_PROGRAM, "no_funding": NO_FUNDING})


def _by_year_query(tenant: str, principal: Principal) -> Query:
    """The kab/kota's money per year and funding source, the three states in columns of their own."""
    return Query(sql.SQL(
        """
        WITH act AS (
            SELECT a.id, a.funding_source, a.year_start, a.cost FROM activities a
            WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s) AND {act_filter}
        ), {money}
        SELECT year, funding AS funding_source, {money_sums}
        FROM money GROUP BY year, funding ORDER BY year, funding
        """).format(act_filter=row_filter(principal, "activities", "a"), money=_money_cte("x.id AS activity_id"),
                    money_sums=_money_sums()),
        {"t": tenant, "dead": list(DEAD_STATUSES), "no_funding": NO_FUNDING})


def keterpaduan_op(tenant: str, principal: Principal, *, decree: str | None = None) -> Op[dict[str, Any]]:
    """{"tenant", "decree", "slum_areas": DataFrame, "regions": DataFrame (scope kelurahan/kecamatan/kabkota),
    "by_year": DataFrame (year, funding_source, proposed_cost, budgeted, realised)}.
    NotFound when nothing is known of the tenant (no boundary, decree or activity)."""
    known = yield tenant_known_query(tenant)
    if not bool(known.iloc[0, 0]):
        raise NotFound(f"kab/kota {tenant} is unknown: no boundary, slum-area decree or activity is loaded for it")
    areas = yield _slum_areas_query(tenant, principal, decree)
    if decree is not None and areas.empty:
        raise NotFound(f"decree {decree!r} of {tenant} has no slum areas you may see")
    ids = [int(i) for i in areas["slum_area_id"]] if len(areas) else []
    rounds = with_round_orders((yield rounds_query(tenant)))
    agg = yield _aggregate_query(tenant, principal, None)
    agg = agg[agg["slum_area_id"].isin(ids)] if len(agg) else agg
    latest = _latest_scores(agg, rounds)
    planned = yield _planned_query(tenant, ids)
    projected = _projection(latest, planned)
    stated = decree_scores((yield _decree_stated_query(tenant, ids)))
    stated = stated[~stated["slum_area_id"].isin(latest["slum_area_id"])] if len(stated) else stated

    out = areas.copy()
    if out.empty:
        out = pd.DataFrame(columns=SLUM_AREA_COLUMNS)
    else:
        score = latest.reindex(columns=["slum_area_id", "total", "level", "scheme", "round"]).assign(
            score_source=SURVEI)
        if len(stated):
            score = pd.concat([score, stated.reindex(columns=["slum_area_id", "total", "level", "scheme"]).assign(
                round="SK", score_source=SK)], ignore_index=True)
        out = out.merge(score.rename(columns={"total": "total_score"}), on="slum_area_id", how="left")
        out = out.merge(projected, on="slum_area_id", how="left")
        # Without surveys to project from, the level stays as it is (nothing to subtract from).
        keep = out["projected_level"].isna()
        out.loc[keep, "projected_level"] = out.loc[keep, "level"]
        out.loc[keep, "projected_total"] = out.loc[keep, "total_score"]
        out["volumes_not_counted"] = out["volumes_not_counted"].fillna(0).astype(int)
        high = _high_criteria(latest)
        out["criteria_remaining"] = out["slum_area_id"].map(high).apply(lambda v: v if isinstance(v, list) else [])
        out["criteria_addressed"] = out["criteria_addressed"].apply(lambda v: list(v) if v is not None else [])
        out["criteria_gap"] = [[c for c in rem if c not in set(done)] for rem, done in
                               zip(out["criteria_remaining"], out["criteria_addressed"], strict=True)]
        for col in ("total_score", "projected_total", "year_first", "year_last"):
            out[col] = pd.to_numeric(out[col], errors="coerce").round().astype("Int64")
        out["area_ha"] = out["area_ha"].astype(float).round(4)
        for col in MONEY_FIELDS:
            out[col] = out[col].astype(float)
        out = out.reindex(columns=SLUM_AREA_COLUMNS)
    regions = yield _rollup_query(tenant, principal, out.reindex(
        columns=["slum_area_id", "level", "projected_level", "collaborations"]))
    if len(regions):
        for col in ("slum_area_ha", "slum_ha", "projected_slum_ha", "leaving_slum_ha", *MONEY_FIELDS,
                    *(f"{m}_in_slum_areas" for m in MONEY_FIELDS)):
            regions[col] = regions[col].astype(float).round(4)
    by_year = yield _by_year_query(tenant, principal)
    return {"tenant": tenant, "decree": str(out["decree"].iloc[0]) if len(out) else None, "slum_areas": out,
            "regions": regions, "by_year": by_year}


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of GET /tenants/{tenant}/keterpaduan."""
    regions = result["regions"]
    by_scope = {scope: records(regions[regions["scope"] == scope].drop(columns=["scope"])) if len(regions) else []
                for scope in ("kelurahan", "kecamatan", "kabkota")}
    city = by_scope["kabkota"]
    return {
        "tenant": result["tenant"],
        "decree": result["decree"],
        "slum_areas": records(result["slum_areas"]),
        "kelurahan": by_scope["kelurahan"],
        "kecamatan": by_scope["kecamatan"],
        "kabkota": city[0] if city else {"code": result["tenant"], "slum_areas": 0, "activities": 0,
                                         **{m: 0.0 for m in MONEY_FIELDS}, "programs": {},
                                         **{m: {} for m in MONEY_BY_SOURCE}},
        "by_year": records(result["by_year"]),
    }



# -- what the exports need besides the summaries ------------------------------------------------------
ACTIVITY_EXPORT_COLUMNS = (
    "activity_id", "title", "kind", "kind_name", "criteria", "program", "program_name", "funding_source",
    "funding_name", "volume", "unit", "cost", "budgeted", "realised", "year_start", "year_end", "stage", "status",
    "progress",
    "proposer_area", "target_agency", "kelurahan_code", "kelurahan", "kecamatan_code", "kecamatan", "slum_area_id",
    "kawasan", "length_m", "area_m2", "synthetic",
)


def _export_activities_query(tenant: str, principal: Principal, ids: list[int]) -> Query:
    """Live activities of the tenant with names of their kind, programme, funding source and places; never the
    proposer's name or phone (personal data stays out of every export); geometry as WKB."""
    return Query(sql.SQL(
        """
        SELECT a.id AS activity_id, a.title, a.kind, k.name AS kind_name, array_to_string(a.criteria, ', ') AS criteria,
               a.program, p.name AS program_name, a.funding_source, f.name AS funding_name,
               a.volume::float8 AS volume, a.unit, a.cost::float8 AS cost, bl.budgeted, bl.realised, a.year_start,
               a.year_end, a.stage,
               a.status, a.progress, a.proposer_area, a.target_agency, a.kelurahan_code, kel.name AS kelurahan,
               left(a.kelurahan_code, 8) AS kecamatan_code, kec.name AS kecamatan,
               CASE WHEN a.slum_area_id = ANY(%(ids)s) THEN a.slum_area_id END AS slum_area_id,
               CASE WHEN a.slum_area_id = ANY(%(ids)s) THEN s.kawasan END AS kawasan,
               a.length_m, a.area_m2, a.synthetic, ST_AsBinary(a.geom) AS wkb
        FROM activities a
        LEFT JOIN activity_kinds k ON k.code = a.kind
        LEFT JOIN programs p ON p.code = a.program
        LEFT JOIN funding_sources f ON f.code = a.funding_source
        LEFT JOIN regions kel ON kel.code = a.kelurahan_code
        LEFT JOIN regions kec ON kec.code = left(a.kelurahan_code, 8)
        LEFT JOIN slum_areas s ON s.id = a.slum_area_id
        LEFT JOIN LATERAL (SELECT sum(b.allocated)::float8 AS budgeted, sum(b.realised)::float8 AS realised
                           FROM budget_lines b WHERE b.activity_id = a.id) bl ON true
        WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s) AND {}
        ORDER BY a.program NULLS LAST, a.kelurahan_code, a.year_start, a.id
        """).format(row_filter(principal, "activities", "a")),
        {"t": tenant, "ids": ids, "dead": list(DEAD_STATUSES)})


def _memorandum_query(tenant: str, principal: Principal, ids: list[int]) -> Query:
    """Memorandum keterpaduan: programme x location x year x funding source x implementing agency (OPD), with
    volume and money in three columns that are never added up: proposed (activities without a budget line, at
    their year and source), budgeted (allocated) and realised (budget lines, at the line's year and source).
    Volume and the counts are an activity's once, on its first money row (a roll-up of the live activities in
    PostGIS)."""
    return Query(sql.SQL(
        """
        WITH act AS (
            SELECT a.* FROM activities a
            WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s) AND {act_filter}
        ), {money}, rows AS (
            SELECT money.*, row_number() OVER (PARTITION BY activity_id ORDER BY year, funding, state) = 1 AS first
            FROM money
        )
        SELECT coalesce(a.program, %(no_program)s) AS program, coalesce(p.name, 'Tanpa program') AS program_name,
               a.kind, coalesce(k.name, a.kind) AS kind_name, left(a.kelurahan_code, 8) AS kecamatan_code,
               kec.name AS kecamatan, a.kelurahan_code, kel.name AS kelurahan,
               CASE WHEN a.slum_area_id = ANY(%(ids)s) THEN s.kawasan END AS kawasan,
               r.year, r.funding AS funding_source, coalesce(f.name, 'Tanpa sumber dana') AS funding_name,
               sum(a.volume) FILTER (WHERE r.first)::float8 AS volume, a.unit, a.target_agency, {money_sums},
               count(*) FILTER (WHERE r.first) AS activities,
               count(*) FILTER (WHERE r.first AND (a.status = 'selesai' OR a.progress = 100)) AS activities_completed
        FROM rows r JOIN act a ON a.id = r.activity_id
        LEFT JOIN activity_kinds k ON k.code = a.kind
        LEFT JOIN programs p ON p.code = a.program
        LEFT JOIN funding_sources f ON f.code = r.funding
        LEFT JOIN regions kel ON kel.code = a.kelurahan_code
        LEFT JOIN regions kec ON kec.code = left(a.kelurahan_code, 8)
        LEFT JOIN slum_areas s ON s.id = a.slum_area_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15
        ORDER BY 1, 6 NULLS LAST, 8 NULLS LAST, 9 NULLS LAST, 10, 11, 3, 15 NULLS LAST
        """).format(act_filter=row_filter(principal, "activities", "a"), money=_money_cte("x.id AS activity_id"),
                    money_sums=_money_sums()),
        {"t": tenant, "ids": ids, "dead": list(DEAD_STATUSES), "no_program": NO_PROGRAM, "no_funding": NO_FUNDING})


def _regions_query(tenant: str, principal: Principal) -> Query:
    return Query(sql.SQL(
        "SELECT r.code, r.name, r.level, r.area_ha, r.source, ST_AsBinary(r.geom) AS wkb FROM regions r "
        "WHERE r.tenant = %(t)s AND r.level IN ('kabkota', 'kecamatan', 'desa_kelurahan') AND {} ORDER BY r.code"
    ).format(row_filter(principal, "regions", "r")), {"t": tenant})


def export_op(tenant: str, principal: Principal, *, decree: str | None = None) -> Op[dict[str, Any]]:
    """Everything an export bundle holds: the summaries of `keterpaduan_op` plus slum-area, activity and region
    geometries (WKB), the memorandum table and the reference names of programmes and funding sources."""
    result = yield from keterpaduan_op(tenant, principal, decree=decree)
    ids = [int(i) for i in result["slum_areas"]["slum_area_id"]]
    geoms = yield Query(sql.SQL("SELECT id AS slum_area_id, ST_AsBinary(geom) AS wkb, synthetic FROM slum_areas "
                                "WHERE id = ANY(%(ids)s)"), {"ids": ids})
    activities = yield _export_activities_query(tenant, principal, ids)
    memorandum = yield _memorandum_query(tenant, principal, ids)
    regions = yield _regions_query(tenant, principal)
    programs = yield Query(sql.SQL("SELECT code, name FROM programs ORDER BY code"))
    funding = yield Query(sql.SQL("SELECT code, name FROM funding_sources ORDER BY code"))
    return {**result, "slum_area_geoms": geoms, "activities": activities, "memorandum": memorandum,
            "regions_geoms": regions, "programs": dict(zip(programs["code"], programs["name"], strict=True)),
            "funding_sources": dict(zip(funding["code"], funding["name"], strict=True))}
