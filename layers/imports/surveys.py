"""`kotaku import surveys FILE --tenant CODE [--round NAME]`: survey volumes per unit and round.

Layouts:
- the KOTAKU per-RT workbook (XLSX with sheets `kumuhRT`, `rtrw` and `kawasan`, e.g. Kota Pekalongan
  2019-2023): one row per RT and year in kumuhRT (volume `1av`, stored percentage `1ap` as a fraction, score
  `1an`, aspect average `1r`, totalNilai, tingkatKekumuhan, ratarataKekumuhan), header counts per RT in rtrw
  (luasVerifikasi, jumlahBangunan, jumlahPenduduk, jumlahKK, panjangJalanIdeal, panjangDrainaseIdeal), kelurahan
  and kecamatan names in kawasan; years are rounds;
- a flat table (CSV, or the first/--sheet sheet of a workbook): unit (kelurahan code or name, label; or
  unit_id), round (or --round), optional survey date and scheme, header counts, volumes `v_1a`.. (or `1av`, `1a`),
  optionally the file's own percentages `p_1a` (percent; `1ap` = fraction), scores `s_1a`/`1an`, total, level.

Units are matched by unit_id, else by kelurahan (code, or normalised name with the kecamatan to tell namesakes
apart) and normalised label to an existing survey unit, else to a slum area with that unit label (the unit is
created with the area's polygon), else created without geometry under its kelurahan with --create-units;
anything else is an error naming the row. Rows whose stored percentages/scores/total/level contradict what their
volumes give are imported flagged, with the reason, and never scored (--strict rejects the file instead).
Rows are counted as the spreadsheet shows them (header = row 1). All-or-nothing, in one transaction.

A table that states levels or scores without volumes (a baseline table) goes to layers/imports/survey_tables.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geo.csv_geometry import csv_text
from geo.errors import InvalidInput, UnsupportedFormat
from geo.messages import Nested
from geo.problems import Problem
from indicators.consistency import find_inconsistent_rows
from indicators.schemes import available_schemes, load_scheme
from indicators.scoring import score_units
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.db.frames import Query, fetch
from layers.imports.report import ImportFailed, ImportReport, require_features
from layers.imports.survey_tables import import_baseline_table, read_baseline
from layers.scoring.scores import arrays
from layers.scoring.status import refresh_status
from layers.scoring.surveys import HEADER_COLUMNS, link_survey_units, normalise_label, normalise_name
from layers.values.codes import normalise_code, tenant_code
from layers.values.fields import parse_field_map, resolve_fields
from layers.values.progress import Progress, no_progress
from layers.values.quantities import CRITERION_UNITS, Reading, read_quantities

WORKBOOK_SHEETS = ("kumuhRT", "rtrw", "kawasan")
FIELD_CANDIDATES = {
    "unit_id": ("unit_id", "id_unit", "survey_unit_id"),
    "kelurahan_code": ("kelurahan_code", "kode_kel", "kode_kelurahan", "kd_kel", "kode_desa", "kd_desa", "kdepum"),
    "kelurahan": ("kelurahan", "desa", "nama_kelurahan", "nama_kel", "desa_kel", "kel_desa", "nama_desa"),
    "kecamatan": ("kecamatan", "nama_kecamatan", "wilayah"),
    "label": ("label", "rt_rw", "rtrw", "kode_rt_rw", "rt", "lingkungan"),
    "kawasan": ("kawasan", "nama_kawasan"),
    "round": ("round", "putaran", "tahun", "year", "tahun_survei"),
    "survey_date": ("survey_date", "tanggal", "tanggal_survei", "tgl_survei"),
    "scheme": ("scheme", "skema"),
    "area_ha": ("area_ha", "luas_verifikasi", "luas_ha", "luas"),
    "buildings": ("buildings", "jumlah_bangunan", "bangunan"),
    "population": ("population", "jumlah_penduduk", "penduduk", "jiwa"),
    "households": ("households", "jumlah_kk", "kk"),
    "road_length_m": ("road_length_m", "panjang_jalan_ideal", "jalan_ideal"),
    "drainage_length_m": ("drainage_length_m", "panjang_drainase_ideal", "drainase_ideal"),
    "total": ("total", "total_nilai", "total_skor", "skor", "skor_kumuh"),
    "level": ("level", "tingkat_kekumuhan", "tingkat", "klasifikasi"),
    "avg_overall": ("avg_overall",),
    "avg_overall_fraction": ("rata_rata_kekumuhan",),
}
ANALYZE_AFTER = 1_000  # new rows
VOLUME_TOLERANCE = 1e-6  # percent points between a stored percentage and the recomputed one


def import_surveys(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    tenant: str,
    round: str | None = None,
    scheme: str = "permen14_2018",
    create_units: bool = False,
    strict: bool = False,
    sheet: str | None = None,
    field_map: str | None = None,
    skip_unmatched: str | Path | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    if scheme not in available_schemes():
        raise InvalidInput.of("survey.scheme_unknown", value=scheme, known=", ".join(available_schemes()))
    baseline = read_baseline(path, sheet)  # levels/scores as stated, no volumes (layers/imports/survey_tables.py)
    if baseline is not None:
        return import_baseline_table(conn, path, *baseline, tenant=tenant, round=round, scheme=scheme,
                                     create_units=create_units, skip_unmatched=skip_unmatched, field_map=field_map,
                                     progress=progress, principal=principal)
    if skip_unmatched is not None:
        raise InvalidInput.of("survey.skip_unmatched_tables_only")
    report = ImportReport(kind="surveys", file=str(path))
    progress("membaca berkas", 0, 1)
    raw, layout = read_table(Path(path), sheet)
    report.layer, report.driver = layout, Path(path).suffix.lstrip(".").upper()
    report.features_read = len(raw)
    require_features(report, "rows")
    table = normalise_table(raw, parse_field_map(field_map), scheme, round, report)
    if report.errors:
        raise ImportFailed(report)
    progress("mencocokkan unit", 0, len(table))
    match_units(conn, table, tenant, create_units, report)
    check_stored(table, strict, report)
    duplicates = table.duplicated(["unit_key", "round"], keep="first") & table["unit_key"].notna()
    for row in table.loc[duplicates, "source_row"]:
        report.errors.append(Problem.of("survey.duplicate", feature=int(row)))
    if report.errors:
        raise ImportFailed(report)
    progress("menulis ke PostGIS", 0, len(table))
    with conn.transaction():
        created = _create_units(conn, table, tenant, Path(path).name)
        inserted, replaced = _write_surveys(conn, table, tenant, Path(path).name)
        if inserted + created > ANALYZE_AFTER:  # fresh statistics before the joins of the refresh below
            conn.execute("ANALYZE surveys, survey_units")
        report.warnings += link_survey_units(conn, tenant)
        status = refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), "surveys.import", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path), "rounds": sorted(table["round"].unique().tolist()),
                      "inserted": inserted, "replaced": replaced, "units_created": created,
                      "flagged": int(table["flagged"].sum())}, tenant=tenant)
    report.features_written = inserted + replaced
    progress("selesai", len(table), len(table))
    report.summary.update({
        "tenant": tenant,
        "rounds": sorted(table["round"].unique().tolist()),
        "units_matched": int(table.loc[table["match"] == "unit", "unit_key"].nunique()),
        "units_created": created,
        "surveys_inserted": inserted,
        "surveys_replaced": replaced,
        "surveys_flagged": int(table["flagged"].sum()),
        "slum_areas_scored": status["current"],
    })
    return report.finish()


# -- reading ---------------------------------------------------------------------------------------
def read_table(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """The rows as a flat table with `source_row` (spreadsheet row) and `sheet`; the layout read."""
    if not path.exists():
        raise InvalidInput.of("survey.file_missing", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=object)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise UnsupportedFormat.of("file.unreadable", file=path.name, format="XLSX") from exc
        if sheet is None and set(WORKBOOK_SHEETS) <= set(sheets):
            return _kotaku_workbook(sheets), "KOTAKU kumuhRT+rtrw+kawasan"
        name = sheet or next(iter(sheets))
        if name not in sheets:
            raise InvalidInput.of("survey.no_sheet", file=path.name, sheet=name, sheets=list(sheets))
        frame = sheets[name]
        return frame.assign(source_row=np.arange(len(frame)) + 2, sheet=name), name
    if suffix in (".csv", ".txt", ".tsv"):
        text = csv_text(path)  # cp1252 from Excel on Windows too
        try:
            sep = max((",", ";", "\t", "|"), key=text.split("\n", 1)[0].count)  # Indonesian Excel writes ';'
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UnsupportedFormat.of("file.unreadable", file=path.name, format="CSV") from exc
        return frame.assign(source_row=np.arange(len(frame)) + 2, sheet=None), "CSV"
    raise UnsupportedFormat.of("survey.format", file=path.name, suffix=suffix or "-")


def _kotaku_workbook(sheets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """kumuhRT rows with their RT (rtrw: label, header counts) and kawasan (kelurahan and kecamatan names)."""
    kumuh, rtrw, kawasan = (sheets[s].rename(columns=lambda c: str(c).strip()) for s in WORKBOOK_SHEETS)
    for name, frame, cols in (("kumuhRT", kumuh, ("rt", "kawasan", "tahun")), ("rtrw", rtrw, ("id", "rtrw")),
                              ("kawasan", kawasan, ("id", "kawasan"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise InvalidInput.of("survey.sheet_lacks", sheet=name, columns=missing)
    rt = rtrw.drop(columns=[c for c in rtrw.columns if str(c).startswith("Unnamed")]).rename(
        columns={"id": "rt_id", "kawasan": "rt_kawasan", "rtrw": "label"})
    kw = kawasan[["id", "kawasan", *(["wilayah"] if "wilayah" in kawasan else [])]].rename(
        columns={"id": "kawasan_id", "kawasan": "kelurahan", "wilayah": "kecamatan"})
    k = kumuh.rename(columns={"rt": "rt_id", "kawasan": "kawasan_id", "id": "row_id"})
    k["source_row"] = np.arange(len(k)) + 2
    k["sheet"] = "kumuhRT"
    for frame, col in ((k, "rt_id"), (k, "kawasan_id"), (rt, "rt_id"), (rt, "rt_kawasan"), (kw, "kawasan_id")):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    merged = k.merge(rt, on="rt_id", how="left").merge(kw, on="kawasan_id", how="left")
    merged["kawasan"] = merged["kelurahan"]
    merged["rt_mismatch"] = merged["rt_kawasan"].notna() & (merged["rt_kawasan"] != merged["kawasan_id"])
    return merged


def _numbers(values: pd.Series) -> pd.Series:
    """Numbers as spreadsheets write them (1.5, '1,5', '1.234,5'); blank -> NaN; text -> NaN (checked apart).
    Cells that already hold numbers keep their exact value."""
    values = values.reset_index(drop=True)
    direct = pd.to_numeric(values, errors="coerce").astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return direct
    text = values.astype("string").str.strip().str.replace(" ", "", regex=False)
    both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
    text = text.mask(both.fillna(False), text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text.replace("", pd.NA), errors="coerce").astype(float)
    return direct.fillna(parsed)


# the unit a header count or a criterion's volume is read in (layers/values/quantities.py): "1.234 KK", "12,5 m"
HEADER_UNITS = {"area_ha": "ha", "buildings": "unit", "households": "unit", "population": "unit",
                "road_length_m": "m", "drainage_length_m": "m"}


def _quantities(values: pd.Series, expected: str) -> tuple[pd.Series, list[Reading]]:
    """Numbers with their unit as people type them ("1.234" households, "12,5 m", "0,5 ha") in `expected`;
    blank -> NaN. Also, per cell, its Reading: why it cannot be read (a message naming the value) and how an
    ambiguous value was read. Cells that already hold numbers keep their exact value."""
    values = values.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), [Reading(None if pd.isna(v) else float(v)) for v in values]
    cells = values.astype(object).where(values.notna(), None)
    readings = read_quantities(cells.tolist(), expected)
    numbers = pd.Series([np.nan if r.value is None else r.value for r in readings], dtype=float)
    return numbers, readings


def _dates(values: pd.Series) -> pd.Series:
    """ISO dates (2019-07-09), else day first as Indonesian forms write them (09/07/2019)."""
    values = values.reset_index(drop=True)
    iso = pd.to_datetime(values, errors="coerce", format="ISO8601")
    rest = iso.isna() & values.notna()
    if rest.any():
        iso[rest] = pd.to_datetime(values[rest].astype("string"), errors="coerce", format="%d/%m/%Y")
    return iso


def _blank(values: pd.Series) -> pd.Series:
    values = values.reset_index(drop=True)
    return values.isna() | values.astype("string").str.strip().fillna("").eq("")


def _criterion_candidates(scheme_names: list[str]) -> dict[str, tuple[str, ...]]:
    cands: dict[str, tuple[str, ...]] = {}
    for name in scheme_names:
        s = load_scheme(name)
        for c in s.criteria:
            cands[f"v_{c.id}"] = (f"v_{c.id}", f"{c.id}v", f"vol_{c.id}", f"volume_{c.id}", c.id)
            cands[f"p_{c.id}"] = (f"p_{c.id}",)
            cands[f"pf_{c.id}"] = (f"{c.id}p",)
            cands[f"s_{c.id}"] = (f"s_{c.id}", f"{c.id}n", f"skor_{c.id}", f"nilai_{c.id}")
        for a in s.aspects:
            cands[f"avg_{a.key}"] = (f"avg_{a.key}",)
            cands[f"avgf_{a.key}"] = (f"{a.number}r",)
    return cands


def _round_names(values: pd.Series) -> pd.Series:
    """2019, 2019.0 and '2019' are the same round '2019'."""
    values = values.reset_index(drop=True)
    number = pd.to_numeric(values, errors="coerce")
    whole = number.notna() & (number == number.round())
    text = values.astype("string").str.strip()
    text = text.mask(whole, number.where(whole).astype("Int64").astype("string"))
    return text.replace("", pd.NA)


def normalise_table(raw: pd.DataFrame, explicit: dict[str, str], scheme: str, round: str | None,
                    report: ImportReport) -> pd.DataFrame:
    """Standard columns: unit/kelurahan identification, round, scheme, header counts, v_/p_/s_ columns, the
    stored total/level/averages (percent), source_row and sheet. Errors go to the report."""
    columns = [c for c in raw.columns if c not in ("source_row", "sheet")]
    fields = resolve_fields(columns, FIELD_CANDIDATES, {k: v for k, v in explicit.items() if k in FIELD_CANDIDATES})
    sheet = raw["sheet"].iloc[0] if len(raw) else None

    def where(target: str, source: str | None = None) -> str:
        name = source or fields.get(target, target)
        return f"{sheet}!{name}" if sheet else name

    # rounds first: --round picks one round of a file that has several
    if "round" in fields:
        rounds = _round_names(raw[fields["round"]])
        if round is not None:
            if not (rounds == round).any():
                report.errors.append(Problem.of("survey.round_not_in_file", field=where("round"), round=round,
                                                rounds=sorted(rounds.dropna().unique())))
            keep = (rounds == round).fillna(False).to_numpy()
            raw, rounds = raw[keep], rounds[keep]
    elif round is None:
        report.errors.append(Problem.of("survey.no_round", field="round"))
        rounds = pd.Series([pd.NA] * len(raw), dtype="string")
    else:
        rounds = pd.Series([round] * len(raw), dtype="string")
    raw = raw.reset_index(drop=True)
    t = pd.DataFrame({"source_row": raw["source_row"].to_numpy(), "sheet": raw["sheet"].to_numpy(),
                      "round": rounds.reset_index(drop=True).to_numpy()})

    def col(target: str) -> pd.Series:
        return raw[fields[target]] if target in fields else pd.Series([pd.NA] * len(raw), dtype=object)

    def error(mask, key: str, field: str, **params) -> None:
        _row_errors(t, mask, report, key, field, **params)

    error(t["round"].isna() & ("round" in fields), "survey.round_empty", where("round"))

    # schemes: a column, else the option
    scheme_col = col("scheme").astype("string").str.strip().str.lower()
    t["scheme"] = scheme_col.where(~_blank(scheme_col), scheme).to_numpy()
    unknown = ~t["scheme"].isin(available_schemes())
    error(unknown, "code.unknown", where("scheme"), value=t["scheme"], list="scheme",
          known=", ".join(available_schemes()))
    schemes = sorted(set(t.loc[~unknown, "scheme"])) or [scheme]
    cands = _criterion_candidates(schemes)
    crit_fields = resolve_fields(columns, cands, {k: v for k, v in explicit.items() if k in cands})
    report.fields = {**fields, **crit_fields}

    # identification
    for target in ("unit_id", "kelurahan_code", "kelurahan", "kecamatan", "label", "kawasan"):
        t[target] = col(target).astype("string").str.strip().replace("", pd.NA).to_numpy()
    t["unit_id"] = pd.to_numeric(t["unit_id"], errors="coerce").astype("Int64")
    normal = {c: normalise_code(c) for c in t["kelurahan_code"].dropna().unique()}  # once per distinct code
    given_code = t["kelurahan_code"].notna()
    t["kelurahan_code"] = t["kelurahan_code"].map(normal).astype("string")
    error(given_code & t["kelurahan_code"].isna(), "survey.kelurahan_code_invalid", where("kelurahan_code"),
          value=col("kelurahan_code").reset_index(drop=True))
    if "rt_mismatch" in raw:
        error(raw["rt_mismatch"].astype(bool), "survey.rt_kawasan_differs", "kumuhRT!kawasan")
        error(raw["label"].isna(), "survey.rt_not_found", "kumuhRT!rt")
    no_unit = t["unit_id"].isna() & (t["label"].isna() | (t["kelurahan_code"].isna() & t["kelurahan"].isna()))
    error(no_unit & ~given_code, "survey.no_unit", "unit")
    dates = _dates(col("survey_date"))
    t["survey_date"] = pd.Series(dates.dt.date, dtype=object).where(dates.notna(), None).to_numpy()

    # numbers: header counts, volumes, stored values
    for target in (*HEADER_COLUMNS, "total", "avg_overall", "avg_overall_fraction"):
        values = col(target)
        if target in HEADER_UNITS:  # a count or a measure, perhaps with its unit
            numbers, readings = _quantities(values, HEADER_UNITS[target])
            t[target] = numbers.to_numpy()
            _cell_problems(t, readings, where(target), report)
            continue
        t[target] = _numbers(values).to_numpy()
        unreadable = t[target].isna() & ~_blank(values)
        if target in HEADER_COLUMNS:
            error(unreadable, "field.not_number", where(target), value=values.reset_index(drop=True))
        else:  # a stored figure: judged with the row's other stored values
            t[f"bad!{target}"] = unreadable.to_numpy()
    if t["avg_overall"].isna().all() and t["avg_overall_fraction"].notna().any():
        t["avg_overall"] = t["avg_overall_fraction"] * 100
        t["bad!avg_overall"] = t["bad!avg_overall_fraction"]
    t = t.drop(columns=["avg_overall_fraction", "bad!avg_overall_fraction"])
    t["level"] = col("level").astype("string").str.strip().replace("", pd.NA).to_numpy()
    # criterion cells: a number that cannot be read or a missing volume is noted per cell (`bad!<column>`);
    # check_stored decides whether the row is flagged (its stored values tell it is broken) or rejected
    cells: dict[str, np.ndarray] = {}
    sources: dict[str, str] = {}
    cell_problems: dict[tuple[str, str, int], Reading] = {}  # (column, sheet, row) -> why a volume cannot be read
    volume_units = {c.volume_column: CRITERION_UNITS.get(c.unit, "unit") for name in schemes
                    for c in load_scheme(name).criteria}
    for key, source in crit_fields.items():
        values = raw[source]
        kind, _, ident = key.partition("_")
        if key in volume_units:  # a volume in its criterion's unit ("12,5 m", "1.234 KK")
            numbers, readings = _quantities(values, volume_units[key])
            cell_problems.update({(key, str(sh), int(row)): r for sh, row, r
                                  in zip(t["sheet"], t["source_row"], readings, strict=True) if r.problem})
            _cell_problems(t, readings, where(key, source), report, notes_only=True)
        else:
            numbers = _numbers(values)
        std = {"pf": f"p_{ident}", "avgf": f"avg_{ident}"}.get(kind, key)
        factor = 100.0 if kind in ("pf", "avgf") else 1.0
        cells[std] = (numbers * factor).to_numpy()
        cells[f"bad!{std}"] = (numbers.isna() & ~_blank(values)).to_numpy()
        sources[std] = where(key, source)
    t = pd.concat([t, pd.DataFrame(cells, index=t.index)], axis=1)
    t.attrs["sources"] = sources
    t.attrs["cell_problems"] = cell_problems
    for name in schemes:
        s = load_scheme(name)
        rows = (t["scheme"] == name).to_numpy()
        for c in s.criteria:
            if c.volume_column not in t:
                report.errors.append(Problem.of("survey.no_volume_column", field=c.volume_column, criterion=c.id,
                                                scheme=name))
                continue
            source = crit_fields[c.volume_column]
            t[f"bad!{c.volume_column}"] |= rows & t[c.volume_column].isna().to_numpy()
            negative = rows & (t[c.volume_column] < 0).to_numpy()
            for row in t.loc[negative, "source_row"]:
                report.warnings.append(Problem.of("survey.volume_negative", feature=int(row),
                                                  field=where(c.volume_column, source), severity="warning"))
    out = t.copy()
    out.attrs["sources"] = sources
    out.attrs["cell_problems"] = cell_problems
    return out


def _row_errors(t: pd.DataFrame, mask, report: ImportReport, key: str, field: str, **params) -> None:
    """An error of the catalogue message `key` for every row of `mask` (positional); a pd.Series parameter gives
    each row its own value (the same positions as `t`)."""
    for position in np.flatnonzero(np.asarray(mask, dtype=bool)):
        values = {k: (v.iloc[position] if isinstance(v, pd.Series) else v) for k, v in params.items()}
        values = {k: (None if v is pd.NA else v) for k, v in values.items()}
        report.errors.append(Problem.of(key, feature=int(t["source_row"].iloc[position]), field=field, **values))


def _cell_problems(t: pd.DataFrame, readings: list[Reading], field: str, report: ImportReport, *,
                   notes_only: bool = False) -> None:
    """Errors for cells that cannot be read (unless `notes_only`: the caller judges those), warnings for ambiguous
    ones read one way; each names its row, in the catalogue's two languages."""
    for row, reading in zip(t["source_row"], readings, strict=True):
        if notes_only and reading.problem:
            continue
        found = reading.problem_at(int(row), field)
        if found is not None:
            (report.errors if found.severity == "error" else report.warnings).append(found)


