"""`kotaku import slum-areas FILE --tenant CODE`: delineated slum polygons of one decree (SK Kumuh).

Reads the national `Delineasi_Kumuh_AR` schema and other layouts through recognised field names or `--map`.
Each area gets its geodesic area (the file's stated area is kept beside it; a difference over 1 % is
reported), its kelurahan by largest overlap in PostGIS (a straddling area reports every share), its kawasan
and its decree, and the level and score the decree states (used until a survey supersedes them).

Nothing stored is lost: a file without features is an error; importing into a decree that already has areas
needs `append` (a decree delivered as one file per kelurahan) or `replace`, and a replacement archives the old
areas as a decree version that `layers/imports/decree_versions.restore_version` brings back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import psycopg
import shapely
from psycopg.types.json import Jsonb

from geo.errors import InvalidInput
from geo.measure import geodesic_area_ha
from geo.problems import Problem
from indicators.level_text import level_from_score, level_from_text
from indicators.schemes import load_scheme
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.db.rows import one
from layers.imports.decree_versions import archive_and_remove, areas_summary, relink_orphans
from layers.imports.report import ImportFailed, ImportReport, read_and_check
from layers.scoring.status import refresh_status
from layers.values.codes import join_code_parts, normalise_code, tenant_code
from layers.values.fields import json_safe, number_or_none, parse_field_map, resolve_fields, text_or_none
from layers.values.progress import Progress, no_progress
from layers.values.quantities import read_quantities

STATED_AREA_TOLERANCE = 0.01  # report a stated area that differs from the geodesic one by more than 1 %
STRADDLE_MIN_SHARE = 0.01  # shares below 1 % of an area are digitising slivers, not straddling
BOUNDARY_TOLERANCE_M = 100.0  # published kab/kota outlines are simplified: areas this close outside are accepted
APPEND_OVERLAP_MAX = 0.5  # an appended area covering more than half of a stored one of the decree is a duplicate
MODES = ("append", "replace")

FIELD_CANDIDATES = {
    "kawasan": ("kawasan", "nama_kawasan", "nm_kawasan", "kws", "lokasi", "name", "nama"),
    "unit_label": ("kode_rt_rw", "rt_rw", "rtrw", "kode_rtrw", "nama_rt_rw", "nama_rt", "rt", "lingkungan", "label"),
    "kelurahan_code": ("kode_kel", "kode_kelurahan", "kd_kel", "kode_desa", "kd_desa", "kdepum"),
    "kecamatan_code": ("kode_kec", "kd_kec", "kdcpum"),
    "kabkota_code": ("kode_kab", "kd_kab", "kode_kota", "kdpkab"),
    "province_code": ("kode_prov", "kd_prov", "kdppum"),
    "kelurahan": ("kelurahan", "desa", "desa_kel", "kel_desa", "nama_kel", "nama_desa", "wadmkd"),
    "stated_area_ha": ("luas_kumuh", "luas_ha", "luasan_kumuh_ha", "luas", "luasan", "area_ha"),
    "score": ("skor_kumuh", "skor", "nilai", "total_skor", "nilai_kekumuhan"),
    "level": ("tingkat_kekumuhan", "tingkat_kumuh", "tingkat", "level", "kategori_kumuh", "status_kumuh",
              "klasifikasi_kumuh", "status", "klasifikasi", "kategori"),
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
    mode: str | None = None,
    boundary_tolerance_m: float = BOUNDARY_TOLERANCE_M,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    """`mode`: None (the decree must have no areas yet), "append" (add to its areas) or "replace" (archive its
    areas as a decree version, then write the file's)."""
    tenant = tenant_code(tenant)
    if mode not in (None, *MODES):
        raise InvalidInput.of("slum.mode_unknown", value=mode, known=", ".join(MODES))
    if not boundary_tolerance_m >= 0:
        raise InvalidInput.of("slum.bad_tolerance", value=boundary_tolerance_m)
    report = ImportReport(kind="slum-areas", file=str(path))
    frame = read_and_check(path, report, kind="polygon", layer=layer, progress=progress)
    fields = resolve_fields(frame.columns, FIELD_CANDIDATES, parse_field_map(field_map))
    report.fields = fields

    areas = geodesic_area_ha(frame.geometry.values)
    rows = _attribute_rows(frame, fields, tenant, report, areas)
    _compare_stated_areas(rows, areas, fields, report)
    decree_number = decree or _decree_from_file(rows) or f"impor {Path(path).name}"
    if report.errors:
        raise ImportFailed(report)

    progress("menulis ke PostGIS", 0, len(rows))
    wkb = shapely.to_wkb(frame.geometry.values, byte_order=1)
    principal = principal or cli_principal()
    with conn.transaction(), conn.cursor() as cur:  # the caller's transaction state is left as it was
        cur.execute("SELECT scheme FROM decrees WHERE tenant = %s AND number = %s", [tenant, decree_number])
        scheme_row = cur.fetchone()
        levels = _stated_levels(frame, fields, scheme_row[0] if scheme_row else "permen14_2018", report)
        tenant_known = _check_within_tenant(cur, tenant, frame, report, boundary_tolerance_m)
        if report.errors:
            raise ImportFailed(report)
        decree_id = _decree_id(cur, tenant, decree_number, published)
        stored = areas_summary(cur, decree_id)
        if stored["areas"] and mode is None:
            raise InvalidInput.of("slum.decree_has_areas", details={"decree": decree_number, "stored": stored},
                                  decree=decree_number, tenant=tenant, areas=stored["areas"],
                                  area_ha=stored["area_ha"], kawasan=_kawasan_text(stored["kawasan"]))
        cur.execute(
            "CREATE TEMP TABLE incoming_slum (n int, kawasan text, unit_label text, declared text, "
            "stated float8, legality text, typology text, attributes jsonb, stated_level text, stated_score int, "
            "area_ha float8, geom bytea)"
        )
        with cur.copy("COPY incoming_slum FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "text", "text", "float8", "text", "text", "jsonb", "text", "int4",
                            "float8", "bytea"])
            for row, level, area, geom in zip(rows, levels, areas, wkb, strict=True):
                copy.write_row((*row, *level, float(area), geom))
        _check_repeated(cur, report)
        if mode == "append" and stored["areas"]:
            _check_duplicates(cur, decree_id, report)
        if report.errors:
            raise ImportFailed(report)
        replaced = None
        if mode == "replace":
            replaced = archive_and_remove(cur, tenant, decree_id, reason="replace", replaced_by=Path(path).name,
                                          actor=principal.username)
        cur.execute(
            """
            INSERT INTO slum_areas (tenant, decree_id, kawasan, unit_label, declared_kelurahan_code,
                stated_area_ha, legality, typology, attributes, stated_level, stated_score, area_ha, source_file,
                source_feature, geom)
            SELECT %s, %s, kawasan, unit_label, declared, stated, legality, typology, attributes, stated_level,
                   stated_score, area_ha, %s, n, ST_Multi(ST_SetSRID(ST_GeomFromWKB(geom), 4326))
            FROM incoming_slum ORDER BY n
            RETURNING id
            """,
            [tenant, decree_id, Path(path).name],
        )
        new_ids = [r[0] for r in cur.fetchall()]
        report.features_written = len(new_ids)
        cur.execute("DROP TABLE incoming_slum")  # not ON COMMIT DROP: the import may run inside a larger transaction
        progress("menghubungkan kelurahan", 0, len(rows))
        _join_kelurahan(cur, new_ids, report, tenant_known)
        links = relink_orphans(cur, replaced["version_id"], decree_id) if replaced else {}
        refresh_status(conn, tenant)  # current level/score/priority of every slum area, for maps
        audit.record(conn, principal, "slum_areas.import", "decree", decree_id,
                     {"areas": stored["areas"], "replaced_version": replaced["version"] if replaced else None},
                     {"file": audit.file_fingerprint(path), "decree": decree_number, "published": published,
                      "mode": mode, "areas": report.features_written,
                      "total_area_ha": round(float(areas.sum()), 3)}, tenant=tenant)
    progress("selesai", len(rows), len(rows))
    if replaced:
        report.warnings.append(Problem.of(
            "slum.replaced", severity="warning", areas=replaced["areas"], decree=decree_number,
            area_ha=replaced["area_ha"], kawasan=_kawasan_text(replaced["kawasan"]), version=replaced["version"],
            tenant=tenant, survey_units_relinked=links["survey_units_relinked"],
            survey_units_unlinked=links["survey_units_unlinked"], activities_relinked=links["activities_relinked"],
            activities_unlinked=links["activities_unlinked"]))
    report.summary.update({
        "tenant": tenant,
        "decree": decree_number,
        "decree_id": decree_id,
        "mode": mode,
        "areas_before": stored["areas"],
        "replaced_areas": replaced["areas"] if replaced else 0,
        "replaced": ({k: v for k, v in replaced.items() if k != "version_id"} | links) if replaced else None,
        "stated_levels": sum(1 for lv in levels if lv[0]),
        "total_area_ha": round(float(areas.sum()), 3),
        "kawasan": len({r[1] for r in rows if r[1]}),
    })
    stated = [r[4] for r in rows if r[4] is not None]
    if stated:
        report.summary["stated_area_ha"] = round(sum(stated), 3)
    return report.finish()


