"""`kotaku import activities FILE --tenant CODE`: many proposals at once, through the same overlap check.

The whole file is checked in set-based SQL: its rows are copied into a staging table, then one query finds every
conflict with existing live activities and another every conflict between rows of the file itself (a file that
duplicates itself is caught too). Any conflict or bad row rejects the whole file; nothing is written.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import psycopg
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb

from geo.errors import InvalidInput
from geo.messages import Nested
from geo.problems import Problem
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports.report import ImportFailed, ImportReport, read_and_check
from layers.planning.activities import Catalogue, parse_activity
from layers.planning.overlap import (
    CANDIDATES_SQL,
    EXISTING,
    REPORT_COLUMNS,
    describe,
    incoming_candidates,
    link_collaborations,
)
from layers.values.codes import tenant_code
from layers.values.fields import is_blank, json_safe, parse_field_map, resolve_fields
from layers.values.names import name_key
from layers.values.progress import Progress, no_progress

STAGING = """
    CREATE TEMP TABLE incoming_activities (
        n integer, id bigint, tenant text, title text, kind text, criteria text[], volume float8, unit text,
        cost float8, year_start integer, year_end integer, program text, funding_source text, proposer_area text,
        proposer_name text, proposer_phone text, target_agency text, stage text, status text, attributes jsonb,
        geom geometry(Geometry, 4326))
"""
STAGING_COLUMNS = ("n", "id", "tenant", "title", "kind", "criteria", "volume", "unit", "cost", "year_start",
                   "year_end", "program", "funding_source", "proposer_area", "proposer_name", "proposer_phone",
                   "target_agency", "stage", "status", "attributes", "geom")
STAGING_TYPES = ("int4", "int8", "text", "text", "text", "text[]", "float8", "text", "float8", "int4", "int4",
                 "text", "text", "text", "text", "text", "text", "text", "text", "jsonb", "bytea")
LOCK_CELLS = """
    SELECT pg_advisory_xact_lock(7701, (x * 7919 + y)::int)
    FROM (SELECT DISTINCT x, y
          FROM incoming_activities i,
               LATERAL (SELECT ST_Expand(i.geom, (SELECT max(greatest(line_noise_m, point_radius_m))
                                                  FROM activity_kinds) / 100000.0) AS box) g,
               generate_series(floor(ST_XMin(box) / 0.05)::int, floor(ST_XMax(box) / 0.05)::int) x,
               generate_series(floor(ST_YMin(box) / 0.05)::int, floor(ST_YMax(box) / 0.05)::int) y) cells
    ORDER BY x, y
"""
INSERT = """
    INSERT INTO activities (id, tenant, title, kind, criteria, volume, unit, cost, year_start, year_end, program,
        funding_source, proposer_area, proposer_name, proposer_phone, target_agency, stage, status, attributes,
        geom, created_by, kelurahan_code, slum_area_id, length_m, area_m2)
    SELECT i.id, i.tenant, i.title, i.kind, i.criteria, i.volume, i.unit, i.cost, i.year_start, i.year_end,
        i.program, i.funding_source, i.proposer_area, i.proposer_name, i.proposer_phone, i.target_agency, i.stage,
        i.status, i.attributes, i.geom, %(actor)s,
        (SELECT r.code FROM regions r WHERE r.level = 'desa_kelurahan'
         AND ST_Intersects(r.geom, ST_PointOnSurface(i.geom)) ORDER BY r.code LIMIT 1),
        (SELECT s.id FROM slum_areas s WHERE ST_Intersects(s.geom, i.geom) ORDER BY s.id LIMIT 1),
        CASE WHEN ST_Dimension(i.geom) = 1 THEN ST_Length(i.geom::geography) END,
        CASE WHEN ST_Dimension(i.geom) = 2 THEN ST_Area(i.geom::geography) END
    FROM incoming_activities i ORDER BY i.n