# -- matching units --------------------------------------------------------------------------------
def _read(conn: psycopg.Connection, query: sql.SQL, params) -> pd.DataFrame:
    return fetch(conn, Query(query, params))


def _resolve_kelurahan(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, report: ImportReport) -> None:
    regions = _read(conn, sql.SQL("SELECT code, name, parent_code FROM regions "
                                  "WHERE tenant = %s AND level = 'desa_kelurahan'"), [tenant])
    kec = _read(conn, sql.SQL("SELECT code AS parent_code, name AS kec_name FROM regions WHERE tenant = %s "
                              "AND level = 'kecamatan'"), [tenant])
    regions = regions.merge(kec, on="parent_code", how="left")
    regions["norm"] = normalise_name(regions["name"])
    regions["kec_norm"] = normalise_name(regions["kec_name"])

    def error(mask: pd.Series, key: str, field: str, **params) -> None:
        _row_errors(t, mask, report, key, field, tenant=tenant, **params)

    outside = t["kelurahan_code"].notna() & ~t["kelurahan_code"].str.startswith(tenant + ".").fillna(False)
    error(outside, "survey.kelurahan_outside", "kelurahan_code", code=t["kelurahan_code"])
    if len(regions):
        unknown = t["kelurahan_code"].notna() & ~outside & ~t["kelurahan_code"].isin(regions["code"])
        error(unknown, "survey.kelurahan_not_of", "kelurahan_code", code=t["kelurahan_code"])
    elif t["kelurahan_code"].notna().any():
        report.warnings.append(Problem.of("survey.no_boundaries", severity="warning", tenant=tenant))
    by_name = t["kelurahan_code"].isna() & t["kelurahan"].notna() & t["unit_id"].isna()
    if not by_name.any():
        return
    if regions.empty:
        error(by_name, "survey.by_name_unloaded", "kelurahan")
        return
    names = pd.DataFrame({"norm": normalise_name(t["kelurahan"]), "kec_norm": normalise_name(t["kecamatan"])},
                         index=t.index)[by_name]
    counts = regions.groupby("norm")["code"].agg(["count", "first"])
    exact = regions.groupby(["norm", "kec_norm"])["code"].first()
    key = pd.MultiIndex.from_frame(names[["norm", "kec_norm"]].astype(object))
    with_kec = pd.Series(exact.reindex(key).to_numpy(), index=names.index)
    single = names["norm"].map(counts["first"].where(counts["count"] == 1))
    t.loc[by_name, "kelurahan_code"] = with_kec.fillna(single).astype("string")
    unresolved = by_name & t["kelurahan_code"].isna()
    ambiguous = unresolved & names["norm"].reindex(t.index).map(counts["count"]).gt(1).fillna(False)
    error(ambiguous, "survey.kelurahan_several", "kelurahan", name=t["kelurahan"])
    error(unresolved & ~ambiguous, "survey.kelurahan_none", "kelurahan", name=t["kelurahan"])


