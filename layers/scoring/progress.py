"""Progress of slum handling: time series of scores per unit, slum area, kelurahan, kecamatan and kab/kota,
and kumuh akhir from completed activities.

Roll-ups are area-weighted and run in PostGIS: unit scores (computed by `indicators.scoring`) are passed as
arrays, joined to their units, and summed per slum area and per region (GROUPING SETS over the Kemendagri code:
kelurahan, its kecamatan, the kab/kota). Per group and round: units, hectares, slum hectares (level not TK),
hectares per level, area-weighted total score and average, and hectares that were slum in the baseline and are
no longer (`left_slum_ha`). Slum areas also get their own score from summed volumes (`layers.scoring.scores`).

The decree's own level counts until a survey supersedes it (KOTAKU issue 11). A slum area whose decree states a level
(`stated_level`, or a score in the file) is one row at its whole `area_ha` and stated level, of its `kelurahan_code`:
in round `SK` (round_order -1, before every survey round: the decree's picture, every such area), and in each survey
round ordered before the first round in which any of its units has a scored survey (an area never surveyed: in every
round). From that first surveyed round on, its units' surveys count and the SK row does not (never both in one
round). For `left_slum_ha`, an area still carried by its SK level at the baseline round was slum in the baseline when
that level is not TK, so its units surveyed TK later count as left. `units` counts survey units only; `sk_areas`
counts the areas counted by their SK level. Kumuh akhir (`kumuh_akhir_op`) still counts surveyed units only.

Kumuh akhir: completed activities (status selesai or progress 100 %, finished in or after the baseline year)
are placed in the survey unit they overlap most (PostGIS), their volumes counted against each criterion they
address when the units agree (m -> m, unit -> unit, m2 -> ha) or when the activity states its volume per
criterion (`attributes.criteria_volumes`, e.g. {"5a": 40} households for a communal septic tank); the baseline
is rescored by `indicators.progress.kumuh_akhir`. Pairs that cannot be counted are reported, never guessed.
"""

from __future__ import annotations

import pandas as pd
from psycopg import sql

from geo.errors import InvalidInput
from indicators.progress import NOT_SLUM, kumuh_akhir
from indicators.schemes import load_scheme
from layers.accounts.access import Principal
from layers.db.frames import Op, Query
from layers.scoring.scores import _decree_scores_query, arrays, decree_scores, slum_area_scores_op, unit_scores_op
from layers.scoring.surveys import baseline_round, rounds_query, with_round_orders

# activity unit -> criterion unit -> factor (volume in the criterion's unit per activity unit)
UNIT_FACTORS = {("m", "m"): 1.0, ("unit", "unit"): 1.0, ("m2", "ha"): 1e-4, ("ha", "ha"): 1.0, ("kk", "KK"): 1.0}
SCOPES = ("kabkota", "kecamatan", "kelurahan", "slum_area", "unit")
DONE_STATUSES = ("selesai",)
DEAD_STATUSES = ("ditolak", "dibatalkan")


SK_COLUMNS = ["slum_area_id", "round", "round_order", "total", "level", "ha", "baseline_slum"]


