"""Asset register use cases as the HTTP API and the CLI perform them (issue 12): who may (layers/accounts/permissions.py
asset.manage, asset.inspect, group.manage), then the write (layers/planning/assets.py), then the audit entry, all in
one transaction.

Assets are public (the public record shows works and assets): anyone reads an asset, its inspections and
maintenance. Who recorded an inspection or maintenance, and group members' names and phones, are shown to the
asset's or group's own tenant only. Files (the berita acara document, inspection photos) go to the attachment store
(layers/planning/storage.py, the same as proposal photos, named by SHA-256); the register keeps their location and
shows only whether there is one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql

from geo.errors import InvalidInput, NotFound, TooLarge, UnsupportedFormat
from geo.read import read_vector
from geo.validate import geojson_problem
from layers.accounts import audit
from layers.accounts.access import Principal, row_filter
from layers.accounts.permissions import Target, require, require_role
from layers.planning import assets
from layers.planning.attachments import MAX_FILES, MAX_PHOTO_BYTES, check_pixels, sniff
from layers.planning.storage import file_key, file_store, read_file
from layers.settings import Settings
from layers.values.codes import tenant_code
from layers.values.fields import number_or_none

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_GEOMETRY_FILE_BYTES = 20 * 1024 * 1024
DOCUMENT_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png"}
GEOMETRY_SUFFIXES = (".geojson", ".json", ".gpkg")
NUMBER_FIELDS = {"value": float, "recipient_group_id": int, "inspection_interval_months": int}
# Who did it: an official's user name, shown to the asset's own tenant only.
ACTOR_FIELDS = ("created_by", "inspector", "done_by")


# -- reading ------------------------------------------------------------------------------------------------------
def _place(conn: psycopg.Connection, principal: Principal, asset_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The asset's tenant, kelurahan (its activity's) and agency (recipient OPD, else the activity's target agency),
    read through the row filter (assets are public: every caller sees them)."""
    row = conn.execute(sql.SQL(
        "SELECT t.tenant, a.kelurahan_code, coalesce(t.recipient_opd, a.target_agency) AS agency "
        "FROM assets t JOIN activities a ON a.id = t.activity_id WHERE t.id = %s AND {}{}").format(
        row_filter(principal, "assets"), sql.SQL(" FOR UPDATE OF t" if lock else "")), [asset_id]).fetchone()
    if row is None:
        raise NotFound(f"asset {asset_id} does not exist")
    return {"tenant": row[0], "kelurahan_code": row[1], "agency": row[2]}


def _target(place: dict[str, Any]) -> Target:
    return Target(tenant=place["tenant"], area_code=place["kelurahan_code"], agency=place["agency"])