def _forget_bad_codes(t: pd.DataFrame, tenant: str, known: pd.Series) -> None:
    """Rows whose kelurahan was reported as wrong are not matched further (one error per row is enough)."""
    outside = t["kelurahan_code"].notna() & ~t["kelurahan_code"].str.startswith(tenant + ".").fillna(False)
    unknown = t["kelurahan_code"].notna() & ~t["kelurahan_code"].isin(known) if len(known) else outside
    t.loc[outside | unknown, "kelurahan_code"] = pd.NA


def match_units(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, create: bool, report: ImportReport) -> None:
    """Adds `unit_id` (existing), `slum_area_id`, `match` (unit, slum_area, new) and `unit_key` to `t`."""
    _resolve_kelurahan(conn, t, tenant, report)
    known = _read(conn, sql.SQL("SELECT code FROM regions WHERE tenant = %s AND level = 'desa_kelurahan'"),
                  [tenant])["code"]
    _forget_bad_codes(t, tenant, known)
    units = _read(conn, sql.SQL("SELECT id, kelurahan_code, label, slum_area_id, area_ha, buildings::float8, "
                                "population::float8, households::float8, road_length_m, drainage_length_m "
                                "FROM survey_units WHERE tenant = %s"), [tenant])
    areas = _read(conn, sql.SQL("SELECT s.id, s.kelurahan_code, s.unit_label, s.kawasan FROM slum_areas s "
                                "JOIN decrees d ON d.id = s.decree_id WHERE s.tenant = %s "
                                "ORDER BY d.decree_date DESC NULLS LAST, d.id DESC, s.id"), [tenant])
    t["label_norm"] = normalise_label(t["label"])
    t["match"] = pd.Series(pd.NA, index=t.index, dtype="string")
    t["slum_area_id"] = pd.Series(pd.NA, index=t.index, dtype="Int64")

    given = t["unit_id"].notna()
    known = t["unit_id"].isin(units["id"])
    for row, uid in zip(t.loc[given & ~known, "source_row"], t.loc[given & ~known, "unit_id"], strict=True):
        report.errors.append(Problem.of("survey.unit_unknown", feature=int(row), field="unit_id", unit=uid,
                                        tenant=tenant))
    t.loc[given & known, "match"] = "unit"

    units["label_norm"] = normalise_label(units["label"])
    key_units = units.dropna(subset=["kelurahan_code", "label_norm"]).drop_duplicates(["kelurahan_code", "label_norm"])
    lookup = t[~given].reset_index().merge(key_units[["id", "kelurahan_code", "label_norm"]],
                                           on=["kelurahan_code", "label_norm"], how="inner").set_index("index")["id"]
    t.loc[lookup.index, "unit_id"] = lookup.astype("Int64")
    t.loc[lookup.index, "match"] = "unit"

    areas["label_norm"] = normalise_label(areas["unit_label"])
    key_areas = areas.dropna(subset=["kelurahan_code", "label_norm"]).drop_duplicates(["kelurahan_code", "label_norm"])
    rest = t["match"].isna() & t["kelurahan_code"].notna() & t["label_norm"].notna()
    by_area = t[rest].reset_index().merge(key_areas[["id", "kelurahan_code", "label_norm"]],
                                          on=["kelurahan_code", "label_norm"], how="inner").set_index("index")["id"]
    t.loc[by_area.index, "slum_area_id"] = by_area.astype("Int64")
    t.loc[by_area.index, "match"] = "slum_area"

    rest = t["match"].isna() & t["kelurahan_code"].notna() & t["label_norm"].notna()
    if create:
        t.loc[rest, "match"] = "new"
        # a new unit joins the one slum area of its kelurahan whose kawasan has its kawasan name
        areas["kawasan_norm"] = normalise_name(areas["kawasan"])
        unique = areas.groupby(["kelurahan_code", "kawasan_norm"])["id"].agg(["count", "first"])
        unique = unique[unique["count"] == 1]["first"]
        k = pd.MultiIndex.from_frame(pd.DataFrame({"k": t["kelurahan_code"], "n": normalise_name(t["kawasan"])})
                                     .astype(object))
        link = pd.Series(unique.reindex(k).to_numpy(), index=t.index)
        t.loc[rest, "slum_area_id"] = link[rest].astype("Int64")
        without = int(t.loc[rest & link.isna(), ["kelurahan_code", "label_norm"]].drop_duplicates().shape[0])
        if without:
            report.warnings.append(Problem.of("survey.units_without_area", severity="warning", count=without))
    else:
        for row, label, code in zip(t.loc[rest, "source_row"], t.loc[rest, "label"], t.loc[rest, "kelurahan_code"],
                                    strict=True):
            report.errors.append(Problem.of("survey.unit_no_label", feature=int(row), field="label", label=label,
                                            code=code))
    t["unit_key"] = np.where(t["unit_id"].notna(), "u" + t["unit_id"].astype("string"),
                             "k" + t["kelurahan_code"].fillna("") + "|" + t["label_norm"].fillna(""))
    t.loc[t["match"].isna(), "unit_key"] = pd.NA

    # header counts missing in a row come from the unit
    if len(units):
        idx = units.set_index("id")
        for c in HEADER_COLUMNS:
            t[c] = t[c].fillna(t["unit_id"].map(idx[c]).astype(float))
    for c in sorted({c.denominator for name in t["scheme"].unique() for c in load_scheme(name).criteria}):
        missing = t["match"].notna() & t[c].isna()
        for row in t.loc[missing, "source_row"]:
            report.errors.append(Problem.of("survey.header_missing", feature=int(row), field=c, count_name=c))