def _rollup_query(rows: pd.DataFrame, stated: pd.DataFrame | None = None) -> Query:
    """rows: unit_id, round, round_order, total, level, avg_overall, weight_ha, baseline_slum; stated: slum areas
    counted by their SK level (SK_COLUMNS: one row per area and round it counts in)."""
    stated = pd.DataFrame(columns=SK_COLUMNS) if stated is None else stated
    text = sql.SQL(
        """
        WITH s AS (
            SELECT * FROM unnest(%(unit)s::bigint[], %(round)s::text[], %(ord)s::int[], %(total)s::float8[],
                                 %(level)s::text[], %(avg)s::float8[], %(ha)s::float8[], %(base)s::bool[])
                 AS s(unit_id, round, round_order, total, level, avg_overall, ha, baseline_slum)
        ), j AS (
            SELECT s.*, u.slum_area_id, u.kelurahan_code AS kel, left(u.kelurahan_code, 8) AS kec, u.tenant AS kab
            FROM s JOIN survey_units u ON u.id = s.unit_id
            UNION ALL
            SELECT NULL::bigint, d.round, d.round_order, d.total, d.level, NULL::float8, d.ha, d.baseline_slum,
                   sa.id, sa.kelurahan_code, left(sa.kelurahan_code, 8), sa.tenant
            FROM unnest(%(sk_area)s::bigint[], %(sk_round)s::text[], %(sk_ord)s::int[], %(sk_total)s::float8[],
                        %(sk_level)s::text[], %(sk_ha)s::float8[], %(sk_base)s::bool[])
                 AS d(slum_area_id, round, round_order, total, level, ha, baseline_slum)
            JOIN slum_areas sa ON sa.id = d.slum_area_id
        ), g AS (
            SELECT CASE WHEN grouping(slum_area_id) = 0 THEN 'slum_area' WHEN grouping(kel) = 0 THEN 'kelurahan'
                        WHEN grouping(kec) = 0 THEN 'kecamatan' ELSE 'kabkota' END AS scope,
                   CASE WHEN grouping(slum_area_id) = 0 THEN slum_area_id::text WHEN grouping(kel) = 0 THEN kel
                        WHEN grouping(kec) = 0 THEN kec ELSE kab END AS code,
                   round, min(round_order) AS round_order, level,
                   count(unit_id) AS units, count(total) FILTER (WHERE unit_id IS NOT NULL) AS units_scored,
                   count(*) FILTER (WHERE unit_id IS NULL) AS sk_areas, sum(ha) AS ha,
                   sum(ha) FILTER (WHERE total IS NOT NULL) AS scored_ha,
                   sum(total * ha) FILTER (WHERE total IS NOT NULL) AS total_ha,
                   sum(avg_overall * ha) FILTER (WHERE avg_overall IS NOT NULL) AS avg_ha,
                   sum(ha) FILTER (WHERE avg_overall IS NOT NULL) AS avg_weight_ha,
                   sum(ha) FILTER (WHERE baseline_slum AND level = %(tk)s) AS left_slum_ha
            FROM j
            GROUP BY GROUPING SETS ((slum_area_id, round, level), (kel, round, level), (kec, round, level),
                                    (kab, round, level))
        )
        SELECT g.*, coalesce(r.name, sa.kawasan || coalesce(' ' || sa.unit_label, '')) AS name
        FROM g
        LEFT JOIN regions r ON g.scope <> 'slum_area' AND r.code = g.code
        LEFT JOIN slum_areas sa ON g.scope = 'slum_area' AND sa.id::text = g.code
        WHERE g.code IS NOT NULL
        """
    )
    params = arrays(rows, {"unit": "unit_id", "round": "round", "ord": "round_order", "total": "total",
                           "level": "level", "avg": "avg_overall", "ha": "weight_ha", "base": "baseline_slum"})
    sk = arrays(stated, {"sk_area": "slum_area_id", "sk_round": "round", "sk_ord": "round_order", "sk_total": "total",
                         "sk_level": "level", "sk_ha": "ha", "sk_base": "baseline_slum"})
    return Query(text, {**params, **sk, "tk": NOT_SLUM})


def _stated_rows(stated: pd.DataFrame, scored: pd.DataFrame, rounds: pd.DataFrame,
                 baseline: str | None) -> tuple[pd.DataFrame, pd.Series]:
    """(SK rows: each area with a decree level in round SK and in every survey round before its first scored
    survey, SK_COLUMNS; per slum area id: carried by a slum SK level at the baseline round)."""
    stated = stated[stated["level"].notna()]
    if stated.empty:
        return pd.DataFrame(columns=SK_COLUMNS), pd.Series(dtype=bool)
    surveyed = scored[scored["level"].notna()].groupby("slum_area_id")["round_order"].min()
    first = stated["slum_area_id"].map(surveyed).astype("Float64").fillna(float("inf"))
    base = stated.assign(total=pd.to_numeric(stated["total"], errors="coerce").astype(float),
                         ha=pd.to_numeric(stated["sk_ha"], errors="coerce").astype(float), first=first.to_numpy(),
                         baseline_slum=False)[["slum_area_id", "total", "level", "ha", "first", "baseline_slum"]]
    pieces = [base.assign(round="SK", round_order=-1)]
    for rnd, order in zip(rounds["round"], rounds["round_order"], strict=True):
        pieces.append(base[base["first"] > order].assign(round=rnd, round_order=int(order)))
    rows = pd.concat(pieces, ignore_index=True)
    border = rounds.loc[rounds["round"] == baseline, "round_order"]
    carried = base[(base["first"] > border.iloc[0]) if len(border) else base["first"] < 0]
    slum = carried.set_index("slum_area_id")["level"].astype("string") != NOT_SLUM
    return rows[SK_COLUMNS], slum[slum]