def _attribute_rows(frame, fields: dict[str, str], tenant: str, report: ImportReport,
                    areas: np.ndarray) -> list[tuple]:
    """(n, kawasan, unit_label, declared kelurahan code, stated ha, legality, typology, attributes json).

    The stated area is read with its unit ("7.067 ha", "14340 m2", "0,5 hektar": layers/values/quantities.py),
    an ambiguous "7.067" by the reading nearer to the feature's geodesic area `areas` (hectares)."""
    def column(target: str) -> list:
        return frame[fields[target]].tolist() if target in fields else [None] * len(frame)

    attribute_columns = [c for c in frame.columns if c != "geometry"]
    records = frame[attribute_columns].to_dict("records")
    kawasan, labels, stated = column("kawasan"), column("unit_label"), column("stated_area_ha")
    kel, kec, kab, prov = column("kelurahan_code"), column("kecamatan_code"), column("kabkota_code"), column(
        "province_code")
    legality, typology = column("legality"), column("typology")
    stated_ha = read_quantities(stated, "ha", references=[float(a) for a in areas])
    rows = []
    for i, record in enumerate(records):
        number = i + 1
        declared = _declared_kelurahan(prov[i], kab[i], kec[i], kel[i])
        if declared and not declared.startswith(tenant + "."):
            report.errors.append(Problem.of("slum.kelurahan_other_tenant", feature=number,
                                            field=fields.get("kelurahan_code"), code=declared,
                                            kabkota=declared[:5], tenant=tenant))
        area = stated_ha[i].value
        found = stated_ha[i].problem_at(number, fields.get("stated_area_ha"))
        if found is not None:
            (report.errors if found.severity == "error" else report.warnings).append(found)
        legal = text_or_none(legality[i])
        legal_value = LEGAL_WORDS.get(legal.lower()) if legal else None
        if legal and legal_value is None:
            report.warnings.append(Problem.of("slum.legality_unknown", feature=number, field=fields.get("legality"),
                                              severity="warning", value=legal))
        attributes = Jsonb({k: json_safe(v) for k, v in record.items()})
        rows.append((number, text_or_none(kawasan[i]), text_or_none(labels[i]), declared, area, legal_value,
                     text_or_none(typology[i]), attributes))
    return rows


