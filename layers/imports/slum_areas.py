"""`kotaku import slum-areas FILE --tenant CODE`: delineated slum polygons of one decree (SK Kumuh).

Reads the national `Delineasi_Kumuh_AR` schema and other layouts through recognised field names or `--map`.
Each area gets its geodesic area (the file's stated area is kept beside it; a difference over 1 % is
reported), its kelurahan by largest overlap in PostGIS (a straddling area reports every share), its kawasan
and its decree. Importing into a decree that already has areas replaces them, in one transaction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import shapely
from psycopg.types.json import Jsonb

from geo.measure import geodesic_area_ha
from geo.problems import Problem
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.db.rows import one
from layers.imports.report import ImportFailed, ImportReport, read_and_check
from layers.scoring.status import refresh_status
from layers.values.codes import join_code_parts, normalise_code, tenant_code
from layers.values.fields import json_safe, number_or_none, parse_field_map, resolve_fields, text_or_none
from layers.values.progress import Progress, no_progress

STATED_AREA_TOLERANCE = 0.01  # report a stated area that differs from the geodesic one by more than 1 %
STRADDLE_MIN_SHARE = 0.01  # shares below 1 % of an area are digitising slivers, not straddling

FIELD_CANDIDATES = {
    "kawasan": ("kawasan", "nama_kawasan", "nm_kawasan", "kws", "lokasi", "name", "nama"),
    "unit_label": ("kode_rt_rw", "rt_rw", "rtrw", "kode_rtrw", "rt", "lingkungan", "label"),
    "kelurahan_code": ("kode_kel", "kode_kelurahan", "kd_kel", "kode_desa", "kd_desa", "kdepum"),
    "kecamatan_code": ("kode_kec", "kd_kec", "kdcpum"),
    "kabkota_code": ("kode_kab", "kd_kab", "kode_kota", "kdpkab"),
    "province_code": ("kode_prov", "kd_prov", "kdppum"),
    "kelurahan": ("kelurahan", "desa", "desa_kel", "kel_desa", "nama_kel", "nama_desa", "wadmkd"),
    "stated_area_ha": ("luas_kumuh", "luas_ha", "luasan_kumuh_ha", "luas", "luasan", "area_ha"),
    "score": ("skor_kumuh", "skor", "nilai", "total_skor", "nilai_kekumuhan"),
    "level": ("tingkat_kekumuhan", "tingkat", "status", "klasifikasi", "kategori"),
    "legality": ("legalitas", "legalitas_lahan", "status_lahan"),
    "typology": ("tipologi", "typology"),
    "decree": ("sk_kumuh", "no_sk", "nomor_sk", "sk"),
}
LEGAL_WORDS = {"legal": "legal", "ya": "legal", "sah": "legal", "ilegal": "ilegal", "illegal": "ilegal",
               "tidak legal": "ilegal", "tidak": "ilegal"}


def import_slum_areas(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    decree: str | None = None,
    published: bool = False,
    layer: str | None = None,
    field_map: str | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    report = ImportReport(kind="slum-areas", file=str(path))
    frame = read_and_check(path, report, kind="polygon", layer=layer, progress=progress)
    fields = resolve_fields(frame.columns, FIELD_CANDIDATES, parse_field_map(field_map))
    report.fields = fields

    rows = _attribute_rows(frame, fields, tenant, report)
    areas = geodesic_area_ha(frame.geometry.values)
    _compare_stated_areas(rows, areas, fields, report)
    decree_number = decree or _decree_from_file(rows) or f"impor {Path(path).name}"
    if report.errors:
        raise ImportFailed(report)

    progress("menulis ke PostGIS", 0, len(rows))
    wkb = shapely.to_wkb(frame.geometry.values, byte_order=1)
    with conn.transaction(), conn.cursor() as cur:
        tenant_known = _check_within_tenant(cur, tenant, frame, report)
        if report.errors:
            raise ImportFailed(report)
        decree_id = _decree_id(cur, tenant, decree_number, published)
        cur.execute("DELETE FROM slum_areas WHERE decree_id = %s", [decree_id])
        replaced = cur.rowcount
        cur.execute(
            "CREATE TEMP TABLE incoming_slum (n int, kawasan text, unit_label text, declared text, "
            "stated float8, legality text, typology text, attributes jsonb, area_ha float8, geom bytea)"
        )
        with cur.copy("COPY incoming_slum FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "text", "text", "float8", "text", "text", "jsonb", "float8", "bytea"])
            for row, area, geom in zip(rows, areas, wkb, strict=True):
                copy.write_row((*row, float(area), geom))
        cur.execute(
            """
            INSERT INTO slum_areas (tenant, decree_id, kawasan, unit_label, declared_kelurahan_code,
                stated_area_ha, legality, typology, attributes, area_ha, source_file, source_feature, geom)
            SELECT %s, %s, kawasan, unit_label, declared, stated, legality, typology, attributes, area_ha, %s, n,
                   ST_Multi(ST_SetSRID(ST_GeomFromWKB(geom), 4326))
            FROM incoming_slum ORDER BY n
            """,
            [tenant, decree_id, Path(path).name],
        )
        report.features_written = cur.rowcount
        cur.execute("DROP TABLE incoming_slum")  # not ON COMMIT DROP: the import may run inside a larger transaction
        progress("menghubungkan kelurahan", 0, len(rows))
        _join_kelurahan(cur, decree_id, report, tenant_known)
        refresh_status(conn, tenant)  # current level/score/priority of every slum area, for maps
        audit.record(conn, principal or cli_principal(), "slum_areas.import", "decree", decree_id, {"areas": replaced},
                     {"file": audit.file_fingerprint(path), "decree": decree_number, "published": published,
                      "areas": report.features_written, "total_area_ha": round(float(areas.sum()), 3)}, tenant=tenant)
    progress("selesai", len(rows), len(rows))
    report.summary.update({
        "tenant": tenant,
        "decree": decree_number,
        "decree_id": decree_id,
        "replaced_areas": replaced,
        "total_area_ha": round(float(areas.sum()), 3),
        "kawasan": len({r[1] for r in rows if r[1]}),
    })
    stated = [r[4] for r in rows if r[4] is not None]
    if stated:
        report.summary["stated_area_ha"] = round(sum(stated), 3)
    return report.finish()


def _attribute_rows(frame, fields: dict[str, str], tenant: str, report: ImportReport) -> list[tuple]:
    """(n, kawasan, unit_label, declared kelurahan code, stated ha, legality, typology, attributes json)."""
    def column(target: str) -> list:
        return frame[fields[target]].tolist() if target in fields else [None] * len(frame)

    attribute_columns = [c for c in frame.columns if c != "geometry"]
    records = frame[attribute_columns].to_dict("records")
    kawasan, labels, stated = column("kawasan"), column("unit_label"), column("stated_area_ha")
    kel, kec, kab, prov = column("kelurahan_code"), column("kecamatan_code"), column("kabkota_code"), column(
        "province_code")
    legality, typology = column("legality"), column("typology")
    rows = []
    for i, record in enumerate(records):
        number = i + 1
        declared = _declared_kelurahan(prov[i], kab[i], kec[i], kel[i])
        if declared and not declared.startswith(tenant + "."):
            report.errors.append(Problem(
                f"kelurahan code {declared} lies in kab/kota {declared[:5]}, not in tenant {tenant}",
                feature=number, field=fields.get("kelurahan_code"),
            ))
        area = number_or_none(stated[i])
        if stated[i] is not None and text_or_none(stated[i]) and area is None:
            report.errors.append(Problem(f"'{stated[i]}' is not a number", feature=number,
                                         field=fields["stated_area_ha"]))
        legal = text_or_none(legality[i])
        legal_value = LEGAL_WORDS.get(legal.lower()) if legal else None
        if legal and legal_value is None:
            report.warnings.append(Problem(f"legality '{legal}' not understood (legal/ilegal); left empty",
                                           feature=number, field=fields.get("legality"), severity="warning"))
        attributes = Jsonb({k: json_safe(v) for k, v in record.items()})
        rows.append((number, text_or_none(kawasan[i]), text_or_none(labels[i]), declared, area, legal_value,
                     text_or_none(typology[i]), attributes))
    return rows


def _declared_kelurahan(prov, kab, kec, kel) -> str | None:
    """The file's own kelurahan code: a full code in one field, or split over Kode_Prov..Kode_Kel."""
    full = normalise_code(kel)
    if full and full.count(".") == 3:
        return full
    if kel is None:
        return None
    joined = join_code_parts(prov, kab, kec, kel)
    return joined if joined and joined.count(".") == 3 else None


