"""Overlap ("tumpang tindih") checks: does an activity duplicate a live one of another programme or source?

A new or changed activity conflicts with an existing live one (not rejected or cancelled) when they address the
same criterion or are the same kind, their fiscal years overlap, and their geometries overlap beyond the
tolerances of the new activity's kind (data/reference/activity_kinds.csv). The measure itself is the SQL
function kotaku_overlap (migration 0005), so a single check, a check through HTTP and a bulk import of a whole
file all judge alike. The check looks across tenants: a road on a kab/kota border is one road.

What it is checked against is the view overlap_candidates (migration 0011, layers/db/sql/overlap_candidates.sql):
live proposals of the same or an adjacent fiscal year, funded and completed works and the assets of the register
while the service life of their kind covers the new activity's years. A conflict with a work or an asset says so
(`source` 'aset' with the asset id and handover date, `remaining_life_years` at the new activity's first year).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from layers.db.frames import Query, RowOp, arun, run

# Candidates come from the GiST index: the new geometry's box grown by the larger tolerance. 1e-5 degree is
# at least 1.09 m anywhere in Indonesia, so dividing metres by 1e5 never grows the box too little.
# A template: format `existing` with the relation the new rows `n` are checked against: EXISTING (the view of
# proposals, works and assets with the years each covers), or `incoming_candidates(...)` of an import's own rows.
CANDIDATES_SQL = sql.SQL("""
    JOIN activity_kinds k ON k.code = n.kind
    CROSS JOIN LATERAL (SELECT ST_Expand(n.geom, greatest(k.line_noise_m, k.point_radius_m) / 100000.0) AS box) r
    JOIN {existing} b ON b.geom && r.box
    CROSS JOIN LATERAL kotaku_overlap(n.geom, b.geom, k.line_noise_m, k.line_min_shared_share,
                                      k.polygon_min_shared_share, k.point_radius_m) m
    WHERE b.status NOT IN ('ditolak', 'dibatalkan')
      AND (b.kind = n.kind OR b.criteria && n.criteria)
      AND b.cover_start <= n.year_end AND n.year_start <= b.cover_end
      AND m.relation IS NOT NULL
""")
# The live candidates near each new geometry: overlap_candidates(box) (layers/db/sql/overlap_candidates.sql) puts
# `geom && box` inside each branch, so every check is GiST index scans, for one geometry or a whole import.
EXISTING = sql.SQL("LATERAL overlap_candidates(r.box)")
WORK_STAGES = ("pelaksanaan", "selesai", "serah_terima")
REPORT_COLUMNS = sql.SQL("""
    b.id, b.title, b.tenant, b.kind, b.program, b.funding_source, b.year_start, b.year_end, b.stage, b.status,
    m.relation, m.measure, m.amount, m.share_a, m.share_b, ST_AsGeoJSON(m.overlap, 7),
    b.source, b.activity_id, b.handover_date,
    CASE WHEN b.source = 'aset' OR b.stage IN ('pelaksanaan', 'selesai', 'serah_terima')
         THEN b.cover_end + 1 END,
    CASE WHEN b.source = 'aset' OR b.stage IN ('pelaksanaan', 'selesai', 'serah_terima')
         THEN b.cover_end + 1 - n.year_start END
""")


def incoming_candidates(relation: sql.Composable) -> sql.Composable:
    """Rows of a staging table of new activities (id, n, kind, criteria, years, stage, status, geom...) in the shape
    of overlap_candidates, as proposals (their years and the years next to them), to check a file against itself."""
    return sql.SQL("""(SELECT 'kegiatan'::text AS source, i.n, i.id, i.id AS activity_id, i.title, i.tenant, i.kind,
        i.criteria, i.program, i.funding_source, i.year_start, i.year_end, i.stage, i.status, i.geom,
        NULL::date AS handover_date, i.year_start - 1 AS cover_start, i.year_end + 1 AS cover_end
        FROM {} i)""").format(relation)
SINGLE_CHECK_SQL = sql.SQL("""
    SELECT {columns}
    FROM (SELECT ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326) AS geom, %(kind)s::text AS kind,
                 %(criteria)s::text[] AS criteria, %(year_start)s::int AS year_start, %(year_end)s::int AS year_end) n
    {candidates}
      AND b.activity_id IS DISTINCT FROM %(exclude)s::bigint
    ORDER BY m.relation DESC, b.source, b.id
