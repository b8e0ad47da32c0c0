"""Activities (proposals and funded works): input checks, creation and change with the overlap check.

The HTTP API, the drawing page and `kotaku import activities` all come through here, so an activity drawn on the
map meets exactly the same check as one in a CSV.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql

from geo.errors import Conflict, InvalidInput, NotFound
from geo.measure import geodesic_area_ha, geodesic_length_m
from geo.messages import Nested
from geo.problems import Problem
from geo.validate import Kind, validate_array
from layers.db.frames import Query, RowOp, arun, run
from layers.planning.kinds import resolve_kind
from layers.planning.overlap import OverlapVerdict, check_overlap, lock_area
from layers.values.codes import tenant_code
from layers.values.fields import is_blank, number_or_none, number_problem, text_or_none, text_problem
from layers.values.quantities import parse_quantity

STAGES = ("rembuk_warga", "musrenbang_kelurahan", "musrenbang_kecamatan", "pokir_dprd", "renja_opd", "rkpd",
          "pelaksanaan", "selesai", "serah_terima")
STATUSES = ("aktif", "dikembalikan", "ditolak", "dibatalkan", "selesai")
LIVE_STATUSES = ("aktif", "dikembalikan", "selesai")
GEOMETRY_KINDS: dict[str, Kind] = {"point": "point", "line": "line", "polygon": "polygon"}
MAX_TITLE = 300
# The text fields of an activity: each must be text without NUL, within its limit (layers/values/fields.py).
TEXT_FIELDS = ("tenant", "title", "kind", "unit", "program", "funding_source", "stage", "status", "proposer_area",
               "proposer_name", "proposer_phone", "target_agency", "override_reason")
# Most vertices a geometry may have: per activity kind (activity_kinds.max_vertices), else by its geometry type;
# and never more than MAX_GEOMETRY_VERTICES in any write, whatever the catalogue says.
DEFAULT_MAX_VERTICES = {"point": 1, "line": 5_000, "polygon": 20_000}
MAX_GEOMETRY_VERTICES = 100_000


CATALOGUE_QUERIES = (sql.SQL("SELECT code, criteria, unit, unit_price, geometry_type, max_vertices "
                                             "FROM activity_kinds"),
                     sql.SQL("SELECT code FROM programs"), sql.SQL("SELECT code FROM funding_sources"))


@dataclass
class Catalogue:
    """The reference tables an activity is checked against, read once per request or import."""

    kinds: dict[str, dict[str, Any]]
    programs: set[str]
    funding_sources: set[str]

    @classmethod
    def load_op(cls, key: str) -> RowOp[Catalogue]:
        """The catalogue, read afresh for every request or import (three small queries), as an operation of
        layers/db/frames.py, driven by `load` and `load_async`. Never cached in the process: with several API
        processes or hosts a change (a new kind, a price) must be seen by all of them at once (issue 14)."""
        rows = []
        for query in CATALOGUE_QUERIES:
            rows.append((yield Query(query, rows=True)))
        return cls.from_rows(*rows)

    @classmethod
    def load(cls, conn: psycopg.Connection) -> Catalogue:
        return run(conn, cls.load_op(conn.info.dsn))

    @classmethod
    async def load_async(cls, aconn: psycopg.AsyncConnection) -> Catalogue:
        return await arun(aconn, cls.load_op(aconn.info.dsn), offload=False)

    @classmethod
    def from_rows(cls, kinds, programs, funding) -> Catalogue:
        return cls(
            {row[0]: {"criteria": row[1], "unit": row[2], "unit_price": float(row[3] or 0), "geometry_type": row[4],
                      "max_vertices": max_vertices(row[4], row[5] if len(row) > 5 else None)}
             for row in kinds},
            {row[0] for row in programs},
            {row[0] for row in funding},
        )


@dataclass
class ActivityInput:
    tenant: str | None
    title: str
    kind: str
    geometry: shapely.Geometry
    year_start: int
    year_end: int
    criteria: list[str]
    volume: float
    unit: str
    cost: float
    program: str | None = None
    funding_source: str | None = None
    proposer_area: str | None = None
    proposer_name: str | None = None
    proposer_phone: str | None = None
    target_agency: str | None = None
    stage: str = "rembuk_warga"
    status: str = "aktif"
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def wkb(self) -> bytes:
        return shapely.to_wkb(self.geometry, byte_order=1)


def parse_activity(
    values: Mapping[str, Any],
    geometry: shapely.Geometry | None,
    catalogue: Catalogue,
    *,
    feature: int | None = None,
    default_tenant: str | None = None,
    geometry_validated: bool = False,
    tenant_required: bool = True,
) -> tuple[ActivityInput | None, list[Problem]]:
    """Check one activity's fields and geometry; returns the input, or None and every problem found.

    `geometry_validated`: the caller (a bulk import) already ran validate_geometries over the whole file, so
    only the geometry type is checked against the kind here. `tenant_required=False` for a dry run.
    """
    problems: list[Problem] = []

    def bad(field_name: str, reason: str, key: str | None = None, **params) -> None:
        """A problem; with `key` its text comes from the message catalogue (geo/messages.py: id and en)."""
        problems.append(Problem.of(key, feature=feature, field=field_name, **params) if key else
                        Problem(reason, feature=feature, field=field_name))

    for name in TEXT_FIELDS:  # numbers are text in a file (a phone column); a JSON body was checked before
        reason = text_problem(name, values.get(name), numbers_as_text=True)
        if reason:
            bad(name, reason)
    if problems:  # text that cannot be stored is not read further (nor echoed in other messages)
        return None, problems
    tenant = None
    raw_tenant = values.get("tenant") if not is_blank(values.get("tenant")) else default_tenant
    try:
        tenant = tenant_code(raw_tenant) if raw_tenant else None
    except InvalidInput as error:
        bad("tenant", error.message)
    if raw_tenant is None and tenant_required:
        bad("tenant", "", "activity.tenant_required")
    title = text_or_none(values.get("title"))
    if title is None:
        bad("title", "", "field.required", name="title")
    elif len(title) > MAX_TITLE:
        bad("title", f"title is longer than {MAX_TITLE} characters")
    written_kind = text_or_none(values.get("kind"))
    kind = resolve_kind(written_kind, catalogue.kinds)
    spec = catalogue.kinds.get(kind or "")
    if written_kind is None:
        bad("kind", "", "activity.kind_required", known=", ".join(sorted(catalogue.kinds)))
    elif spec is None:
        bad("kind", "", "activity.kind_unknown", value=written_kind, known=", ".join(sorted(catalogue.kinds)))
    year_start = _year(values.get("year_start", values.get("year")), "year_start", bad)
    year_end = _year(values.get("year_end"), "year_end", bad) if not is_blank(values.get("year_end")) else year_start
    if year_start and year_end and year_end < year_start:
        bad("year_end", f"year_end {year_end} is before year_start {year_start}")
    program, funding = text_or_none(values.get("program")), text_or_none(values.get("funding_source"))
    if program and program not in catalogue.programs:
        bad("program", "", "activity.program_unknown", value=program, known=", ".join(sorted(catalogue.programs)))
    if funding and funding not in catalogue.funding_sources:
        known = ", ".join(sorted(catalogue.funding_sources))
        bad("funding_source", "", "activity.funding_unknown", value=funding, known=known)
    stage = text_or_none(values.get("stage")) or "rembuk_warga"
    if stage not in STAGES:
        bad("stage", f"unknown stage '{stage}'; stages in order: {', '.join(STAGES)}")
    status = text_or_none(values.get("status")) or "aktif"
    if status not in STATUSES:
        bad("status", f"unknown status '{status}'; known: {', '.join(STATUSES)}")
    if geometry is not None and not _vertices_within(geometry, spec, kind, feature, problems):
        geometry = None  # too big to check further (validation of a huge geometry costs more than its refusal)
    elif geometry_validated:
        geometry = _type_checked(geometry, spec, feature, problems)
    else:
        geometry = _checked_geometry(geometry, spec, feature, problems)
    volume, cost = _volume_and_cost(values, geometry, spec, bad)
    if problems or spec is None or geometry is None or title is None or kind is None or year_start is None \
            or year_end is None:
        return None, problems
    return ActivityInput(
        tenant=tenant, title=title, kind=kind, geometry=geometry, year_start=year_start, year_end=year_end,
        criteria=list(spec["criteria"]), volume=volume, unit=text_or_none(values.get("unit")) or spec["unit"],
        cost=cost, program=program, funding_source=funding,
        proposer_area=text_or_none(values.get("proposer_area")),
        proposer_name=text_or_none(values.get("proposer_name")),
        proposer_phone=text_or_none(values.get("proposer_phone")),
        target_agency=text_or_none(values.get("target_agency")), stage=stage, status=status,
    ), []


def max_vertices(geometry_type: str, configured: int | None) -> int:
    """The most vertices a geometry of a kind may have: its catalogue value, else its type's default; never over
    MAX_GEOMETRY_VERTICES."""
    limit = configured if configured else DEFAULT_MAX_VERTICES.get(geometry_type, MAX_GEOMETRY_VERTICES)
    return min(int(limit), MAX_GEOMETRY_VERTICES)


def _vertices_within(geometry, spec, kind: str | None, feature: int | None, problems: list[Problem]) -> bool:
    """False (and a problem naming the count and the limit) when the geometry has too many vertices."""
    count = int(shapely.get_num_coordinates(geometry))
    limit = spec["max_vertices"] if spec else MAX_GEOMETRY_VERTICES
    if count <= limit:
        return True
    whose = f"an activity of kind '{kind}'" if spec else "any geometry"
    problems.append(Problem(f"geometry has {count:,} vertices; {whose} may have at most {limit:,} "
                            "(simplify it or split the activity)", feature=feature, field="geometry"))
    return False


def _year(value: Any, name: str, bad) -> int | None:
    if is_blank(value):
        bad(name, "", "activity.year_required", name=name)
        return None
    number = number_or_none(value)
    if number is None or not math.isfinite(number) or number != int(number) or not 2000 <= number <= 2100:
        bad(name, f"'{value}' is not a fiscal year (2000-2100)")
        return None
    return int(number)


def _checked_geometry(geometry, spec, feature: int | None, problems: list[Problem]):
    if geometry is None:
        problems.append(Problem("geometry is missing", feature=feature, field="geometry"))
        return None
    kind: Kind = GEOMETRY_KINDS.get(spec["geometry_type"], "any") if spec else "any"
    fixed_all, errors, _ = validate_array(np.array([geometry], dtype=object), kind=kind)
    for problem in errors:
        problems.append(Problem(problem.reason, feature=feature, field="geometry"))
    if errors:
        return None
    fixed = fixed_all[0]
    if kind in ("line", "point") and isinstance(fixed, shapely.MultiLineString | shapely.MultiPoint) \
            and len(fixed.geoms) == 1:
        fixed = fixed.geoms[0]
    return fixed


TYPE_IDS = {"point": (0, 4), "line": (1, 5), "polygon": (3, 6)}  # shapely type ids, single and multi


def _type_checked(geometry, spec, feature: int | None, problems: list[Problem]):
    if geometry is None or spec is None:
        return geometry
    expected = spec["geometry_type"]
    if shapely.get_type_id(geometry) not in TYPE_IDS[expected]:
        problems.append(Problem.of("activity.kind_geometry", feature=feature, field="geometry",
                                   type=geometry.geom_type, expected=Nested(f"activity.drawn_as_{expected}")))
        return None
    return geometry


def _volume_and_cost(values, geometry, spec, bad) -> tuple[float, float]:
    """Volume defaults to the geometry's geodesic length (m) or area (m2), or 1 unit; cost to volume x price."""
    volume = _quantity(values.get("volume"), VOLUME_UNITS.get(spec["unit"], "unit") if spec else "unit",
                       "volume", bad)
    if volume is not None and volume < 0:
        bad("volume", f"'{values.get('volume')}' is not a non-negative number")
    elif number_problem("volume", volume):
        bad("volume", str(number_problem("volume", volume)))
        volume = None  # not used further: a non-finite volume would overflow the default cost
    if volume is None and geometry is not None and spec is not None:
        if spec["geometry_type"] == "line":
            volume = float(geodesic_length_m([geometry])[0])
        elif spec["geometry_type"] == "polygon":
            volume = float(geodesic_area_ha([geometry])[0] * 10_000)
        else:
            volume = 1.0
    cost = _quantity(values.get("cost"), "rp", "cost", bad)
    if cost is not None and cost < 0:
        bad("cost", f"'{values.get('cost')}' is not a non-negative amount in rupiah")
    elif number_problem("cost", cost):
        bad("cost", str(number_problem("cost", cost)))
        cost = 0.0
    if cost is None and volume is not None and spec is not None:
        cost = round(volume * spec["unit_price"])
    return round(volume or 0.0, 2), float(cost or 0.0)