def _compare_stated_areas(rows: list[tuple], areas: np.ndarray, fields: dict, report: ImportReport) -> None:
    for row, area in zip(rows, areas, strict=True):
        stated = row[4]
        if stated is None or area <= 0:
            continue
        difference = (stated - area) / area
        if abs(difference) > STATED_AREA_TOLERANCE:
            report.warnings.append(Problem(
                f"stated area {stated:.3f} ha differs from the geodesic area {area:.3f} ha by {difference:+.1%}",
                feature=row[0], field=fields.get("stated_area_ha"), severity="warning",
            ))


def _decree_from_file(rows: list[tuple]) -> str | None:
    numbers = {r[7].obj.get(k) for r in rows for k in ("SK_KUMUH", "sk_kumuh", "NO_SK")}
    numbers = {str(n).strip() for n in numbers if n and str(n).strip()}
    return numbers.pop() if len(numbers) == 1 else None


def _decree_id(cur: psycopg.Cursor, tenant: str, number: str, published: bool) -> int:
    cur.execute(
        "INSERT INTO decrees (tenant, number, published) VALUES (%s, %s, %s) "
        "ON CONFLICT (tenant, number) DO UPDATE SET published = decrees.published OR EXCLUDED.published "
        "RETURNING id",
        [tenant, number, published],
    )
    return one(cur.fetchone(), "INSERT INTO decrees ... RETURNING id")[0]


