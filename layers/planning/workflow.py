"""The planning chain: rembuk warga -> musrenbang -> (pokir DPRD) -> Renja OPD -> RKPD -> pelaksanaan -> selesai
-> serah terima, as data (data/reference/workflow.csv): which role takes which step, which need a reason.

A step out of order is refused (409) with the steps possible from where the proposal is. A returned proposal
(dikembalikan) stays live; bringing a rejected or cancelled one back to live (aktifkan kembali) runs the overlap
check again. Every step is kept in activity_events: the public
history of the proposal.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg

from data import data_path
from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from layers.accounts.access import Principal
from layers.db.rows import column_names
from layers.planning.assets import register_asset
from layers.planning.evidence import report_step
from layers.planning.overlap import check_overlap, lock_area

PROGRESS_STEPS = (0, 50, 100)


@dataclass(frozen=True)
class Transition:
    action: str
    from_stage: str
    to_stage: str | None
    to_status: str | None
    roles: tuple[str, ...]
    needs_reason: bool
    description: str


@cache
def transitions() -> tuple[Transition, ...]:
    with open(data_path("reference", "workflow.csv"), newline="", encoding="utf-8") as handle:
        return tuple(
            Transition(
                action=row["action"], from_stage=row["from_stage"], to_stage=row["to_stage"] or None,
                to_status=row["to_status"] or None, roles=tuple(row["roles"].split(";")),
                needs_reason=row["needs_reason"] == "true", description=row["description"],
            )
            for row in csv.DictReader(handle)
        )


def possible_steps(stage: str, status: str) -> list[Transition]:
    return [t for t in transitions() if t.from_stage in (stage, "*") and _status_allows(t, status)]


def _status_allows(transition: Transition, status: str) -> bool:
    if transition.action == "ajukan_ulang":
        return status == "dikembalikan"
    if transition.action == "aktifkan_kembali":
        return status in ("ditolak", "dibatalkan")
    if transition.action == "batalkan":
        return status in ("aktif", "dikembalikan")
    if transition.from_stage == "selesai":
        return status == "selesai"
    return status == "aktif"


def find_transition(action: str, stage: str, status: str) -> Transition:
    for transition in possible_steps(stage, status):
        if transition.action == action:
            return transition
    allowed = ", ".join(sorted({t.action for t in possible_steps(stage, status)})) or "none"
    raise Conflict(
        f"step out of order: '{action}' is not possible for a proposal at stage '{stage}' with status '{status}'; "
        f"possible steps: {allowed}",
        details={"stage": stage, "status": status, "possible": [t.__dict__ for t in possible_steps(stage, status)]},
    )


def _load(conn: psycopg.Connection, activity_id: int) -> dict[str, Any]:
    cur = conn.execute(
        "SELECT id, tenant, kind, criteria, year_start, year_end, stage, status, progress, kelurahan_code, "
        "target_agency, proposer_area, created_by, ST_AsBinary(geom) AS wkb FROM activities WHERE id = %s FOR UPDATE",
        [activity_id],
    )
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"activity {activity_id} does not exist")
    return dict(zip(column_names(cur), row, strict=True))


def apply_transition(
    conn: psycopg.Connection,
    activity_id: int,
    action: str,
    principal: Principal,
    *,
    reason: str | None = None,
    progress: int | None = None,
    may_act_on=None,
) -> dict[str, Any]:
    """Take one step; returns the activity's new stage, status and progress.

    `may_act_on(principal, activity)` decides whether this user (of a permitted role) may act on this proposal
    (its area, agency, tenant); it raises Forbidden otherwise.
    """
    with conn.transaction():
        activity = _load(conn, activity_id)
        step = find_transition(action, activity["stage"], activity["status"])
        if principal.role not in step.roles:
            raise Forbidden(f"'{action}' at stage '{activity['stage']}' is for {', '.join(step.roles)}, "
                            f"not for role {principal.role}")
        if may_act_on is not None:
            may_act_on(principal, activity)
        reason = (reason or "").strip() or None
        if step.needs_reason and not reason:
            raise InvalidInput(f"'{action}' needs a reason (alasan)")
        new_progress, evidence = _progress_after(conn, activity, step, progress, principal.username)
        if evidence is not None and evidence["problems"] and not reason:
            reason = "perlu verifikasi: " + "; ".join(evidence["problems"])
        if step.to_status == "aktif" and activity["status"] in ("ditolak", "dibatalkan"):
            lock_area(conn, activity["wkb"])
            _recheck_overlap(conn, activity)
        stage = step.to_stage or activity["stage"]
        status = step.to_status or activity["status"]
        conn.execute(
            "UPDATE activities SET stage = %s, status = %s, progress = %s, updated_at = now() WHERE id = %s",
            [stage, status, new_progress, activity_id],
        )
        conn.execute(
            "INSERT INTO activity_events (activity_id, actor, actor_role, action, from_stage, to_stage, "
            "from_status, to_status, progress, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [activity_id, principal.username, principal.role, action, activity["stage"], stage,
             activity["status"], status, new_progress, reason],
        )
        if stage == "serah_terima" and activity["stage"] != "serah_terima":  # handed over: now an asset (0011)
            register_asset(conn, activity_id, actor=principal.username)
    result = {"id": activity_id, "stage": stage, "status": status, "progress": new_progress,
              "before": {k: activity[k] for k in ("stage", "status", "progress")}}
    if evidence is not None:
        result["verification"] = evidence
    return result


def _progress_after(conn: psycopg.Connection, activity: dict, step: Transition, progress: int | None,
                    actor: str | None) -> tuple[int, dict | None]:
    """The progress after this step, and the evidence check of a reported progress step (layers/planning/evidence:
    each step its own photo; one that fails a check waits for verification and the progress stays)."""
    current = activity["progress"]
    if step.action == "kemajuan":
        if progress not in PROGRESS_STEPS:
            raise InvalidInput(f"progress must be one of {PROGRESS_STEPS} (got {progress})")
        if progress < current:
            raise InvalidInput(f"progress cannot go back from {current} to {progress}")
        evidence = report_step(conn, activity, progress, reported_by=actor)
        return (progress if evidence["state"] == "terverifikasi" else current), evidence
    if step.to_stage == "selesai" and current < 100:
        raise Conflict(f"the work is at {current} %: report progress 100 with a photo before 'selesai'")
    return current, None


def _recheck_overlap(conn: psycopg.Connection, activity: dict) -> None:
    """A proposal coming back to live meets the overlap check again (it may have been duplicated meanwhile)."""
    verdict = check_overlap(conn, wkb=activity["wkb"], kind=activity["kind"], criteria=activity["criteria"],
                            year_start=activity["year_start"], year_end=activity["year_end"],
                            exclude_id=activity["id"])
    if verdict.blocked:
        ids = ", ".join(str(c["id"]) for c in verdict.conflicts)
        raise Conflict(f"cannot bring it back: it now overlaps live activity {ids}", details=verdict.as_dict())


def history(conn: psycopg.Connection, activity_id: int) -> list[dict[str, Any]]:
    """The public history of a proposal (actors are shown by role only)."""
    cur = conn.execute(
        "SELECT at, actor_role, action, from_stage, to_stage, from_status, to_status, progress, reason "
        "FROM activity_events WHERE activity_id = %s ORDER BY at, id", [activity_id])
    names = column_names(cur)
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