VOLUME_UNITS = {"m": "m", "m2": "m2", "ha": "ha", "km": "km", "unit": "unit"}  # catalogue unit -> parse unit


def _quantity(value: Any, unit: str, name: str, bad) -> float | None:
    """A number as people type it ("120 m", "1.234,5", "Rp 54.000.000"), in `unit`; a problem when it is not."""
    if is_blank(value):
        return None
    try:
        quantity = parse_quantity(value, unit)
    except InvalidInput as error:
        bad(name, error.message)
        return None
    return None if quantity is None else quantity.value


@dataclass
class SaveResult:
    id: int | None
    verdict: OverlapVerdict
    saved: bool

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "saved": self.saved, **self.verdict.as_dict()}


# Columns the server derives from the geometry, on every insert and every geometry change (never from the client).
DERIVED_SQL = """
        (SELECT r.code FROM regions r WHERE r.level = 'desa_kelurahan'
         AND ST_Intersects(r.geom, ST_PointOnSurface(g.geom)) ORDER BY r.code LIMIT 1),
        (SELECT s.id FROM slum_areas s WHERE ST_Intersects(s.geom, g.geom) ORDER BY s.id LIMIT 1),
        CASE WHEN ST_Dimension(g.geom) = 1 THEN ST_Length(g.geom::geography) END,
        CASE WHEN ST_Dimension(g.geom) = 2 THEN ST_Area(g.geom::geography) END"""
