"""The audit trail: every write appends who, when, what, before and after, hash-chained.

Each entry's hash is sha256 over the previous entry's hash, a newline, and the canonical JSON of the entry
(`canonical_entry`: sorted keys, no spaces, UTF-8; the time as ISO 8601 UTC with microseconds). The first entry's
previous hash is GENESIS. Changing an entry changes its hash; deleting or reordering entries breaks the link of the
next one; `verify` walks the chain in id order and names the first broken entry. Deleting the newest entries
leaves a shorter, intact chain: compare the head `verify` prints with one kept elsewhere (`--head`).

Appends take a transaction-scoped advisory lock, so concurrent writers queue instead of forking the chain, and
happen in the caller's transaction: the entry commits or rolls back with the write it describes. The values are
normalised through jsonb before hashing, so what is hashed is exactly what is read back. The app's database role
may only INSERT and SELECT here (migration 0002); a trigger refuses UPDATE and DELETE even to the owner.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from layers.accounts.access import Principal
from layers.db.frames import Query, RowOp, arun, run

GENESIS = "0" * 64
LOCK_KEY = 7_700_001  # pg_advisory_xact_lock key of the chain's head
_LOCK = sql.SQL("SELECT pg_advisory_xact_lock(%s)")
_NEXT = sql.SQL(
    "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')), clock_timestamp(), %s::jsonb, %s::jsonb, "
    "(SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1)"
)
_INSERT = sql.SQL(
    "INSERT INTO audit_log (id, at, actor, actor_role, tenant, action, entity, entity_id, before, after, "
    "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
FIELDS = ("id", "at", "actor", "actor_role", "tenant", "action", "entity", "entity_id", "before", "after")
# The columns an entry is read back with: FIELDS, then its chain links.
_READ_COLUMNS = sql.SQL(", ").join(sql.Identifier(name) for name in (*FIELDS, "prev_hash", "hash"))


def canonical_entry(entry: dict[str, Any]) -> bytes:
    body = {name: entry.get(name) for name in FIELDS}
    at = body["at"]
    if isinstance(at, datetime):
        body["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical_entry(entry)).hexdigest()


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)


def _entry(principal: Principal, action: str, entity: str, entity_id: Any, tenant: str | None) -> dict[str, Any]:
    return {
        "actor": principal.username or principal.role,
        "actor_role": principal.role,
        "tenant": tenant if tenant is not None else principal.tenant,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
    }


def _complete(entry: dict[str, Any], row: tuple) -> tuple[dict[str, Any], list]:
    entry_id, at, before, after, prev = row
    entry.update(id=entry_id, at=at, before=before, after=after)
    prev = prev or GENESIS
    digest = entry_hash(prev, entry)
    params = [entry_id, at, entry["actor"], entry["actor_role"], entry["tenant"], entry["action"], entry["entity"],
              entry["entity_id"], None if before is None else Jsonb(before), None if after is None else Jsonb(after),
              prev, digest]
    entry.update(prev_hash=prev, hash=digest)
    return entry, params


def _check_isolation(level: psycopg.IsolationLevel | None) -> None:
    # The head is read after the lock; only READ COMMITTED sees the entry a writer committed while we waited.
    if level not in (None, psycopg.IsolationLevel.READ_COMMITTED):
        raise RuntimeError(f"audit entries are appended under READ COMMITTED only (this transaction: {level.name})")


def append_op(principal: Principal, action: str, entity: str, entity_id: Any = None, before: Any = None,
              after: Any = None, *, tenant: str | None = None) -> RowOp[dict[str, Any]]:
    """Append one entry, as an operation of layers/db/frames.py: lock the head, read it, insert the next link.
    Run it inside a transaction (the lock is transaction-scoped): `record` and `record_async` do."""
    entry = _entry(principal, action, entity, entity_id, tenant)
    yield Query(_LOCK, [LOCK_KEY], rows=True)
    rows = yield Query(_NEXT, [_json_text(before), _json_text(after)], rows=True)
    entry, params = _complete(entry, rows[0])
    yield Query(_INSERT, params, rows=True)
    return entry


def record(conn: psycopg.Connection, principal: Principal, action: str, entity: str, entity_id: Any = None,
           before: Any = None, after: Any = None, *, tenant: str | None = None) -> dict[str, Any]:
    """Append an entry in the caller's transaction (one is opened when none is); returns it with its hash.

    `before`/`after` are JSON-able (dates and decimals become text); `tenant` defaults to the caller's."""
    _check_isolation(conn.isolation_level)
    with conn.transaction():
        return run(conn, append_op(principal, action, entity, entity_id, before, after, tenant=tenant))