def _stated_levels(frame, fields: dict[str, str], scheme: str, report: ImportReport) -> list[tuple]:
    """(stated level code, stated score) per feature from the level and score fields. Unknown level text is an
    error naming the feature, field and value; a score that is not a whole number in the scheme's range is not
    used (a warning says so); a score whose band contradicts the stated level leaves the level in charge."""
    def column(target: str) -> list:
        return frame[fields[target]].tolist() if target in fields else [None] * len(frame)

    out: list[tuple] = []
    for i, (level_value, score_value) in enumerate(zip(column("level"), column("score"), strict=True)):
        number = i + 1
        code = score = None
        try:
            code, score = level_from_text(level_value, scheme)
        except ValueError:
            report.errors.append(Problem.of("level.unreadable", feature=number, field=fields.get("level"),
                                            value=str(level_value).strip(), max=load_scheme(scheme).max_total))
        if text_or_none(score_value) is not None:
            value = number_or_none(score_value)

            def warn(key: str, number: int = number, **params: object) -> None:
                report.warnings.append(Problem.of(key, feature=number, field=fields.get("score"), severity="warning",
                                                  **params))

            if value is None:
                warn("slum.score_not_number", value=str(score_value).strip())
                out.append((code, score))
                continue
            try:
                score_code = level_from_score(value, scheme)
            except ValueError:
                warn("slum.score_out_of_range", value=str(score_value).strip(), max=load_scheme(scheme).max_total,
                     scheme=scheme)
                out.append((code, score))
                continue
            if code and score_code != code:
                warn("slum.score_disagrees", score=f"{value:g}", score_level=score_code, level=code)
            code, score = code or score_code, int(value)
        out.append((code, score))
    return out


