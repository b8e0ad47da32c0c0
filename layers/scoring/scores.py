"""Slum scores from the stored surveys: per unit and round, per slum area, and the derived status cache.

Scores are derived, never stored as truth: every figure here is recomputed from the survey volumes with the
scheme's functions in `indicators.scoring`. Flagged surveys (stored values that contradicted their volumes at
import) are listed but never scored.

- unit scores: one row per unit and round (`unit_scores_op`, `score_table` for `kotaku scores`);
- slum-area scores: the volumes and header counts of the area's units are summed in PostGIS and the sums scored
  (how the KOTAKU workbooks score a kawasan from its RTs), with how many units and how much of their area the
  round covers (`slum_area_scores_op`);
- `refresh_status` rebuilds the cache behind the `slum_area_status` view (current score and priority of each
  slum area); a slum area without surveys falls back to its decree's stated score (e.g. skor_kumuh).
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from geo.errors import NotFound
from indicators.schemes import Scheme, load_scheme
from indicators.scoring import input_problems, level, level_names, score_units
from layers.accounts.access import Principal, row_filter
from layers.db.frames import Op, Query
from layers.scoring.surveys import (
    HEADER_COLUMNS,
    all_criterion_ids,
    rounds_query,
    surveys_query,
    wide_volumes,
    with_round_orders,
)
from layers.values.fields import field_key

SYSTEM = Principal(role="admin", username="kotaku-scoring")  # internal reads for the status cache
PERCENT_DECIMALS = 6
DECREE_SCORE_FIELDS = ("skor_kumuh", "skor", "total_skor", "nilai_kekumuhan", "nilai", "score")
# where a slum area's current level comes from, as users see it (items' `level_source`, keterpaduan and priority
# `score_source`, exports SUMBR_SKOR): the scoring cache stores `decree`/`surveys` (slum_area_scores.source)
SK, SURVEI = "SK", "survei"
LEVEL_SOURCE = {"decree": SK, "surveys": SURVEI}


# -- unit scores -----------------------------------------------------------------------------------
def _scheme_columns(scheme: Scheme) -> list[str]:
    return [c.volume_column for c in scheme.criteria]


def score_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Score a surveys frame (from `surveys_query`): adds v_/p_/s_ columns of every scheme present, total,
    level, level_name, avg_overall and `note` (why a row has no total). Flagged rows keep their volumes
    but get no score."""
    out = frame.drop(columns=["volumes"]).join(wide_volumes(frame)) if "volumes" in frame else frame.copy()
    out["flagged"] = out["flagged"].astype(bool) if len(out) else pd.Series(dtype=bool)
    notes = pd.Series(pd.NA, index=out.index, dtype="string")
    pieces = []
    for name, group in out.groupby("scheme", sort=False):  # a loop over schemes, never over rows
        scheme = load_scheme(str(name))
        table = group.reindex(columns=[*group.columns, *(c for c in _scheme_columns(scheme) if c not in group)])
        ok = table[~table["flagged"]]
        scored = score_units(ok, scheme).drop(columns=["scheme"])
        problems = input_problems(ok, scheme) if len(ok) else []
        for problem in problems:  # one note per problem found, not per row
            if problem.severity != "error" or problem.feature is None:  # a note goes on a row: no row, no note
                continue
            index = ok.index[problem.feature - 1]
            text = f"{problem.field}: {problem.reason}"
            notes.loc[index] = text if pd.isna(notes.loc[index]) else f"{notes.loc[index]}; {text}"
        pieces.append(scored.reindex(group.index))
    if pieces:
        scores = pd.concat(pieces)
        out = out.join(scores[[c for c in scores.columns if c not in out.columns]])
    flagged = out["flagged"] if len(out) else pd.Series(dtype=bool)
    reasons = out.loc[flagged, "problems"].map(
        lambda ps: "; ".join(p.get("reason", "") for p in ps or []) or "ditandai") if flagged.any() else None
    if reasons is not None:
        notes.loc[reasons.index] = "tidak dinilai: " + reasons.astype("string")
    out["note"] = notes
    return out


