"""Decree versions: replacing a decree's slum areas never loses them.

Before a decree's areas are replaced (`kotaku import slum-areas --replace`, or a restore), they are archived
whole as a numbered version of the decree (`decree_versions`, `slum_areas_archive`): each row as stored
(ids, attributes, stated level and score, timestamps) and its geometry, with what hung on it: its kelurahan
shares, its priority inputs and raster statistics, and the survey units and activities linked to it.

What happens to what hangs on a replaced area: survey units (with their surveys) and activities are never
deleted; they are linked again to the new area they overlap most (or left without a slum area, counted in the
summary). Scores and priorities are derived and rebuilt. `restore_version` archives the current areas as a new
version (so a restore can be undone too), puts the old rows back with their own ids, links their survey units
and activities back to them, and rebuilds the scores.
"""

from __future__ import annotations

from typing import Any

import psycopg

from geo.errors import InvalidInput, NotFound
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.accounts.permissions import Target, require, require_role
from layers.db.rows import one
from layers.scoring.status import refresh_status
from layers.values.codes import tenant_code

UNIT_LINK_MIN_SHARE = 0.01  # a unit overlapping a new area by less than 1 % of its own area is not linked to it


def areas_summary(cur: psycopg.Cursor, decree_id: int) -> dict[str, Any]:
    """How many areas a decree has, their hectares and kawasan."""
    cur.execute(
        "SELECT count(*), coalesce(sum(area_ha), 0), "
        "coalesce(array_agg(DISTINCT kawasan ORDER BY kawasan) FILTER (WHERE kawasan IS NOT NULL), '{}') "
        "FROM slum_areas WHERE decree_id = %s", [decree_id])
    count, ha, kawasan = one(cur.fetchone(), "SELECT count(*) FROM slum_areas")
    return {"areas": int(count), "area_ha": round(float(ha), 3), "kawasan": list(kawasan)}


def archive_and_remove(cur: psycopg.Cursor, tenant: str, decree_id: int, *, reason: str, replaced_by: str,
                       actor: str | None) -> dict[str, Any] | None:
    """Archive the decree's current areas as its next version and delete them. Returns the version's summary
    ({"version", "version_id", "areas", "area_ha", "kawasan", "survey_units", "activities"}) or None when the
    decree has no areas."""
    summary = areas_summary(cur, decree_id)
    if summary["areas"] == 0:
        return None
    cur.execute(
        """
        INSERT INTO decree_versions (tenant, decree_id, version, reason, replaced_by, actor, areas, area_ha, kawasan)
        SELECT %(t)s, %(d)s, coalesce(max(version), 0) + 1, %(r)s, %(by)s, %(actor)s, %(n)s, %(ha)s, %(k)s
        FROM decree_versions WHERE decree_id = %(d)s
        RETURNING id, version
        """,
        {"t": tenant, "d": decree_id, "r": reason, "by": replaced_by, "actor": actor, "n": summary["areas"],
         "ha": summary["area_ha"], "k": summary["kawasan"]},
    )
    version_id, version = one(cur.fetchone(), "INSERT INTO decree_versions ... RETURNING id")
    cur.execute(
        """
        INSERT INTO slum_areas_archive (version_id, slum_area_id, row, geom, regions, priority_input, raster_stats,
                                        survey_unit_ids, activity_ids)
        SELECT %(v)s, s.id, to_jsonb(s) - 'geom', s.geom,
               coalesce((SELECT jsonb_agg(to_jsonb(r)) FROM slum_area_regions r WHERE r.slum_area_id = s.id), '[]'),
               (SELECT to_jsonb(p) FROM slum_area_priority_inputs p WHERE p.slum_area_id = s.id),
               coalesce((SELECT jsonb_agg(to_jsonb(x)) FROM slum_area_raster_stats x WHERE x.slum_area_id = s.id),
                        '[]'),
               coalesce((SELECT array_agg(u.id ORDER BY u.id) FROM survey_units u WHERE u.slum_area_id = s.id), '{}'),
               coalesce((SELECT array_agg(a.id ORDER BY a.id) FROM activities a WHERE a.slum_area_id = s.id), '{}')
        FROM slum_areas s WHERE s.decree_id = %(d)s
        """,
        {"v": version_id, "d": decree_id},
    )
    cur.execute(
        "SELECT coalesce(sum(cardinality(survey_unit_ids)), 0), coalesce(sum(cardinality(activity_ids)), 0) "
        "FROM slum_areas_archive WHERE version_id = %s", [version_id])
    units, activities = one(cur.fetchone(), "SELECT ... FROM slum_areas_archive")
    cur.execute("DELETE FROM slum_areas WHERE decree_id = %s", [decree_id])  # units/activities: SET NULL
    return {"version": int(version), "version_id": int(version_id), **summary,
            "survey_units": int(units), "activities": int(activities)}