def _summarise(groups: pd.DataFrame) -> pd.DataFrame:
    """Per scope/code/round: sums over levels, hectares per level, area-weighted averages."""
    keys = ["scope", "code", "name", "round", "round_order"]
    if groups.empty:
        return pd.DataFrame(columns=[*keys, "units", "units_scored", "sk_areas", "area_ha", "slum_ha", "left_slum_ha",
                                     "weighted_total", "weighted_average"])
    g = groups.copy()
    g["name"] = g["name"].fillna("")
    num = ["units", "units_scored", "sk_areas", "ha", "scored_ha", "total_ha", "avg_ha", "avg_weight_ha",
           "left_slum_ha"]
    g[num] = g[num].apply(pd.to_numeric, errors="coerce").astype(float)
    g["slum"] = g["ha"].where(g["level"].notna() & (g["level"] != NOT_SLUM), 0.0)
    sums = g.groupby(keys, dropna=False)[[*num, "slum"]].sum(min_count=1).reset_index()
    per_level = g.dropna(subset=["level"]).pivot_table(index=keys, columns="level", values="ha", aggfunc="sum")
    per_level.columns = [f"ha_{c}" for c in per_level.columns]
    out = sums.merge(per_level.reset_index(), on=keys, how="left")
    out["weighted_total"] = out["total_ha"] / out["scored_ha"].where(out["scored_ha"] > 0)
    out["weighted_average"] = out["avg_ha"] / out["avg_weight_ha"].where(out["avg_weight_ha"] > 0)
    out = out.rename(columns={"ha": "area_ha", "slum": "slum_ha"})
    out["left_slum_ha"] = out["left_slum_ha"].fillna(0.0)
    out[["units", "units_scored", "sk_areas"]] = out[["units", "units_scored", "sk_areas"]].fillna(0).astype(int)
    order = {s: i for i, s in enumerate(SCOPES)}
    out = out.sort_values(["scope", "code", "round_order"], key=lambda c: c.map(order) if c.name == "scope" else c)
    level_cols = sorted(c for c in out.columns if c.startswith("ha_"))
    out[["area_ha", "slum_ha", *level_cols, "left_slum_ha"]] = out[["area_ha", "slum_ha", *level_cols,
                                                                    "left_slum_ha"]].round(4)
    out[["weighted_total", "weighted_average"]] = out[["weighted_total", "weighted_average"]].round(4)
    return out[[*keys, "units", "units_scored", "sk_areas", "area_ha", "slum_ha", *level_cols, "left_slum_ha",
                "weighted_total", "weighted_average"]].reset_index(drop=True)


def _baseline_flags(scored: pd.DataFrame, baseline: str | None) -> pd.Series:
    """Per row: was this unit slum (scored, level not TK) in the baseline round?"""
    base = scored[scored["round"] == baseline]
    slum = base.set_index("unit_id")["level"].astype("string")
    slum = slum.notna() & (slum != NOT_SLUM)
    return scored["unit_id"].map(slum).fillna(False).astype(bool)


def time_series_op(tenant: str, principal: Principal, *, baseline: str | None = None) -> Op[dict]:
    """Scores per round for every unit, slum area and region of a tenant, with the baseline comparison."""
    rounds = with_round_orders((yield rounds_query(tenant)))
    baseline = baseline or baseline_round(rounds)
    if baseline is not None and baseline not in set(rounds["round"]):
        raise InvalidInput(f"round {baseline!r} has no surveys in {tenant}; rounds: {list(rounds['round'])}")
    scored = yield from unit_scores_op(tenant, principal)
    stated = decree_scores((yield _decree_scores_query(tenant, principal)))
    sk_rows, sk_slum = _stated_rows(stated, scored, rounds, baseline)
    if scored.empty and sk_rows.empty:
        return {"tenant": tenant, "baseline": baseline, "rounds": [], "series": _summarise(pd.DataFrame()),
                "units": scored}
    scored["baseline_slum"] = _baseline_flags(scored, baseline) if len(scored) else pd.Series(dtype=bool)
    if len(scored) and len(sk_slum):
        scored["baseline_slum"] |= scored["slum_area_id"].isin(sk_slum.index).to_numpy()
    groups = yield _rollup_query(scored, sk_rows)
    series = _summarise(groups)
    areas = yield from slum_area_scores_op(tenant, principal)
    own = areas.assign(scope="slum_area", code=areas["slum_area_id"].astype(str))[
        ["scope", "code", "round", "total", "level", "coverage"]].rename(
        columns={"total": "area_total", "level": "area_level"})
    told = sk_rows.assign(scope="slum_area", code=sk_rows["slum_area_id"].astype(str), coverage=None)[
        ["scope", "code", "round", "total", "level", "coverage"]].rename(
        columns={"total": "area_total", "level": "area_level"})
    own = pd.concat([told, own], ignore_index=True).drop_duplicates(["scope", "code", "round"]) if len(own) else told
    series = series.merge(own, on=["scope", "code", "round"], how="left")
    units = scored.assign(left_slum=scored["baseline_slum"] & (scored["level"] == NOT_SLUM))[
        ["unit_id", "label", "kelurahan_code", "kelurahan", "slum_area_id", "round", "round_order", "total",
         "level", "avg_overall", "weight_ha", "left_slum", "note"]]
    names = (["SK"] if len(sk_rows) else []) + rounds["round"].tolist()
    return {"tenant": tenant, "baseline": baseline, "rounds": names, "series": series, "units": units}


