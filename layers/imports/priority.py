"""Imports that feed the priority of slum areas (all-or-nothing, then the status cache is refreshed):

- `kotaku import strategic-zones FILE --tenant CODE`: polygons the spatial plan calls strategic (any vector
  format, any CRS); each carries a value of the strategic-value table (strategis, kurang strategis, ...), from a
  field or --value. Replaces the tenant's zones.
- `kotaku import priority-inputs FILE --tenant CODE`: a table (CSV/XLSX) of pertimbangan-lain and legality
  inputs per slum area, keyed by slum area id, or by kawasan name (every area of that kawasan), or by unit
  label with kelurahan code. Replaces the inputs of the areas it names.
- `kotaku import priority-matrix FILE --tenant CODE`: the tenant's own level x PL x legality matrix (CSV with
  the columns of indicators/tables/priority_matrix.csv).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import shapely

from geo.errors import InvalidInput
from geo.problems import Problem
from indicators.priority import load_priority_tables
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports.report import ImportFailed, ImportReport, read_and_check, require_features
from layers.imports.surveys import _blank, _quantities, read_table
from layers.scoring.priority import save_priority_matrix
from layers.scoring.scores import arrays
from layers.scoring.status import refresh_status
from layers.scoring.surveys import normalise_label, normalise_name
from layers.values.codes import normalise_code, tenant_code
from layers.values.fields import json_safe, parse_field_map, resolve_fields
from layers.values.progress import Progress, no_progress

ZONE_FIELDS = {
    "name": ("nama", "name", "nama_zona", "zona", "kawasan_strategis", "keterangan"),
    "value": ("nilai_strategis", "nilai", "value", "kategori", "strategic_value"),
}
INPUT_FIELDS = {
    "slum_area_id": ("slum_area_id", "id_kawasan_kumuh", "id"),
    "kawasan": ("kawasan", "nama_kawasan"),
    "unit_label": ("unit_label", "kode_rt_rw", "rt_rw"),
    "kelurahan_code": ("kelurahan_code", "kode_kel", "kode_kelurahan"),
    "mbr_share_pct": ("mbr_share_pct", "persen_mbr", "mbr_pct", "mbr", "persentase_mbr"),
    "potential": ("potential", "potensi"),
    "strategic_value": ("strategic_value", "nilai_strategis", "strategis"),
    "legality": ("legality", "legalitas", "legalitas_lahan"),
    "tenure_legal": ("tenure_legal", "status_lahan_legal", "kepemilikan_lahan_legal"),
    "spatial_plan_conform": ("spatial_plan_conform", "sesuai_rtr", "kesesuaian_rtr"),
    "population": ("population", "jumlah_penduduk", "penduduk"),
}
YES = {"ya", "y", "yes", "true", "1", "benar", "legal", "sesuai", "sah"}
NO = {"tidak", "t", "no", "false", "0", "salah", "ilegal", "illegal", "tidak sesuai", "tidak sah"}
LEGALITY = {"legal": "legal", "ilegal": "ilegal", "illegal": "ilegal", "tidak legal": "ilegal", "sah": "legal",
            "tidak sah": "ilegal"}


def import_strategic_zones(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    value: str | None = None,
    layer: str | None = None,
    field_map: str | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    points = load_priority_tables().strategic_points
    report = ImportReport(kind="strategic-zones", file=str(path))
    frame = read_and_check(path, report, kind="polygon", layer=layer, progress=progress)
    fields = resolve_fields(frame.columns, ZONE_FIELDS, parse_field_map(field_map))
    report.fields = fields
    if value is not None and value.strip().lower() not in points:
        raise InvalidInput.of("priority.value_unknown", value=value, known=list(points))
    given = (frame[fields["value"]].astype("string").str.strip().str.lower() if "value" in fields
             else pd.Series(pd.NA, index=frame.index, dtype="string"))
    values = given.fillna(value.strip().lower() if value else pd.NA)
    for i in np.flatnonzero(values.isna().to_numpy()):
        report.errors.append(Problem.of("priority.no_value", feature=int(i) + 1, field=fields.get("value"),
                                        known=list(points)))
    for i in np.flatnonzero((values.notna() & ~values.isin(list(points))).to_numpy()):
        report.errors.append(Problem.of("priority.value_unknown", feature=int(i) + 1, field=fields.get("value"),
                                        value=values.iloc[i], known=list(points)))
    if report.errors:
        raise ImportFailed(report)
    names = frame[fields["name"]].astype("string") if "name" in fields else pd.Series(pd.NA, index=frame.index)
    attributes = [json.dumps({k: json_safe(v) for k, v in r.items()}, ensure_ascii=False)
                  for r in frame.drop(columns="geometry").to_dict("records")]
    table = pd.DataFrame({"name": names.to_numpy(), "value": values.to_numpy(), "attributes": attributes,
                          "n": np.arange(len(frame)) + 1,
                          "wkb": list(shapely.to_wkb(frame.geometry.values, byte_order=1))})
    with conn.transaction():
        conn.execute("DELETE FROM strategic_zones WHERE tenant = %s", [tenant])
        conn.execute(
            """
            INSERT INTO strategic_zones (tenant, name, value, attributes, source_file, source_feature, geom)
            SELECT %(t)s, nm, v, a::jsonb, %(f)s, n, ST_Multi(ST_SetSRID(ST_GeomFromWKB(g), 4326))
            FROM unnest(%(nm)s::text[], %(v)s::text[], %(a)s::text[], %(n)s::int[], %(g)s::bytea[])
                 AS x(nm, v, a, n, g)
            """,
            {"t": tenant, "f": Path(path).name,
             **arrays(table, {"nm": "name", "v": "value", "a": "attributes", "n": "n", "g": "wkb"})},
        )
        report.features_written = len(table)
        status = refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), "strategic_zones.import", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path), "zones": len(table)}, tenant=tenant)
    report.summary.update({"tenant": tenant, "by_value": table["value"].value_counts().to_dict(),
                           "slum_areas_with_class": status["with_class"]})
    return report.finish()


def _booleans(values: pd.Series, field: str, report: ImportReport, rows: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(YES).fillna(False)] = True
    out[text.isin(NO).fillna(False)] = False
    for position in np.flatnonzero((out.isna() & ~_blank(values)).to_numpy()):
        report.errors.append(Problem.of("priority.yes_no", feature=int(rows.iloc[position]), field=field,
                                        value=str(values.iloc[position]).strip()))
    return out


def import_priority_inputs(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    sheet: str | None = None,
    field_map: str | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    tables = load_priority_tables()
    report = ImportReport(kind="priority-inputs", file=str(path))
    raw, layout = read_table(Path(path), sheet)
    raw = raw.reset_index(drop=True)
    report.layer, report.features_read = layout, len(raw)
    require_features(report, "rows")
    fields = resolve_fields([c for c in raw.columns if c not in ("source_row", "sheet")], INPUT_FIELDS,
                            parse_field_map(field_map))
    report.fields = fields
    rows = raw["source_row"]

    def col(target: str) -> pd.Series:
        return raw[fields[target]] if target in fields else pd.Series([pd.NA] * len(raw), dtype=object)

    def text(target: str) -> pd.Series:
        return col(target).astype("string").str.strip().str.lower().str.replace("_", " ").replace("", pd.NA)

    def error(mask, key: str, field, **params) -> None:
        for row in rows[np.asarray(mask, dtype=bool)]:
            report.errors.append(Problem.of(key, feature=int(row), field=field, **params))

    t = pd.DataFrame({"source_row": rows})
    for target, unit in (("mbr_share_pct", "%"), ("population", "unit")):  # "45 %", "45,5%", "1.234 jiwa"
        numbers, readings = _quantities(col(target), unit)
        t[target] = numbers.to_numpy()
        for row, reading in zip(rows, readings, strict=True):
            found = reading.problem_at(int(row), fields.get(target))
            if found is not None:
                (report.errors if found.severity == "error" else report.warnings).append(found)
    error((t["mbr_share_pct"] < 0) | (t["mbr_share_pct"] > 100), "priority.mbr_range", fields.get("mbr_share_pct"))
    error(t["population"] < 0, "priority.population_negative", fields.get("population"))
    for target, known in (("potential", tables.potential_points), ("strategic_value", tables.strategic_points)):
        t[target] = text(target)
        error(t[target].notna() & ~t[target].isin(list(known)), "priority.one_of", fields.get(target),
              known=list(known))
    t["legality"] = text("legality").map(LEGALITY).astype("string")
    error(t["legality"].isna() & text("legality").notna(), "priority.legality", fields.get("legality"))
    for target in ("tenure_legal", "spatial_plan_conform"):
        t[target] = _booleans(col(target), fields.get(target, target), report, rows)

    areas = pd.DataFrame(conn.execute(
        "SELECT id, kawasan, unit_label, kelurahan_code FROM slum_areas WHERE tenant = %s", [tenant]).fetchall(),
        columns=["id", "kawasan", "unit_label", "kelurahan_code"])
    ids = pd.to_numeric(col("slum_area_id"), errors="coerce").astype("Int64")
    by_id = pd.DataFrame({"row": t.index, "id": ids}).dropna().merge(areas[["id"]], on="id")
    error(ids.notna() & ~ids.isin(areas["id"]), "priority.no_area_id", fields.get("slum_area_id"), tenant=tenant)
    kaw = pd.DataFrame({"row": t.index, "norm": normalise_name(col("kawasan").astype("string"))})[ids.isna()]
    areas["norm"] = normalise_name(areas["kawasan"])
    by_kawasan = kaw.dropna().merge(areas[["id", "norm"]], on="norm")
    codes = col("kelurahan_code").map(lambda v: normalise_code(v) if not pd.isna(v) else None)
    lab = pd.DataFrame({"row": t.index, "label": normalise_label(col("unit_label").astype("string")),
                        "kelurahan_code": codes})[ids.isna() & kaw["norm"].reindex(t.index).isna()]
    areas["label"] = normalise_label(areas["unit_label"])
    by_label = lab.dropna().merge(areas[["id", "label", "kelurahan_code"]], on=["label", "kelurahan_code"])
    matched = pd.concat([by_id[["row", "id"]], by_kawasan[["row", "id"]], by_label[["row", "id"]]])
    error(~t.index.isin(matched["row"]), "priority.no_area", "slum_area")
    twice = matched[matched.duplicated("id", keep=False)]
    for area_id, group in twice.groupby("id"):
        error(t.index.isin(group["row"].iloc[1:]), "priority.area_twice", "slum_area", area_id=area_id,
              first=int(rows.iloc[group["row"].iloc[0]]))
    if report.errors:
        raise ImportFailed(report)
    out = matched.merge(t, left_on="row", right_index=True)
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO slum_area_priority_inputs AS i (slum_area_id, tenant, mbr_share_pct, potential,
                strategic_value, legality, tenure_legal, spatial_plan_conform, population, source, updated_at)
            SELECT a, %(t)s, m, p, s, l, tl, sp, round(pop)::int, %(f)s, now()
            FROM unnest(%(a)s::bigint[], %(m)s::float8[], %(p)s::text[], %(s)s::text[], %(l)s::text[],
                        %(tl)s::bool[], %(sp)s::bool[], %(pop)s::float8[]) AS x(a, m, p, s, l, tl, sp, pop)
            ON CONFLICT (slum_area_id) DO UPDATE SET mbr_share_pct = EXCLUDED.mbr_share_pct,
                potential = EXCLUDED.potential, strategic_value = EXCLUDED.strategic_value,
                legality = EXCLUDED.legality, tenure_legal = EXCLUDED.tenure_legal,
                spatial_plan_conform = EXCLUDED.spatial_plan_conform, population = EXCLUDED.population,
                source = EXCLUDED.source, updated_at = now()
            """,
            {"t": tenant, "f": Path(path).name,
             **arrays(out, {"a": "id", "m": "mbr_share_pct", "p": "potential", "s": "strategic_value",
                            "l": "legality", "tl": "tenure_legal", "sp": "spatial_plan_conform",
                            "pop": "population"})},
        )
        report.features_written = len(out)
        status = refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), "priority_inputs.import", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path), "slum_areas": int(out["id"].nunique())}, tenant=tenant)
    report.summary.update({"tenant": tenant, "slum_areas": int(out["id"].nunique()),
                           "slum_areas_with_class": status["with_class"]})
    return report.finish()


def import_priority_matrix(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    report = ImportReport(kind="priority-matrix", file=str(path))
    raw, layout = read_table(Path(path), None)
    report.layer, report.features_read = layout, len(raw)
    require_features(report, "rows")
    with conn.transaction():
        tables = save_priority_matrix(conn, tenant, raw.drop(columns=["source_row", "sheet"]))
        report.features_written = len(tables.matrix)
        status = refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), "priority_matrix.import", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path)}, tenant=tenant)
    report.summary.update({"tenant": tenant, "classes": sorted(tables.matrix["class"].unique().tolist()),
                           "slum_areas_with_class": status["with_class"]})
    return report.finish()
