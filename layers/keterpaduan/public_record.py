"""The public record (`/publik`, no login): per kab/kota or per kelurahan, the works and assets with their stage,
money (budgeted and realised, per funding source and year: never added up with each other or with proposals),
public photos, berita acara of handovers, rehabilitation reasons, and two series for charts: slum hectares per year
and money per source per year.

Always read as the public (`PUBLIC`): published decrees' slum areas only; activities and assets are public rows
read without personal data (no proposer, no user names, group members never).

Slum hectares per year: the decree's year (when it has a date) with the areas its level (stated, else assumed
slum) counts as slum, then each survey round's year with the level that round scored (areas not surveyed keep their
previous level), then this year's status (`slum_area_status`) when newer. Hectares are the area's share in the
kelurahan when one is chosen.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pandas as pd
from psycopg import sql

from geo.errors import InvalidInput, NotFound
from indicators.progress import NOT_SLUM
from layers.accounts.access import PUBLIC, row_filter
from layers.db.frames import Op, Query, records
from layers.keterpaduan.summary import DEAD_STATUSES, NO_FUNDING, _money_cte, _money_sums
from layers.scoring.scores import slum_area_scores_op
from layers.scoring.surveys import rounds_query, with_round_orders
from layers.values.codes import tenant_code

KELURAHAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


def scope_of(tenant: str | None, kelurahan: str | None) -> tuple[str, str | None]:
    """(tenant, kelurahan or None) from the query string; InvalidInput when neither or a malformed code."""
    if kelurahan and kelurahan.strip():
        code = kelurahan.strip()
        if not KELURAHAN_CODE.match(code):
            raise InvalidInput(f"kelurahan {code!r} is not a Kemendagri code like 12.71.01.1001",
                               details=[{"field": "kelurahan", "reason": "not a kelurahan code"}])
        return code[:5], code
    if tenant and tenant.strip():
        return tenant_code(tenant), None
    raise InvalidInput("name a kab/kota (?tenant=12.71) or a kelurahan (?kelurahan=12.71.01.1001)",
                       details=[{"field": "tenant", "reason": "required"}])


def _place_query(tenant: str, kelurahan: str | None) -> Query:
    return Query(sql.SQL(
        "SELECT r.code, r.name, r.level, p.name AS parent_name FROM regions r "
        "LEFT JOIN regions p ON p.code = CASE WHEN r.level = 'desa_kelurahan' THEN left(r.code, 8) END "
        "WHERE r.code = %(code)s"), {"code": kelurahan or tenant})


def _activities_query(tenant: str, kelurahan: str | None) -> Query:
    """Live works (not rejected or cancelled) with their money, photos, handover and rehabilitation links."""
    return Query(sql.SQL(
        """
        SELECT a.id, a.title, a.kind, coalesce(k.name, a.kind) AS kind_name, a.kelurahan_code, kel.name AS kelurahan,
               a.year_start, a.year_end, a.stage, a.status, a.progress, a.program, a.funding_source,
               a.volume::float8 AS volume, a.unit, a.cost::float8 AS proposed_cost,
               bl.budgeted, bl.realised, a.override_reason,
               coalesce(ph.photos, '{{}}'::bigint[]) AS photos,
               coalesce(rh.rehabilitates, '[]'::jsonb) AS rehabilitates
        FROM activities a
        LEFT JOIN activity_kinds k ON k.code = a.kind
        LEFT JOIN regions kel ON kel.code = a.kelurahan_code
        LEFT JOIN LATERAL (SELECT sum(b.allocated)::float8 AS budgeted, sum(b.realised)::float8 AS realised
                           FROM budget_lines b WHERE b.activity_id = a.id) bl ON true
        LEFT JOIN LATERAL (SELECT array_agg(p.id ORDER BY p.id) AS photos FROM activity_attachments p
                           WHERE p.activity_id = a.id AND p.media_type LIKE 'image/%%') ph ON true
        LEFT JOIN LATERAL (
            SELECT jsonb_agg(jsonb_build_object('activity_id', o.id, 'title', o.title, 'asset_id', s.id,
                                                'handover_date', s.handover_date) ORDER BY o.id) AS rehabilitates
            FROM activity_links l JOIN activities o ON o.id = l.other_id
            LEFT JOIN assets s ON s.activity_id = o.id
            WHERE l.activity_id = a.id AND l.relation = 'rehabilitasi') rh ON true
        WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s)
          AND (%(kel)s::text IS NULL OR a.kelurahan_code = %(kel)s::text) AND {act_filter}
        ORDER BY a.year_start DESC, a.id DESC
        """).format(act_filter=row_filter(PUBLIC, "activities", "a")),
        {"t": tenant, "kel": kelurahan, "dead": list(DEAD_STATUSES)})


def _assets_query(tenant: str, kelurahan: str | None) -> Query:
    """Handed-over works: berita acara number, date and whether its file is stored; recipient as an OPD code or a
    group's kind and name (never its members)."""
    return Query(sql.SQL(
        """
        SELECT s.id, s.activity_id, s.title, coalesce(k.name, s.kind) AS kind_name, a.kelurahan_code,
               kel.name AS kelurahan, s.handover_number, s.handover_date, s.handover_file IS NOT NULL AS document,
               s.recipient_kind, s.recipient_opd, upper(g.kind) AS group_kind, g.name AS group_name, s.condition,
               s.value::float8 AS value, s.funding_source, s.service_life_years
        FROM assets s
        JOIN activities a ON a.id = s.activity_id
        LEFT JOIN activity_kinds k ON k.code = s.kind
        LEFT JOIN regions kel ON kel.code = a.kelurahan_code
        LEFT JOIN groups g ON g.id = s.recipient_group_id
        WHERE s.tenant = %(t)s AND (%(kel)s::text IS NULL OR a.kelurahan_code = %(kel)s::text) AND {asset_filter}
        ORDER BY s.handover_date DESC, s.id DESC
        """).format(asset_filter=row_filter(PUBLIC, "assets", "s")), {"t": tenant, "kel": kelurahan})