def unit_scores_op(
    tenant: str | None,
    principal: Principal,
    *,
    round: str | None = None,
    unit_id: int | None = None,
    slum_area_id: int | None = None,
    region: str | None = None,
) -> Op[pd.DataFrame]:
    """Scored surveys (one row per unit and round) in time order of the rounds."""
    frame = yield surveys_query(tenant, principal=principal, round=round, unit_id=unit_id,
                                slum_area_id=slum_area_id, region=region)
    tenants = sorted(frame["tenant"].dropna().unique()) if len(frame) else ([tenant] if tenant else [])
    orders = []
    for t in tenants:  # one query per tenant (usually one)
        orders.append(with_round_orders((yield rounds_query(t))).assign(tenant=t))
    scored = score_frame(frame)
    if orders and len(scored):
        order = pd.concat(orders)[["tenant", "round", "round_order"]]
        scored = scored.merge(order, on=["tenant", "round"], how="left")
        scored = scored.sort_values(["kelurahan_code", "label", "unit_id", "round_order"], kind="stable")
    else:
        scored["round_order"] = pd.Series(dtype=int)
    return scored.reset_index(drop=True)


def criteria_in(frame: pd.DataFrame) -> list[str]:
    """Criterion ids of every scheme in the frame, in scheme order (14/2018 first)."""
    ids: list[str] = []
    for name in sorted(frame["scheme"].dropna().unique(), key=lambda n: n != "permen14_2018") if len(frame) else []:
        ids += [c for c in load_scheme(str(name)).criterion_ids if c not in ids]
    return ids or list(load_scheme("permen14_2018").criterion_ids)


def score_table(scored: pd.DataFrame) -> pd.DataFrame:
    """The `kotaku scores` table: unit, kelurahan, round, per criterion volume, percentage and score, total,
    level, overall average, and a note for rows without a score."""
    ids = criteria_in(scored)
    cols = ["unit_id", "label", "kelurahan_code", "kelurahan", "kecamatan_code", "kecamatan", "slum_area_id",
            "round", "survey_date", "scheme"]
    per_criterion = [f"{x}_{cid}" for cid in ids for x in ("v", "p", "s")]
    table = scored.reindex(columns=[*cols, *per_criterion, "total", "level", "level_name", "avg_overall",
                                    "flagged", "note"])
    pcols = [c for c in table.columns if c.startswith("p_")] + ["avg_overall"]
    table[pcols] = table[pcols].astype(float).round(PERCENT_DECIMALS)
    for col in [c for c in table.columns if c.startswith("s_")] + ["total", "slum_area_id"]:
        table[col] = table[col].astype("Int64")
    dates = pd.to_datetime(table["survey_date"], errors="coerce")
    table["survey_date"] = dates.dt.strftime("%Y-%m-%d").astype("string")
    return table


# -- slum-area scores ------------------------------------------------------------------------------
def _aggregate_query(tenant: str, principal: Principal, slum_area_id: int | None) -> Query:
    """Per slum area, round and scheme: header counts and volumes summed over the unflagged unit surveys; a sum
    is NULL when one unit lacks the figure (never silently smaller)."""
    heads = sql.SQL(", ").join(
        sql.SQL("CASE WHEN count({c}) = count(*) THEN sum({c}) END AS {c}").format(c=sql.Identifier(c))
        for c in HEADER_COLUMNS)
    coalesced = sql.SQL(", ").join(
        sql.SQL("coalesce(sv.{c}, u.{c})::float8 AS {c}").format(c=sql.Identifier(c)) for c in HEADER_COLUMNS)
    number = "CASE WHEN jsonb_typeof(volumes -> {k}) = 'number' THEN (volumes ->> {k})::float8 END"
    volumes = sql.SQL(", ").join(
        sql.SQL("CASE WHEN count(" + number + ") = count(*) THEN sum(" + number + ") END AS {c}").format(
            k=sql.Literal(cid), c=sql.Identifier(f"v_{cid}")) for cid in all_criterion_ids())
    where = [sql.SQL("s.tenant = %(t)s"), row_filter(principal, "slum-areas", "s")]
    if slum_area_id is not None:
        where.append(sql.SQL("s.id = %(sid)s"))
    text = sql.SQL(
        """
        WITH units AS (
            SELECT u.id, u.slum_area_id, coalesce(u.area_ha, ST_Area(u.geom::geography) / 10000.0) AS unit_ha
            FROM survey_units u JOIN slum_areas s ON s.id = u.slum_area_id
            WHERE {where}
        ), totals AS (
            SELECT slum_area_id, count(*) AS units, sum(unit_ha) AS units_ha FROM units GROUP BY slum_area_id
        ), sv AS (
            SELECT un.slum_area_id, un.unit_ha, sv.round, sv.scheme, sv.survey_date, sv.volumes, {coalesced}
            FROM surveys sv JOIN units un ON un.id = sv.unit_id JOIN survey_units u ON u.id = sv.unit_id
            WHERE NOT sv.flagged
        )
        SELECT sv.slum_area_id, sv.round, sv.scheme, count(*) AS units_scored, sum(sv.unit_ha) AS scored_ha,
               min(sv.survey_date) AS first_date, {heads}, {volumes},
               min(t.units) AS units, min(t.units_ha) AS units_ha
        FROM sv JOIN totals t USING (slum_area_id)
        GROUP BY 1, 2, 3
        ORDER BY 1, 2
        """
    ).format(where=sql.SQL(" AND ").join(where), coalesced=coalesced, heads=heads, volumes=volumes)
    return Query(text, {"t": tenant, "sid": slum_area_id})