def _kawasan_text(kawasan: list[str], most: int = 5) -> str:
    if not kawasan:
        return "none named"
    more = f" and {len(kawasan) - most} more" if len(kawasan) > most else ""
    return ", ".join(kawasan[:most]) + more


def _check_duplicates(cur: psycopg.Cursor, decree_id: int, report: ImportReport) -> None:
    """Appending a file twice would list the same land twice: an incoming area covering most of a stored area
    of the decree is an error."""
    cur.execute(
        """
        SELECT i.n, s.id, s.kawasan, s.source_file
        FROM incoming_slum i
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_GeomFromWKB(i.geom), 4326) AS g) x
        JOIN slum_areas s ON s.decree_id = %s AND s.geom && x.g AND ST_Intersects(s.geom, x.g)
        WHERE ST_Area(ST_Intersection(s.geom, x.g)) > %s * LEAST(ST_Area(s.geom), ST_Area(x.g))
        ORDER BY i.n
        """,
        [decree_id, APPEND_OVERLAP_MAX],
    )
    for n, area_id, kawasan, source in cur.fetchall():
        report.errors.append(Problem.of("slum.covers_stored", feature=n, field="geometry", area_id=area_id,
                                        kawasan=kawasan, source=source))


def _check_repeated(cur: psycopg.Cursor, report: ImportReport) -> None:
    """A feature listed twice in the file (copied rows, a kelurahan pasted into the decree twice) would count its
    land twice in every total: an incoming area covering most of an earlier one of the same file is an error
    naming both features."""
    cur.execute(
        """
        WITH g AS (SELECT n, ST_SetSRID(ST_GeomFromWKB(geom), 4326) AS g FROM incoming_slum)
        SELECT DISTINCT ON (b.n) b.n, a.n
        FROM g a JOIN g b ON a.n < b.n AND a.g && b.g AND ST_Intersects(a.g, b.g)
        WHERE ST_Area(ST_Intersection(a.g, b.g)) > %s * LEAST(ST_Area(a.g), ST_Area(b.g))
        ORDER BY b.n, a.n
        """,
        [APPEND_OVERLAP_MAX],
    )
    for n, first in cur.fetchall():
        report.errors.append(Problem.of("slum.repeated_in_file", feature=n, field="geometry", first=first))


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
            report.warnings.append(Problem.of(
                "slum.stated_area_differs", feature=row[0], field=fields.get("stated_area_ha"), severity="warning",
                stated=f"{stated:.3f}", area=f"{area:.3f}", difference=f"{difference:+.1%}"))


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