# -- stored values against the volumes ---------------------------------------------------------------
def check_stored(t: pd.DataFrame, strict: bool, report: ImportReport) -> None:
    """Rows whose stored percentages, scores, total or level contradict their volumes (or cannot be read) are
    flagged (errors with --strict); stale aspect averages only warn; a row without stored values whose volume
    is missing or unreadable is an error. Adds `flagged`, `problems` and `stored` to `t`."""
    t["flagged"] = False
    t["stored"] = None
    flagged: dict[int, list[dict]] = {}
    sources = t.attrs.get("sources", {})
    cell_problems = t.attrs.get("cell_problems", {})
    for name, group in t.groupby("scheme", sort=False):
        s = load_scheme(name)
        vcols = [c.volume_column for c in s.criteria if c.volume_column in group]
        candidates = ([col for cr in s.criteria for col in (cr.pct_column, cr.score_column)] + ["total", "level"]
                      + [a.average_column for a in s.aspects] + ["avg_overall"])
        stored_cols = [c for c in candidates if c in group and (group[c].notna().any()
                                                                 or group.get(f"bad!{c}", pd.Series(False)).any())]
        unreadable = pd.DataFrame({c: group.get(f"bad!{c}", pd.Series(False, index=group.index)).astype(bool)
                                   for c in [*vcols, *stored_cols]}, index=group.index)
        volume_issue = unreadable[vcols].any(axis=1)
        has_stored = (group[stored_cols].notna() | unreadable[stored_cols]).any(axis=1) if stored_cols else (
            pd.Series(False, index=group.index))
        for i in group.index[(volume_issue & ~has_stored).to_numpy()]:
            for c in unreadable.columns[unreadable.loc[i].to_numpy()]:
                at = (c, str(t.at[i, "sheet"]), int(t.at[i, "source_row"]))
                where = {"feature": int(t.at[i, "source_row"]), "field": sources.get(c, c)}
                reading = cell_problems.get(at)
                report.errors.append(
                    Problem.of("survey.volume_unreadable", **where, problem=Nested(
                        reading.problem_key, reading.problem_params or {})) if reading and reading.problem_key
                    else Problem(f"volume {reading.problem}", **where) if reading
                    else Problem.of("survey.volume_missing", **where))
        if not stored_cols:
            continue
        ours = score_units(group, s)
        bad = pd.DataFrame(index=group.index)
        for col in stored_cols:
            given = group[col]
            if col == "level":
                stored_level = _level_codes(given, s)
                bad[col] = given.notna() & (stored_level.fillna("?") != ours["level"].astype("string").fillna("-"))
            else:
                x, y = given.astype(float), ours[col].astype(float)
                tol = VOLUME_TOLERANCE if col.startswith(("p_", "avg_")) else 0.0
                close = np.isclose(x, y, rtol=1e-9, atol=tol) | (x.isna() & y.isna())
                bad[col] = given.notna() & ~close
            bad[col] |= unreadable[col]
        for c in vcols:
            bad[c] = unreadable[c]
        averages = [c for c in bad.columns if c.startswith("avg_")]
        core = [c for c in bad.columns if c not in averages]
        contradicts = has_stored & bad[core].any(axis=1)
        names = pd.Series([f"{c} " for c in bad.columns], index=bad.columns, dtype=object)
        listed = bad.astype(object).dot(names).str.strip()
        shifted = pd.Series(False, index=group.index)
        need = [*(c.pct_column for c in s.criteria), *(c.score_column for c in s.criteria), "total", "level"]
        if set(need) <= set(stored_cols):
            self_check = find_inconsistent_rows(group.assign(level=_level_codes(group["level"], s)), s)
            shifted = ~(self_check["scores_ok"] & self_check["total_ok"] & self_check["level_ok"])
        stored = group[stored_cols].astype(object).where(group[stored_cols].notna(), None)
        t.loc[group.index, "stored"] = pd.Series([json.dumps(r, default=float) for r in stored.to_dict("records")],
                                                 index=group.index)
        for i in group.index[contradicts.to_numpy()]:
            columns = listed[i].split(" ")
            more = f" (+{len(columns) - 6})" if len(columns) > 6 else ""
            first = listed[i].split(" ")[0]
            problem = Problem.of("survey.stored_contradicts_shifted" if shifted[i] else "survey.stored_contradicts",
                                 feature=int(t.at[i, "source_row"]), field=sources.get(first, first),
                                 severity="error" if strict else "warning", columns=", ".join(columns[:6]) + more)
            (report.errors if strict else report.warnings).append(problem)
            t.at[i, "flagged"] = not strict
            flagged[i] = [problem.as_dict()]
        stale = (bad[averages].any(axis=1) & ~contradicts) if averages else pd.Series(False, index=group.index)
        for i in group.index[stale.to_numpy()]:
            report.warnings.append(Problem.of("survey.stored_averages", feature=int(t.at[i, "source_row"]),
                                              severity="warning", columns=listed[i].replace(" ", ", ")))
    t["problems"] = [flagged.get(i, []) for i in t.index]


