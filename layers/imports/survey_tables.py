"""Baseline tables (`kotaku import surveys` of a table that states results, not volumes).

KOTAKU.md §11: "Baseline tables list RT rows by kecamatan/desa/kampung name with a level, a weight and needs per
criterion." Such a table (CSV, or XLSX: every sheet, or --sheet) has per row a place (kelurahan/desa code or name,
optionally its kecamatan, and an RT/kampung/lingkungan label), a level (KB, Kumuh Berat, Berat, ... read by
indicators/level_text.py) and/or a total score (decimal commas allowed), optionally a weight (bobot), an area and
needs (kebutuhan_1a ...) and costs (biaya_1a ...) per criterion, and no volumes. Areas, needs and costs are read
with their unit (layers/values/quantities.py): an area in hectares ("7.067 ha", "1.250 m2", "0,5 hektar"), a need in
its criterion's unit ("1,2 km" of road = 1200 m, "35 KK"), a cost in rupiah ("Rp 1.500.000,-"); a value that cannot
be read is an error naming row, field and value. They are stored with the survey and totalled in the report.

Layout quirks handled: the header on any of the first rows (title rows above it), a two-row header (a merged
"Kebutuhan" over 1a, 1b ...; "Tingkat Kekumuhan" over "Tingkat"/"Skor"), a column-number row under the header,
kecamatan/desa written once for a group of RT rows (merged cells: filled down), a sheet per kecamatan (the sheet
name is the kecamatan when there is no kecamatan column), blank and "Jumlah" rows.

Matching: a kelurahan by code, else by name_key (layers/values/names.py) within the row's kecamatan when given;
a unit by its label in that kelurahan (no label: the unit is the whole kelurahan, labelled with its name). A unit
that does not exist yet is created with --create-units: on the slum area with its label when there is one,
else on its kelurahan/desa polygon (attributes.geometry_source = 'kelurahan', shown in the survey-units items).
Rows whose kelurahan cannot be found (or whose unit does not exist, without --create-units) reject the file with
the closest names (difflib), unless --skip-unmatched FILE writes them to FILE (CSV) and imports the rest.

The stated result goes to `surveys` (volumes empty, `stored` = {"source": "tabel", "level", "total", "weight",
"needs", "costs"}); layers/scoring/scores.py rolls it up to slum areas that have no volume-based score.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geo.csv_geometry import csv_text
from geo.errors import InvalidInput, UnsupportedFormat
from geo.problems import Problem
from indicators.level_text import level_from_text
from indicators.schemes import available_schemes, load_scheme
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.db.frames import Query, fetch
from layers.imports.report import ImportFailed, ImportReport
from layers.scoring.status import refresh_status
from layers.scoring.surveys import link_survey_units, normalise_label
from layers.values.codes import normalise_code, tenant_code
from layers.values.fields import field_key, parse_field_map, resolve_fields
from layers.values.names import name_key
from layers.values.progress import Progress, no_progress
from layers.values.quantities import CRITERION_UNITS, column_decimal, parse_quantity

FIELDS: dict[str, tuple[str, ...]] = {
    "kelurahan_code": ("kelurahan_code", "kode_kel", "kode_kelurahan", "kd_kel", "kode_desa", "kd_desa", "kdepum",
                       "kode_desa_kelurahan", "kode_kelurahan_desa"),
    "kelurahan": ("kelurahan", "desa", "nama_kelurahan", "nama_kel", "desa_kel", "kel_desa", "nama_desa",
                  "desa_kelurahan", "kelurahan_desa", "nama_desa_kelurahan", "nama_kelurahan_desa", "kel_nama",
                  "desa_nama", "kel"),
    "kecamatan": ("kecamatan", "nama_kecamatan", "kec", "kec_nama", "nama_kec", "wilayah"),
    "label": ("label", "rt_rw", "rtrw", "kode_rt_rw", "rt_rw_lingkungan", "rt", "nama_rt", "lingkungan",
              "nama_lingkungan", "kampung", "nama_kampung", "dusun", "lokasi", "nama_lokasi", "unit"),
    "kawasan": ("kawasan", "nama_kawasan"),
    "round": ("round", "putaran", "tahun", "year", "tahun_survei", "tahun_data"),
    "scheme": ("scheme", "skema"),
    # the most specific first: a table may also carry other "Nilai"/"Tingkat" pairs (Pertimbangan Lainnya)
    "level": ("level", "kekumuhan_tingkat", "tingkat_kekumuhan_tingkat", "tingkat_kekumuhan", "tingkat_kumuh",
              "kategori_kumuh", "klasifikasi_kumuh", "tingkat", "klasifikasi", "kategori", "kekumuhan"),
    "total": ("total", "kekumuhan_nilai", "tingkat_kekumuhan_skor", "tingkat_kekumuhan_nilai", "kekumuhan_skor",
              "total_nilai", "total_skor", "skor_total", "jumlah_skor", "nilai_total", "skor_kumuh", "nilai_kekumuhan",
              "skor", "nilai", "score"),
    "weight": ("bobot", "weight", "bobot_kumuh", "bobot_nilai"),
    "area_ha": ("luas", "luas_ha", "luas_kumuh", "luas_kumuh_ha", "luasan_kumuh", "luasan_kumuh_ha", "area_ha",
                "luas_kawasan"),
}
NEED_PREFIXES = ("kebutuhan", "need", "kebutuhan_penanganan", "volume_kebutuhan", "kebutuhan_volume")
COST_PREFIXES = ("biaya", "cost", "anggaran", "kebutuhan_biaya", "biaya_penanganan", "rencana_biaya")
VOLUME_MARKS = ("v_{}", "{}v", "vol_{}", "volume_{}")
COUNT_FIELDS = ("jumlah_bangunan", "jumlah_kk", "jumlah_penduduk", "panjang_jalan_ideal", "panjang_drainase_ideal",
                "buildings", "households", "population")
HEADER_SEARCH_ROWS = 15
_SUM_ROW = re.compile(r"^\s*(jumlah|total|sub\s*total|grand\s*total)\b", re.IGNORECASE)
_INDEX_CELL = re.compile(r"^\(?\d+\)?$")


# -- reading ---------------------------------------------------------------------------------------
def _criterion_ids() -> list[str]:
    ids: list[str] = []
    for name in available_schemes():
        ids += [c for c in load_scheme(name).criterion_ids if c not in ids]
    return ids


def _candidates() -> dict[str, tuple[str, ...]]:
    cands = dict(FIELDS)
    for cid in _criterion_ids():
        cands[f"need_{cid}"] = tuple(f"{p}_{cid}" for p in NEED_PREFIXES)
        cands[f"cost_{cid}"] = tuple(f"{p}_{cid}" for p in COST_PREFIXES)
    return cands


def _known_keys() -> set[str]:
    return {field_key(name) for names in _candidates().values() for name in names}


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value).strip()


def _header(grid: pd.DataFrame) -> tuple[int, list[str]] | None:
    """(first data row, column names) of a grid read without a header; None when no row names a level or score."""
    known = _known_keys()
    results = {field_key(n) for n in (*FIELDS["level"], *FIELDS["total"])}
    best: tuple[int, int, list[str]] | None = None
    for h in range(min(HEADER_SEARCH_ROWS, len(grid))):
        top = [_text(v) for v in grid.iloc[h]]
        below = [_text(v) for v in grid.iloc[h + 1]] if h + 1 < len(grid) else [""] * len(top)
        parent, spans = "", []
        for cell in top:  # a merged cell is written in its first column only: carry it right
            parent = cell or parent
            spans.append(parent)
        two_rows = sum(1 for t, b in zip(top, below, strict=True) if b and not t) >= 2 or any(
            field_key(f"{p} {b}") in known and field_key(b) not in known for p, b in zip(spans, below, strict=True)
            if b)
        names = []
        for t, p, b in zip(top, spans, below, strict=True):
            options = [f"{p} {b}", b, t or p] if two_rows and b else [t]
            names.append(next((o for o in options if o and field_key(o) in known), options[0] if options[0].strip()
                              else t))
        cells = [c for c in top if c]
        if not cells or sum(1 for c in cells if _number(c) is not None and _number(c) == _number(c)) * 2 > len(cells):
            continue  # a data row, not a header
        hits = len({field_key(n) for n in names if n and field_key(n) in known})
        if any(field_key(n) in results for n in names) and (best is None or hits > best[1]):
            best = (h + (2 if two_rows else 1), hits, names)
    if best is None:
        return None
    start, _, names = best
    seen: dict[str, int] = {}
    unique = []
    for i, n in enumerate(names):
        n = n or f"kolom_{i + 1}"
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return start, unique


def _grids(path: Path, sheet: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl", dtype=object)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise UnsupportedFormat.of("file.unreadable", file=path.name, format="XLSX") from exc
        if sheet is not None:
            if sheet not in sheets:
                raise InvalidInput.of("survey.no_sheet", file=path.name, sheet=sheet, sheets=list(sheets))
            return [(sheet, sheets[sheet])]
        return list(sheets.items())
    if suffix in (".csv", ".txt", ".tsv"):
        text = csv_text(path)  # cp1252 from Excel on Windows too
        try:
            sep = max((",", ";", "\t", "|"), key=text[:65536].count)
            grid = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                               skip_blank_lines=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise UnsupportedFormat.of("file.unreadable", file=path.name, format="CSV") from exc
        return [(None, grid)]
    return []


def read_baseline(path: str | Path, sheet: str | None = None) -> tuple[pd.DataFrame, str] | None:
    """The table's rows (named columns, `source_row` as the spreadsheet counts, `sheet`) when the file is a baseline
    table (a level or score column and no volumes), else None."""
    path = Path(path)
    if not path.exists():
        return None
    grids = _grids(path, sheet)
    ids = _criterion_ids()
    volume_keys = {field_key(m.format(cid)) for cid in ids for m in VOLUME_MARKS}
    frames = []
    for name, grid in grids:
        found = _header(grid)
        if found is None:
            continue
        start, names = found
        keys = {field_key(n) for n in names}
        counts = {field_key(c) for c in COUNT_FIELDS}
        if keys & volume_keys or (keys & set(ids) and keys & counts):
            return None  # volumes: the survey importer's own layout
        body = grid.iloc[start:].copy()
        body.columns = names
        body["source_row"] = np.arange(start, len(grid)) + 1
        body["sheet"] = name
        frames.append(body)
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    return table, f"tabel baseline ({len(frames)} sheet)" if len(frames) > 1 or sheet is not None else "tabel baseline"


# -- normalising -----------------------------------------------------------------------------------
def _quantity(value: object, expected: str, decimal: str | None, row: int, field: str,
              report: ImportReport) -> float | None:
    """A cell with its unit ("7.067 ha", "12,5 m2", "Rp 1.500.000", "120 m") in `expected` (a key of
    layers/values/quantities.EXPECTED); None when blank or unreadable (an error naming row, field and value)."""
    try:
        quantity = parse_quantity(None if _text(value) == "" else value, expected, decimal=decimal)
    except InvalidInput as error:
        report.errors.append(Problem.of(error.key, feature=row, field=field, **(error.params or {})) if error.key
                             else Problem(error.message, feature=row, field=field))
        return None
    if quantity is None:
        return None
    if quantity.note_problem is not None:
        note = quantity.note_problem
        report.warnings.append(Problem.of(note.key or "", feature=row, field=field, severity="warning",
                                          **(note.params or {})))
    return quantity.value


def _need_units(scheme) -> dict[str, str]:
    """criterion id -> the unit its needs are read in: the criterion's own (m, KK, unit, ha, %)."""
    return {c.id: CRITERION_UNITS.get(c.unit, "unit") for c in scheme.criteria}