def relink_orphans(cur: psycopg.Cursor, version_id: int, decree_id: int) -> dict[str, int]:
    """Survey units and activities that hung on the areas archived as `version_id` (and now have none) are linked
    to the decree's current area they overlap most. Returns {"survey_units_relinked", "survey_units_unlinked",
    "activities_relinked", "activities_unlinked"}."""
    cur.execute(
        """
        WITH orphans AS (
            SELECT u.id, u.geom FROM survey_units u
            WHERE u.slum_area_id IS NULL
              AND u.id IN (SELECT unnest(survey_unit_ids) FROM slum_areas_archive WHERE version_id = %(v)s)
        ), best AS (
            SELECT DISTINCT ON (o.id) o.id, s.id AS slum_area_id
            FROM orphans o JOIN slum_areas s ON s.decree_id = %(d)s AND s.geom && o.geom
                 AND ST_Intersects(s.geom, o.geom)
            CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(s.geom, o.geom)) / NULLIF(ST_Area(o.geom), 0)
                                AS share) x
            WHERE x.share >= %(m)s
            ORDER BY o.id, x.share DESC, s.id
        ), done AS (
            UPDATE survey_units u SET slum_area_id = best.slum_area_id FROM best WHERE u.id = best.id RETURNING u.id
        )
        SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM orphans)
        """,
        {"v": version_id, "d": decree_id, "m": UNIT_LINK_MIN_SHARE},
    )
    units_done, units_all = one(cur.fetchone(), "relink survey units")
    cur.execute(
        """
        WITH orphans AS (
            SELECT a.id, a.geom FROM activities a
            WHERE a.slum_area_id IS NULL
              AND a.id IN (SELECT unnest(activity_ids) FROM slum_areas_archive WHERE version_id = %(v)s)
        ), best AS (
            SELECT DISTINCT ON (o.id) o.id, s.id AS slum_area_id
            FROM orphans o JOIN slum_areas s ON s.decree_id = %(d)s AND s.geom && o.geom
                 AND ST_Intersects(s.geom, o.geom)
            ORDER BY o.id, ST_Area(ST_Intersection(s.geom, o.geom)) DESC, s.id
        ), done AS (
            UPDATE activities a SET slum_area_id = best.slum_area_id FROM best WHERE a.id = best.id RETURNING a.id
        )
        SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM orphans)
        """,
        {"v": version_id, "d": decree_id},
    )
    activities_done, activities_all = one(cur.fetchone(), "relink activities")
    return {"survey_units_relinked": int(units_done), "survey_units_unlinked": int(units_all - units_done),
            "activities_relinked": int(activities_done), "activities_unlinked": int(activities_all - activities_done)}


def _decree(cur: psycopg.Cursor, tenant: str, decree: str | None) -> tuple[int, str]:
    """(id, number) of the tenant's decree named `decree` (or its only decree with versions when None)."""
    if decree is None:
        cur.execute("SELECT DISTINCT d.id, d.number FROM decrees d JOIN decree_versions v ON v.decree_id = d.id "
                    "WHERE d.tenant = %s ORDER BY d.id", [tenant])
        rows = cur.fetchall()
        if len(rows) == 1:
            return int(rows[0][0]), str(rows[0][1])
        if not rows:
            raise NotFound.of("decree.no_versions", tenant=tenant)
        raise InvalidInput.of("decree.several", tenant=tenant, decrees=[r[1] for r in rows])
    cur.execute("SELECT id, number FROM decrees WHERE tenant = %s AND number = %s", [tenant, decree])
    row = cur.fetchone()
    if row is None:
        raise NotFound.of("decree.unknown", tenant=tenant, decree=decree)
    return int(row[0]), str(row[1])


def _allowed(principal: Principal, tenant: str) -> None:
    """decree.manage in the tenant (admin, bappeda, pokja): checked before the decree is looked up."""
    require_role(principal, "decree.manage")
    require(principal, "decree.manage", Target(tenant=tenant))