"""
# target -> the names files give it, in order (compared by field_key: case, spaces and punctuation ignored).
# A KML/KMZ placemark's <name> becomes the title; its description table gives the other fields.
FIELD_CANDIDATES: dict[str, tuple[str, ...]] = {
    "tenant": ("tenant", "kode_kabkota"),
    "title": ("title", "judul", "nama_kegiatan", "uraian_kegiatan", "uraian", "name", "nama", "nama_jalan",
              "lokasi"),
    "kind": ("kind", "jenis_kegiatan", "jenis", "jenis_usulan", "kegiatan", "tipe"),
    "year": ("year", "tahun", "tahun_anggaran", "ta"),
    "year_start": ("year_start", "tahun_mulai", "tahun_awal"),
    "year_end": ("year_end", "tahun_selesai", "tahun_akhir"),
    "program": ("program", "programme"),
    "funding_source": ("funding_source", "sumber_dana", "sumber_anggaran", "sumber_pendanaan"),
    "volume": ("volume", "vol", "panjang", "luas"),
    "unit": ("unit", "satuan", "sat"),
    "cost": ("cost", "biaya", "anggaran", "nilai", "pagu", "rab", "harga", "anggaran_rp", "biaya_rp", "nilai_rp",
             "pagu_rp"),  # "ANGGARAN (Rp.)"
    "proposer_area": ("proposer_area", "lingkungan", "rt_rw", "rtrw"),
    "proposer_name": ("proposer_name", "pengusul", "nama_pengusul"),
    "proposer_phone": ("proposer_phone", "telepon", "no_hp", "hp"),
    "target_agency": ("target_agency", "opd", "opd_tujuan", "dinas"),
    "stage": ("stage", "tahap"),
    "status": ("status",),
}
DEFAULTABLE = ("kind", "year", "year_start", "year_end", "program", "funding_source", "unit", "target_agency",
               "stage", "status", "proposer_area")
KNOWN_FIELDS = set(FIELD_CANDIDATES)


def parse_defaults(text: str | dict[str, str] | None) -> dict[str, str]:
    """'--defaults kind=jalan_paving,year=2025,program=NSUP' -> {'kind': 'jalan_paving', ...}: values for rows
    whose own value is blank."""
    if isinstance(text, dict):
        defaults = dict(text)
    else:
        defaults = {}
        for item in (text or "").split(","):
            if not item.strip():
                continue
            if "=" not in item:
                raise InvalidInput.of("activity.defaults_entry", value=item.strip(), known=", ".join(DEFAULTABLE))
            name, value = (part.strip() for part in item.split("=", 1))
            defaults[name] = value
    unknown = sorted(set(defaults) - set(DEFAULTABLE))
    if unknown:
        raise InvalidInput.of("activity.defaults_unknown", fields=", ".join(unknown), known=", ".join(DEFAULTABLE))
    return defaults


def import_activities(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    layer: str | None = None,
    principal: Principal | None = None,
    progress: Progress = no_progress,
    field_map: str | dict[str, str] | None = None,
    defaults: str | dict[str, str] | None = None,
) -> ImportReport:
    """`field_map`: target=FILE_FIELD (or target=- to read that target from no field); `defaults`: values of
    kind, year, program, funding_source ... for rows that leave them blank."""
    principal = principal or cli_principal()
    actor = principal.username
    tenant = tenant_code(tenant)
    explicit = field_map if isinstance(field_map, dict) else parse_field_map(field_map)
    fallback = parse_defaults(defaults)
    report = ImportReport(kind="activities", file=str(path))
    frame = read_and_check(path, report, kind="any", layer=layer, progress=progress)
    bad_geometry = {p.feature for p in report.errors}
    catalogue = Catalogue.load(conn)
    activities = []
    columns = [c for c in frame.columns if c != "geometry"]
    resolved = resolve_fields(columns, FIELD_CANDIDATES, explicit)
    report.fields = dict(resolved)
    used = set(resolved.values())
    if _is_description_table(frame, columns):
        used.add("description")  # KML: its table is already split into fields
    records = frame[columns].to_dict("records")
    funding = _funding_names(conn)
    for number, (record, geometry) in enumerate(zip(records, frame.geometry.values, strict=True), start=1):
        values = {target: record[column] for target, column in resolved.items()}
        for target, value in fallback.items():
            if is_blank(values.get(target)):
                values[target] = value
        if not is_blank(values.get("funding_source")):
            values["funding_source"] = funding.get(name_key(values["funding_source"]), values["funding_source"])
        parsed, problems = parse_activity(values, None if number in bad_geometry else geometry, catalogue,
                                          feature=number, default_tenant=tenant, geometry_validated=True)
        report.errors += [p for p in problems if not (p.field == "geometry" and number in bad_geometry)]
        if parsed is not None:
            parsed.attributes = {str(k): json_safe(v) for k, v in record.items() if k not in used}
            activities.append((number, parsed))
    if report.errors:
        raise ImportFailed(report)

    progress("memeriksa tumpang tindih", 0, len(activities))
    with conn.transaction(), conn.cursor() as cur:
        _stage(cur, activities)
        cur.execute(LOCK_CELLS)
        _collect_conflicts(cur, report)
        if report.errors:
            raise ImportFailed(report)
        progress("menulis ke PostGIS", 0, len(activities))
        cur.execute(INSERT, {"actor": actor})
        report.features_written = cur.rowcount
        links = link_collaborations(conn, sql.Identifier("incoming_activities"))
        cur.execute(
            "INSERT INTO activity_events (activity_id, actor, action, to_stage, to_status, reason) "
            "SELECT id, %s, 'diimpor', stage, status, %s FROM incoming_activities", [actor, Path(path).name])
        cur.execute("SELECT min(id), max(id) FROM incoming_activities")
        id_range = cur.fetchone()
        if id_range is None:
            raise RuntimeError("SELECT min(id), max(id) returned no row")
        first_id, last_id = id_range
        cur.execute("DROP TABLE incoming_activities")
        audit.record(conn, principal, "activities.import", "file", Path(path).name, None,
                     {"file": audit.file_fingerprint(path), "written": report.features_written,
                      "ids": [first_id, last_id], "collaboration_links": links}, tenant=tenant)
    progress("selesai", len(activities), len(activities))
    kinds: dict[str, int] = {}
    for _, activity in activities:
        kinds[activity.kind] = kinds.get(activity.kind, 0) + 1
    report.summary = {"tenant": tenant, "by_kind": kinds, "collaboration_links": links,
                      "total_cost": float(sum(a.cost for _, a in activities))}
    return report.finish()


def _funding_names(conn: psycopg.Connection) -> dict[str, str]:
    """Funding sources as tables write them -> their code: the code, or the catalogue's name ('APBD PROVINSI' ->
    APBD_PROV), each of its ' / ' alternatives ('Dana Desa' -> DANA_DESA) and the name without its bracket
    ('APBN (Kementerian PUPR)' -> APBN), compared by name_key (case, spaces, punctuation ignored)."""
    names: dict[str, str] = {}
    for code, name in conn.execute("SELECT code, name FROM funding_sources ORDER BY code").fetchall():
        spellings = [code, name, re.sub(r"\s*\(.*?\)", "", name), *name.split(" / ")]
        for spelling in spellings:
            names.setdefault(name_key(spelling), code)
    return names


def _is_description_table(frame, columns: list[str]) -> bool:
    """A KML description that geo/read.py split into fields (it holds an HTML table)."""
    if "description" not in columns:
        return False
    sample = frame["description"].dropna().astype(str).head(20)
    return bool(len(sample)) and bool(sample.str.contains("<td", case=False).all())


def _stage(cur: psycopg.Cursor, activities: list) -> None:
    cur.execute(STAGING)
    ids = [row[0] for row in cur.execute(
        "SELECT nextval('activities_id_seq') FROM generate_series(1, %s)", [len(activities)]).fetchall()]
    geoms = shapely.to_wkb(shapely.set_srid(np.array([a.geometry for _, a in activities], dtype=object), 4326),
                           byte_order=1, include_srid=True)
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in STAGING_COLUMNS)
    with cur.copy(sql.SQL("COPY incoming_activities ({}) FROM STDIN (FORMAT BINARY)").format(columns)) as copy:
        copy.set_types(list(STAGING_TYPES))
        for (number, a), new_id, wkb in zip(activities, ids, geoms, strict=True):
            copy.write_row((number, new_id, a.tenant, a.title, a.kind, a.criteria, a.volume, a.unit, a.cost,
                            a.year_start, a.year_end, a.program, a.funding_source, a.proposer_area, a.proposer_name,
                            a.proposer_phone, a.target_agency, a.stage, a.status,
                            Jsonb(a.attributes), wkb))
    cur.execute("CREATE INDEX ON incoming_activities USING gist (geom)")
    cur.execute("ANALYZE incoming_activities")


def _collect_conflicts(cur: psycopg.Cursor, report: ImportReport) -> None:
    """Rows outside their kab/kota, every conflict of a row with a live activity, and between two rows of the
    file, as row errors."""
    cur.execute("SELECT n.n, n.tenant FROM incoming_activities n JOIN regions r ON r.code = n.tenant "
                "WHERE NOT ST_Intersects(r.geom, n.geom) ORDER BY n.n")
    for number, tenant in cur.fetchall():
        report.errors.append(Problem.of("activity.outside_tenant", feature=number, field="geometry", tenant=tenant))
    cur.execute(sql.SQL("SELECT n.n, {} FROM incoming_activities n {} AND m.relation = 'konflik' ORDER BY n.n, b.id")
                .format(REPORT_COLUMNS, CANDIDATES_SQL.format(existing=EXISTING)))
    for row in cur.fetchall():
        other = describe(row[1:])
        key = "activity.overlaps_asset" if other["source"] == "aset" else "activity.overlaps_live"
        report.errors.append(Problem.of(key, feature=row[0], field="geometry", id=other["id"], said=_said(other)))
    cur.execute(sql.SQL("SELECT n.n, b.n, {} FROM incoming_activities n {} AND b.n < n.n AND m.relation = 'konflik' "
                        "ORDER BY n.n, b.n")
                .format(REPORT_COLUMNS, CANDIDATES_SQL.format(
                    existing=incoming_candidates(sql.Identifier("incoming_activities")))))
    for row in cur.fetchall():
        other = describe(row[2:])
        report.errors.append(Problem.of("activity.overlaps_file", feature=row[0], field="geometry", other=row[1],
                                        said=_said(other)))


def _said(other: dict) -> Nested:
    """What the other activity is and how much they overlap, as a message in the report's language."""
    measure = other["measure"]
    share = (Nested("overlap.share", {"share": f"{other['share_of_new']:.0%}"})
             if other.get("share_of_new") is not None else "")
    return Nested(f"overlap.{measure}", {
        "kind": other["kind"], "program": other["program"] or "-", "funding": other["funding_source"] or "-",
        "years": f"{other['year_start']}-{other['year_end']}", "stage": other["stage"],
        "amount": f"{other[measure]:g}", "share": share})