def slum_area_scores_op(tenant: str, principal: Principal, *, slum_area_id: int | None = None) -> Op[pd.DataFrame]:
    """Per slum area and round: summed volumes of its (unflagged) unit surveys, scored; units, units_scored,
    coverage (share of the units' area surveyed in that round), population and area of the surveyed units."""
    rounds = with_round_orders((yield rounds_query(tenant)))
    agg = yield _aggregate_query(tenant, principal, slum_area_id)
    columns = ["slum_area_id", "round", "round_order", "scheme", "units", "units_scored", "coverage",
               "population", "area_ha", "total", "level", "level_name", "avg_overall"]
    if agg.empty:
        return pd.DataFrame(columns=columns)
    agg = agg.merge(rounds[["round", "round_order"]], on="round", how="left")
    agg[list(HEADER_COLUMNS)] = agg[list(HEADER_COLUMNS)].astype(float)
    agg["coverage"] = agg["scored_ha"].astype(float) / agg["units_ha"].astype(float).where(lambda x: x > 0)
    wide = agg
    pieces = []
    for name, group in wide.groupby("scheme", sort=False):
        scheme = load_scheme(str(name))
        table = group.reindex(columns=[*group.columns, *(c for c in _scheme_columns(scheme) if c not in group)])
        scored = score_units(table, scheme)
        pieces.append(group.join(scored[["total", "level", "level_name", "avg_overall"]]))
    out = pd.concat(pieces).sort_values(["slum_area_id", "round_order"], kind="stable")
    return out.reindex(columns=columns).reset_index(drop=True)


def current_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """The latest scored round of each slum area (one scheme per round: the one covering most units)."""
    scored = scores[scores["total"].notna() | scores["level"].notna()]  # a decree may state a level only
    ranked = scored.sort_values(["slum_area_id", "round_order", "units_scored"], ascending=[True, False, False])
    return ranked.drop_duplicates("slum_area_id").reset_index(drop=True)


def _decree_scores_query(tenant: str, principal: Principal) -> Query:
    keys = [field_key(k) for k in DECREE_SCORE_FIELDS]
    return Query(sql.SQL(
        """
        SELECT s.id AS slum_area_id, d.scheme, d.number AS decree, s.stated_level, s.stated_score, s.area_ha AS sk_ha,
               (SELECT e.value FROM jsonb_each_text(s.attributes) e
                WHERE lower(regexp_replace(e.key, '[^A-Za-z0-9]', '', 'g')) = ANY(%(keys)s)
                ORDER BY array_position(%(keys)s, lower(regexp_replace(e.key, '[^A-Za-z0-9]', '', 'g')))
                LIMIT 1) AS stated
        FROM slum_areas s JOIN decrees d ON d.id = s.decree_id
        WHERE s.tenant = %(t)s AND {}
        """).format(row_filter(principal, "slum-areas", "s")),
        {"t": tenant, "keys": keys},
    )