def _check_within_tenant(cur: psycopg.Cursor, tenant: str, frame, report: ImportReport,
                         tolerance_m: float = BOUNDARY_TOLERANCE_M) -> bool:
    """With the tenant's kab/kota boundary loaded, an area that does not touch it is accepted with a warning
    naming its distance when it lies within `tolerance_m` metres of the outline or touches one of the tenant's
    kelurahan (published outlines are simplified); farther out it is an error naming the distance."""
    cur.execute("SELECT ST_AsBinary(geom) FROM regions WHERE code = %s", [tenant])
    row = cur.fetchone()
    if row is None:
        report.warnings.append(Problem.of("slum.no_boundary", severity="warning", tenant=tenant))
        return False
    boundary = shapely.from_wkb(row[0])
    outside = np.flatnonzero(~shapely.intersects(frame.geometry.values, boundary))
    if not len(outside):
        return True
    cur.execute(
        """
        SELECT x.i, ST_Distance(x.g::geography, b.geom::geography),
               (SELECT r.code || ' ' || r.name FROM regions r
                WHERE r.level = 'desa_kelurahan' AND r.code LIKE %(prefix)s AND r.geom && x.g
                  AND ST_Intersects(r.geom, x.g)
                ORDER BY ST_Area(ST_Intersection(r.geom, x.g)) DESC LIMIT 1)
        FROM unnest(%(i)s::int[], %(g)s::bytea[]) AS u(i, wkb)
        CROSS JOIN LATERAL (SELECT u.i, ST_SetSRID(ST_GeomFromWKB(u.wkb), 4326) AS g) x
        JOIN regions b ON b.code = %(t)s
        ORDER BY x.i
        """,
        {"i": [int(i) + 1 for i in outside], "t": tenant, "prefix": tenant + ".%",
         "g": list(shapely.to_wkb(frame.geometry.values[outside], byte_order=1))},
    )
    for feature, distance, kelurahan in cur.fetchall():
        metres = f"{distance:,.0f} m"
        if kelurahan:
            report.warnings.append(Problem.of("slum.outside_in_kelurahan", feature=feature, field="geometry",
                                              severity="warning", metres=metres, tenant=tenant, kelurahan=kelurahan))
        elif distance <= tolerance_m:
            report.warnings.append(Problem.of("slum.outside_within_tolerance", feature=feature, field="geometry",
                                              severity="warning", metres=metres, tenant=tenant,
                                              tolerance=f"{tolerance_m:g}"))
        else:
            report.errors.append(Problem.of("slum.outside", feature=feature, field="geometry", metres=metres,
                                            tenant=tenant, tolerance=f"{tolerance_m:g}"))
    return True


def _join_kelurahan(cur: psycopg.Cursor, ids: list[int], report: ImportReport, tenant_known: bool) -> None:
    """Every kelurahan each area overlaps, with its share; the largest becomes the area's kelurahan."""
    cur.execute(
        """
        INSERT INTO slum_area_regions (slum_area_id, region_code, overlap_ha, share)
        SELECT s.id, r.code, o.ha, LEAST(1.0, o.ha / NULLIF(s.area_ha, 0))
        FROM slum_areas s
        JOIN regions r ON r.level = 'desa_kelurahan' AND r.geom && s.geom AND ST_Intersects(r.geom, s.geom)
        CROSS JOIN LATERAL (SELECT ST_Area(ST_Intersection(r.geom, s.geom)::geography) / 10000.0 AS ha) o
        WHERE s.id = ANY(%s) AND o.ha > 0
        """,
        [ids],
    )
    cur.execute(
        """
        UPDATE slum_areas s SET kelurahan_code = best.region_code
        FROM (SELECT DISTINCT ON (slum_area_id) slum_area_id, region_code
              FROM slum_area_regions WHERE slum_area_id = ANY(%(ids)s) ORDER BY slum_area_id, share DESC) best
        WHERE best.slum_area_id = s.id AND s.id = ANY(%(ids)s)
        """,
        {"ids": ids},
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
        WHERE s.id = ANY(%s)
        GROUP BY s.id ORDER BY s.source_feature
        """,
        [STRADDLE_MIN_SHARE, ids],
    )
    unmatched = 0
    for feature, best, declared, shares, count in cur.fetchall():
        if count == 0:
            unmatched += 1
            continue
        if shares and len(shares) > 1:
            report.warnings.append(Problem.of("slum.straddles", feature=feature, severity="warning",
                                              count=len(shares), shares=", ".join(shares)))
        if declared and best and declared != best:
            report.warnings.append(Problem.of("slum.kelurahan_differs", feature=feature, field="kelurahan",
                                              severity="warning", declared=declared, best=best))
    if unmatched:
        report.warnings.append(Problem.of("slum.no_kelurahan" if tenant_known else "slum.no_kelurahan_loaded",
                                          severity="warning", count=unmatched))
    report.summary["without_kelurahan"] = unmatched