def decree_history(conn: psycopg.Connection, tenant: str, decree: str | None = None, *,
                   principal: Principal | None = None) -> dict[str, Any]:
    """The current areas of a decree and every archived version, newest first (what each replacement removed:
    areas, hectares, kawasan). Archived rows may be unpublished ones: the caller needs decree.manage."""
    tenant = tenant_code(tenant)
    _allowed(principal or cli_principal(), tenant)
    with conn.cursor() as cur:
        decree_id, number = _decree(cur, tenant, decree)
        current = areas_summary(cur, decree_id)
        cur.execute(
            "SELECT version, reason, replaced_by, actor, areas, area_ha, kawasan, created_at, restored_at "
            "FROM decree_versions WHERE decree_id = %s ORDER BY version DESC", [decree_id])
        versions = [{"version": r[0], "reason": r[1], "replaced_by": r[2], "actor": r[3], "areas": r[4],
                     "area_ha": round(float(r[5]), 3), "kawasan": list(r[6]), "replaced_at": r[7].isoformat(),
                     "restored_at": r[8].isoformat() if r[8] else None} for r in cur.fetchall()]
    return {"tenant": tenant, "decree": number, "current": current, "versions": versions}


def restore_version(conn: psycopg.Connection, tenant: str, version: int, *, decree: str | None = None,
                    principal: Principal | None = None) -> dict[str, Any]:
    """Bring back the areas archived as `version` of the decree; the current areas become a new version first.
    Everything in one transaction. Returns what went, what came back and how survey units and activities were
    linked again."""
    tenant = tenant_code(tenant)
    principal = principal or cli_principal()
    _allowed(principal, tenant)
    with conn.transaction(), conn.cursor() as cur:
        decree_id, number = _decree(cur, tenant, decree)
        cur.execute("SELECT id, areas, area_ha, kawasan FROM decree_versions WHERE decree_id = %s AND version = %s "
                    "FOR UPDATE", [decree_id, version])
        row = cur.fetchone()
        if row is None:
            cur.execute("SELECT array_agg(version ORDER BY version) FROM decree_versions WHERE decree_id = %s",
                        [decree_id])
            known = one(cur.fetchone(), "SELECT versions")[0] or []
            raise NotFound.of("decree.version_unknown", decree=number, tenant=tenant, version=version,
                              versions=list(known))
        version_id = int(row[0])
        replaced = archive_and_remove(cur, tenant, decree_id, reason="restore",
                                      replaced_by=f"restore of version {version}", actor=principal.username)
        cur.execute(
            """
            INSERT INTO slum_areas
            SELECT r.* FROM slum_areas_archive a,
                 jsonb_populate_record(NULL::slum_areas, a.row || jsonb_build_object('geom', a.geom::text)) r
            WHERE a.version_id = %s ORDER BY a.slum_area_id
            """, [version_id])
        restored = cur.rowcount
        cur.execute("INSERT INTO slum_area_regions SELECT r.* FROM slum_areas_archive a, "
                    "jsonb_populate_recordset(NULL::slum_area_regions, a.regions) r WHERE a.version_id = %s",
                    [version_id])
        cur.execute("INSERT INTO slum_area_priority_inputs SELECT r.* FROM slum_areas_archive a, "
                    "jsonb_populate_record(NULL::slum_area_priority_inputs, a.priority_input) r "
                    "WHERE a.version_id = %s AND a.priority_input IS NOT NULL "
                    "ON CONFLICT (slum_area_id) DO NOTHING", [version_id])
        cur.execute("INSERT INTO slum_area_raster_stats SELECT r.* FROM slum_areas_archive a, "
                    "jsonb_populate_recordset(NULL::slum_area_raster_stats, a.raster_stats) r "
                    "WHERE a.version_id = %s ON CONFLICT DO NOTHING", [version_id])
        # Units and activities linked to the restored areas when they were replaced get their link back (unless
        # they have been linked to another area since); the rest of the outgoing areas' ones are linked spatially.
        cur.execute(
            """
            UPDATE survey_units u SET slum_area_id = a.slum_area_id
            FROM slum_areas_archive a, unnest(a.survey_unit_ids) uid
            WHERE a.version_id = %s AND u.id = uid AND u.slum_area_id IS NULL
            """, [version_id])
        units_back = cur.rowcount
        cur.execute(
            """
            UPDATE activities x SET slum_area_id = a.slum_area_id
            FROM slum_areas_archive a, unnest(a.activity_ids) aid
            WHERE a.version_id = %s AND x.id = aid AND x.slum_area_id IS NULL
            """, [version_id])
        activities_back = cur.rowcount
        links = relink_orphans(cur, replaced["version_id"], decree_id) if replaced else {}
        cur.execute("UPDATE decree_versions SET restored_at = now() WHERE id = %s", [version_id])
        refresh_status(conn, tenant)
        result = {"tenant": tenant, "decree": number, "restored_version": version, "restored_areas": restored,
                  "survey_units_linked_back": units_back, "activities_linked_back": activities_back,
                  "replaced": replaced, **links}
        audit.record(conn, principal, "decree.restore", "decree", decree_id,
                     {"areas": replaced["areas"] if replaced else 0},
                     {"version": version, "areas": restored}, tenant=tenant)
    return result
