"""Survey units and their surveys: how they are read, named, ordered and joined to slum areas and kelurahan.

- `surveys_query` reads surveys with their unit, kelurahan and kecamatan (header counts of the survey, else of
  the unit), always ANDed with the caller's row filter of the `survey-units` collection.
- `wide_volumes` turns the `volumes` jsonb (keyed by criterion id) into v_<id> columns for `indicators.scoring`.
- `round_orders` orders survey rounds in time ('baseline' first, then by survey date or the year in the name).
- `link_survey_units` does the spatial joins: survey unit -> slum area (largest overlap) and -> kelurahan when
  the unit has none; slum area -> kelurahan is done by the slum-area import (`slum_area_regions`), kelurahan ->
  kecamatan -> kab/kota follow the Kemendagri code.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geo.problems import Problem
from indicators.schemes import available_schemes, load_scheme
from layers.accounts.access import PUBLIC, Principal, row_filter
from layers.db.frames import Query

HEADER_COLUMNS = ("area_ha", "buildings", "population", "households", "road_length_m", "drainage_length_m")
BASELINE_NAMES = ("baseline", "awal", "r0", "t0", "kondisi awal")
LINK_MIN_SHARE = 0.01  # a unit overlapping a slum area by less than 1 % of its area is a digitising sliver


# -- names -----------------------------------------------------------------------------------------
_NAME_PREFIX = re.compile(r"^\s*(kelurahan|kel\.?|desa|ds\.?)\s+", re.IGNORECASE)


def normalise_name(values: pd.Series) -> pd.Series:
    """Kelurahan/kawasan names compared without case, spaces, punctuation or a 'Kelurahan'/'Desa' prefix:
    'Pasir Kraton Kramat' == 'Pasirkratonkramat', 'Kel. Kali Baros' == 'Kalibaros'."""
    text = values.astype("string").str.replace(_NAME_PREFIX, "", regex=True)
    return text.str.lower().str.replace(r"[^a-z0-9]", "", regex=True).replace("", pd.NA)


def normalise_label(values: pd.Series) -> pd.Series:
    """RT/RW/lingkungan labels compared without case, separators or leading zeros, and without a leading
    kelurahan-code prefix: 'RT001-RW002' == 'rt 1 / rw 2' == '1001-RT01_RW02'; 'Lingkungan 03' == 'LINGKUNGAN 3'."""
    text = values.astype("string").str.upper().str.replace(r"^\s*\d+\s*[-_/.]\s*(?=[A-Z])", "", regex=True)
    text = text.str.replace(r"[^A-Z0-9]+", " ", regex=True)
    text = text.str.replace(r"\d+", lambda m: str(int(m.group(0))), regex=True)
    return text.str.replace(" ", "", regex=False).replace("", pd.NA)


# -- rounds ----------------------------------------------------------------------------------------
def round_orders(rounds: pd.DataFrame) -> pd.Series:
    """Order of each round (columns `round`, `first_date`): 0 for a baseline name without a date, else the
    year of its first survey date, else a year found in the name (2019, 'R2021'), else after everything."""
    name = rounds["round"].astype("string")
    date_year = pd.to_datetime(rounds["first_date"], errors="coerce").dt.year.astype("Float64")
    name_year = pd.to_numeric(name.str.extract(r"((?:19|20)\d{2})", expand=False), errors="coerce").astype("Float64")
    baseline = name.str.strip().str.lower().isin(BASELINE_NAMES)
    key = date_year.fillna(name_year)
    key = key.mask(key.isna() & baseline, 0).fillna(9999)
    # ties (same year) break by name, a baseline first
    order = pd.DataFrame({"key": key, "b": ~baseline, "name": name}).sort_values(["key", "b", "name"]).index
    ranks = pd.Series(np.arange(len(order)), index=order)
    return ranks.reindex(rounds.index).astype(int)


def baseline_round(orders: pd.DataFrame) -> str | None:
    """The round called baseline (or awal, R0), else the earliest; `orders` has columns round, round_order."""
    if orders.empty:
        return None
    named = orders[orders["round"].astype("string").str.strip().str.lower().isin(BASELINE_NAMES)]
    pick = named if not named.empty else orders
    return str(pick.sort_values("round_order")["round"].iloc[0])


def rounds_query(tenant: str) -> Query:
    return Query(
        sql.SQL("SELECT round, min(survey_date) AS first_date, count(*) AS surveys FROM surveys "
                "WHERE tenant = %(t)s GROUP BY round"),
        {"t": tenant},
    )


def with_round_orders(rounds: pd.DataFrame) -> pd.DataFrame:
    out = rounds.copy()
    out["round_order"] = round_orders(out) if len(out) else pd.Series(dtype=int)
    return out.sort_values("round_order").reset_index(drop=True)


# -- reading surveys -------------------------------------------------------------------------------
def surveys_query(
    tenant: str | None = None,
    *,
    principal: Principal = PUBLIC,
    round: str | None = None,
    unit_id: int | None = None,
    slum_area_id: int | None = None,
    region: str | None = None,
) -> Query:
    """One row per survey: survey and unit ids, label, kelurahan/kecamatan code and name, slum area, round,
    date, scheme, flagged/problems, header counts (the survey's, else the unit's) and v_<id> per criterion."""
    where = [row_filter(principal, "survey-units", "u")]
    params: dict = {}
    for column, value, name in (("sv.tenant", tenant, "tenant"), ("sv.round", round, "round"),
                                ("u.id", unit_id, "unit_id"), ("u.slum_area_id", slum_area_id, "slum_area_id")):
        if value is not None:
            where.append(sql.SQL("{} = {}").format(sql.SQL(column), sql.Placeholder(name)))
            params[name] = value
    if region is not None:
        where.append(sql.SQL("(u.kelurahan_code = %(region)s OR u.kelurahan_code LIKE %(region)s || '.%%')"))
        params["region"] = region
    headers = sql.SQL(", ").join(
        sql.SQL("coalesce(sv.{c}, u.{c})::float8 AS {c}").format(c=sql.Identifier(c)) for c in HEADER_COLUMNS)
    # volumes as columns, taken apart in PostgreSQL: decoding a jsonb per row in Python costs more than scoring
    volumes = sql.SQL(", ").join(
        sql.SQL("CASE WHEN jsonb_typeof(sv.volumes -> {k}) = 'number' THEN (sv.volumes ->> {k})::float8 END AS {c}")
        .format(k=sql.Literal(cid), c=sql.Identifier(f"v_{cid}")) for cid in all_criterion_ids())
    text = sql.SQL(
        """
        SELECT sv.id AS survey_id, u.id AS unit_id, u.tenant, u.label, u.kelurahan_code, k.name AS kelurahan,
               left(u.kelurahan_code, 8) AS kecamatan_code, kc.name AS kecamatan, u.slum_area_id,
               sv.round, sv.survey_date, sv.scheme, sv.flagged, CASE WHEN sv.flagged THEN sv.problems END AS problems,
               sv.source_row, coalesce(sv.area_ha, u.area_ha, ST_Area(u.geom::geography) / 10000.0) AS weight_ha,
               {headers}, {volumes}
        FROM surveys sv
        JOIN survey_units u ON u.id = sv.unit_id
        LEFT JOIN regions k ON k.code = u.kelurahan_code
        LEFT JOIN regions kc ON kc.code = left(u.kelurahan_code, 8)
        WHERE {where}
        ORDER BY u.kelurahan_code, u.label, u.id, sv.round
        """
    ).format(headers=headers, volumes=volumes, where=sql.SQL(" AND ").join(where))
    return Query(text, params)


@cache
def all_criterion_ids() -> tuple[str, ...]:
    """Criterion ids of every scheme (1a ... 7b, and 4d, 4e, 6c of 02/2016)."""
    ids: list[str] = []
    for name in available_schemes():
        ids += [c for c in load_scheme(name).criterion_ids if c not in ids]
    return tuple(ids)


def wide_volumes(frame: pd.DataFrame) -> pd.DataFrame:
    """v_<id> columns from the `volumes` jsonb (a missing key is NaN: that criterion is not scored)."""
    if frame.empty:
        return pd.DataFrame(index=frame.index)
    wide = pd.DataFrame.from_records(frame["volumes"].tolist(), index=frame.index)
    wide = wide.apply(pd.to_numeric, errors="coerce").astype(float)
    wide.columns = [f"v_{c}" for c in wide.columns]
    return wide


# -- spatial joins ---------------------------------------------------------------------------------
def link_survey_units(conn: psycopg.Connection, tenant: str) -> list[Problem]:
    """Units with a geometry and no slum area get the slum area they overlap most (newest decree first);
    units with a geometry and no kelurahan get the kelurahan they overlap most. Returns warnings for units
    whose geometry overlaps no slum area and for units whose kelurahan disagrees with their geometry."""
    conn.execute(
        """
        UPDATE survey_units u SET slum_area_id = best.slum_area_id
        FROM (SELECT DISTINCT ON (u2.id) u2.id AS unit_id, s.id AS slum_area_id
              FROM survey_units u2
              JOIN slum_areas s ON s.tenant = u2.tenant AND s.geom && u2.geom AND ST_Intersects(s.geom, u2.geom)
              JOIN decrees d ON d.id = s.decree_id
              CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(s.geom, u2.geom)) / NULLIF(ST_Area(u2.geom), 0)
                                  AS share) o
              WHERE u2.tenant = %(t)s AND u2.slum_area_id IS NULL AND u2.geom IS NOT NULL AND o.share >= %(m)s
              ORDER BY u2.id, d.decree_date DESC NULLS LAST, d.id DESC, o.share DESC, s.id) best
        WHERE u.id = best.unit_id
        """,
        {"t": tenant, "m": LINK_MIN_SHARE},
    )
    conn.execute(
        """
        UPDATE survey_units u SET kelurahan_code = best.code
        FROM (SELECT DISTINCT ON (u2.id) u2.id AS unit_id, r.code
              FROM survey_units u2
              JOIN regions r ON r.level = 'desa_kelurahan' AND r.tenant = u2.tenant AND r.geom && u2.geom
                   AND ST_Intersects(r.geom, u2.geom)
              WHERE u2.tenant = %(t)s AND u2.kelurahan_code IS NULL AND u2.geom IS NOT NULL
              ORDER BY u2.id, ST_Area(ST_Intersection(r.geom, u2.geom)) DESC, r.code) best
        WHERE u.id = best.unit_id
        """,
        {"t": tenant},
    )
    rows = conn.execute(
        """
        SELECT u.label, u.kelurahan_code, u.slum_area_id IS NULL AS no_area,
               (SELECT r.code FROM regions r
                WHERE r.level = 'desa_kelurahan' AND r.geom && u.geom AND ST_Intersects(r.geom, u.geom)
                ORDER BY ST_Area(ST_Intersection(r.geom, u.geom)) DESC, r.code LIMIT 1) AS spatial_code
        FROM survey_units u
        WHERE u.tenant = %(t)s AND u.geom IS NOT NULL
        ORDER BY u.kelurahan_code, u.label
        """,
        {"t": tenant},
    ).fetchall()
    problems = []
    for label, code, no_area, spatial in rows:
        if no_area:
            problems.append(Problem.of("survey.unit_no_slum_area", severity="warning", label=label, code=code))
        if spatial and code and spatial != code:
            problems.append(Problem.of("survey.unit_other_kelurahan", severity="warning", label=label, code=code,
                                       spatial=spatial))
    return problems