def _number(value: object) -> float | None:
    """'45', '45,0', '1.234,5', 45.0 -> float; blank -> None; text -> NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if text in ("", "-", "--"):
        return None
    if "," in text and "." in text:
        text = text.replace(".", "")
    text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _round_name(value: object) -> str | None:
    text = _text(value)
    number = _number(text)
    if number is not None and number == number and number == round(number):
        return str(int(number))
    return text or None


def _has_result(level_raw: object, total_raw: object, scheme) -> bool:
    """A readable level or a score in range: what tells a row of the table from text under it."""
    for value in (level_raw, _number(total_raw)):
        try:
            if value is not None and value == value and _text(value) and level_from_text(value, scheme)[0]:
                return True
        except ValueError:
            continue
    return False


def normalise(raw: pd.DataFrame, explicit: dict[str, str], scheme: str, round: str | None,
              report: ImportReport) -> pd.DataFrame:
    columns = [c for c in raw.columns if c not in ("source_row", "sheet")]
    cands = _candidates()
    fields = resolve_fields(columns, cands, {k: v for k, v in explicit.items() if k in cands})
    report.fields = fields
    several_sheets = raw["sheet"].nunique(dropna=True) > 1

    def col(target: str) -> pd.Series:
        return raw[fields[target]] if target in fields else pd.Series([None] * len(raw), index=raw.index,
                                                                     dtype=object)

    def where(target: str) -> str:
        name = fields.get(target, target)
        return f"{raw.at[i, 'sheet']}!{name}" if several_sheets and raw.at[i, "sheet"] else name

    rows: list[dict[str, Any]] = []
    last: dict[str, str] = {}
    after_gap, ignored = False, list[int]()  # a signature block under the table: after a blank row, no result
    last_kawasan = ""
    if "round" not in fields and round is None:
        report.errors.append(Problem.of("survey.no_round", field="round"))
    measured = [t for t in fields if t == "area_ha" or t.startswith(("need_", "cost_"))]
    decimals = {t: column_decimal(col(t).tolist()) for t in measured}  # how each column writes decimals
    for i in raw.index:
        r: dict[str, Any] = {k: _text(col(k)[i]) for k in ("kelurahan_code", "kelurahan", "kecamatan", "label",
                                                             "kawasan")}
        level_raw, total_raw = col("level")[i], col("total")[i]
        cells = [_text(v) for v in raw.loc[i, columns]]
        filled = [c for c in cells if c]
        if not filled:
            after_gap = after_gap or bool(rows)
            continue
        if _SUM_ROW.match(filled[0]):
            continue  # a 'Jumlah' / 'TOTAL LUASAN KUMUH' row
        if len(filled) >= 3 and all(_INDEX_CELL.match(c) for c in filled):
            continue  # the column-number row under a header: (1) (2) (3) ...
        row = int(raw.at[i, "source_row"])
        sheet = raw.at[i, "sheet"]
        if not r["kecamatan"] and several_sheets and sheet:
            r["kecamatan"] = str(sheet)
        # merged cells: kecamatan and desa are written on the first of their RT rows only
        if r["kecamatan"]:
            last = {"kecamatan": r["kecamatan"]}
        if r["kelurahan"] or r["kelurahan_code"]:
            last.update(kelurahan=r["kelurahan"], kelurahan_code=r["kelurahan_code"])
        elif r["label"]:
            r["kelurahan"], r["kelurahan_code"] = last.get("kelurahan", ""), last.get("kelurahan_code", "")
        if not r["kecamatan"] and r["label"]:
            r["kecamatan"] = last.get("kecamatan", "")
        if r["kawasan"]:
            last_kawasan = r["kawasan"]
        elif r["label"]:
            r["kawasan"] = last_kawasan
        if "round" in fields:
            r["round"] = _round_name(col("round")[i]) or round
            if round is not None and r["round"] != round:
                continue
        else:
            r["round"] = round
        r["scheme"] = (_text(col("scheme")[i]).lower() or scheme)
        if r["scheme"] not in available_schemes():
            report.errors.append(Problem.of("code.unknown", feature=row, field=where("scheme"), value=r["scheme"],
                                            list="scheme", known=", ".join(available_schemes())))
            continue
        s = load_scheme(r["scheme"])
        if after_gap and not _has_result(level_raw, total_raw, s):
            ignored.append(row)
            continue
        after_gap = False
        level, total, expected = None, None, None
        try:
            level, _ = level_from_text(None if _text(level_raw) == "" else level_raw, s)
        except ValueError:
            report.errors.append(Problem.of("level.unreadable", feature=row, field=where("level"),
                                            value=_text(level_raw), max=s.max_total))
            continue
        number = _number(total_raw)
        if number is not None and number != number:
            report.errors.append(Problem.of("field.not_number", feature=row, field=where("total"),
                                            value=_text(total_raw)))
            continue
        if number is not None:
            try:
                expected, total = level_from_text(number, s)
            except ValueError:
                report.errors.append(Problem.of("score.not_whole", feature=row, field=where("total"),
                                                value=_text(total_raw), max=s.max_total, scheme=s.name))
                continue
        if level is None and total is None:
            report.errors.append(Problem.of("level.missing", feature=row, field=where("level")))
            continue
        if level is not None and expected is not None and level != expected:
            report.errors.append(Problem.of("level.disagrees", feature=row, field=where("level"), level=level,
                                            score=total, expected=expected))
            continue
        r["level"], r["total"] = level or expected, total
        extra: dict[str, object] = {}
        weight = _number(col("weight")[i])
        if weight is not None and weight != weight:
            report.errors.append(Problem.of("field.not_number", feature=row, field=where("weight"),
                                            value=_text(col("weight")[i])))
        elif weight is not None:
            extra["weight"] = weight
        errors_before = len(report.errors)
        if "area_ha" in fields:  # "7.067 ha", "14.340 m2", "0,5 hektar": hectares
            area = _quantity(col("area_ha")[i], "ha", decimals["area_ha"], row, where("area_ha"), report)
            if area is not None:
                extra["area_ha"] = area
        units = _need_units(s)
        for kind in ("need", "cost"):  # needs in the criterion's unit ("120 m", "35 KK"), costs in rupiah
            per = {}
            for cid in _criterion_ids():
                target = f"{kind}_{cid}"
                if target in fields:
                    value = _quantity(col(target)[i], "rp" if kind == "cost" else units.get(cid, "unit"),
                                      decimals[target], row, where(target), report)
                    if value is not None:
                        per[cid] = value
            if per:
                extra[f"{kind}s"] = per
        if len(report.errors) > errors_before:
            continue
        r.update(source_row=row, sheet=sheet, extra=extra, where_kelurahan=where(
            "kelurahan" if "kelurahan" in fields or "kelurahan_code" not in fields else "kelurahan_code"),
                 where_label=where("label"), original={c: _text(raw.at[i, c]) for c in columns})
        rows.append(r)
    if ignored:
        report.warnings.append(Problem.of("survey.ignored_after_table", severity="warning", count=len(ignored),
                                          rows=", ".join(str(r) for r in ignored)))
    out = pd.DataFrame(rows, columns=["kelurahan_code", "kelurahan", "kecamatan", "label", "kawasan", "round",
                                      "scheme", "level", "total", "source_row", "sheet", "extra", "where_kelurahan",
                                      "where_label", "original"])
    return _split_by_kawasan(out)


def _split_by_kawasan(t: pd.DataFrame) -> pd.DataFrame:
    """An RT cut by two kawasan is two rows with one label (Sinjai's decree): each becomes its own unit,
    labelled 'RT002-RW001 (Kawasan X)'. The same label twice in one kawasan stays a duplicate."""
    if t.empty:
        return t
    place = [f"{name_key(k)}|{c or name_key(n)}|{lb}" for k, c, n, lb in
             zip(t["kecamatan"], t["kelurahan_code"], t["kelurahan"], _label_keys(t["label"]).fillna(""), strict=True)]
    kawasan = t["kawasan"].map(name_key)
    spread = pd.Series(kawasan.to_numpy(), index=place).groupby(level=0).nunique()
    split = (pd.Series(place).map(spread).to_numpy() > 1) & t["label"].astype(bool).to_numpy() & kawasan.astype(
        bool).to_numpy()
    t.loc[split, "label"] = t.loc[split, "label"] + " (" + t.loc[split, "kawasan"] + ")"
    # rows of one label that state different figures (area, score, level) are parts of the RT, each its own
    # polygon in the delineation: 'RT002-RW001 bagian 2'; identical rows stay duplicates (an error)
    place = [f"{p}|{name_key(k)}|{r}" for p, k, r in zip(place, t["kawasan"], t["round"], strict=True)]
    figures = [json.dumps([e.get("area_ha"), None if pd.isna(tot) else tot, lv], default=str)
               for e, tot, lv in zip(t["extra"], t["total"], t["level"], strict=True)]
    frame = pd.DataFrame({"place": place, "figures": figures}, index=t.index)
    distinct = frame.groupby("place")["figures"].transform("nunique")
    part = frame.groupby("place").cumcount() + 1
    parts = (distinct > 1) & t["label"].astype(bool)
    t.loc[parts & (part > 1), "label"] = t.loc[parts & (part > 1), "label"] + " bagian " + part[parts].astype(str)
    t.attrs["parts"] = int(parts.sum())
    return t


# -- matching --------------------------------------------------------------------------------------
_LABEL_WORDS = ((r"LINGKUNGAN|LING", "LK"), (r"RUKUNTETANGGA", "RT"), (r"RUKUNWARGA", "RW"), (r"DUSUN", "DSN"))


def _label_keys(labels: pd.Series) -> pd.Series:
    """normalise_label, and the words files shorten: 'Lingkungan 01' == 'LK 1' == 'Ling. 1'."""
    keys = normalise_label(labels.astype("string"))
    for pattern, short in _LABEL_WORDS:
        keys = keys.str.replace(pattern, short, regex=True)
    return keys


def _areas_by_label(areas: pd.DataFrame, norm: object) -> pd.DataFrame:
    """The slum areas of one kelurahan labelled `norm` (a _label_keys key); else the only one whose label adds a
    place name after the same RT/RW: the delineation's '1003-RT01_RW01 TOKINJONG' is the SK table's 'RT001-RW001'
    (a following digit is another RT: RT1RW1 is not RT1RW12; two place names after it are two areas: no match)."""
    if not len(areas) or not isinstance(norm, str):
        return areas[0:0]
    keys = _label_keys(areas["unit_label"])
    same = areas[keys.eq(norm).fillna(False).to_numpy(dtype=bool)]
    if len(same) or not re.search(r"\d$", norm):
        return same
    longer = [isinstance(k, str) and k.startswith(norm) and k[len(norm):][:1].isalpha() for k in keys]
    return areas[longer] if keys[longer].nunique() == 1 else areas[0:0]  # newest decree first, as `areas` is


def _closest(word: str, names: dict[str, str]) -> str:
    """The closest names (by name_key, difflib) as the file should have written them, or '-'."""
    keys = difflib.get_close_matches(name_key(word), list(names), n=3, cutoff=0.6)
    return ", ".join(names[k] for k in keys) or "-"


def match(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, create: bool, skip: bool,
          report: ImportReport) -> pd.DataFrame:
    """Adds kelurahan_code (resolved), unit_id (existing), slum_area_id, geometry_source, `unmatched` (reason)."""
    regions = fetch(conn, Query(sql.SQL(
        "SELECT r.code, r.name, k.name AS kecamatan FROM regions r LEFT JOIN regions k ON k.code = r.parent_code "
        "WHERE r.tenant = %s AND r.level = 'desa_kelurahan'"), [tenant]))
    regions["key"] = [name_key(n) for n in regions["name"]]
    regions["kec_key"] = [name_key(n) for n in regions["kecamatan"]]
    units = fetch(conn, Query(sql.SQL("SELECT id, kelurahan_code, label FROM survey_units WHERE tenant = %s"),
                              [tenant]))
    units["label_norm"] = _label_keys(units["label"]) if len(units) else pd.Series(dtype="string")
    areas = fetch(conn, Query(sql.SQL(
        "SELECT s.id, s.kelurahan_code, s.unit_label, s.kawasan FROM slum_areas s JOIN decrees d ON d.id = s.decree_id "
        "WHERE s.tenant = %s ORDER BY d.decree_date DESC NULLS LAST, d.id DESC, s.id"), [tenant]))
    names = {str(r.code): str(r.name) for r in regions.itertuples()}
    t = t.copy()
    t["unit_id"] = pd.Series([None] * len(t), dtype=object)
    t["slum_area_id"] = pd.Series([None] * len(t), dtype=object)
    t["geometry_source"] = pd.Series([None] * len(t), dtype=object)
    t["unmatched"] = pd.Series([None] * len(t), dtype=object)
    problems: list[tuple[int, Problem]] = []
    for i in t.index:
        row = int(t.at[i, "source_row"])
        code = normalise_code(t.at[i, "kelurahan_code"]) if t.at[i, "kelurahan_code"] else None
        name, kec = t.at[i, "kelurahan"], t.at[i, "kecamatan"]
        problem = None
        if code is None and t.at[i, "kelurahan_code"]:
            problem = Problem.of("survey.kelurahan_code_unknown", feature=row, field=t.at[i, "where_kelurahan"],
                                 code=t.at[i, "kelurahan_code"], tenant=tenant)
        elif code is not None:
            if code not in names:
                problem = Problem.of("survey.kelurahan_code_unknown", feature=row,
                                     field=t.at[i, "where_kelurahan"], code=code, tenant=tenant)
        elif not name:
            problem = Problem.of("survey.no_place", feature=row, field=t.at[i, "where_kelurahan"])
        else:
            same = regions[regions["key"] == name_key(name)]
            in_kec = same[same["kec_key"] == name_key(kec)] if kec else same
            pick = in_kec if len(in_kec) else same
            if len(pick) == 1:
                code = str(pick["code"].iloc[0])
            elif len(pick) > 1:
                problem = Problem.of("survey.kelurahan_ambiguous", feature=row, field=t.at[i, "where_kelurahan"],
                                     name=name)
            else:
                scope = regions[regions["kec_key"] == name_key(kec)] if kec else regions
                scope = scope if len(scope) else regions
                choices = {k: f"{n} ({kc})" for k, n, kc in zip(scope["key"], scope["name"], scope["kecamatan"],
                                                                strict=True)}
                problem = Problem.of("survey.kelurahan_unmatched", feature=row, field=t.at[i, "where_kelurahan"],
                                     name=name,
                                     within=f" (kecamatan {kec})" if kec else "", tenant=tenant,
                                     closest=_closest(name, choices))
        if problem is None and code is not None:
            t.at[i, "kelurahan_code"] = code
            label = t.at[i, "label"] or names[code]
            t.at[i, "label"] = label
            norm = _label_keys(pd.Series([label], dtype="string")).iloc[0]
            hit = units[(units["kelurahan_code"] == code) & (units["label_norm"] == norm)] if len(units) else units
            if len(hit):
                t.at[i, "unit_id"] = int(hit["id"].iloc[0])
            else:
                here = areas[areas["kelurahan_code"] == code]
                by_label = _areas_by_label(here, norm)
                kawasan = t.at[i, "kawasan"]
                by_kawasan = here[[name_key(k) == name_key(kawasan) for k in here["kawasan"]]] if kawasan else here[0:0]
                if len(by_label):
                    t.at[i, "slum_area_id"], t.at[i, "geometry_source"] = int(by_label["id"].iloc[0]), "slum_area"
                else:
                    t.at[i, "geometry_source"] = "kelurahan"
                    link = by_kawasan if len(by_kawasan) == 1 else here if len(here) == 1 else here[0:0]
                    if len(link):
                        t.at[i, "slum_area_id"] = int(link["id"].iloc[0])
                if not create:
                    labels = {k: str(v) for k, v in zip(units.loc[units["kelurahan_code"] == code, "label_norm"],
                                                        units.loc[units["kelurahan_code"] == code, "label"],
                                                        strict=True) if isinstance(k, str)} if len(units) else {}
                    keys = difflib.get_close_matches(norm if isinstance(norm, str) else "", list(labels), n=3,
                                                     cutoff=0.5)
                    problem = Problem.of("survey.unit_unmatched", feature=row, field=t.at[i, "where_label"],
                                         label=label, kelurahan=names[code], code=code,
                                         closest=", ".join(labels[k] for k in keys) or "-")
        if problem is not None:
            t.at[i, "unmatched"] = problem.reason
            problems.append((i, problem))
    if skip:
        return t
    report.errors += [p for _, p in problems]
    return t


# -- the import ------------------------------------------------------------------------------------
def import_baseline_table(
    conn: psycopg.Connection,
    path: str | Path,
    raw: pd.DataFrame,
    layout: str,
    *,
    tenant: str,
    round: str | None = None,
    scheme: str = "permen14_2018",
    create_units: bool = False,
    skip_unmatched: str | Path | None = None,
    field_map: str | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
) -> ImportReport:
    tenant = tenant_code(tenant)
    report = ImportReport(kind="surveys", file=str(path))
    report.layer, report.driver = layout, Path(path).suffix.lstrip(".").upper()
    table = normalise(raw, parse_field_map(field_map), scheme, round, report)
    report.features_read = len(table)
    if report.errors:
        raise ImportFailed(report)
    if table.empty:
        report.errors.append(Problem.of("file.empty"))
        raise ImportFailed(report)
    if table.attrs.get("parts"):
        report.warnings.append(Problem.of("survey.parts", severity="warning", count=table.attrs["parts"]))
    progress("mencocokkan unit", 0, len(table))
    table = match(conn, table, tenant, create_units, skip_unmatched is not None, report)
    skipped = table[table["unmatched"].notna()]
    table = table[table["unmatched"].isna()].copy()
    table["unit_key"] = [f"u{u}" if u is not None else f"k{k}|{_label_keys(pd.Series([lb])).iloc[0]}"
                         for u, k, lb in zip(table["unit_id"], table["kelurahan_code"], table["label"], strict=True)]
    first = table.drop_duplicates(["unit_key", "round"]).set_index(["unit_key", "round"])["source_row"]
    for row, key, rnd in table.loc[table.duplicated(["unit_key", "round"]), ["source_row", "unit_key", "round"]
                                   ].itertuples(index=False):
        report.errors.append(Problem.of("survey.duplicate_of", feature=int(row), first=int(first[(key, rnd)])))
    if report.errors:
        raise ImportFailed(report)
    if skip_unmatched is not None and len(skipped):
        _write_skipped(Path(skip_unmatched), skipped)
        report.warnings.append(Problem.of("survey.skipped", severity="warning", count=len(skipped),
                                          file=str(skip_unmatched)))
    if table.empty:
        report.errors.append(Problem.of("file.empty"))
        raise ImportFailed(report)
    progress("menulis ke PostGIS", 0, len(table))
    source = Path(path).name
    with conn.transaction():
        created, placed = _create_units(conn, table, tenant, source)
        inserted, replaced = _write(conn, table, tenant, source)
        report.warnings += link_survey_units(conn, tenant)
        status = refresh_status(conn, tenant)
        audit.record(conn, principal or cli_principal(), "surveys.import", "tenant", tenant, None,
                     {"file": audit.file_fingerprint(path), "layout": "baseline table",
                      "rounds": sorted({str(r) for r in table["round"]}), "inserted": inserted, "replaced": replaced,
                      "units_created": created, "skipped": len(skipped)}, tenant=tenant)
    if placed:
        report.warnings.append(Problem.of("survey.on_kelurahan", severity="warning", count=placed))
    report.features_written = inserted + replaced
    progress("selesai", len(table), len(table))
    report.summary.update({
        "tenant": tenant,
        "layout": "baseline table (levels/scores as stated, no volumes)",
        "rounds": sorted({str(r) for r in table["round"]}),
        "units_matched": int(sum(u is not None for u in table["unit_id"])),
        "units_created": created,
        "units_on_kelurahan_polygon": placed,
        "surveys_inserted": inserted,
        "surveys_replaced": replaced,
        "rows_skipped": len(skipped),
        "slum_areas_scored": status["current"],
        **_stated_figures(table["extra"].tolist()),
    })
    return report.finish()


def _stated_figures(extras: list[dict[str, Any]]) -> dict[str, Any]:
    """What the report says of the areas, needs and costs it read: stored with each survey (`stored`)."""
    out: dict[str, Any] = {}
    areas = [e["area_ha"] for e in extras if "area_ha" in e]
    if areas:
        out["area_ha_stated"] = {"rows": len(areas), "total_ha": round(sum(areas), 4)}
    for kind, unit in (("needs", "volume"), ("costs", "rp")):
        rows = [e[kind] for e in extras if e.get(kind)]
        if rows:
            per: dict[str, float] = {}
            for figures in rows:
                for cid, value in figures.items():
                    per[cid] = per.get(cid, 0.0) + value
            out[f"{kind}_stored"] = {"rows": len(rows), f"total_{unit}_per_criterion": {
                cid: round(v, 4) for cid, v in sorted(per.items())}}
    return out


def _write_skipped(target: Path, skipped: pd.DataFrame) -> None:
    columns = list(dict.fromkeys(c for o in skipped["original"] for c in o))
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["baris", "sheet", *columns, "alasan"])
        for r in skipped.itertuples():
            writer.writerow([r.source_row, r.sheet or "", *(r.original.get(c, "") for c in columns), r.unmatched])


def _create_units(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, source: str) -> tuple[int, int]:
    """Units that do not exist yet: on their slum area's polygon, else on their kelurahan/desa polygon."""
    new = t[[u is None for u in t["unit_id"]]].drop_duplicates("unit_key")
    if new.empty:
        return 0, 0
    rows = conn.execute(
        """
        INSERT INTO survey_units (tenant, kelurahan_code, label, slum_area_id, area_ha, attributes, geom)
        SELECT %(t)s, x.k, x.l, x.a, x.area,
               jsonb_strip_nulls(jsonb_build_object('kawasan', x.kw, 'source_file', %(f)s::text,
                                                    'geometry_source', x.gs)),
               CASE x.gs WHEN 'slum_area' THEN (SELECT s.geom FROM slum_areas s WHERE s.id = x.a)
                         ELSE (SELECT ST_Multi(r.geom) FROM regions r WHERE r.code = x.k) END
        FROM unnest(%(k)s::text[], %(l)s::text[], %(a)s::bigint[], %(area)s::float8[], %(kw)s::text[],
                    %(gs)s::text[]) AS x(k, l, a, area, kw, gs)
        RETURNING id, kelurahan_code, label, geom IS NOT NULL AND attributes->>'geometry_source' = 'kelurahan'
        """,
        {"t": tenant, "f": source, "k": new["kelurahan_code"].tolist(), "l": new["label"].tolist(),
         "a": new["slum_area_id"].tolist(), "kw": [k or None for k in new["kawasan"]],
         "area": [e.get("area_ha") for e in new["extra"]], "gs": new["geometry_source"].tolist()},
    ).fetchall()
    ids = dict(zip(new["unit_key"], (r[0] for r in rows), strict=True))
    t["unit_id"] = [u if u is not None else ids[k] for u, k in zip(t["unit_id"], t["unit_key"], strict=True)]
    # existing units without a geometry take their kelurahan's polygon, marked so
    conn.execute(
        """
        UPDATE survey_units u SET geom = ST_Multi(r.geom),
               attributes = u.attributes || '{"geometry_source": "kelurahan"}'::jsonb
        FROM regions r WHERE u.id = ANY(%s) AND u.geom IS NULL AND r.code = u.kelurahan_code AND r.geom IS NOT NULL
        """, [[int(u) for u in t["unit_id"]]])
    return len(rows), sum(1 for r in rows if r[3])


def _write(conn: psycopg.Connection, t: pd.DataFrame, tenant: str, source: str) -> tuple[int, int]:
    stored = [json.dumps({"source": "tabel", "level": lv, "total": None if pd.isna(tot) else int(tot), **extra},
                         default=float)
              for lv, tot, extra in zip(t["level"], t["total"], t["extra"], strict=True)]
    rows = conn.execute(
        """
        INSERT INTO surveys (tenant, unit_id, round, scheme, area_ha, volumes, source, flagged, problems, stored,
                             source_row)
        SELECT %(t)s, u, r, sc, area, '{}'::jsonb, %(src)s, false, '[]'::jsonb, st::jsonb, row
        FROM unnest(%(u)s::bigint[], %(r)s::text[], %(sc)s::text[], %(area)s::float8[], %(st)s::text[],
                    %(row)s::int[]) AS x(u, r, sc, area, st, row)
        ON CONFLICT (unit_id, round) DO UPDATE SET
            scheme = EXCLUDED.scheme, area_ha = EXCLUDED.area_ha, volumes = EXCLUDED.volumes,
            source = EXCLUDED.source, flagged = false, problems = '[]'::jsonb, stored = EXCLUDED.stored,
            source_row = EXCLUDED.source_row, synthetic = false
        RETURNING (xmax = 0) AS inserted
        """,
        {"t": tenant, "src": source, "u": [int(u) for u in t["unit_id"]], "r": t["round"].tolist(),
         "sc": t["scheme"].tolist(), "area": [e.get("area_ha") for e in t["extra"]], "st": stored,
         "row": [int(r) for r in t["source_row"]]},
    ).fetchall()
    inserted = sum(1 for r in rows if r[0])
    return inserted, len(rows) - inserted
