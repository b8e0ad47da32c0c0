"""Priority of the slum areas of a tenant: pertimbangan lain, legality, the level x PL x legality matrix,
handling pattern and kewenangan, computed by `indicators.priority.prioritise` from inputs gathered in PostGIS.

Where each input comes from (first that exists):
- level: the slum area's current score (`layers.scoring.scores`: summed unit volumes, else the decree's stated score);
- population density: an explicit population in the priority inputs, else the zonal sum of a population raster
  (`layers.imports.rasters`, when it covers at least half the area), else the survey counts of its units (people over
  the units' verified area);
- strategic value: the priority inputs, else the best strategic zone covering at least STRATEGIC_MIN_SHARE of
  the area; once a tenant has zones, an area outside all of them is 'tidak strategis';
- MBR share and potential: the priority inputs only;
- legality: the priority inputs (legal/ilegal, or tenure AND spatial-plan conformity), else the slum area's own
  (from its delineation file).
A missing input leaves the class empty and is named in `missing`; nothing is guessed.
Kewenangan follows the area of the whole kawasan (all areas of the decree with the same kawasan name).
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from indicators.priority import (
    PriorityTables,
    kewenangan,
    legality,
    load_priority_tables,
    prioritise,
    with_matrix,
)
from layers.accounts.access import Principal, row_filter
from layers.db.frames import Op, Query
from layers.scoring.scores import LEVEL_SOURCE, status_scores_op

STRATEGIC_MIN_SHARE = 0.5
RASTER_MIN_VALID_SHARE = 0.5
NOT_STRATEGIC = "tidak strategis"
MISSING_LABELS = {
    "level": "tingkat kekumuhan",
    "density": "kepadatan penduduk",
    "mbr_share_pct": "persentase MBR",
    "strategic_value": "nilai strategis",
    "potential": "potensi sosial-ekonomi",
    "legality": "legalitas lahan",
}
COLUMNS = [
    "position", "slum_area_id", "decree", "kawasan", "unit_label", "kelurahan_code", "kelurahan", "area_ha",
    "kawasan_area_ha", "round", "score_source", "total", "level", "class", "rank", "rank9", "handling", "kewenangan",
    "pl", "pl_points", "density", "density_class", "density_source", "mbr_share_pct", "mbr_class", "strategic_value",
    "strategic_source", "potential", "legality", "flood_share", "missing", "basis",
]


def priority_tables_op(tenant: str) -> Op[PriorityTables]:
    """The tenant's own matrix when it has one, else the packaged tables."""
    matrix = yield Query(sql.SQL("SELECT level, pl, legality, class, rank, rank9, handling FROM priority_matrices "
                                 "WHERE tenant = %s ORDER BY rank"), [tenant])
    if matrix.empty:
        return load_priority_tables()
    return with_matrix(matrix, what=f"priority matrix of {tenant}")


def save_priority_matrix(conn: psycopg.Connection, tenant: str, matrix: pd.DataFrame) -> PriorityTables:
    """Validate and store a tenant's matrix (replacing its previous one), in one transaction."""
    tables = with_matrix(matrix, what="priority matrix file")
    m = tables.matrix
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("DELETE FROM priority_matrices WHERE tenant = %s", [tenant])
        cur.executemany(
            "INSERT INTO priority_matrices (tenant, level, pl, legality, class, rank, rank9, handling) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(tenant, r.level, r.pl, r.legality, r["class"], int(r["rank"]),
              None if pd.isna(r.rank9) else int(r.rank9), r.handling) for _, r in m.iterrows()],
        )
    return tables