def _completed_query(tenant: str, from_year: int | None, until: int | None) -> Query:
    return Query(sql.SQL(
        """
        SELECT a.id AS activity_id, a.kind, a.status, a.year_end, c.criterion, a.volume::float8 AS volume,
               lower(a.unit) AS activity_unit,
               CASE WHEN jsonb_typeof(a.attributes -> 'criteria_volumes' -> c.criterion) = 'number'
                    THEN (a.attributes -> 'criteria_volumes' ->> c.criterion)::float8 END AS stated_volume,
               coalesce(linked.id, spatial.id) AS unit_id
        FROM activities a
        CROSS JOIN LATERAL unnest(a.criteria) AS c(criterion)
        LEFT JOIN survey_units linked ON linked.tenant = a.tenant
             AND linked.id::text = a.attributes ->> 'survey_unit_id'
        LEFT JOIN LATERAL (
            SELECT u.id FROM survey_units u
            WHERE u.tenant = a.tenant AND u.geom && a.geom AND ST_Intersects(u.geom, a.geom)
            ORDER BY ST_Length(ST_Intersection(u.geom, a.geom)) + ST_Area(ST_Intersection(u.geom, a.geom)) DESC, u.id
            LIMIT 1
        ) spatial ON linked.id IS NULL
        WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s)
          AND (a.status = ANY(%(done)s) OR a.progress = 100)
          AND (%(from)s::int IS NULL OR a.year_end >= %(from)s::int)
          AND (%(until)s::int IS NULL OR a.year_end <= %(until)s::int)
        ORDER BY a.id, c.criterion
        """),
        {"t": tenant, "dead": list(DEAD_STATUSES), "done": list(DONE_STATUSES), "from": from_year, "until": until},
    )


