"""Proposal use cases as the HTTP API (and the drawing page) performs them: who may, then the write, then the audit
entry, all in one transaction. The checks themselves live in activities, overlap, workflow and attachments."""

from __future__ import annotations

from typing import Any

import psycopg
import shapely

from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo.problems import Problem
from layers.accounts import audit
from layers.accounts.access import Principal, row_filter
from layers.accounts.permissions import Target, can, require
from layers.planning import evidence
from layers.planning.activities import UPDATE_SQL, Catalogue, check_inside_tenant, create_activity, parse_activity
from layers.planning.attachments import MAX_VIDEO_BYTES, Capture, attach, attachment_file
from layers.planning.overlap import check_overlap, check_overlap_async, lock_area
from layers.planning.workflow import apply_transition, history
from layers.settings import Settings
from layers.values.fields import number_or_none

MAX_UPLOAD_BYTES = MAX_VIDEO_BYTES
EDITABLE_STATUSES = ("aktif", "dikembalikan")
PUBLIC_FIELDS = ("id", "tenant", "title", "kind", "criteria", "volume", "unit", "cost", "year_start", "year_end",
                 "program", "funding_source", "proposer_area", "target_agency", "kelurahan_code", "slum_area_id",
                 "stage", "status", "progress", "override_reason", "created_at", "updated_at")
# Fields only the server sets: the workflow's (changed by POST /activities/{id}/transitions, never by a write) and
# those derived from the geometry or the save. A write may repeat a workflow field's current value (a GeoJSON
# round trip); any other value is refused. Derived fields in a body are ignored.
WORKFLOW_FIELDS = ("stage", "status", "progress")
DERIVED_FIELDS = ("id", "kelurahan_code", "slum_area_id", "length_m", "area_m2", "created_at", "updated_at",
                  "created_by", "geometry")
NEW_PROPOSAL = {"stage": "rembuk_warga", "status": "aktif", "progress": 0}
# Which permission of layers/accounts/permissions.py a role's workflow step is checked against.
STEP_PERMISSION = {"kepling": "proposal.edit", "lurah": "proposal.verify", "camat": "proposal.verify",
                   "opd": "proposal.review", "bappeda": "proposal.approve", "pokja": "proposal.approve"}


def _parse(conn: psycopg.Connection, properties: dict, geometry, principal: Principal | None = None):
    """Parse and check; a missing tenant is the caller's kab/kota, else the kab/kota the geometry lies in."""
    default_tenant = principal.tenant if principal else None
    if not default_tenant and geometry is not None and not properties.get("tenant"):
        default_tenant = _kabkota_of(conn, geometry)
    parsed, problems = parse_activity(properties, geometry, Catalogue.load(conn), default_tenant=default_tenant)
    if problems:
        raise InvalidInput("; ".join(str(p) for p in problems), details=[p.as_dict() for p in problems])
    if parsed is None:
        raise InvalidInput("the activity could not be checked")
    return parsed


def _client_fields(properties: dict, current: dict) -> dict:
    """The body without server-owned fields; InvalidInput when it tries to set a workflow field."""
    problems = []
    for name in WORKFLOW_FIELDS:
        given = properties.get(name)
        if given is None or given == "":
            continue
        now = current.get(name)
        same = (number_or_none(given) == number_or_none(now)) if name == "progress" else str(given).strip() == now
        if not same:
            problems.append(Problem(
                f"{name} '{given}' cannot be set by a write: the workflow sets it (now '{now}'); use "
                "POST /activities/{id}/transitions", field=name))
    if problems:
        raise InvalidInput("; ".join(str(p) for p in problems), details=[p.as_dict() for p in problems])
    return {k: v for k, v in properties.items() if k not in WORKFLOW_FIELDS and k not in DERIVED_FIELDS}


def _kabkota_of(conn: psycopg.Connection, geometry) -> str | None:
    try:
        wkb = shapely.to_wkb(shapely.point_on_surface(geometry))
    except shapely.errors.GEOSException:
        return None
    row = conn.execute("SELECT code FROM regions WHERE level = 'kabkota' "
                       "AND ST_Intersects(geom, ST_SetSRID(ST_GeomFromWKB(%s), 4326)) LIMIT 1", [wkb]).fetchone()
    return row[0] if row else None