INSERT_SQL = """
    INSERT INTO activities (tenant, title, kind, criteria, volume, unit, cost, year_start, year_end, program,
        funding_source, proposer_area, proposer_name, proposer_phone, target_agency, stage, status, geom,
        override_reason, created_by, kelurahan_code, slum_area_id, length_m, area_m2)
    SELECT %(tenant)s, %(title)s, %(kind)s, %(criteria)s, %(volume)s, %(unit)s, %(cost)s, %(year_start)s,
        %(year_end)s, %(program)s, %(funding_source)s, %(proposer_area)s, %(proposer_name)s, %(proposer_phone)s,
        %(target_agency)s, %(stage)s, %(status)s, g.geom, %(override_reason)s, %(created_by)s,""" + DERIVED_SQL + """
    FROM (SELECT ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326) AS geom) g
    RETURNING id
"""
UPDATE_SQL = """
    UPDATE activities a SET title = %(title)s, kind = %(kind)s, criteria = %(criteria)s, volume = %(volume)s,
        unit = %(unit)s, cost = %(cost)s, year_start = %(year_start)s, year_end = %(year_end)s,
        program = %(program)s, funding_source = %(funding_source)s, proposer_area = %(proposer_area)s,
        proposer_name = %(proposer_name)s, proposer_phone = %(proposer_phone)s, target_agency = %(target_agency)s,
        geom = g.geom, (kelurahan_code, slum_area_id, length_m, area_m2) = (SELECT""" + DERIVED_SQL + """),
        updated_at = now()
    FROM (SELECT ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326) AS geom) g
    WHERE a.id = %(id)s
"""