def _areas_query(tenant: str, principal: Principal, min_share: float) -> Query:
    text = sql.SQL(
        """
        SELECT s.id AS slum_area_id, s.decree_id, d.number AS decree, d.decree_date, s.kawasan, s.unit_label,
               s.kelurahan_code, k.name AS kelurahan, s.area_ha,
               sum(s.area_ha) OVER (PARTITION BY s.decree_id, coalesce(s.kawasan, s.id::text)) AS kawasan_area_ha,
               s.legality AS area_legality, i.legality AS legality_input, i.mbr_share_pct, i.potential,
               i.strategic_value AS strategic_input,
               i.tenure_legal, i.spatial_plan_conform, i.population::float8 AS population_input,
               pop.value AS raster_population, pop.valid_share AS raster_valid_share,
               pop.source_file AS raster_file, fl.value AS flood_share,
               z.zone_values, z.zone_names, zones.loaded AS zones_loaded
        FROM slum_areas s
        JOIN decrees d ON d.id = s.decree_id
        LEFT JOIN regions k ON k.code = s.kelurahan_code
        LEFT JOIN slum_area_priority_inputs i ON i.slum_area_id = s.id
        LEFT JOIN slum_area_raster_stats pop ON pop.slum_area_id = s.id AND pop.kind = 'population'
        LEFT JOIN slum_area_raster_stats fl ON fl.slum_area_id = s.id AND fl.kind = 'flood'
        LEFT JOIN LATERAL (
            SELECT array_agg(z.value ORDER BY z.id) AS zone_values,
                   string_agg(coalesce(z.name, 'zona ' || z.id), ', ' ORDER BY z.id) AS zone_names
            FROM strategic_zones z
            WHERE z.tenant = s.tenant AND z.geom && s.geom AND ST_Intersects(z.geom, s.geom)
              AND ST_Area(ST_Intersection(z.geom, s.geom)) >= %(share)s * ST_Area(s.geom)
        ) z ON true
        CROSS JOIN (SELECT EXISTS (SELECT 1 FROM strategic_zones WHERE tenant = %(t)s) AS loaded) zones
        WHERE s.tenant = %(t)s AND {filter}
        ORDER BY s.id
        """
    ).format(filter=row_filter(principal, "slum-areas", "s"))
    return Query(text, {"t": tenant, "share": min_share})


def _best_zone_value(zone_values: pd.Series, points: dict[str, int]) -> pd.Series:
    """The zone value with the most points among the zones covering each area (NA without zones)."""
    exploded = zone_values.explode()
    norm = exploded.astype("string").str.strip().str.lower()
    scored = pd.DataFrame({"value": norm, "points": norm.map(points)}).dropna()
    if scored.empty:
        return pd.Series(pd.NA, index=zone_values.index, dtype="string")
    best = scored.sort_values("points", ascending=False, kind="stable")
    best = best[~best.index.duplicated(keep="first")]["value"]
    return best.reindex(zone_values.index).astype("string")


def assemble_inputs(areas: pd.DataFrame, current: pd.DataFrame, tables: PriorityTables) -> pd.DataFrame:
    """One row per slum area with the columns `prioritise` needs, plus where each came from."""
    cur = current.set_index("slum_area_id")
    u = areas.copy()
    u["round"] = u["slum_area_id"].map(cur["round"])
    u["score_source"] = u["slum_area_id"].map(cur["source"].map(LEVEL_SOURCE)) if "source" in cur else pd.NA
    u["total"] = u["slum_area_id"].map(cur["total"]).astype("Int64")
    u["level"] = u["slum_area_id"].map(cur["level"]).astype("string")
    survey_population = pd.to_numeric(u["slum_area_id"].map(cur["population"]), errors="coerce")
    survey_area = pd.to_numeric(u["slum_area_id"].map(cur["area_ha"]), errors="coerce")
    area = pd.to_numeric(u["area_ha"], errors="coerce")

    raster_ok = pd.to_numeric(u["raster_valid_share"], errors="coerce") >= RASTER_MIN_VALID_SHARE
    given = u["population_input"].notna()
    from_raster = ~given & raster_ok & u["raster_population"].notna()
    from_survey = ~given & ~from_raster & survey_population.notna() & (survey_area > 0)
    given_population = pd.to_numeric(u["population_input"], errors="coerce")  # numeric columns may arrive as objects
    raster_population = pd.to_numeric(u["raster_population"], errors="coerce")
    u["population"] = (given_population.where(given)
                       .fillna(raster_population.where(from_raster))
                       .fillna(survey_population.where(from_survey)))
    u["density_area_ha"] = area.where(~from_survey, survey_area)
    u["density_source"] = pd.Series(pd.NA, index=u.index, dtype="string")
    u.loc[given, "density_source"] = "masukan"
    u.loc[from_raster, "density_source"] = "raster " + u.loc[from_raster, "raster_file"].astype("string")
    u.loc[from_survey, "density_source"] = "survei " + u.loc[from_survey, "round"].astype("string")

    zone_best = _best_zone_value(u["zone_values"], tables.strategic_points)
    strategic = u["strategic_input"].astype("string")
    u["strategic_source"] = pd.Series(pd.NA, index=u.index, dtype="string")
    u.loc[strategic.notna(), "strategic_source"] = "masukan"
    in_zone = strategic.isna() & zone_best.notna()
    u.loc[in_zone, "strategic_source"] = "zona " + u.loc[in_zone, "zone_names"].astype("string")
    outside = strategic.isna() & zone_best.isna() & u["zones_loaded"].astype(bool)
    u.loc[outside, "strategic_source"] = "di luar zona strategis"
    u["strategic_value"] = strategic.fillna(zone_best).mask(outside, NOT_STRATEGIC)

    u["legality"] = (u["legality_input"].astype("string")
                     .fillna(legality(u["tenure_legal"], u["spatial_plan_conform"]))
                     .fillna(u["area_legality"].astype("string")))
    return u