def decree_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The decree's own level and score of each slum area: the level and score read at import
    (`stated_level`, `stated_score`, migration 0008), else for areas imported before that a whole-number
    score within the scheme's range found in the file's attributes (e.g. skor_kumuh), with its level.
    A level without a score keeps `total` empty. Areas with neither are dropped."""
    legacy = pd.to_numeric(frame["stated"].astype("string").str.replace(",", ".", regex=False), errors="coerce")
    stated_level = frame["stated_level"] if "stated_level" in frame else pd.Series(pd.NA, index=frame.index)
    stated_score = frame["stated_score"] if "stated_score" in frame else pd.Series(pd.NA, index=frame.index)
    stated_score = pd.to_numeric(stated_score, errors="coerce")
    imported = stated_level.notna() | stated_score.notna()  # read at import: the legacy attribute is not used
    pieces = []
    for name, group in frame.assign(total=stated_score.where(imported, legacy)).groupby("scheme", sort=False):
        scheme = load_scheme(str(name))
        t = group["total"]
        whole = t.notna() & (t == t.round()) & (t >= 0) & (t <= scheme.max_total)
        lv = stated_level.loc[group.index]
        ok = group[whole | lv.notna()].copy()
        ok["total"] = ok["total"].where(whole.loc[ok.index]).astype("Float64").round().astype("Int64")
        from_score = level(ok["total"], scheme).to_numpy() if len(ok) else []
        ok["level"] = lv.loc[ok.index].astype(object).where(lv.loc[ok.index].notna(), pd.Series(
            from_score, index=ok.index, dtype=object))
        ok["level_name"] = level_names(ok["level"], scheme).to_numpy()
        pieces.append(ok)
    return pd.concat(pieces) if pieces else frame.iloc[0:0].assign(total=None, level=None)


# -- stated survey results (baseline tables: layers/imports/survey_tables.py) ----------------------
def _stated_surveys_query(tenant: str, principal: Principal) -> Query:
    return Query(sql.SQL(
        """
        SELECT u.slum_area_id, sv.round, sv.scheme, sv.stored ->> 'level' AS level,
               (sv.stored ->> 'total')::float8 AS total,
               coalesce(u.area_ha, sv.area_ha, ST_Area(u.geom::geography) / 10000.0) AS unit_ha
        FROM surveys sv JOIN survey_units u ON u.id = sv.unit_id JOIN slum_areas s ON s.id = u.slum_area_id
        WHERE s.tenant = %(t)s AND NOT sv.flagged AND sv.stored ->> 'source' = 'tabel' AND {}
        """).format(row_filter(principal, "slum-areas", "s")), {"t": tenant})


def stated_survey_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """Per slum area, round and scheme, the result its units' rows state: when every unit states a score, the
    area-weighted mean score (rounded) with its level; else the worst stated level without a score."""
    columns = ["slum_area_id", "round", "scheme", "units_scored", "total", "level", "level_name"]
    pieces = []
    for (area, rnd, name), group in frame.groupby(["slum_area_id", "round", "scheme"], sort=False):
        scheme = load_scheme(str(name))
        totals = pd.to_numeric(group["total"], errors="coerce")
        weights = pd.to_numeric(group["unit_ha"], errors="coerce").fillna(0.0)
        total = None
        if totals.notna().all():
            total = int(round(float((totals * weights).sum() / weights.sum()) if weights.sum() > 0
                              else float(totals.mean())))
            code = str(level(pd.Series([total]), scheme).iloc[0])
        else:
            order = {lv.code: i for i, lv in enumerate(scheme.levels)}
            code = max((str(c) for c in group["level"].dropna()), key=lambda c: order.get(c, -1))
        pieces.append({"slum_area_id": area, "round": rnd, "scheme": name, "units_scored": len(group),
                       "total": total, "level": code,
                       "level_name": str(level_names(pd.Series([code]), scheme).iloc[0])})
    return pd.DataFrame(pieces, columns=columns)


# -- the status cache ------------------------------------------------------------------------------
def status_scores_op(tenant: str, principal: Principal) -> Op[tuple[pd.DataFrame, pd.DataFrame]]:
    """(every scored round of every slum area, the current one of each): survey-based scores, and for slum
    areas without any, the decree's stated score as round 'SK' (source 'decree')."""
    scores = yield from slum_area_scores_op(tenant, principal)
    scores = scores[scores["total"].notna()]
    scores = scores.sort_values(["slum_area_id", "round", "units_scored"], ascending=[True, True, False])
    scores = scores.drop_duplicates(["slum_area_id", "round"]).assign(source="surveys")
    told = stated_survey_scores((yield _stated_surveys_query(tenant, principal)))  # baseline tables
    if len(told):
        rounds = with_round_orders((yield rounds_query(tenant)))[["round", "round_order"]]
        told = told.merge(rounds, on="round", how="left").assign(source="surveys")
        told = told[~told["slum_area_id"].isin(scores["slum_area_id"])]
        scores = pd.concat([scores, told.reindex(columns=scores.columns)], ignore_index=True)
    stated = decree_scores((yield _decree_scores_query(tenant, principal)))
    stated = stated[~stated["slum_area_id"].isin(scores["slum_area_id"])].assign(
        round="SK", round_order=-1, source="decree", units=None, units_scored=None, coverage=None,
        population=None, area_ha=None, avg_overall=None)
    table = pd.concat([scores, stated.reindex(columns=scores.columns)], ignore_index=True)
    current = current_scores(table)
    key = table["slum_area_id"].astype(str) + "\x00" + table["round"].astype(str)
    current_key = current["slum_area_id"].astype(str) + "\x00" + current["round"].astype(str)
    table["is_current"] = key.isin(current_key).to_numpy()
    return table, current