def _level_codes(values: pd.Series, scheme) -> pd.Series:
    """'KR', 'kr', 'Kumuh Ringan' -> 'KR'; unknown text stays as written (and disagrees)."""
    text = values.astype("string").str.strip()
    by_name = {lv.name.lower(): lv.code for lv in scheme.levels} | {lv.code.lower(): lv.code for lv in scheme.levels}
    return text.str.lower().map(by_name).astype("string").fillna(text)


# -- writing ---------------------------------------------------------------------------------------
def _create_units(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, source: str) -> int:
    """Create the units of rows matched to a slum area (with its polygon) or new (no geometry); the header
    counts of the unit are those of its latest round in the file."""
    todo = t[t["match"].isin(["slum_area", "new"])]
    if todo.empty:
        return 0
    latest = todo.sort_values(["unit_key", "round"]).drop_duplicates("unit_key", keep="last")
    params = arrays(latest, {"k": "kelurahan_code", "l": "label", "a": "slum_area_id", "area": "area_ha",
                             "b": "buildings", "p": "population", "h": "households", "r": "road_length_m",
                             "d": "drainage_length_m", "kw": "kawasan"})
    rows = conn.execute(
        """
        INSERT INTO survey_units (tenant, kelurahan_code, label, slum_area_id, area_ha, buildings, population,
            households, road_length_m, drainage_length_m, attributes, geom)
        SELECT %(t)s, x.k, x.l, x.a, x.area, round(x.b)::int, round(x.p)::int, round(x.h)::int, x.r, x.d,
               jsonb_strip_nulls(jsonb_build_object('kawasan', x.kw, 'source_file', %(f)s::text)),
               (SELECT s.geom FROM slum_areas s WHERE s.id = x.a AND x.m = 'slum_area')
        FROM unnest(%(k)s::text[], %(l)s::text[], %(a)s::bigint[], %(area)s::float8[], %(b)s::float8[],
                    %(p)s::float8[], %(h)s::float8[], %(r)s::float8[], %(d)s::float8[], %(kw)s::text[],
                    %(m)s::text[]) AS x(k, l, a, area, b, p, h, r, d, kw, m)
        RETURNING id
        """,
        {"t": tenant, "f": source, "m": latest["match"].astype(str).tolist(), **params},
    ).fetchall()
    ids = pd.Series([r[0] for r in rows], index=latest["unit_key"].to_numpy())
    new = t["unit_id"].isna()
    t.loc[new, "unit_id"] = t.loc[new, "unit_key"].map(ids).astype("Int64")
    return len(rows)


