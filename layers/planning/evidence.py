"""Evidence per progress step (issue 12 item 3): each step of pelaksanaan (0, 50, 100 %) needs its own photo or
video, taken after the previous step's and within the distance limit of the activity.

The position is the photo's EXIF one, else the one the page recorded at capture (browser geolocation with its
accuracy, sent with the upload; web and messaging apps strip EXIF); the time likewise (EXIF DateTimeOriginal, else
the capture time). A video counts only with a position (it has no EXIF here: the page's capture position). A step
whose file passes every check is `terverifikasi` and the activity's progress moves to it. A step whose file fails
one (too far, no position, no time, older than the previous step's, the same file as an earlier step) is kept as
`perlu_verifikasi`: the progress stays where it was, and no further step (nor `selesai`) is possible until a lurah
(of the kelurahan), the OPD (the target agency) or pokja confirms it (`dikonfirmasi`, the progress moves) or
rejects it with a reason (`ditolak`: a new photo, a new report). Whoever reported the step may not decide on it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import psycopg

from geo.errors import Conflict, InvalidInput, NotFound
from layers.db.rows import column_names

PROGRESS_STEPS = (0, 50, 100)
# EXIF times carry no zone; they are stored as given. Comparing a step-0 photo with the proposal's creation allows
# this much slack for that (a photo older than the proposal by more is old).
CLOCK_SLACK = timedelta(hours=14)


def pending_step(conn: psycopg.Connection, activity_id: int) -> int | None:
    row = conn.execute("SELECT step FROM progress_steps WHERE activity_id = %s AND state = 'perlu_verifikasi'",
                       [activity_id]).fetchone()
    return None if row is None else int(row[0])


def _started_at(conn: psycopg.Connection, activity_id: int) -> datetime | None:
    row = conn.execute("SELECT max(at) FROM activity_events WHERE activity_id = %s AND to_stage = 'pelaksanaan' "
                       "AND from_stage = 'rkpd'", [activity_id]).fetchone()
    return None if row is None else row[0]


def _candidate(conn: psycopg.Connection, activity_id: int, step: int) -> dict[str, Any] | None:
    """The step's own file: the newest one marked for this step, else the newest unmarked one uploaded since
    pelaksanaan began; never one an earlier report used."""
    started = _started_at(conn, activity_id)
    cur = conn.execute(
        """
        SELECT a.id, a.media_type, a.sha256, coalesce(a.taken_at, a.captured_at) AS taken_at,
               CASE WHEN a.lon IS NOT NULL THEN 'exif' WHEN a.capture_lon IS NOT NULL THEN 'perangkat' END
                   AS position_source,
               a.distance_m, a.flagged, a.flag_reason
        FROM activity_attachments a
        WHERE a.activity_id = %(id)s
          AND NOT EXISTS (SELECT 1 FROM progress_steps s WHERE s.attachment_id = a.id)
          AND (a.progress_step = %(step)s
               OR (a.progress_step IS NULL AND (%(started)s::timestamptz IS NULL OR a.uploaded_at >= %(started)s)))
        ORDER BY (a.progress_step IS NOT NULL) DESC, a.uploaded_at DESC, a.id DESC
        LIMIT 1
        """, {"id": activity_id, "step": step, "started": started})
    row = cur.fetchone()
    return None if row is None else dict(zip(column_names(cur), row, strict=True))


def report_step(conn: psycopg.Connection, activity: dict[str, Any], step: int, *, reported_by: str | None
                ) -> dict[str, Any]:
    """Check the step's file and record the step; returns {step, state, problems, attachment_id}. The caller
    moves the activity's progress to `step` only when the state is `terverifikasi`."""
    activity_id, current = activity["id"], activity["progress"]
    if step not in PROGRESS_STEPS:
        raise InvalidInput(f"progress must be one of {PROGRESS_STEPS} (got {step})")
    waiting = pending_step(conn, activity_id)
    if waiting is not None:
        raise Conflict(f"progress {waiting} % is waiting for verification (perlu_verifikasi): a lurah, the OPD or "
                       f"pokja confirms or rejects it first", details={"step": waiting, "state": "perlu_verifikasi"})
    done = {int(r[0]) for r in conn.execute(
        "SELECT step FROM progress_steps WHERE activity_id = %s AND state IN ('terverifikasi', 'dikonfirmasi')",
        [activity_id]).fetchall()}
    if step in done:
        raise InvalidInput(f"progress {step} % is already reported and verified")
    expected = next((s for s in PROGRESS_STEPS if s not in done), None)
    if step < current:
        raise InvalidInput(f"progress cannot go back from {current} to {step}")
    if step != expected:
        raise Conflict(f"report progress {expected} % (with its own photo) before {step} %",
                       details={"expected": expected, "step": step})
    evidence = _candidate(conn, activity_id, step)
    if evidence is None:
        raise InvalidInput(f"progress {step} % needs a photo of the work of its own (a new one for each step): "
                           f"upload one first")
    problems = _problems(conn, activity, step, evidence)
    state = "perlu_verifikasi" if problems else "terverifikasi"
    conn.execute(
        "INSERT INTO progress_steps (activity_id, step, attachment_id, state, problems, taken_at, distance_m, "
        "position_source, reported_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [activity_id, step, evidence["id"], state, json.dumps(problems, ensure_ascii=False), evidence["taken_at"],
         evidence["distance_m"], evidence["position_source"], reported_by])
    return {"step": step, "state": state, "problems": problems, "attachment_id": evidence["id"]}