def _kelurahan_of(conn: psycopg.Connection, wkb: bytes) -> str | None:
    row = conn.execute(
        "SELECT code FROM regions WHERE level = 'desa_kelurahan' "
        "AND ST_Intersects(geom, ST_PointOnSurface(ST_SetSRID(ST_GeomFromWKB(%s), 4326))) ORDER BY code LIMIT 1",
        [wkb]).fetchone()
    return row[0] if row else None


def _target(row: dict) -> Target:
    return Target(tenant=row["tenant"], area_code=row.get("kelurahan_code"), area_label=row.get("proposer_area"),
                  owner=row.get("created_by"), agency=row.get("target_agency"))


async def check_async(aconn: psycopg.AsyncConnection, properties: dict, geometry,
                      principal: Principal | None = None) -> dict:
    """`check` on an async connection (the hot path of POST /overlap-check): the same parse, the same SQL."""
    activity, problems = parse_activity(properties, geometry, await Catalogue.load_async(aconn),
                                        default_tenant=principal.tenant if principal else None,
                                        tenant_required=False)  # the verdict looks across tenants anyway
    if problems:
        raise InvalidInput("; ".join(str(p) for p in problems), details=[p.as_dict() for p in problems])
    if activity is None:
        raise InvalidInput("the activity could not be checked")
    verdict = await check_overlap_async(aconn, wkb=activity.wkb, kind=activity.kind, criteria=activity.criteria,
                                        year_start=activity.year_start, year_end=activity.year_end,
                                        exclude_id=properties.get("id"))
    return verdict.as_dict()


def create(conn: psycopg.Connection, principal: Principal, properties: dict, geometry) -> dict:
    """A new proposal always starts at rembuk warga, active, 0 %: the workflow moves it on, step by step."""
    properties = _client_fields(properties, NEW_PROPOSAL)
    activity = _parse(conn, properties, geometry, principal)
    kelurahan = _kelurahan_of(conn, activity.wkb)
    require(principal, "proposal.create", Target(tenant=activity.tenant, area_code=kelurahan,
                                                 area_label=activity.proposer_area))
    override = (properties.get("override_reason") or "").strip() or None
    if override:
        require(principal, "overlap.override", Target(tenant=activity.tenant))
    with conn.transaction():
        result = create_activity(conn, activity, actor=principal.username, actor_role=principal.role,
                                 override_reason=override)
        if result.id is None:
            raise RuntimeError("create_activity saved no row")
        row = _row(conn, principal, result.id)
        audit.record(conn, principal, "activity.create", "activities", result.id, after=_public(row),
                     tenant=activity.tenant)
    return {**result.as_dict(), "properties": _public(row)}


def _row(conn: psycopg.Connection, principal: Principal, activity_id: int, lock: bool = False) -> dict[str, Any]:
    """The activity as this caller may see it (404 otherwise), with its geometry as WKB."""
    from psycopg import sql

    cur = conn.execute(sql.SQL("SELECT t.*, ST_AsBinary(t.geom) AS wkb, ST_AsGeoJSON(t.geom, 7) AS geojson "
                               "FROM activities t WHERE t.id = %s AND {}{}").format(
        row_filter(principal, "activities"), sql.SQL(" FOR UPDATE" if lock else "")), [activity_id])
    row = cur.fetchone()
    if row is None or cur.description is None:
        raise NotFound(f"activity {activity_id} does not exist")
    return dict(zip([c.name for c in cur.description], row, strict=True))