def _write_surveys(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, source: str) -> tuple[int, int]:
    volume_cols = [c for c in t.columns if c.startswith("v_")]
    vols = t[volume_cols].astype(object).where(t[volume_cols].notna(), None)
    allowed = {name: set(load_scheme(name).criterion_ids) for name in t["scheme"].unique()}
    records = vols.to_dict("records")
    volumes = [json.dumps({k[2:]: v for k, v in r.items() if k[2:] in allowed[s] and v is not None})
               for r, s in zip(records, t["scheme"], strict=True)]
    frame = t.assign(volumes=volumes, problems_json=[json.dumps(p) for p in t["problems"]])
    params = arrays(frame, {"u": "unit_id", "r": "round", "dt": "survey_date", "sc": "scheme", "area": "area_ha",
                            "b": "buildings", "p": "population", "h": "households", "rl": "road_length_m",
                            "dl": "drainage_length_m", "v": "volumes", "fl": "flagged", "pr": "problems_json",
                            "st": "stored", "row": "source_row"})
    rows = conn.execute(
        """
        INSERT INTO surveys (tenant, unit_id, round, survey_date, scheme, area_ha, buildings, population, households,
            road_length_m, drainage_length_m, volumes, source, flagged, problems, stored, source_row)
        SELECT %(t)s, u, r, dt, sc, area, round(b)::int, round(p)::int, round(h)::int, rl, dl, v::jsonb, %(src)s,
               fl, pr::jsonb, st::jsonb, row
        FROM unnest(%(u)s::bigint[], %(r)s::text[], %(dt)s::date[], %(sc)s::text[], %(area)s::float8[],
                    %(b)s::float8[], %(p)s::float8[], %(h)s::float8[], %(rl)s::float8[], %(dl)s::float8[],
                    %(v)s::text[], %(fl)s::bool[], %(pr)s::text[], %(st)s::text[], %(row)s::int[])
             AS x(u, r, dt, sc, area, b, p, h, rl, dl, v, fl, pr, st, row)
        ON CONFLICT (unit_id, round) DO UPDATE SET
            survey_date = EXCLUDED.survey_date, scheme = EXCLUDED.scheme, area_ha = EXCLUDED.area_ha,
            buildings = EXCLUDED.buildings, population = EXCLUDED.population, households = EXCLUDED.households,
            road_length_m = EXCLUDED.road_length_m, drainage_length_m = EXCLUDED.drainage_length_m,
            volumes = EXCLUDED.volumes, source = EXCLUDED.source, flagged = EXCLUDED.flagged,
            problems = EXCLUDED.problems, stored = EXCLUDED.stored, source_row = EXCLUDED.source_row,
            synthetic = false
        RETURNING (xmax = 0) AS inserted
        """,
        {"t": tenant, "src": source, **params},
    ).fetchall()
    inserted = sum(1 for r in rows if r[0])
    return inserted, len(rows) - inserted