def _criterion_volumes(done: pd.DataFrame, scheme_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(applicable rows unit_id/criterion/volume, skipped rows with a reason)."""
    scheme = load_scheme(scheme_name)
    units = {c.id: c.unit for c in scheme.criteria}
    crit_unit = done["criterion"].map(units)
    factor = pd.Series(list(zip(done["activity_unit"], crit_unit, strict=True)), index=done.index).map(UNIT_FACTORS)
    volume = done["stated_volume"].fillna(done["volume"] * factor)
    reason = pd.Series(pd.NA, index=done.index, dtype="string")
    reason[done["unit_id"].isna()] = "lies in no survey unit"
    reason[reason.isna() & crit_unit.isna()] = "criterion not in scheme " + scheme_name
    unit_text = done["activity_unit"].astype("string").fillna("?")
    reason[reason.isna() & volume.isna()] = ("volume in '" + unit_text + "' cannot reduce a criterion measured in '"
                                             + crit_unit.astype("string").fillna("?")
                                             + "' (state attributes.criteria_volumes)")
    ok = reason.isna()
    applied = pd.DataFrame({"unit_id": done.loc[ok, "unit_id"].astype("int64"), "criterion": done.loc[ok, "criterion"],
                            "volume": volume[ok]})
    skipped = done.loc[~ok, ["activity_id", "criterion", "unit_id"]].assign(reason=reason[~ok])
    return applied, skipped


def kumuh_akhir_op(tenant: str, principal: Principal, *, baseline: str | None = None,
                   until: int | None = None) -> Op[dict]:
    """Baseline scores against scores after the completed activities, per unit and rolled up."""
    rounds = with_round_orders((yield rounds_query(tenant)))
    baseline = baseline or baseline_round(rounds)
    if baseline is None:
        raise InvalidInput(f"tenant {tenant} has no surveys: no baseline for kumuh akhir")
    row = rounds[rounds["round"] == baseline]
    if row.empty:
        raise InvalidInput(f"round {baseline!r} has no surveys in {tenant}; rounds: {list(rounds['round'])}")
    first = pd.to_datetime(row["first_date"].iloc[0], errors="coerce")
    year = int(first.year) if not pd.isna(first) else None
    if year is None and str(baseline).isdigit():
        year = int(baseline)
    scored = yield from unit_scores_op(tenant, principal, round=baseline)
    done = yield _completed_query(tenant, year, until)
    scored = scored[scored["total"].notna()]
    units, skipped_all, applied_all = [], [], []
    for scheme_name, base in scored.groupby("scheme", sort=False):
        applied, skipped = _criterion_volumes(done, str(scheme_name))
        outside = ~applied["unit_id"].isin(base["unit_id"])
        skipped = pd.concat([skipped, done.loc[applied.index[outside], ["activity_id", "criterion", "unit_id"]].assign(
            reason="its survey unit has no scored baseline survey")])
        applied = applied[~outside]
        ka = kumuh_akhir(base.reset_index(drop=True), applied, str(scheme_name), unit="unit_id")
        ka = ka.join(base.reset_index(drop=True)[["label", "kelurahan_code", "kelurahan", "slum_area_id",
                                                   "weight_ha"]])
        units.append(ka)
        skipped_all.append(skipped)
        applied_all.append(applied)
    if not units:
        empty = pd.DataFrame()
        return {"tenant": tenant, "baseline": baseline, "baseline_year": year, "until": until,
                "summary": {"units": 0}, "regions": _summarise(empty), "units": empty, "skipped": empty}
    per_unit = pd.concat(units, ignore_index=True)
    skipped = pd.concat(skipped_all, ignore_index=True)
    applied = pd.concat(applied_all, ignore_index=True)
    before = per_unit.assign(round=baseline, round_order=0, total=per_unit["total_before"],
                             level=per_unit["level_before"], avg_overall=per_unit["avg_before"],
                             baseline_slum=False)
    after = per_unit.assign(round="kumuh akhir", round_order=1, total=per_unit["total_after"],
                            level=per_unit["level_after"], avg_overall=per_unit["avg_after"],
                            baseline_slum=per_unit["level_before"].notna() & (per_unit["level_before"] != NOT_SLUM))
    groups = yield _rollup_query(pd.concat([before, after], ignore_index=True))
    regions = _summarise(groups)
    wide = regions.pivot_table(index=["scope", "code", "name"], columns="round_order",
                               values=["slum_ha", "weighted_average", "left_slum_ha", "area_ha"], aggfunc="first")
    summary_regions = pd.DataFrame({
        "area_ha": wide[("area_ha", 0)],
        "slum_ha_before": wide[("slum_ha", 0)],
        "slum_ha_after": wide[("slum_ha", 1)],
        "no_longer_slum_ha": wide[("left_slum_ha", 1)],
        "average_before": wide[("weighted_average", 0)],
        "average_after": wide[("weighted_average", 1)],
    }).reset_index()
    summary_regions["kontribusi"] = ((summary_regions["average_before"] - summary_regions["average_after"])
                                     / summary_regions["average_before"].where(summary_regions["average_before"] > 0))
    order = {s: i for i, s in enumerate(SCOPES)}
    summary_regions = summary_regions.sort_values(["scope", "code"], key=lambda c: c.map(order)
                                                  if c.name == "scope" else c).reset_index(drop=True)
    city = summary_regions[summary_regions["scope"] == "kabkota"]
    summary = {
        "units": len(per_unit),
        "activities_applied": int(done.loc[applied.index, "activity_id"].nunique()) if len(applied) else 0,
        "criterion_volumes_applied": len(applied),
        "criterion_volumes_skipped": len(skipped),
        "units_left_slum": int(per_unit["left_slum"].sum()),
        "no_longer_slum_ha": float(per_unit.loc[per_unit["left_slum"], "weight_ha"].astype(float).sum()),
        "kontribusi": None if city.empty or pd.isna(city["kontribusi"].iloc[0]) else float(city["kontribusi"].iloc[0]),
    }
    return {"tenant": tenant, "baseline": baseline, "baseline_year": year, "until": until, "summary": summary,
            "regions": summary_regions, "units": per_unit, "skipped": skipped}