def _money_query(tenant: str, kelurahan: str | None) -> Query:
    """Per year and funding source: proposed (not yet budgeted), budgeted and realised, in columns of their own."""
    return Query(sql.SQL(
        """
        WITH act AS (
            SELECT a.id, a.funding_source, a.year_start, a.cost FROM activities a
            WHERE a.tenant = %(t)s AND NOT a.status = ANY(%(dead)s)
              AND (%(kel)s::text IS NULL OR a.kelurahan_code = %(kel)s::text) AND {act_filter}
        ), {money}
        SELECT year, funding AS funding_source, f.name AS funding_name, {money_sums}
        FROM money LEFT JOIN funding_sources f ON f.code = money.funding
        GROUP BY year, funding, f.name ORDER BY year, funding
        """).format(act_filter=row_filter(PUBLIC, "activities", "a"), money=_money_cte("x.id AS activity_id"),
                    money_sums=_money_sums()),
        {"t": tenant, "kel": kelurahan, "dead": list(DEAD_STATUSES), "no_funding": NO_FUNDING})


def _slum_areas_query(tenant: str, kelurahan: str | None) -> Query:
    """Published slum areas of the newest decree with their hectares (in the kelurahan, when one is chosen), the
    decree's year and stated level, and the current status."""
    return Query(sql.SQL(
        """
        WITH d AS (
            SELECT DISTINCT d.id, d.decree_date, d.number FROM decrees d JOIN slum_areas s ON s.decree_id = d.id
            WHERE d.tenant = %(t)s AND {sa_filter}
            ORDER BY d.decree_date DESC NULLS LAST, d.id DESC LIMIT 1
        )
        SELECT s.id AS slum_area_id, s.stated_level, st.level AS current_level,
               extract(year FROM d.decree_date)::int AS decree_year,
               CASE WHEN %(kel)s::text IS NULL THEN s.area_ha
                    ELSE coalesce((SELECT sum(r.overlap_ha) FROM slum_area_regions r
                                   WHERE r.slum_area_id = s.id AND r.region_code = %(kel)s::text),
                                  CASE WHEN s.kelurahan_code = %(kel)s::text THEN s.area_ha END) END::float8 AS ha
        FROM slum_areas s JOIN d ON d.id = s.decree_id
        LEFT JOIN slum_area_status st ON st.slum_area_id = s.id
        WHERE s.tenant = %(t)s AND {sa_filter}
        """).format(sa_filter=row_filter(PUBLIC, "slum-areas", "s")), {"t": tenant, "kel": kelurahan})