def _check_within_tenant(cur: psycopg.Cursor, tenant: str, frame, report: ImportReport) -> bool:
    """With the tenant's kab/kota boundary loaded, an area that does not touch it is an error."""
    cur.execute("SELECT ST_AsBinary(geom) FROM regions WHERE code = %s", [tenant])
    row = cur.fetchone()
    if row is None:
        report.warnings.append(Problem(
            f"no boundary loaded for kab/kota {tenant}: areas are not checked against it "
            "(load it with 'kotaku import regions')", severity="warning"))
        return False
    boundary = shapely.from_wkb(row[0])
    outside = ~shapely.intersects(frame.geometry.values, boundary)
    for index in np.flatnonzero(outside):
        report.errors.append(Problem(f"lies outside kab/kota {tenant}", feature=int(index) + 1, field="geometry"))
    return True


def _join_kelurahan(cur: psycopg.Cursor, decree_id: int, report: ImportReport, tenant_known: bool) -> None:
    """Every kelurahan each area overlaps, with its share; the largest becomes the area's kelurahan."""
    cur.execute(
        """
        INSERT INTO slum_area_regions (slum_area_id, region_code, overlap_ha, share)
        SELECT s.id, r.code, o.ha, LEAST(1.0, o.ha / NULLIF(s.area_ha, 0))
        FROM slum_areas s
        JOIN regions r ON r.level = 'desa_kelurahan' AND r.geom && s.geom AND ST_Intersects(r.geom, s.geom)
        CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(r.geom, s.geom)::geography) / 10000.0 AS ha) o
        WHERE s.decree_id = %s AND o.ha > 0
        """,
        [decree_id],
    )
    cur.execute(
        """
        UPDATE slum_areas s SET kelurahan_code = best.region_code
        FROM (SELECT DISTINCT ON (slum_area_id) slum_area_id, region_code
              FROM slum_area_regions ORDER BY slum_area_id, share DESC) best
        WHERE best.slum_area_id = s.id AND s.decree_id = %s
        """,
        [decree_id],
    )
    cur.execute(
        """
        SELECT s.source_feature, s.kelurahan_code, s.declared_kelurahan_code,
               array_agg(sr.region_code || ' ' || r.name || ' ' || round((sr.share * 100)::numeric, 1) || ' %%'
                         ORDER BY sr.share DESC) FILTER (WHERE sr.share >= %s),
               count(sr.region_code)
        FROM slum_areas s
        LEFT JOIN slum_area_regions sr ON sr.slum_area_id = s.id
        LEFT JOIN regions r ON r.code = sr.region_code
        WHERE s.decree_id = %s
        GROUP BY s.id ORDER BY s.source_feature
        """,
        [STRADDLE_MIN_SHARE, decree_id],
    )
    unmatched = 0
    for feature, best, declared, shares, count in cur.fetchall():
        if count == 0:
            unmatched += 1
            continue
        if shares and len(shares) > 1:
            report.warnings.append(Problem(
                f"straddles {len(shares)} kelurahan: {', '.join(shares)}", feature=feature, severity="warning"))
        if declared and best and declared != best:
            report.warnings.append(Problem(
                f"the file says kelurahan {declared}, but the largest overlap is {best}",
                feature=feature, field="kelurahan", severity="warning"))
    if unmatched:
        report.warnings.append(Problem(
            f"{unmatched} area(s) overlap no loaded kelurahan boundary: kelurahan not assigned"
            + ("" if tenant_known else " (load the kab/kota's kelurahan with 'kotaku import regions')"),
            severity="warning"))
    report.summary["without_kelurahan"] = unmatched