def arrays(frame: pd.DataFrame, names: dict[str, str]) -> dict[str, list]:
    """Columns as Python lists for unnest(): NA -> None, numpy scalars -> Python."""
    return {param: [None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                    (v.item() if hasattr(v, "item") else v) for v in frame[column].astype(object).tolist()]
            for param, column in names.items()}


def is_stale(conn: psycopg.Connection, tenant: str) -> bool:
    row = conn.execute("SELECT changes > refreshed_changes FROM scoring_state WHERE tenant = %s", [tenant]).fetchone()
    return bool(row and row[0])


# -- histories for the API -------------------------------------------------------------------------
def _owner_query(kind: str, key) -> Query:
    table = {"unit": "survey_units", "slum_area": "slum_areas"}[kind]
    return Query(sql.SQL("SELECT tenant FROM {} WHERE id = %s").format(sql.Identifier(table)), [key])


def unit_history_op(unit_id: int, principal: Principal) -> Op[pd.DataFrame]:
    owner = yield _owner_query("unit", unit_id)
    if owner.empty:
        raise NotFound(f"survey unit {unit_id} does not exist")
    scored = yield from unit_scores_op(str(owner["tenant"].iloc[0]), principal, unit_id=unit_id)
    visible = yield Query(sql.SQL("SELECT 1 FROM survey_units u WHERE u.id = %s AND {}").format(
        row_filter(principal, "survey-units", "u")), [unit_id])
    if visible.empty:
        raise NotFound(f"survey unit {unit_id} does not exist")
    return scored


def slum_area_history_op(slum_area_id: int, principal: Principal) -> Op[dict]:
    info = yield Query(sql.SQL(
        "SELECT s.id, s.tenant, s.kawasan, s.unit_label, s.kelurahan_code, s.area_ha, d.number AS decree "
        "FROM slum_areas s JOIN decrees d ON d.id = s.decree_id WHERE s.id = %s AND {}").format(
        row_filter(principal, "slum-areas", "s")), [slum_area_id])
    if info.empty:
        raise NotFound(f"slum area {slum_area_id} does not exist")
    tenant = str(info["tenant"].iloc[0])
    history = yield from slum_area_scores_op(tenant, principal, slum_area_id=slum_area_id)
    units = yield from unit_scores_op(tenant, principal, slum_area_id=slum_area_id)
    return {"slum_area": info, "history": history, "units": units}