def public_view(asset: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """The asset as `principal` may read it: stored file locations become flags and names; who recorded what is
    shown to the asset's own tenant only."""
    own = principal.reads_tenant(asset.get("tenant"))
    out = {k: v for k, v in asset.items() if k not in ("handover_file", "geometry_file")}
    out["handover_document"] = asset.get("handover_file") is not None
    out["geometry_file"] = Path(asset["geometry_file"]).name if asset.get("geometry_file") else None
    year = dt.date.today().year
    out["remaining_life_years"] = max(0, int(asset["life_ends_year"]) - year)
    if not own:
        for key in ACTOR_FIELDS:
            out.pop(key, None)
    for list_name in ("inspections", "maintenance"):
        rows = []
        for record in asset.get(list_name, []):
            record = dict(record)
            if "photos" in record:
                record["photos"] = [Path(p).name for p in record["photos"] or []]
            if not own:
                for key in ACTOR_FIELDS:
                    record.pop(key, None)
            rows.append(record)
        out[list_name] = rows
    return out


def show(conn: psycopg.Connection, principal: Principal, asset_id: int) -> dict[str, Any]:
    _place(conn, principal, asset_id)
    return public_view(assets.get_asset(conn, asset_id), principal)


def list_assets(conn: psycopg.Connection, principal: Principal, tenant: str | None = None) -> list[dict[str, Any]]:
    """Every asset (of one tenant), newest handover first, without geometry: the register as a table."""
    code = tenant_code(tenant) if tenant else None
    cur = conn.execute(sql.SQL(
        "SELECT t.id, t.tenant, t.activity_id, t.title, t.kind, t.condition, t.handover_date, t.handover_number, "
        "coalesce(g.name, t.recipient_opd) AS recipient, t.value, t.service_life_years, "
        "extract(year FROM t.handover_date)::int + t.service_life_years AS life_ends_year, t.last_inspected_on "
        "FROM assets t LEFT JOIN groups g ON g.id = t.recipient_group_id "
        "WHERE {} AND (%(tenant)s::text IS NULL OR t.tenant = %(tenant)s) ORDER BY t.handover_date DESC, t.id DESC"
    ).format(row_filter(principal, "assets")), {"tenant": code})
    names = [c.name for c in cur.description or []]
    return [assets._jsonable(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def export_rows(conn: psycopg.Connection, tenant: str) -> list[dict[str, Any]]:
    """The register of one tenant for the exports' `aset` layer: public fields only, geometry as WKB (2D)."""
    cur = conn.execute(
        "SELECT t.id AS asset_id, t.activity_id, t.title, t.kind, t.program, t.funding_source, "
        "t.volume::float8 AS volume, t.unit, coalesce(g.name, t.recipient_opd) AS recipient, "
        "t.handover_date::text AS handover_date, t.handover_number, t.value::float8 AS value, t.condition, "
        "t.service_life_years, extract(year FROM t.handover_date)::int + t.service_life_years AS life_ends_year, "
        "greatest(0, extract(year FROM t.handover_date)::int + t.service_life_years "
        "- extract(year FROM current_date)::int) AS remaining_life_years, "
        "t.last_inspected_on::text AS last_inspected_on, "
        "((coalesce(t.last_inspected_on, t.handover_date) + make_interval(months => t.inspection_interval_months))"
        "::date < current_date) AS due_for_inspection, ST_AsBinary(ST_Force2D(t.geom)) AS wkb "
        "FROM assets t LEFT JOIN groups g ON g.id = t.recipient_group_id WHERE t.tenant = %s ORDER BY t.id",
        [tenant_code(tenant)])
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def due(conn: psycopg.Connection, principal: Principal, tenant: str, today: dt.date | None = None
        ) -> list[dict[str, Any]]:
    """Assets of `tenant` past due for inspection (public, like the register)."""
    return assets.due_for_inspection(conn, tenants=[tenant_code(tenant)], today=today)


def document(conn: psycopg.Connection, principal: Principal, asset_id: int, *, settings: Settings
             ) -> tuple[str, bytes]:
    """(media type, bytes) of the asset's berita acara file."""
    _place(conn, principal, asset_id)
    row = conn.execute("SELECT handover_file FROM assets WHERE id = %s", [asset_id]).fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"asset {asset_id} has no berita acara file")
    extension = Path(row[0]).suffix.lstrip(".").lower()
    return DOCUMENT_TYPES.get(extension, "application/octet-stream"), read_file(row[0], settings)


def inspection_photo(conn: psycopg.Connection, principal: Principal, asset_id: int, inspection_id: int, number: int,
                     *, settings: Settings) -> tuple[str, bytes]:
    """(media type, bytes) of photo `number` (from 1) of an inspection, for anyone (assets are public)."""
    _place(conn, principal, asset_id)
    row = conn.execute("SELECT photos FROM asset_inspections WHERE id = %s AND asset_id = %s",
                       [inspection_id, asset_id]).fetchone()
    if row is None:
        raise NotFound(f"asset {asset_id} has no inspection {inspection_id}")
    photos = row[0] or []
    if not 1 <= number <= len(photos):
        raise NotFound(f"inspection {inspection_id} has {len(photos)} photo(s), not a photo {number}")
    extension = Path(photos[number - 1]).suffix.lstrip(".").lower()
    return DOCUMENT_TYPES.get(extension, "application/octet-stream"), read_file(photos[number - 1], settings)


# -- files --------------------------------------------------------------------------------------------------------
def _store(content: bytes, extension: str, media_type: str, settings: Settings) -> str:
    return file_store(settings).put(file_key(hashlib.sha256(content).hexdigest(), extension), content, media_type)


def store_document(file_name: str, content: bytes, settings: Settings) -> str:
    """A berita acara file (PDF, or a JPEG/PNG scan), type read from its bytes; returns its stored location."""
    if not content:
        raise InvalidInput(f"{file_name} is empty", details=[{"field": "document", "reason": "empty file"}])
    if len(content) > MAX_DOCUMENT_BYTES:
        raise TooLarge(f"{file_name}: {len(content) / 1e6:.1f} MB is over the {MAX_DOCUMENT_BYTES // 2**20} MB limit")
    if content.startswith(b"%PDF-"):
        extension, media_type = "pdf", "application/pdf"
    else:
        try:
            media_type, extension = sniff(content)
        except UnsupportedFormat:
            raise UnsupportedFormat(f"{file_name}: a berita acara must be a PDF, JPEG or PNG file") from None
        if not media_type.startswith("image/"):
            raise UnsupportedFormat(f"{file_name}: a berita acara must be a PDF, JPEG or PNG file, not a video")
        check_pixels(content, file_name)
    return _store(content, extension, media_type, settings)


def store_photo(file_name: str, content: bytes, settings: Settings) -> str:
    """An inspection photo (JPEG or PNG, at most 10 MB); returns its stored location."""
    if not content:
        raise InvalidInput(f"{file_name} is empty", details=[{"field": "photos", "reason": "empty file"}])
    if len(content) > MAX_PHOTO_BYTES:
        raise TooLarge(f"{file_name}: {len(content) / 1e6:.1f} MB is over the {MAX_PHOTO_BYTES // 2**20} MB limit")
    media_type, extension = sniff(content)
    if not media_type.startswith("image/"):
        raise UnsupportedFormat(f"{file_name}: an inspection photo must be a JPEG or PNG")
    check_pixels(content, file_name)
    return _store(content, extension, media_type, settings)


def geometry_from_file(file_name: str, content: bytes) -> shapely.Geometry:
    """The as-built geometry in a GeoJSON or GeoPackage file (any CRS, reprojected to EPSG:4326): its one feature, or
    its features joined into one multi-geometry."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in GEOMETRY_SUFFIXES:
        raise UnsupportedFormat(f"{file_name}: the as-built geometry must be a GeoJSON or GeoPackage file "
                                f"({', '.join(GEOMETRY_SUFFIXES)})")
    if len(content) > MAX_GEOMETRY_FILE_BYTES:
        raise TooLarge(f"{file_name}: over the {MAX_GEOMETRY_FILE_BYTES // 2**20} MB limit")
    with tempfile.TemporaryDirectory(prefix="kotaku-asbuilt-") as folder:
        path = Path(folder) / f"gambar_akhir{suffix}"
        path.write_bytes(content)
        frame = read_vector(path).frame
    shapes = [g for g in frame.geometry if g is not None and not g.is_empty]
    if not shapes:
        raise InvalidInput(f"{file_name} holds no geometry", details=[{"field": "geometry_file",
                                                                       "reason": "no features"}])
    if len(shapes) == 1:
        return shapes[0]
    kinds = {shapely.get_type_id(g) for g in shapes}
    if kinds <= {1, 5}:
        return shapely.multilinestrings([line for g in shapes for line in shapely.get_parts(g)])
    if kinds <= {3, 6}:
        return shapely.multipolygons([poly for g in shapes for poly in shapely.get_parts(g)])
    if kinds <= {0, 4}:
        return shapely.multipoints([point for g in shapes for point in shapely.get_parts(g)])
    raise InvalidInput(f"{file_name} mixes points, lines and polygons: an asset has one kind of geometry")


def geometry_from_geojson(value: Any) -> shapely.Geometry:
    problem = geojson_problem(value)
    if problem:
        raise InvalidInput(f"geometry: {problem}", details=[{"field": "geometry", "reason": problem}])
    try:
        return shapely.from_geojson(json.dumps(value))
    except (shapely.errors.GEOSException, ValueError, TypeError) as error:
        raise InvalidInput(f"geometry is not valid GeoJSON: {error}",
                           details=[{"field": "geometry", "reason": str(error)}]) from None


def _numbers(details: dict[str, Any]) -> dict[str, Any]:
    """Form fields arrive as text: value, recipient_group_id and inspection_interval_months as numbers."""
    out = dict(details)
    for name, kind in NUMBER_FIELDS.items():
        if name in out and isinstance(out[name], str):
            try:
                number = number_or_none(out[name])
            except ValueError:
                number = None
            if number is None or (kind is int and not number.is_integer()):
                raise InvalidInput(f"{name}: '{out[name]}' is not a {'whole ' if kind is int else ''}number",
                                   details=[{"field": name, "reason": "not a number"}])
            out[name] = kind(number)
    return out


# -- writing ------------------------------------------------------------------------------------------------------
def _audit_view(asset: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in asset.items() if k not in ("inspections", "maintenance")}


def update(conn: psycopg.Connection, principal: Principal, asset_id: int, details: dict[str, Any], *,
           settings: Settings, document: tuple[str, bytes] | None = None,
           geometry_file: tuple[str, bytes] | None = None) -> dict[str, Any]:
    """Handover details (berita acara number and date, value, recipient OPD or group, condition, inspection
    interval), the berita acara file, and the as-built geometry: drawn (`details['geometry']`, GeoJSON) or a
    GeoJSON/GPKG file. asset.manage on the asset's place."""
    require_role(principal, "asset.manage")
    details = _numbers({k: v for k, v in details.items() if v is not None and v != ""})
    if "geometry" in details and geometry_file is not None:
        raise InvalidInput("send the as-built geometry either drawn (geometry) or as a file (geometry_file), not both")
    if "geometry" in details:
        details["geometry"] = geometry_from_geojson(details["geometry"])
        details.setdefault("geometry_source", "gambar_akhir")
    with conn.transaction():
        place = _place(conn, principal, asset_id, lock=True)
        require(principal, "asset.manage", _target(place))
        if details.get("recipient_group_id") is not None:
            _group_of_tenant(conn, details["recipient_group_id"], place["tenant"])
        if geometry_file is not None:
            name, content = geometry_file
            details["geometry"] = geometry_from_file(name, content)
            details["geometry_source"] = "berkas"
            details["geometry_file"] = _store(content, Path(name).suffix.lstrip(".").lower() or "bin",
                                              "application/octet-stream", settings)
        if document is not None:
            details["handover_file"] = store_document(document[0], document[1], settings)
        if not details:
            raise InvalidInput("nothing to change: give handover_date, handover_number, value, recipient_opd, "
                               "recipient_group_id, condition, inspection_interval_months, geometry or a file")
        before = assets.get_asset(conn, asset_id)
        after = assets.update_asset(conn, asset_id, details)
        audit.record(conn, principal, "asset.update", "assets", asset_id, before=_audit_view(before),
                     after=_audit_view(after), tenant=place["tenant"])
    return public_view(after, principal)


def inspect(conn: psycopg.Connection, principal: Principal, asset_id: int, *, inspected_on: Any, condition: str,
            notes: str | None = None, photos: list[tuple[str, bytes]] | None = None,
            settings: Settings) -> dict[str, Any]:
    """An inspection (condition class baik / rusak_ringan / rusak_berat, notes, up to 5 photos): the asset's
    condition follows its latest inspection. asset.inspect on the asset's place."""
    require_role(principal, "asset.inspect")
    if len(photos or []) > MAX_FILES:
        raise InvalidInput(f"an inspection has at most {MAX_FILES} photos ({len(photos or [])} sent)")
    with conn.transaction():
        place = _place(conn, principal, asset_id, lock=True)
        require(principal, "asset.inspect", _target(place))
        stored = [store_photo(name, content, settings) for name, content in photos or []]
        record = assets.add_inspection(conn, asset_id, inspected_on=inspected_on, condition=condition, notes=notes,
                                       photos=stored, inspector=principal.username)
        audit.record(conn, principal, "asset.inspect", "assets", asset_id, after=record, tenant=place["tenant"])
        condition_now = assets.get_asset(conn, asset_id)["condition"]
    return {**record, "photos": [Path(p).name for p in stored], "asset_condition": condition_now}


def maintain(conn: psycopg.Connection, principal: Principal, asset_id: int, *, done_on: Any, kind: str,
             cost: float | None = None, notes: str | None = None) -> dict[str, Any]:
    """An O&P record (operasi, pemeliharaan, perbaikan). asset.inspect on the asset's place."""
    require_role(principal, "asset.inspect")
    with conn.transaction():
        place = _place(conn, principal, asset_id, lock=True)
        require(principal, "asset.inspect", _target(place))
        record = assets.add_maintenance(conn, asset_id, done_on=done_on, kind=kind, cost=cost, notes=notes,
                                        done_by=principal.username)
        audit.record(conn, principal, "asset.maintain", "assets", asset_id, after=record, tenant=place["tenant"])
    return record


# -- community groups ---------------------------------------------------------------------------------------------
def _group_of_tenant(conn: psycopg.Connection, group_id: Any, tenant: str) -> None:
    row = conn.execute("SELECT tenant FROM groups WHERE id = %s", [group_id]).fetchone()
    if row is None:
        raise InvalidInput(f"recipient_group_id {group_id}: no such group (KPP, BKM/LKM)",
                           details=[{"field": "recipient_group_id", "reason": "no such group"}])
    if row[0] != tenant:
        raise InvalidInput(f"recipient_group_id {group_id}: the group belongs to kab/kota {row[0]}, the asset to "
                           f"{tenant}", details=[{"field": "recipient_group_id", "reason": "other kab/kota"}])


def groups(conn: psycopg.Connection, principal: Principal, tenant: str | None = None) -> list[dict[str, Any]]:
    """Groups (of one tenant): kind, name, kelurahan, parent, assets kept; members (name, role, phone) only for the
    group's own tenant, else their number."""
    code = tenant_code(tenant) if tenant else None
    cur = conn.execute(
        "SELECT g.id, g.tenant, g.kind, g.name, g.kelurahan_code, g.parent_id, "
        "(SELECT count(*) FROM assets s WHERE s.recipient_group_id = g.id) AS assets, "
        "(SELECT coalesce(json_agg(json_build_object('id', m.id, 'name', m.name, 'role', m.role, 'phone', m.phone) "
        "ORDER BY m.id), '[]'::json) FROM group_members m WHERE m.group_id = g.id) AS members "
        "FROM groups g WHERE (%(tenant)s::text IS NULL OR g.tenant = %(tenant)s) ORDER BY g.tenant, g.id",
        {"tenant": code})
    out = []
    for gid, gtenant, kind, name, kelurahan, parent, count, members in cur.fetchall():
        group = {"id": gid, "tenant": gtenant, "kind": kind, "name": name, "kelurahan_code": kelurahan,
                 "parent_id": parent, "assets": count, "member_count": len(members)}
        if principal.reads_tenant(gtenant) and not principal.is_public:
            group["members"] = members
        out.append(group)
    return out


def add_group(conn: psycopg.Connection, principal: Principal, fields: dict[str, Any]) -> dict[str, Any]:
    """A KPP, BKM or LKM of a tenant (and kelurahan), with optional members. group.manage on its place."""
    require_role(principal, "group.manage")
    known = {"tenant", "kind", "name", "kelurahan_code", "parent_id", "members", "area"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidInput(f"unknown group field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    tenant = tenant_code(fields.get("tenant") or principal.tenant or "")
    kelurahan = fields.get("kelurahan_code")
    if kelurahan and not str(kelurahan).startswith(tenant + "."):
        raise InvalidInput(f"kelurahan_code {kelurahan} is not in kab/kota {tenant}",
                           details=[{"field": "kelurahan_code", "reason": "other kab/kota"}])
    require(principal, "group.manage", Target(tenant=tenant, area_code=kelurahan))
    area = geometry_from_geojson(fields["area"]) if fields.get("area") else None
    with conn.transaction():
        if fields.get("parent_id") is not None:
            parent = conn.execute("SELECT tenant, kind FROM groups WHERE id = %s", [fields["parent_id"]]).fetchone()
            if parent is None or parent[0] != tenant:
                raise InvalidInput(f"parent_id {fields['parent_id']}: no BKM/LKM of kab/kota {tenant} with that id",
                                   details=[{"field": "parent_id", "reason": "no such group"}])
        group = assets.create_group(conn, tenant=tenant, kind=str(fields.get("kind") or ""),
                                    name=str(fields.get("name") or ""), kelurahan_code=kelurahan,
                                    parent_id=fields.get("parent_id"), area=area, members=fields.get("members"))
        audit.record(conn, principal, "group.create", "groups", group["id"],
                     after={**group, "members": fields.get("members") or []}, tenant=tenant)
    return group


def add_member(conn: psycopg.Connection, principal: Principal, group_id: int, member: dict[str, Any]
               ) -> dict[str, Any]:
    """A member (name, role, phone) of a group. group.manage on the group's place."""
    require_role(principal, "group.manage")
    name = str(member.get("name") or "").strip()
    if not name:
        raise InvalidInput("name: a member needs a name", details=[{"field": "name", "reason": "missing"}])
    with conn.transaction():
        row = conn.execute("SELECT tenant, kelurahan_code FROM groups WHERE id = %s FOR UPDATE",
                           [group_id]).fetchone()
        if row is None:
            raise NotFound(f"group {group_id} does not exist")
        require(principal, "group.manage", Target(tenant=row[0], area_code=row[1]))
        created = conn.execute(
            "INSERT INTO group_members (group_id, name, role, phone) VALUES (%s, %s, %s, %s) RETURNING id",
            [group_id, name, member.get("role"), member.get("phone")]).fetchone()
        if created is None:
            raise RuntimeError("INSERT INTO group_members returned no id")
        record = {"id": int(created[0]), "group_id": group_id, "name": name, "role": member.get("role"),
                  "phone": member.get("phone")}
        audit.record(conn, principal, "group.add_member", "groups", group_id, after=record, tenant=row[0])
    return record