def check_inside_tenant(conn: psycopg.Connection, activity: ActivityInput) -> None:
    row = conn.execute(
        "SELECT ST_Intersects(geom, ST_SetSRID(ST_GeomFromWKB(%s), 4326)) FROM regions WHERE code = %s",
        [activity.wkb, activity.tenant],
    ).fetchone()
    if row is not None and not row[0]:
        raise InvalidInput.of("geometry.outside_tenant", tenant=activity.tenant, details=[
            Problem.of("geometry.outside_tenant", field="geometry", tenant=activity.tenant).as_dict()])


def create_activity(
    conn: psycopg.Connection,
    activity: ActivityInput,
    *,
    actor: str | None = None,
    actor_role: str | None = None,
    override_reason: str | None = None,
    dry_run: bool = False,
) -> SaveResult:
    """Check and (unless `dry_run`) save one activity in one transaction.

    Blocked by a conflict: Conflict (HTTP 409) with the report, nothing saved, unless `override_reason` is
    given (the caller has checked that the role may override); then the overlap is accepted and linked.
    Continuations are saved and linked as collaboration.
    """
    with conn.transaction():
        check_inside_tenant(conn, activity)
        if not dry_run:
            lock_area(conn, activity.wkb)
        verdict = check_overlap(conn, wkb=activity.wkb, kind=activity.kind, criteria=activity.criteria,
                                year_start=activity.year_start, year_end=activity.year_end)
        if dry_run:
            return SaveResult(None, verdict, saved=False)
        if verdict.blocked and not override_reason:
            raise Conflict(verdict.blocked_message(), details=verdict.as_dict())
        params = {**activity.__dict__, "wkb": activity.wkb, "override_reason": override_reason,
                  "created_by": actor}
        inserted = conn.execute(INSERT_SQL, params).fetchone()
        if inserted is None:
            raise RuntimeError("INSERT INTO activities returned no id")
        new_id = inserted[0]
        _record_links(conn, new_id, verdict, override_reason is not None)
        conn.execute(
            "INSERT INTO activity_events (activity_id, actor, actor_role, action, to_stage, to_status, reason) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [new_id, actor, actor_role, "dibuat" if not verdict.blocked else "dibuat_dengan_persetujuan",
             activity.stage, activity.status, override_reason],
        )
    return SaveResult(new_id, verdict, saved=True)


def _record_links(conn: psycopg.Connection, new_id: int, verdict: OverlapVerdict, overridden: bool) -> None:
    import json

    links = [(new_id, c["activity_id"], "kolaborasi", json.dumps(c)) for c in verdict.collaborations]
    if overridden:  # over a work or an asset still in its service life: accepted as rehabilitation
        links += [(new_id, c["activity_id"],
                   "tumpang_tindih_disetujui" if c["remaining_life_years"] is None else "rehabilitasi", json.dumps(c))
                  for c in verdict.conflicts]
    if links:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO activity_links (activity_id, other_id, relation, measure) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING", links)


def get_activity_row(conn: psycopg.Connection, activity_id: int) -> dict[str, Any]:
    cur = conn.execute("SELECT *, ST_AsGeoJSON(geom, 7) AS geojson FROM activities WHERE id = %s", [activity_id])
    row = cur.fetchone()
    if row is None or cur.description is None:
        raise NotFound(f"activity {activity_id} does not exist")
    return dict(zip([c.name for c in cur.description], row, strict=True))