def _problems(conn: psycopg.Connection, activity: dict[str, Any], step: int, evidence: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if evidence["position_source"] is None:
        kind = "video" if evidence["media_type"].startswith("video/") else "foto"
        problems.append(f"{kind} tanpa posisi (EXIF maupun lokasi perangkat saat diambil): lokasi tidak dapat "
                        f"diperiksa")
    elif evidence["flagged"]:
        problems.append(evidence["flag_reason"] or "lokasi foto tidak lolos pemeriksaan")
    if evidence["taken_at"] is None:
        problems.append("waktu pengambilan tidak diketahui (tanpa EXIF maupun waktu perangkat)")
    previous = conn.execute(
        "SELECT s.step, s.taken_at, a.sha256 FROM progress_steps s JOIN activity_attachments a ON a.id = "
        "s.attachment_id WHERE s.activity_id = %s AND s.state IN ('terverifikasi', 'dikonfirmasi') ORDER BY s.step",
        [activity["id"]]).fetchall()
    if any(p[2] == evidence["sha256"] for p in previous):
        problems.append("berkas yang sama dengan tahap sebelumnya: setiap tahap perlu foto sendiri")
    if evidence["taken_at"] is not None:
        if previous and previous[-1][1] is not None and evidence["taken_at"] <= previous[-1][1]:
            problems.append(f"foto diambil {_fmt(evidence['taken_at'])}, tidak sesudah foto tahap "
                            f"{previous[-1][0]} % ({_fmt(previous[-1][1])})")
        elif step == 0:
            created = conn.execute("SELECT created_at FROM activities WHERE id = %s", [activity["id"]]).fetchone()
            if created is not None and evidence["taken_at"] < created[0] - CLOCK_SLACK:
                problems.append(f"foto diambil {_fmt(evidence['taken_at'])}, sebelum usulan dibuat "
                                f"({_fmt(created[0])})")
    return problems


def _fmt(moment: datetime) -> str:
    return moment.strftime("%d-%m-%Y %H.%M")


def decide(conn: psycopg.Connection, activity: dict[str, Any], step: int, *, confirm: bool, reason: str | None,
           actor: str | None, actor_role: str) -> dict[str, Any]:
    """Confirm or reject a step waiting for verification; the caller checked the role and the place. Returns
    {step, state, progress}: confirming moves the activity's progress to the step."""
    reason = (reason or "").strip() or None
    if not reason:
        raise InvalidInput("confirming or rejecting a progress step needs a reason (alasan)")
    row = conn.execute("SELECT id, reported_by FROM progress_steps WHERE activity_id = %s AND step = %s AND state = "
                       "'perlu_verifikasi' FOR UPDATE", [activity["id"], step]).fetchone()
    if row is None:
        raise NotFound(f"activity {activity['id']} has no progress step {step} % waiting for verification")
    if actor is not None and row[1] == actor:
        raise Conflict(f"{actor} reported progress {step} % and may not verify it: another lurah, OPD or pokja "
                       f"user decides")
    state = "dikonfirmasi" if confirm else "ditolak"
    conn.execute("UPDATE progress_steps SET state = %s, decided_by = %s, decided_role = %s, decided_at = now(), "
                 "decision_reason = %s WHERE id = %s", [state, actor, actor_role, reason, row[0]])
    progress = step if confirm else activity["progress"]
    return {"step": step, "state": state, "progress": progress}


def steps(conn: psycopg.Connection, activity_id: int) -> list[dict[str, Any]]:
    """The public record of the steps: state, checks failed, role that decided (never a name) and why."""
    cur = conn.execute(
        "SELECT step, state, problems, attachment_id, taken_at, distance_m, position_source, reported_at, "
        "decided_role, decided_at, decision_reason FROM progress_steps WHERE activity_id = %s ORDER BY reported_at, id",
        [activity_id])
    names = column_names(cur)
    out = []
    for row in cur.fetchall():
        item = dict(zip(names, row, strict=True))
        for key in ("taken_at", "reported_at", "decided_at"):
            item[key] = item[key].isoformat() if item[key] else None
        out.append(item)
    return out