""").format(columns=REPORT_COLUMNS, candidates=CANDIDATES_SQL.format(existing=EXISTING))


@dataclass
class OverlapVerdict:
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    collaborations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.conflicts)

    def as_dict(self) -> dict[str, Any]:
        return {"blocked": self.blocked, "conflicts": self.conflicts, "collaborations": self.collaborations}

    def blocked_message(self) -> str:
        """What blocks it, in words: the live activities, and the assets with their handover date and life left."""
        parts = []
        for c in self.conflicts:
            if c["source"] == "aset":
                parts.append(f"asset {c['id']} ({c['kind']}, handed over {c['handover_date']}, "
                             f"{c['remaining_life_years']} year(s) of service life left in {c['checked_year']})")
            elif c["remaining_life_years"] is not None:
                parts.append(f"work {c['id']} ({c['kind']}, {c['stage']}, {c['year_start']}-{c['year_end']}, "
                             f"{c['remaining_life_years']} year(s) of service life left in {c['checked_year']})")
            else:
                parts.append(f"live activity {c['id']} ({c['kind']}, {c['year_start']}-{c['year_end']})")
        return (f"blocked: overlaps {'; '.join(parts)}; adjust it, or ask bappeda/pokja to accept it with a reason "
                "(override_reason: rehabilitation of a work or asset)")


def describe(row: tuple) -> dict[str, Any]:
    """One related activity as the report shows it: who, what, when, and how much they share."""
    (other_id, title, tenant, kind, program, funding, year_start, year_end, stage, status,
     relation, measure, amount, share_new, share_existing, overlap, source, activity_id, handover_date,
     life_ends_year, remaining_life) = row
    return {
        "id": other_id,
        "source": source,  # 'kegiatan' (a proposal or work) or 'aset' (the asset register; id is the asset's)
        "activity_id": activity_id,
        "handover_date": handover_date.isoformat() if handover_date else None,
        "life_ends_year": life_ends_year,  # first fiscal year its service life no longer covers (works, assets)
        "remaining_life_years": remaining_life,  # years of service life left at the new activity's first year
        "checked_year": None if remaining_life is None else life_ends_year - remaining_life,
        "title": title,
        "tenant": tenant,
        "kind": kind,
        "program": program,
        "funding_source": funding,
        "year_start": year_start,
        "year_end": year_end,
        "stage": stage,
        "status": status,
        "relation": relation,
        "measure": measure,
        measure: round(amount, 2) if amount is not None else None,
        "share_of_new": round(share_new, 4) if share_new is not None else None,
        "share_of_existing": round(share_existing, 4) if share_existing is not None else None,
        "overlap": json.loads(overlap) if overlap else None,
    }


def split(rows: list[tuple]) -> OverlapVerdict:
    verdict = OverlapVerdict()
    for row in rows:
        described = describe(row)
        (verdict.conflicts if described["relation"] == "konflik" else verdict.collaborations).append(described)
    return verdict


def overlap_op(*, wkb: bytes, kind: str, criteria: list[str], year_start: int, year_end: int,
               exclude_id: int | None = None) -> RowOp[OverlapVerdict]:
    """The verdict for one activity geometry (EPSG:4326 WKB) against every live activity, as an operation of
    layers/db/frames.py (one query; driven by `check_overlap` and `check_overlap_async`)."""
    rows = yield Query(SINGLE_CHECK_SQL, {
        "wkb": wkb, "kind": kind, "criteria": criteria, "year_start": year_start, "year_end": year_end,
        "exclude": exclude_id,
    }, rows=True)
    return split(rows)


def check_overlap(conn: psycopg.Connection, **activity: Any) -> OverlapVerdict:
    """`overlap_op` on a sync connection (imports, workflow, proposal writes)."""
    return run(conn, overlap_op(**activity))


async def check_overlap_async(aconn: psycopg.AsyncConnection, **activity: Any) -> OverlapVerdict:
    """`overlap_op` on an async connection: the hot path of POST /overlap-check."""
    return await arun(aconn, overlap_op(**activity), offload=False)


def lock_area(conn: psycopg.Connection, wkb: bytes) -> None:
    """Serialise writers whose activities could relate: transaction locks on the 0.05-degree grid cells under
    the geometry's box grown by the largest tolerance. Two conflicting activities always share a cell, so of
    two submitted at the same moment the second waits, then sees the first and is blocked."""
    conn.execute(
        """
        SELECT pg_advisory_xact_lock(7701, (x * 7919 + y)::int)
        FROM (SELECT ST_Expand(ST_SetSRID(ST_GeomFromWKB(%s), 4326),
                               (SELECT max(greatest(line_noise_m, point_radius_m)) FROM activity_kinds) / 100000.0)
                     AS box) g,
             generate_series(floor(ST_XMin(box) / 0.05)::int, floor(ST_XMax(box) / 0.05)::int) x,
             generate_series(floor(ST_YMin(box) / 0.05)::int, floor(ST_YMax(box) / 0.05)::int) y
        ORDER BY x, y
        """,
        [wkb],
    )


def link_collaborations(conn: psycopg.Connection, new_rows: sql.Composable) -> int:
    """Link each of `new_rows` (a relation with id, kind, criteria, years and geom: the staging table of an
    import, or a subquery of activities) that continues a live activity end to end, as collaboration.
    Returns the number of links made."""
    cur = conn.execute(
        sql.SQL("""
        INSERT INTO activity_links (activity_id, other_id, relation, measure)
        SELECT n.id, b.activity_id, 'kolaborasi', jsonb_build_object('measure', m.measure, 'amount', m.amount)
        FROM {new_rows} n {candidates}
          AND m.relation = 'kolaborasi' AND b.activity_id < n.id  -- each pair once: the newer links to the older
        ON CONFLICT DO NOTHING
        """).format(new_rows=new_rows, candidates=CANDIDATES_SQL.format(existing=EXISTING))
    )
    return cur.rowcount