async def record_async(conn: psycopg.AsyncConnection, principal: Principal, action: str, entity: str,
                       entity_id: Any = None, before: Any = None, after: Any = None, *,
                       tenant: str | None = None) -> dict[str, Any]:
    """`record` for the async connections of the HTTP API (the same operation)."""
    _check_isolation(conn.isolation_level)
    async with conn.transaction():
        return await arun(conn, append_op(principal, action, entity, entity_id, before, after, tenant=tenant),
                          offload=False)


@dataclass
class Verification:
    entries: int
    head_id: int | None
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None
    head_found: bool | None = None  # with an expected head: is it still in the chain?

    @property
    def ok(self) -> bool:
        return self.broken_id is None and self.head_found is not False

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "head_id": self.head_id, "head_hash": self.head_hash,
                "broken_id": self.broken_id, "problem": self.problem, "head_found": self.head_found}


def verify(conn: psycopg.Connection, expected_head: str | None = None) -> Verification:
    """Walk the chain in id order; stop at the first broken entry. `expected_head`: a hash printed by an earlier
    verify, which must still be in the chain (detects deleted newest entries and a rewritten chain)."""
    with conn.transaction(), conn.cursor(name="audit_verify") as cur:
        cur.itersize = 2000
        cur.execute(sql.SQL("SELECT {} FROM audit_log ORDER BY id").format(_READ_COLUMNS))
        return _walk(cur, expected_head)


def _walk(rows: Iterable[tuple], expected_head: str | None) -> Verification:
    prev, prev_id, count = GENESIS, None, 0
    seen_expected = None if expected_head is None else False
    for row in rows:
        entry = dict(zip(FIELDS, row[: len(FIELDS)], strict=True))
        stored_prev, stored_hash = row[len(FIELDS)], row[len(FIELDS) + 1]
        where = "the first entry" if prev_id is None else f"entry {prev_id}"
        if stored_prev != prev:
            return Verification(count, prev_id, prev, entry["id"],
                                f"entry {entry['id']} does not follow {where}: its previous hash is not {where}'s "
                                "hash (an entry was deleted, inserted or reordered before it)")
        if entry_hash(prev, entry) != stored_hash:
            return Verification(count, prev_id, prev, entry["id"],
                                f"entry {entry['id']} was changed: its content no longer matches its hash")
        prev, prev_id, count = stored_hash, entry["id"], count + 1
        if seen_expected is False and stored_hash == expected_head:
            seen_expected = True
    result = Verification(count, prev_id, prev, head_found=seen_expected)
    if seen_expected is False:
        result.problem = (f"the expected head {expected_head} is not in the chain: newer entries were deleted "
                          "or the chain was rewritten")
    return result


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Name, size and SHA-256 of an imported file, so the audit trail says exactly which file it was."""
    path = Path(path)
    if not path.is_file():
        return {"name": path.name}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def recent(conn: psycopg.Connection, limit: int = 20, entity: str | None = None) -> list[dict[str, Any]]:
    """The newest entries, newest first."""
    cur = conn.execute(
        sql.SQL("SELECT {} FROM audit_log WHERE (%s::text IS NULL OR entity = %s) ORDER BY id DESC LIMIT %s")
        .format(_READ_COLUMNS), [entity, entity, limit])
    names = (*FIELDS, "prev_hash", "hash")
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