def _public(row: dict) -> dict[str, Any]:
    """The fields anyone may read: never the proposer's name or phone."""
    import json

    out = {k: row[k] for k in PUBLIC_FIELDS if k in row}
    for key in ("created_at", "updated_at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    for key in ("volume", "cost"):
        if out.get(key) is not None:
            out[key] = float(out[key])
    out["geometry"] = json.loads(row["geojson"]) if row.get("geojson") else None
    return out


def update(conn: psycopg.Connection, principal: Principal, activity_id: int, properties: dict, geometry, *,
           replace: bool) -> dict:
    """PUT (replace) or PATCH (merge) while the proposal is still editable; the overlap check runs again."""
    with conn.transaction():
        row = _row(conn, principal, activity_id, lock=True)
        require(principal, "proposal.edit", _target(row))
        if row["status"] not in EDITABLE_STATUSES or row["stage"] not in ("rembuk_warga", "musrenbang_kelurahan"):
            raise Conflict(f"activity {activity_id} is at stage '{row['stage']}' with status '{row['status']}': "
                           "only proposals still at rembuk warga or musrenbang kelurahan can be edited")
        properties = _client_fields(properties, row)
        kept = {k: row[k] for k in PUBLIC_FIELDS if k in row and k not in WORKFLOW_FIELDS + DERIVED_FIELDS}
        merged = dict(properties) if replace else {**kept, "proposer_name": row["proposer_name"],
                                                   "proposer_phone": row["proposer_phone"], **properties}
        merged.setdefault("tenant", row["tenant"])
        shape = geometry if geometry is not None else (None if replace else shapely.from_wkb(row["wkb"]))
        activity = _parse(conn, merged, shape)
        if activity.tenant != row["tenant"]:
            raise InvalidInput("an activity cannot move to another kab/kota")
        # A changed geometry meets every check of a create: inside the kab/kota, the caller's own area at the
        # new place, and the overlap check below; kelurahan and slum area are derived again by UPDATE_SQL.
        check_inside_tenant(conn, activity)
        require(principal, "proposal.edit", Target(
            tenant=row["tenant"], area_code=_kelurahan_of(conn, activity.wkb), area_label=activity.proposer_area,
            owner=row.get("created_by"), agency=activity.target_agency))
        lock_area(conn, activity.wkb)
        verdict = check_overlap(conn, wkb=activity.wkb, kind=activity.kind, criteria=activity.criteria,
                                year_start=activity.year_start, year_end=activity.year_end, exclude_id=activity_id)
        if verdict.blocked:
            ids = ", ".join(str(c["id"]) for c in verdict.conflicts)
            raise Conflict(f"blocked: the change overlaps live activity {ids}", details=verdict.as_dict())
        conn.execute(UPDATE_SQL, {**activity.__dict__, "wkb": activity.wkb, "id": activity_id})
        conn.execute("INSERT INTO activity_events (activity_id, actor, actor_role, action, from_stage, to_stage) "
                     "VALUES (%s, %s, %s, 'diubah', %s, %s)",
                     [activity_id, principal.username, principal.role, row["stage"], row["stage"]])
        after = _row(conn, principal, activity_id)
        audit.record(conn, principal, "activity.update", "activities", activity_id, before=_public(row),
                     after=_public(after), tenant=row["tenant"])
    return {"id": activity_id, "saved": True, **verdict.as_dict(), "properties": _public(after)}


def delete(conn: psycopg.Connection, principal: Principal, activity_id: int) -> None:
    """Only a proposal nobody has acted on yet is deleted; later ones are cancelled (history is public)."""
    with conn.transaction():
        row = _row(conn, principal, activity_id, lock=True)
        require(principal, "proposal.edit", _target(row))
        counted = conn.execute("SELECT count(*) FROM activity_events WHERE activity_id = %s AND action NOT IN "
                               "('dibuat', 'dibuat_dengan_persetujuan', 'diubah')", [activity_id]).fetchone()
        steps = counted[0] if counted else 0
        if steps or row["stage"] != "rembuk_warga":
            raise Conflict(f"activity {activity_id} has been acted on: cancel it with the 'batalkan' step instead "
                           "(its history stays public)")
        conn.execute("DELETE FROM activities WHERE id = %s", [activity_id])
        audit.record(conn, principal, "activity.delete", "activities", activity_id, before=_public(row),
                     tenant=row["tenant"])


def _may_act_on(principal: Principal, activity: dict) -> None:
    if principal.role == "admin":
        return
    permission = STEP_PERMISSION.get(principal.role)
    if permission is None:
        raise Forbidden(f"role {principal.role} takes no workflow steps")
    require(principal, permission, _target(activity))


def transition(conn: psycopg.Connection, principal: Principal, activity_id: int, action: str, *,
               reason: str | None = None, progress: int | None = None) -> dict:
    with conn.transaction():
        row = _row(conn, principal, activity_id)
        if principal.is_public:
            require(principal, "proposal.verify", _target(row))  # 401: login first
        result = apply_transition(conn, activity_id, action, principal, reason=reason, progress=progress,
                                  may_act_on=_may_act_on)
        audit.record(conn, principal, f"activity.{action}", "activities", activity_id, before=result["before"],
                     after={k: result[k] for k in ("stage", "status", "progress")}, tenant=row["tenant"])
    return {k: v for k, v in result.items() if k != "before"}


def public_record(conn: psycopg.Connection, principal: Principal, activity_id: int) -> dict:
    """What anyone may see of a proposal: its fields (no personal data), history, links and photo checks."""
    row = _row(conn, principal, activity_id)
    record = _public(row)
    if can(principal, "proposal.edit", _target(row)) or can(principal, "proposal.approve", _target(row)):
        record.update(proposer_name=row["proposer_name"], proposer_phone=row["proposer_phone"])
    links = conn.execute(
        "SELECT l.activity_id, l.other_id, l.relation, o.title, o.program, o.funding_source, o.year_start "
        "FROM activity_links l JOIN activities o ON o.id = CASE WHEN l.activity_id = %(id)s THEN l.other_id "
        "ELSE l.activity_id END WHERE %(id)s IN (l.activity_id, l.other_id) ORDER BY l.created_at", {"id": activity_id})
    photos = conn.execute(
        "SELECT id, media_type, taken_at, distance_m, flagged, flag_reason, uploaded_at FROM activity_attachments "
        "WHERE activity_id = %s ORDER BY id", [activity_id])
    return {
        "progress_steps": evidence.steps(conn, activity_id),
        "activity": record,
        "history": [{**e, "at": e["at"].isoformat()} for e in history(conn, activity_id)],
        "links": [dict(zip(("activity_id", "other_id", "relation", "title", "program", "funding_source",
                            "year_start"), r, strict=True)) for r in links.fetchall()],
        "attachments": [
            {"id": r[0], "media_type": r[1], "taken_at": r[2].isoformat() if r[2] else None, "distance_m": r[3],
             "flagged": r[4], "flag_reason": r[5], "uploaded_at": r[6].isoformat()} for r in photos.fetchall()],
    }


def verify_step(conn: psycopg.Connection, principal: Principal, activity_id: int, step: int, *, confirm: bool,
                reason: str | None) -> dict:
    """Confirm or reject a progress step waiting for verification (perlu_verifikasi): lurah, target OPD or pokja
    (permission progress.verify), with a reason; kept in the history and the audit log."""
    with conn.transaction():
        row = _row(conn, principal, activity_id, lock=True)
        require(principal, "progress.verify", _target(row))
        result = evidence.decide(conn, row, step, confirm=confirm, reason=reason, actor=principal.username,
                                 actor_role=principal.role)
        action = "konfirmasi_kemajuan" if confirm else "tolak_kemajuan"
        conn.execute("UPDATE activities SET progress = %s, updated_at = now() WHERE id = %s",
                     [result["progress"], activity_id])
        conn.execute(
            "INSERT INTO activity_events (activity_id, actor, actor_role, action, from_stage, to_stage, from_status, "
            "to_status, progress, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [activity_id, principal.username, principal.role, action, row["stage"], row["stage"], row["status"],
             row["status"], result["progress"], (reason or "").strip()])
        audit.record(conn, principal, f"activity.{action}", "activities", activity_id,
                     before={"progress": row["progress"], "step": step, "state": "perlu_verifikasi"},
                     after=result, tenant=row["tenant"])
    return {"id": activity_id, **result}


def attach_file(conn: psycopg.Connection, principal: Principal, activity_id: int, file_name: str,
                content: bytes, *, settings: Settings, capture: Capture | None = None) -> dict:
    with conn.transaction():
        row = _row(conn, principal, activity_id)
        target = _target(row)
        if not any(can(principal, action, target) for action in ("proposal.edit", "proposal.review",
                                                                  "proposal.approve")):
            require(principal, "proposal.review", target)  # raises with the reason
        record = attach(conn, activity_id, file_name, content, settings=settings, uploaded_by=principal.username,
                        capture=capture)
        audit.record(conn, principal, "activity.attach", "activities", activity_id, after=record,
                     tenant=row["tenant"])
    return record


def attachment_content(conn: psycopg.Connection, principal: Principal, activity_id: int, attachment_id: int, *,
                       settings: Settings) -> tuple[str, bytes]:
    """(media type, bytes) of a photo or video of a proposal, for whoever may see the proposal (its public record)."""
    _row(conn, principal, activity_id)  # NotFound when the caller may not see it
    return attachment_file(conn, activity_id, attachment_id, settings=settings)