def _round_year(row: pd.Series) -> int | None:
    if pd.notna(row.get("first_date")):
        return int(pd.Timestamp(row["first_date"]).year)
    found = re.search(r"(19|20)\d{2}", str(row["round"]))
    return int(found.group(0)) if found else None


def slum_hectares_by_year(areas: pd.DataFrame, scores: pd.DataFrame, rounds: pd.DataFrame,
                          this_year: int) -> list[dict[str, Any]]:
    """[{year, slum_ha, source}]: the decree, each survey round, and today's status, hectares whose level is not TK."""
    areas = areas[areas["ha"].notna() & (areas["ha"] > 0)]
    if areas.empty:
        return []
    ha = dict(zip(areas["slum_area_id"], areas["ha"].astype(float), strict=True))
    # in the decree: slum unless it states TK (an area is in the decree because it is slum)
    level = {i: (lv if isinstance(lv, str) and lv else "KUMUH")
             for i, lv in zip(areas["slum_area_id"], areas["stated_level"], strict=True)}

    def slum() -> float:
        return round(sum(h for i, h in ha.items() if level.get(i) != NOT_SLUM), 4)

    points: dict[int, dict[str, Any]] = {}
    decree_years = areas["decree_year"].dropna()
    if len(decree_years):  # a decree without a date has no place on the line: the rounds and today's status do
        decree_year = int(decree_years.min())
        points[decree_year] = {"year": decree_year, "slum_ha": slum(), "source": "SK kumuh"}
    if len(scores) and len(rounds):
        years = {r["round"]: _round_year(r) for _, r in rounds.iterrows()}
        scored = scores[scores["slum_area_id"].isin(ha) & scores["level"].notna()]
        for rnd in rounds.sort_values("round_order")["round"]:
            year = years.get(rnd)
            part = scored[scored["round"] == rnd]
            if year is None or part.empty:
                continue
            level.update(dict(zip(part["slum_area_id"], part["level"], strict=True)))
            points[year] = {"year": year, "slum_ha": slum(), "source": f"survei {rnd}"}
    current = areas[areas["current_level"].notna()]
    if len(current) and (not points or this_year > max(points)):
        level.update(dict(zip(current["slum_area_id"], current["current_level"], strict=True)))
        points[this_year] = {"year": this_year, "slum_ha": slum(), "source": "status terkini"}
    return [points[y] for y in sorted(points)]


def public_record_op(tenant: str, kelurahan: str | None = None, *, today: date | None = None) -> Op[dict[str, Any]]:
    """Everything /publik shows of a kab/kota or one kelurahan of it, read as the public."""
    place = yield _place_query(tenant, kelurahan)
    if place.empty:
        raise NotFound(f"{'kelurahan ' + kelurahan if kelurahan else 'kab/kota ' + tenant} is not loaded")
    activities = yield _activities_query(tenant, kelurahan)
    assets = yield _assets_query(tenant, kelurahan)
    money = yield _money_query(tenant, kelurahan)
    areas = yield _slum_areas_query(tenant, kelurahan)
    rounds = with_round_orders((yield rounds_query(tenant)))
    scores = yield from slum_area_scores_op(tenant, PUBLIC)
    this_year = (today or date.today()).year
    return {
        "tenant": tenant, "kelurahan": kelurahan, "place": records(place)[0],
        "activities": records(activities), "assets": records(assets), "money": records(money),
        "slum_ha": slum_hectares_by_year(areas, scores, rounds, this_year),
    }