def _missing(u: pd.DataFrame, out: pd.DataFrame) -> pd.Series:
    absent = pd.DataFrame({
        "level": u["level"].isna(),
        "density": out["density"].isna(),
        "mbr_share_pct": u["mbr_share_pct"].isna(),
        "strategic_value": u["strategic_value"].isna(),
        "potential": u["potential"].isna(),
        "legality": u["legality"].isna(),
    }, index=u.index)
    names = pd.Series([f"{MISSING_LABELS[c]}, " for c in absent.columns], index=absent.columns, dtype=object)
    return absent.astype(object).dot(names).str.rstrip(", ").astype("string")


def priorities_op(
    tenant: str,
    principal: Principal,
    *,
    current: pd.DataFrame | None = None,
    decree: str | None = None,
    all_decrees: bool = False,
    strategic_min_share: float = STRATEGIC_MIN_SHARE,
) -> Op[pd.DataFrame]:
    """The ranked list of the slum areas of a tenant (its newest decree unless `decree` or `all_decrees`):
    class, rank, handling, kewenangan, and `basis`/`missing` saying which factors gave the class."""
    if current is None:
        _, current = yield from status_scores_op(tenant, principal)
    tables = yield from priority_tables_op(tenant)
    areas = yield _areas_query(tenant, principal, strategic_min_share)
    if areas.empty:
        return pd.DataFrame(columns=COLUMNS)
    if decree is not None:
        areas = areas[areas["decree"] == decree]
    elif not all_decrees:
        newest = areas.sort_values(["decree_date", "decree_id"], ascending=False, na_position="last")
        areas = areas[areas["decree_id"] == newest["decree_id"].iloc[0]]
    areas = areas.reset_index(drop=True)
    u = assemble_inputs(areas, current, tables)
    out = prioritise(u.assign(area_ha=u["density_area_ha"]), tables)
    result = u[["slum_area_id", "decree_id", "decree", "kawasan", "unit_label", "kelurahan_code", "kelurahan",
                "area_ha", "kawasan_area_ha", "round", "score_source", "total", "density_source", "mbr_share_pct",
                "strategic_value", "strategic_source", "potential", "flood_share"]].copy()
    for col in ("level", "class", "rank", "rank9", "handling", "pl", "pl_points", "density", "density_class",
                "mbr_class", "legality"):
        result[col] = out[col].to_numpy()
    for col in ("rank", "rank9", "pl_points", "total"):
        result[col] = pd.array(pd.to_numeric(result[col], errors="coerce"), dtype="Float64").astype("Int64")
    result["kewenangan"] = kewenangan(u["kawasan_area_ha"], tables).to_numpy()
    result["missing"] = _missing(u, out).to_numpy()
    source = ("; kepadatan: " + u["density_source"]).fillna("")
    result["basis"] = (out["basis"].astype("string") + source.astype("string")).to_numpy()
    result = result.sort_values(["decree_id", "rank", "total", "area_ha"], ascending=[True, True, False, False],
                                na_position="last", kind="stable")
    result["position"] = result.groupby("decree_id").cumcount() + 1
    return result.reindex(columns=COLUMNS).reset_index(drop=True)
