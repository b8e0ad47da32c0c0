"""Plans and budgets (issue 12 item 4): planning documents with their items, an activity linked to the plan item it
implements, and budget lines (DPA / kode rekening, allocated and realised per year and funding source).

Plans: RPLP and RKM belong to a kelurahan (the BKM's plans; its lurah enters them, BKMs have no account), RP2KP-KP and
SIAP to the kab/kota, RKPD to a year. Money has three states that are never added up: proposed (an activity's cost
estimate), budgeted (a budget line's allocated amount) and realised (its realised amount); keterpaduan and the
exports keep them in columns of their own. Each write checks its permission (plan.manage, budget.manage) and
appends an audit entry in the same transaction.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg

from geo.errors import Conflict, InvalidInput, NotFound
from layers.accounts import audit
from layers.accounts.access import Principal, row_filter
from layers.accounts.permissions import Target, require
from layers.db.rows import column_names

PLAN_KINDS = {"rplp": "RPLP", "rkm": "RKM", "rp2kpkp": "RP2KP-KP", "siap": "SIAP", "rkpd": "RKPD"}
KELURAHAN_PLANS = ("rplp", "rkm")


def _text(fields: dict, key: str, *, required: bool = False, limit: int = 500) -> str | None:
    value = fields.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"'{key}' is required", details=[{"field": key, "reason": "required"}])
        return None
    if not isinstance(value, str | int):
        raise InvalidInput(f"'{key}' must be text", details=[{"field": key, "reason": "not text"}])
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"'{key}' is longer than {limit} characters", details=[{"field": key, "reason": "too long"}])
    return text


def _year(fields: dict, key: str, *, required: bool = False) -> int | None:
    value = fields.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"'{key}' is required", details=[{"field": key, "reason": "required"}])
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{key}' must be a year, got {value!r}", details=[{"field": key, "reason": "not a year"}]
                           ) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"'{key}' {year} is not between 2000 and 2100", details=[{"field": key,
                                                                                      "reason": "out of range"}])
    return year


def _money(fields: dict, key: str, *, required: bool = False) -> Decimal | None:
    value = fields.get(key)
    if value is None:
        if required:
            raise InvalidInput(f"'{key}' is required (rupiah)", details=[{"field": key, "reason": "required"}])
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"'{key}' must be an amount in rupiah, got {value!r}",
                           details=[{"field": key, "reason": "not a number"}]) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("1e15"):
        raise InvalidInput(f"'{key}' must be between 0 and 10^15 rupiah, got {value!r}",
                           details=[{"field": key, "reason": "out of range"}])
    return amount


def _tenant(value: Any) -> str:
    text = str(value or "").strip()
    if len(text) == 4 and text.isdigit():
        text = f"{text[:2]}.{text[2:]}"
    if len(text) != 5 or text[2] != "." or not (text[:2] + text[3:]).isdigit():
        raise InvalidInput(f"tenant must be a kab/kota code such as 12.71, got {value!r}",
                           details=[{"field": "tenant", "reason": "not a kab/kota code"}])
    return text


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            value = float(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[key] = value
    return out


def _one(conn: psycopg.Connection, query: str, params: list) -> dict[str, Any] | None:
    cur = conn.execute(query, params)
    row = cur.fetchone()
    return None if row is None else dict(zip(column_names(cur), row, strict=True))


def create_plan(conn: psycopg.Connection, principal: Principal, fields: dict) -> dict[str, Any]:
    kind = _text(fields, "kind", required=True)
    if kind not in PLAN_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(PLAN_KINDS)}, got {kind!r}",
                           details=[{"field": "kind", "reason": "unknown plan kind"}])
    tenant = _tenant(fields.get("tenant") or principal.tenant)
    kelurahan = _text(fields, "kelurahan_code", required=kind in KELURAHAN_PLANS, limit=13)
    if kind not in KELURAHAN_PLANS:
        kelurahan = None
    elif not (kelurahan and kelurahan.startswith(tenant + ".") and len(kelurahan) == 13):
        raise InvalidInput(f"an {PLAN_KINDS[kind]} belongs to a kelurahan of {tenant} (kelurahan_code such as "
                           f"{tenant}.01.1001), got {kelurahan!r}", details=[{"field": "kelurahan_code",
                                                                                "reason": "not a kelurahan"}])
    year_start = _year(fields, "year_start", required=True)
    year_end = _year(fields, "year_end") or year_start
    assert year_start is not None and year_end is not None
    if year_end < year_start:
        raise InvalidInput("year_end is before year_start", details=[{"field": "year_end", "reason": "before start"}])
    title = _text(fields, "title") or f"{PLAN_KINDS[kind]} {year_start}" + (f"-{year_end}" if year_end != year_start
                                                                           else "")
    with conn.transaction():
        require(principal, "plan.manage", Target(tenant=tenant, area_code=kelurahan))
        row = _one(conn, "INSERT INTO plans (tenant, kind, title, kelurahan_code, year_start, year_end, "
                   "document_number, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                   [tenant, kind, title, kelurahan, year_start, year_end, _text(fields, "document_number"),
                    principal.username])
        assert row is not None
        plan = _plain(row)
        audit.record(conn, principal, "plan.create", "plans", plan["id"], after=plan, tenant=tenant)
    return plan


def _plan(conn: psycopg.Connection, principal: Principal, plan_id: int) -> dict[str, Any]:
    row = _one(conn, "SELECT * FROM plans WHERE id = %s", [plan_id])  # plans are public record (list_plans)
    if row is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return row


def add_item(conn: psycopg.Connection, principal: Principal, plan_id: int, fields: dict) -> dict[str, Any]:
    kind = _text(fields, "kind", limit=100)
    with conn.transaction():
        plan = _plan(conn, principal, plan_id)
        require(principal, "plan.manage", Target(tenant=plan["tenant"], area_code=plan["kelurahan_code"]))
        if kind is not None and conn.execute("SELECT 1 FROM activity_kinds WHERE code = %s", [kind]).fetchone() is None:
            raise InvalidInput(f"unknown activity kind {kind!r}", details=[{"field": "kind", "reason": "unknown"}])
        year = _year(fields, "year")
        if year is not None and not plan["year_start"] <= year <= plan["year_end"]:
            raise InvalidInput(f"year {year} is outside the plan's years {plan['year_start']}-{plan['year_end']}",
                               details=[{"field": "year", "reason": "outside the plan"}])
        row = _one(conn, "INSERT INTO plan_items (plan_id, code, title, kind, kelurahan_code, year, volume, unit, "
                   "cost_estimate) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *",
                   [plan_id, _text(fields, "code", limit=50), _text(fields, "title", required=True), kind,
                    plan["kelurahan_code"] or _text(fields, "kelurahan_code", limit=13), year,
                    _money(fields, "volume"), _text(fields, "unit", limit=20), _money(fields, "cost_estimate")])
        assert row is not None
        item = _plain(row)
        audit.record(conn, principal, "plan.item", "plan_items", item["id"], after=item, tenant=plan["tenant"])
    return item


def _activity(conn: psycopg.Connection, principal: Principal, activity_id: int) -> dict[str, Any]:
    from psycopg import sql

    cur = conn.execute(sql.SQL("SELECT t.id, t.tenant, t.kelurahan_code, t.target_agency, t.plan_item_id, t.status, "
                               "t.funding_source, t.year_start FROM activities t WHERE t.id = %s AND {} FOR UPDATE"
                               ).format(row_filter(principal, "activities")), [activity_id])
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"activity {activity_id} does not exist")
    return dict(zip(column_names(cur), row, strict=True))


def link_activity(conn: psycopg.Connection, principal: Principal, activity_id: int, plan_item_id: int
                  ) -> dict[str, Any]:
    """The activity implements this plan item (same kab/kota)."""
    with conn.transaction():
        activity = _activity(conn, principal, activity_id)
        require(principal, "plan.manage", Target(tenant=activity["tenant"], area_code=activity["kelurahan_code"]))
        item = _one(conn, "SELECT i.id, i.title, p.tenant, p.kind FROM plan_items i JOIN plans p ON p.id = i.plan_id "
                    "WHERE i.id = %s", [plan_item_id])
        if item is None or item["tenant"] != activity["tenant"]:
            raise NotFound(f"plan item {plan_item_id} does not exist in kab/kota {activity['tenant']}")
        conn.execute("UPDATE activities SET plan_item_id = %s, updated_at = now() WHERE id = %s",
                     [plan_item_id, activity_id])
        after = {"activity_id": activity_id, "plan_item_id": plan_item_id, "plan_kind": item["kind"],
                 "plan_item": item["title"]}
        audit.record(conn, principal, "activity.plan_item", "activities", activity_id,
                     before={"plan_item_id": activity["plan_item_id"]}, after=after, tenant=activity["tenant"])
    return after


def set_budget_line(conn: psycopg.Connection, principal: Principal, activity_id: int, fields: dict
                    ) -> dict[str, Any]:
    """Add a budget line of an activity, or change the allocated/realised amounts of the line with the same year,
    funding source and kode rekening. Realised never exceeds allocated."""
    year = _year(fields, "year", required=True)
    account = _text(fields, "account_code", required=True, limit=100)
    allocated = _money(fields, "allocated", required=True)
    realised = _money(fields, "realised") or Decimal(0)
    assert allocated is not None
    if realised > allocated:
        raise InvalidInput(f"realised {realised} is more than allocated {allocated}",
                           details=[{"field": "realised", "reason": "more than allocated"}])
    with conn.transaction():
        activity = _activity(conn, principal, activity_id)
        require(principal, "budget.manage", Target(tenant=activity["tenant"], area_code=activity["kelurahan_code"],
                                                   agency=activity["target_agency"]))
        if activity["status"] in ("ditolak", "dibatalkan"):
            raise Conflict(f"activity {activity_id} is {activity['status']}: it gets no budget")
        source = _text(fields, "funding_source", limit=50) or activity["funding_source"]
        if source is None or conn.execute("SELECT 1 FROM funding_sources WHERE code = %s", [source]).fetchone() is None:
            raise InvalidInput(f"unknown funding source {source!r}",
                               details=[{"field": "funding_source", "reason": "unknown"}])
        before = _one(conn, "SELECT * FROM budget_lines WHERE activity_id = %s AND year = %s AND funding_source = %s "
                      "AND account_code = %s", [activity_id, year, source, account])
        row = _one(conn, """
            INSERT INTO budget_lines (tenant, activity_id, plan_item_id, year, funding_source, dpa_number,
                account_code, allocated, realised, created_by)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT ON CONSTRAINT budget_lines_key DO UPDATE SET allocated = EXCLUDED.allocated,
                realised = EXCLUDED.realised, dpa_number = coalesce(EXCLUDED.dpa_number, budget_lines.dpa_number),
                updated_at = now()
            RETURNING *""", [activity["tenant"], activity_id, activity["plan_item_id"], year, source,
                             _text(fields, "dpa_number", limit=100), account, allocated, realised,
                             principal.username])
        assert row is not None
        # the activity's money changed: touching it bumps the `activities` layer version, so ETag'd answers that
        # carry budgeted/realised (the `keterpaduan` items and tiles) are not served stale from a cache
        conn.execute("UPDATE activities SET updated_at = now() WHERE id = %s", [activity_id])
        line = _plain(row)
        audit.record(conn, principal, "budget.line", "budget_lines", line["id"],
                     before=_plain(before) if before else None, after=line, tenant=activity["tenant"])
    return line


def list_plans(conn: psycopg.Connection, tenant: str) -> list[dict[str, Any]]:
    """A tenant's plans with their items and the activities implementing each (public: no personal data)."""
    cur = conn.execute(
        """
        SELECT p.id, p.kind, p.title, p.kelurahan_code, p.year_start, p.year_end, p.document_number,
               coalesce(jsonb_agg(jsonb_build_object('id', i.id, 'code', i.code, 'title', i.title, 'kind', i.kind,
                   'year', i.year, 'cost_estimate', i.cost_estimate,
                   'activities', (SELECT coalesce(jsonb_agg(a.id ORDER BY a.id), '[]'::jsonb) FROM activities a
                                  WHERE a.plan_item_id = i.id)) ORDER BY i.id) FILTER (WHERE i.id IS NOT NULL),
                        '[]'::jsonb) AS items
        FROM plans p LEFT JOIN plan_items i ON i.plan_id = p.id
        WHERE p.tenant = %s GROUP BY p.id ORDER BY p.kind, p.year_start, p.id""", [_tenant(tenant)])
    names = column_names(cur)
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
