"""The asset register (issue 12): an activity handed over (serah terima) becomes an asset.

An asset keeps the built geometry (the proposal's, the final drawing, or an uploaded as-built file), the recipient
(an OPD, or a community group: KPP, BKM/LKM, see `create_group`), the handover date and document (berita acara
number, file), value, condition and the service life of its kind from the catalogue (activity_kinds.
service_life_years, placeholders a city may change). Inspections (condition class, photos, notes) and maintenance
(O&P) are appended; `due_for_inspection` lists the assets whose last inspection (or handover) is older than their
interval. While its service life lasts, an asset takes part in the overlap check (layers/planning/overlap.py).

Plain functions over a sync connection, no permission checks: callers (layers/planning/handover.py, the HTTP
routes and the CLI) decide who may, and write the audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, LiteralString

import psycopg
import shapely
from psycopg import sql

from geo.errors import InvalidInput, NotFound
from layers.db.rows import column_names

CONDITIONS = ("baik", "rusak_ringan", "rusak_berat")
GEOMETRY_SOURCES = ("usulan", "gambar_akhir", "berkas")
GROUP_KINDS = ("kpp", "bkm", "lkm")
MAINTENANCE_KINDS = ("operasi", "pemeliharaan", "perbaikan")
ASSET_COLUMNS = sql.SQL(
    "id, activity_id, tenant, title, kind, criteria, program, funding_source, volume, unit, value, "
    "ST_AsGeoJSON(geom, 7) AS geometry, geometry_source, geometry_file, recipient_kind, recipient_opd, "
    "recipient_group_id, handover_date, handover_number, handover_file, condition, service_life_years, "
    "extract(year FROM handover_date)::int + service_life_years AS life_ends_year, inspection_interval_months, "
    "last_inspected_on, created_by, created_at, updated_at"
)


def register_asset(conn: psycopg.Connection, activity_id: int, *, actor: str | None,
                   handover_date: dt.date | None = None) -> int:
    """The asset of a handed-over activity (called by the workflow when it reaches serah_terima): the proposal's
    geometry, its cost as value, its target agency as recipient, today as handover date, the kind's service life.
    Returns the asset id (the existing one when the activity already has an asset)."""
    row = conn.execute(
        """
        INSERT INTO assets (activity_id, tenant, title, kind, criteria, program, funding_source, volume, unit, value,
                            geom, recipient_opd, handover_date, service_life_years, created_by)
        SELECT a.id, a.tenant, a.title, a.kind, a.criteria, a.program, a.funding_source, a.volume, a.unit, a.cost,
               a.geom, a.target_agency, coalesce(%(date)s, current_date), coalesce(k.service_life_years, 1), %(actor)s
        FROM activities a JOIN activity_kinds k ON k.code = a.kind
        WHERE a.id = %(id)s
        ON CONFLICT (activity_id) DO UPDATE SET updated_at = assets.updated_at
        RETURNING id
        """, {"id": activity_id, "date": handover_date, "actor": actor}).fetchone()
    if row is None:
        raise NotFound(f"activity {activity_id} does not exist")
    return int(row[0])


def get_asset(conn: psycopg.Connection, asset_id: int) -> dict[str, Any]:
    cur = conn.execute(sql.SQL("SELECT {} FROM assets WHERE id = %s").format(ASSET_COLUMNS), [asset_id])
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist")
    asset = _jsonable(dict(zip(column_names(cur), row, strict=True)))
    asset["inspections"] = _rows(conn, "SELECT id, inspected_on, condition, notes, photos, inspector FROM "
                                       "asset_inspections WHERE asset_id = %s ORDER BY inspected_on, id", asset_id)
    asset["maintenance"] = _rows(conn, "SELECT id, done_on, kind, cost, notes, done_by FROM asset_maintenance "
                                       "WHERE asset_id = %s ORDER BY done_on, id", asset_id)
    return asset


def asset_of_activity(conn: psycopg.Connection, activity_id: int) -> int | None:
    row = conn.execute("SELECT id FROM assets WHERE activity_id = %s", [activity_id]).fetchone()
    return int(row[0]) if row else None


def update_asset(conn: psycopg.Connection, asset_id: int, details: dict[str, Any]) -> dict[str, Any]:
    """Set the handover facts: handover_date, handover_number, handover_file, value, condition, recipient (opd
    name, or group id), inspection_interval_months, and the built geometry (`geometry`: shapely, EPSG:4326, with
    `geometry_source` gambar_akhir or berkas and optionally `geometry_file`). Unknown keys are refused."""
    known = {"handover_date", "handover_number", "handover_file", "value", "condition", "recipient_opd",
             "recipient_group_id", "inspection_interval_months", "geometry", "geometry_source", "geometry_file"}
    unknown = sorted(set(details) - known)
    if unknown:
        raise InvalidInput(f"unknown asset field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values = dict(details)
    if "condition" in values and values["condition"] not in CONDITIONS:
        raise InvalidInput(f"condition '{values['condition']}' is not one of {', '.join(CONDITIONS)}")
    if "handover_date" in values:
        values["handover_date"] = _date(values["handover_date"], "handover_date")
    if "value" in values and values["value"] is not None and (not _number(values["value"]) or values["value"] < 0):
        raise InvalidInput(f"value '{values['value']}' is not a non-negative amount in rupiah")
    if "recipient_group_id" in values and values["recipient_group_id"] is not None:
        if conn.execute("SELECT 1 FROM groups WHERE id = %s", [values["recipient_group_id"]]).fetchone() is None:
            raise InvalidInput(f"recipient_group_id {values['recipient_group_id']}: no such group (KPP, BKM/LKM)")
        values["recipient_kind"] = "kelompok"
    elif values.get("recipient_opd"):
        values["recipient_kind"] = "opd"
        values["recipient_group_id"] = None
    geometry = values.pop("geometry", None)
    if geometry is not None:
        if not isinstance(geometry, shapely.Geometry) or geometry.is_empty or not geometry.is_valid:
            raise InvalidInput("geometry: the as-built geometry is empty or not valid")
        values["geometry_source"] = values.get("geometry_source") or "gambar_akhir"
    if values.get("geometry_source", "usulan") not in GEOMETRY_SOURCES:
        raise InvalidInput(f"geometry_source '{values['geometry_source']}' is not one of {', '.join(GEOMETRY_SOURCES)}")
    sets: list[sql.Composable] = [sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
                                  for name in sorted(values)]
    if geometry is not None:
        sets.append(sql.SQL("geom = ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326)"))
        values["wkb"] = shapely.to_wkb(geometry, byte_order=1)
    if sets:
        cur = conn.execute(sql.SQL("UPDATE assets SET {}, updated_at = now() WHERE id = %(asset_id)s").format(
            sql.SQL(", ").join(sets)), {**values, "asset_id": asset_id})
        if cur.rowcount == 0:
            raise NotFound(f"asset {asset_id} does not exist")
    return get_asset(conn, asset_id)


def add_inspection(conn: psycopg.Connection, asset_id: int, *, inspected_on: Any, condition: str,
                   notes: str | None = None, photos: list[str] | None = None,
                   inspector: str | None = None) -> dict[str, Any]:
    """A condition inspection (baik / rusak ringan / rusak berat, photos as stored attachment names, notes);
    the asset's condition and last inspection date follow the latest inspection."""
    if condition not in CONDITIONS:
        raise InvalidInput(f"condition '{condition}' is not one of {', '.join(CONDITIONS)}")
    day = _date(inspected_on, "inspected_on")
    if day > dt.date.today():
        raise InvalidInput(f"inspected_on {day} is in the future")
    row = conn.execute(
        "INSERT INTO asset_inspections (asset_id, inspected_on, condition, notes, photos, inspector) "
        "SELECT id, %s, %s, %s, %s, %s FROM assets WHERE id = %s RETURNING id",
        [day, condition, notes, photos or [], inspector, asset_id]).fetchone()
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist")
    conn.execute(
        "UPDATE assets SET (condition, last_inspected_on) = (SELECT i.condition, i.inspected_on "
        "FROM asset_inspections i WHERE i.asset_id = assets.id ORDER BY i.inspected_on DESC, i.id DESC LIMIT 1), "
        "updated_at = now() WHERE id = %s", [asset_id])
    return {"id": int(row[0]), "asset_id": asset_id, "inspected_on": day.isoformat(), "condition": condition,
            "notes": notes, "photos": photos or [], "inspector": inspector}


def add_maintenance(conn: psycopg.Connection, asset_id: int, *, done_on: Any, kind: str, cost: float | None = None,
                    notes: str | None = None, done_by: str | None = None) -> dict[str, Any]:
    """An O&P record: operasi, pemeliharaan or perbaikan, its date, cost and notes."""
    if kind not in MAINTENANCE_KINDS:
        raise InvalidInput(f"kind '{kind}' is not one of {', '.join(MAINTENANCE_KINDS)}")
    if cost is not None and (not _number(cost) or cost < 0):
        raise InvalidInput(f"cost '{cost}' is not a non-negative amount in rupiah")
    day = _date(done_on, "done_on")
    row = conn.execute(
        "INSERT INTO asset_maintenance (asset_id, done_on, kind, cost, notes, done_by) "
        "SELECT id, %s, %s, %s, %s, %s FROM assets WHERE id = %s RETURNING id",
        [day, kind, cost, notes, done_by, asset_id]).fetchone()
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return {"id": int(row[0]), "asset_id": asset_id, "done_on": day.isoformat(), "kind": kind, "cost": cost,
            "notes": notes, "done_by": done_by}


def due_for_inspection(conn: psycopg.Connection, *, tenants: list[str] | None = None,
                       today: dt.date | None = None) -> list[dict[str, Any]]:
    """Assets whose last inspection (or, never inspected, their handover) is older than their interval, the most
    overdue first. `tenants` None: every tenant."""
    cur = conn.execute(
        """
        SELECT id, tenant, title, kind, condition, handover_date, last_inspected_on,
               (coalesce(last_inspected_on, handover_date) + make_interval(months => inspection_interval_months))::date
                   AS due_on
        FROM assets
        WHERE (coalesce(last_inspected_on, handover_date) + make_interval(months => inspection_interval_months))::date
              < %(today)s
          AND (%(tenants)s::text[] IS NULL OR tenant = ANY(%(tenants)s::text[]))
        ORDER BY due_on, id
        """, {"today": today or dt.date.today(), "tenants": tenants})
    names = column_names(cur)
    return [_jsonable(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def create_group(conn: psycopg.Connection, *, tenant: str, kind: str, name: str, kelurahan_code: str | None = None,
                 parent_id: int | None = None, area: shapely.Geometry | None = None,
                 members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A community group that may receive assets: KPP (under a BKM/LKM: `parent_id`), BKM or LKM, with its
    members (name, role, phone) and its area (a polygon, EPSG:4326)."""
    if kind not in GROUP_KINDS:
        raise InvalidInput(f"group kind '{kind}' is not one of {', '.join(GROUP_KINDS)}")
    if not (name or "").strip():
        raise InvalidInput("name: a group needs a name")
    wkb = None
    if area is not None:
        if shapely.get_type_id(area) not in (3, 6) or not area.is_valid:
            raise InvalidInput("area: the group's area must be a valid polygon")
        wkb = shapely.to_wkb(shapely.multipolygons([area]) if area.geom_type == "Polygon" else area, byte_order=1)
    row = conn.execute(
        "INSERT INTO groups (tenant, kind, name, kelurahan_code, parent_id, geom) VALUES "
        "(%s, %s, %s, %s, %s, ST_SetSRID(ST_GeomFromWKB(%s), 4326)) RETURNING id",
        [tenant, kind, name.strip(), kelurahan_code, parent_id, wkb]).fetchone()
    if row is None:
        raise RuntimeError("INSERT INTO groups returned no id")
    for member in members or []:
        if not (member.get("name") or "").strip():
            raise InvalidInput("members: every member needs a name")
        conn.execute("INSERT INTO group_members (group_id, name, role, phone) VALUES (%s, %s, %s, %s)",
                     [row[0], member["name"].strip(), member.get("role"), member.get("phone")])
    return {"id": int(row[0]), "tenant": tenant, "kind": kind, "name": name.strip(), "kelurahan_code": kelurahan_code,
            "parent_id": parent_id, "members": len(members or [])}


def _rows(conn: psycopg.Connection, query: LiteralString, *params: Any) -> list[dict[str, Any]]:
    cur = conn.execute(query, list(params))
    names = column_names(cur)
    return [_jsonable(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    import decimal
    import json

    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        elif isinstance(value, decimal.Decimal):
            value = float(value)
        elif key == "geometry" and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{name}: '{value}' is not a date (YYYY-MM-DD)") from None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)

