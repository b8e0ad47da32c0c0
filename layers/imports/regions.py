"""`kotaku import regions FILE`: administrative polygons keyed by Kemendagri code.

Level, kind (kota/kabupaten, kelurahan/desa) and parent come from the code itself; the BPS code is kept
when the file has one (never derived: the two systems differ). Re-importing a code replaces its row
(a BPS code is kept only if the new file has it).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import psycopg
import shapely
from psycopg.copy import QueuedLibpqWriter

from geo.measure import geodesic_area_ha
from geo.parallel import ahead, background
from geo.problems import Problem
from geo.read_wkb import Attributes, PlainLayer, WkbStream, plain_layer
from geo.validate import validate_array, validate_geometries
from layers.accounts import audit
from layers.accounts.access import Principal, cli_principal
from layers.imports import region_skip
from layers.imports.crosswalk import CROSSWALK_FAILED, with_kemendagri_codes
from layers.imports.region_names import listed_names, with_written_names
from layers.imports.report import ImportFailed, ImportReport, require_features
from layers.values.codes import code_facts, normalise_code
from layers.values.fields import parse_field_map, resolve_fields, text_or_none
from layers.values.progress import Progress, no_progress

COPY_CHUNK = 2_000
_WORKERS = min(2, os.cpu_count() or 1)  # threads checking chunks ahead; PostgreSQL and the writing need cores too
# Chunks checked ahead of the COPY: enough to keep the threads busy while the codes and names are worked on and
# the old rows deleted (the national-size file's WKB is 3.2 MB per 2,000 desa: at most ~50 MB held at once)
AHEAD_CHUNKS = 16
AUDIT_CODES = 1_000  # the audit entry lists at most this many of the codes written

# Known field names, most specific first: our own/cahyadsn ('kode'), BIG RBI (KDEPUM/KDCPUM/KDPKAB/KDPPUM,
# names in NAMOBJ or WADMKD/WADMKC/WADMKK/WADMPR), and common hand-made layouts.
FIELD_CANDIDATES = {
    "code": (
        "kode", "kode_kemendagri", "kd_kemendagri", "kode_wilayah", "kode_wil", "kemendagri", "kdepum",
        "kode_desa", "kode_kel", "kd_desa", "kd_kel", "kdcpum", "kode_kec", "kd_kec", "kdpkab", "kode_kab",
        "kd_kab", "kdppum", "kode_prov", "kd_prov", "code",
    ),
    "name": (
        "nama", "name", "namobj", "nama_wilayah", "wadmkd", "nama_desa", "nama_kel", "desa", "kelurahan",
        "wadmkc", "nama_kec", "kecamatan", "wadmkk", "nama_kab", "wadmpr", "nama_prov",
    ),
    "bps_code": ("kode_bps", "kd_bps", "bps", "bps_code", "kdebps", "kdcbps", "kdbbps", "kdpbps", "idbps"),
}


def import_regions(
    conn: psycopg.Connection,
    path: str | Path,
    *,
    layer: str | None = None,
    field_map: str | None = None,
    progress: Progress = no_progress,
    principal: Principal | None = None,
    code_list: str | None = None,
    written_codes: list[str] | None = None,
    skip_invalid: bool = False,
    rejects: str | Path | None = None,
) -> ImportReport:
    """Import a region file, all-or-nothing; with `skip_invalid` the bad features are set aside instead
    (layers/imports/region_skip.py), listed in `rejects` (default `<stem>.ditolak.csv` beside the file)."""
    report = ImportReport(kind="regions", file=str(path))
    target = region_skip.rejects_target(path, rejects) if skip_invalid else None
    fingerprint = background(audit.file_fingerprint, path)  # hashed while the file is read
    listed = background(listed_names, code_list)  # the code list's names, read alongside the file
    progress("membaca berkas", 0, 1)
    fast = _read_fast(path, report, layer, field_map)
    geoms: np.ndarray | WkbStream
    why: dict[int, str] = {}  # --skip-invalid: feature number -> reasons, of the features set aside
    if fast is not None:  # the file's WKB streamed in batches: parsed, checked and measured in the chunk threads
        fields = resolve_fields(fast.fields, FIELD_CANDIDATES, parse_field_map(field_map))
        report.fields = fields
        stream = fast.stream(COPY_CHUNK, columns=fields.values())  # the other fields only for a rejects file
        count, geoms, column, attributes = fast.count, stream, fast.column, stream.attributes
        checked = np.zeros(count, dtype=bool)
    else:
        frame, checked, fields = _read_all(conn, path, report, layer, field_map, code_list, progress)
        count, column, attributes = len(frame), frame.geometry.name, lambda: frame
        geoms = np.asarray(frame.geometry.values, dtype=object)

    # The geometries are checked and measured chunk by chunk from now on, in threads, while the attributes are
    # worked on and the old rows deleted (GEOS and PROJ release the GIL).
    failed = threading.Event()  # set at the first bad chunk or row: later chunks are only checked, not measured
    prepare = partial(_prepare_keeping if skip_invalid else _prepare_chunk, geoms, checked, column, failed)
    starts = range(0, count, COPY_CHUNK)
    with ahead(prepare, starts, depth=AHEAD_CHUNKS, workers=_WORKERS) as prepared:
        rows, dropped = _region_rows(attributes(), fields, report)
        rows = with_written_names(rows, listed.result(), report)
        if report.errors and (target is None or any(p.feature is None for p in report.errors)):
            failed.set()
            _take_checks(starts, prepared, report, progress)
            raise ImportFailed(report)
        source = Path(path).name
        entry = partial(_audit, principal or cli_principal(), fingerprint, source)
        if target is not None:
            rows, areas, replaced, why = _write_skipping(conn, rows, dropped, zip(starts, prepared, strict=True),
                                                         source, entry, report, progress)
        else:
            areas, replaced = _write(conn, rows, zip(starts, prepared, strict=True), source, entry, report,
                                     progress, failed)
        report.features_written = len(rows)
        if written_codes is not None:  # kotaku regions replace: which codes the file holds
            written_codes.extend(row[0] for row in rows)
    progress("selesai", len(rows), len(rows))
    levels: dict[str, int] = {}
    for row in rows:
        levels[row[3]] = levels.get(row[3], 0) + 1
    report.summary = {**report.summary, "by_level": levels, "replaced": replaced,
                      "total_area_ha": round(float(areas.sum()), 3)}
    if target is not None:
        _list_rejects(target, attributes(), column, fields, why, report)
    return report.finish()


def _write(conn: psycopg.Connection, rows: list[tuple], prepared: Iterable[tuple[int, tuple]], source: str,
           entry: Callable[[psycopg.Connection, list[tuple], int], None], report: ImportReport, progress: Progress,
           failed: threading.Event) -> tuple[np.ndarray, int]:
    """The rows and their checked chunks (start, (errors, repairs, areas, WKB)) written in one transaction with
    `entry(conn, rows, replaced)`, the audit entry; returns (areas in ha, rows replaced). Raises ImportFailed,
    rolling everything back, at a bad geometry."""
    progress("memeriksa dan menulis ke PostGIS", 0, len(rows))
    areas = np.zeros(len(rows))
    with conn.transaction(), conn.cursor() as cur:
        # Replace, not merge: the file's codes are deleted and the rows copied straight into the table
        # (binary COPY, no staging table). Three things run at once: threads check and measure the next chunks
        # of geometries, this one hands the current chunk to the COPY, and a queued writer sends the chunk before
        # to PostgreSQL. The first bad geometry stops the writing, the rest is still checked for the report, and
        # the transaction is rolled back: nothing changes.
        cur.execute(*_delete_codes(row[0] for row in rows))
        replaced = cur.rowcount
        with _copy_regions(cur) as copy:
            for start, (errors, repairs, chunk_areas, wkb) in prepared:
                chunk = slice(start, start + COPY_CHUNK)
                _add_problems(report, start, errors, repairs)
                if report.errors:
                    failed.set()
                    progress("memeriksa geometri", min(start + COPY_CHUNK, len(rows)), len(rows))
                    continue
                areas[chunk] = chunk_areas
                for row, area, geom in zip(rows[chunk], chunk_areas.tolist(), wkb, strict=True):
                    copy.write_row((*row, area, source, geom))
                progress("memeriksa dan menulis ke PostGIS", min(start + COPY_CHUNK, len(rows)), len(rows))
            if report.errors:
                raise ImportFailed(report)  # leaves the COPY and rolls the transaction back
        entry(conn, rows, replaced)
    return areas, replaced


@contextmanager
def _copy_regions(cur: psycopg.Cursor) -> Iterator[psycopg.Copy]:
    """A binary COPY into regions of rows (code, bps_code, name, level, kind, parent, area_ha, source, WKB), sent by
    a queued writer while the caller prepares the next rows."""
    with cur.copy("COPY regions (code, bps_code, name, level, kind, parent_code, area_ha, source, geom) "
                  "FROM STDIN (FORMAT BINARY)", writer=QueuedLibpqWriter(cur)) as copy:
        copy.set_types(["text", "text", "text", "text", "text", "text", "float8", "text", "bytea"])
        yield copy


def _delete_codes(codes: Iterable[str]) -> tuple[str, list[str]]:
    """The DELETE of the stored rows of `codes`, sent as one text (normalised codes hold no comma): psycopg dumps
    a list of 83,762 codes element by element in Python, a fifth of a second of the main thread."""
    return "DELETE FROM regions WHERE code = ANY(string_to_array(%s, ','))", [",".join(codes)]


def _audit(principal: Principal, fingerprint: Future, source: str, conn: psycopg.Connection, rows: list[tuple],
           replaced: int, rejected: int | None = None) -> None:
    after = {"file": fingerprint.result(), "written": len(rows), "codes": [row[0] for row in rows[:AUDIT_CODES]]}
    if rejected is not None:  # --skip-invalid: how many features were set aside
        after["rejected"] = rejected
    audit.record(conn, principal, "regions.import", "file", source, {"replaced": replaced}, after)


# -- --skip-invalid: the bad features set aside, the others written (layers/imports/region_skip.py) ------------------
def _prepare_keeping(
    geoms: np.ndarray | WkbStream, checked: np.ndarray, column: str, failed: threading.Event, start: int
) -> tuple[list[Problem], list[Problem], np.ndarray, np.ndarray]:
    """`_prepare_chunk`, but a chunk with bad features keeps the areas and WKB of its good ones (NaN and None for
    the bad ones) to write them; such a chunk is checked a second time, only it."""
    errors, repairs, areas, wkb = _prepare_chunk(geoms, checked, column, failed, start)
    if not errors:
        return errors, repairs, areas, wkb
    part, _, _ = validate_array(_parse_wkb(geoms[start:start + COPY_CHUNK])[1], kind="polygon", column=column)
    good = np.ones(len(part), dtype=bool)
    good[[p.feature - 1 for p in errors if p.feature]] = False
    areas, wkb = np.full(len(part), np.nan), np.full(len(part), None, dtype=object)
    if good.any():
        areas[good] = geodesic_area_ha(part[good])
        wkb[good] = shapely.to_wkb(part[good], byte_order=1)
    return errors, repairs, areas, wkb


def _write_skipping(conn: psycopg.Connection, rows: list[tuple], dropped: list[int],
                    prepared: Iterable[tuple[int, tuple]], source: str, entry: Callable[..., None],
                    report: ImportReport, progress: Progress) -> tuple[list[tuple], np.ndarray, int, dict[int, str]]:
    """Every chunk's check first, then the rows of the features without a problem written in one transaction
    (DELETE of their codes, binary COPY) with the audit entry; nothing of the others is written or deleted.
    Returns (rows written, their areas in ha, rows replaced, feature number -> reasons of the features set aside).
    Raises ImportFailed, nothing written, when every feature is bad."""
    count = report.features_read
    progress("memeriksa geometri", 0, count)
    areas_in, wkb_in = [np.zeros(0)], [np.zeros(0, dtype=object)]
    for start, (errors, repairs, chunk_areas, wkb) in prepared:
        _add_problems(report, start, errors, repairs)
        areas_in.append(chunk_areas)
        wkb_in.append(wkb)
        progress("memeriksa geometri", min(start + COPY_CHUNK, count), count)
    all_areas, all_wkb = np.concatenate(areas_in), np.concatenate(wkb_in)
    without = set(dropped)
    numbers = [number for number in range(1, count + 1) if number not in without]  # each row's feature
    problems = region_skip.with_every_copy(report.errors)
    with conn.transaction(), conn.cursor() as cur:
        problems += region_skip.parents_rejected(rows, numbers, {p.feature for p in problems if p.feature},
                                                 partial(_stored, cur))
        rejected = {p.feature for p in problems}
        keep = [i for i, number in enumerate(numbers) if number not in rejected]
        if not keep:
            report.errors = sorted(problems, key=lambda p: p.feature or 0)
            raise ImportFailed(report)
        report.errors = []
        good = [rows[i] for i in keep]
        at = np.array([numbers[i] - 1 for i in keep])
        areas, wkb = all_areas[at], all_wkb[at]
        progress("menulis ke PostGIS", 0, len(good))
        cur.execute(*_delete_codes(row[0] for row in good))
        replaced = cur.rowcount
        with _copy_regions(cur) as copy:
            for row, area, geom in zip(good, areas.tolist(), wkb, strict=True):
                copy.write_row((*row, area, source, geom))
        entry(conn, good, replaced, rejected=len(rejected))
    return good, areas, replaced, region_skip.reasons(problems)


def _stored(cur: psycopg.Cursor, codes: list[str]) -> set[str]:
    """Which of `codes` the regions table holds."""
    cur.execute("SELECT code FROM regions WHERE code = ANY(%s)", [codes])
    return {code for (code,) in cur.fetchall()}


def _list_rejects(target: Path, attributes, column: str, fields: dict[str, str], why: dict[int, str],
                  report: ImportReport) -> None:
    """The features set aside into `target` (after the rows were committed) and named in the report; no file when
    none was set aside (`summary.rejected` 0)."""
    report.summary["rejected"] = len(why)
    if not why:
        return
    frame = attributes.to_frame() if isinstance(attributes, Attributes) else attributes.drop(columns=[column],
                                                                                             errors="ignore")
    region_skip.write_rejects(target, frame, [fields["code"], fields["name"]], why)
    report.summary["rejects_file"] = str(target)
    report.warnings.append(Problem.of("region.skipped", severity="warning", count=len(why), file=str(target)))


def _add_problems(report: ImportReport, start: int, errors: list[Problem], repairs: list[Problem]) -> None:
    """A chunk's problems into the report, numbered from the file's first feature."""
    report.errors += [replace(p, feature=(p.feature or 0) + start) for p in errors]
    report.repairs += [replace(p, feature=(p.feature or 0) + start) for p in repairs]


def _take_checks(starts: range, prepared: Iterable[tuple], report: ImportReport, progress: Progress) -> None:
    """Every chunk's check into the report when the attributes already failed (nothing is written)."""
    progress("memeriksa geometri", 0, report.features_read)
    for start, (errors, repairs, _, _) in zip(starts, prepared, strict=True):
        _add_problems(report, start, errors, repairs)
        progress("memeriksa geometri", min(start + COPY_CHUNK, report.features_read), report.features_read)
    report.errors.sort(key=lambda p: p.feature or 0)


def _read_fast(path: str | Path, report: ImportReport, layer: str | None, field_map: str | None) -> PlainLayer | None:
    """The layer to stream as WKB (geo.read_wkb) when it is a plain one with code and name fields, else None: the
    whole-frame path (_read_all) reads the file, converts it and words what is missing."""
    plain = plain_layer(path, layer=layer)
    if plain is None:
        return None
    fields = resolve_fields(plain.fields, FIELD_CANDIDATES, parse_field_map(field_map))
    if "code" not in fields or "name" not in fields:
        return None
    report.layer, report.driver, report.source_crs = plain.layer, plain.driver, plain.source_crs
    report.features_read = plain.count
    require_features(report)
    return plain


def _read_all(conn: psycopg.Connection, path: str | Path, report: ImportReport, layer: str | None,
              field_map: str | None, code_list: str | None, progress: Progress):
    """(frame, rows checked already, fields) read as a GeoDataFrame in EPSG:4326 (geo.read): any format and
    CRS, Kemendagri codes from BPS codes; raises ImportFailed when the code or name field is missing."""
    frame = _read(path, report, layer, progress)
    checked = np.zeros(len(frame), dtype=bool)  # rows whose geometry was validated (and repaired) already
    fields = resolve_fields(frame.columns, FIELD_CANDIDATES, parse_field_map(field_map))
    report.fields = fields
    if "code" not in fields and "bps_code" in fields and "name" in fields:
        # BPS codes only: Kemendagri codes by name within the parent and by overlap (layers/imports/crosswalk.py),
        # which needs valid geometries: checked first, all of them
        frame = _check_all(frame, report, progress)
        checked[:] = True
        frame = with_kemendagri_codes(conn, frame, fields, report, code_list=code_list)
    for target in ("code", "name"):
        if target not in fields:
            report.errors.append(Problem.of("region.no_field", target=target,
                                            looked=", ".join(FIELD_CANDIDATES[target][:6])))
    if report.errors and ("code" not in fields or "name" not in fields):
        if not checked.all():
            _check_all(frame, report, progress)
        raise ImportFailed(report)
    return frame, checked, fields


def _read(path: str | Path, report: ImportReport, layer: str | None, progress: Progress):
    """The file's features, geometries not checked yet (they are checked while being written)."""
    from geo.read import read_vector  # here: a plain GeoPackage (geo.read_wkb) is read without GDAL and pandas

    vector = read_vector(path, layer=layer)
    report.layer, report.driver, report.source_crs = vector.layer, vector.driver, vector.source_crs
    report.warnings += vector.warnings
    report.features_read = len(vector.frame)
    require_features(report)
    return vector.frame


def _prepare_chunk(
    geoms: np.ndarray | WkbStream, checked: np.ndarray, column: str, failed: threading.Event, start: int
) -> tuple[list[Problem], list[Problem], np.ndarray, np.ndarray]:
    """(errors, repairs, areas in ha, WKB) of the COPY_CHUNK geometries (or the file's WKB, geo.read_wkb) from
    `start`; areas and WKB are left empty once the import has failed. Plain WKB, no SRID: PostGIS gives it the
    column's SRID 4326 (set_srid copied every geometry first)."""
    chunk = slice(start, start + COPY_CHUNK)
    errors, repairs = list[Problem](), list[Problem]()
    wkb, parsed = _parse_wkb(geoms[chunk])
    part = parsed
    if not checked[chunk].all():
        part, errors, repairs = validate_array(parsed, kind="polygon", column=column)
    if errors or failed.is_set():
        return errors, repairs, np.zeros(0), np.zeros(0, dtype=object)
    if wkb is None:
        return errors, repairs, geodesic_area_ha(part), shapely.to_wkb(part, byte_order=1)
    # the file's own WKB for every geometry the checks left as it was (the same object): to_wkb gives those bytes
    changed = np.fromiter((new is not old for new, old in zip(part, parsed, strict=True)), bool, len(part))
    if changed.any():
        wkb = wkb.copy()
        wkb[changed] = shapely.to_wkb(part[changed], byte_order=1)
    return errors, repairs, geodesic_area_ha(part), wkb


def _parse_wkb(part: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """(WKB to store as it is, geometries) of a chunk: geometries read from the file's WKB (geo.read_wkb), or
    already geometries (no WKB then). WKB shapely can only read by fixing it (an unclosed ring, as read_vector
    reads files) is not stored as it is: the chunk's WKB is written anew from the geometries; so is WKB with Z
    in a layer that declares none (the Z is dropped, as read_vector drops it)."""
    if not len(part) or not isinstance(next((g for g in part if g is not None), None), bytes):
        return None, part
    try:
        wkb, geoms = part, shapely.from_wkb(part)
    except shapely.errors.GEOSException:
        wkb, geoms = None, shapely.from_wkb(part, on_invalid="fix")
    if shapely.has_z(geoms).any():
        return None, shapely.force_2d(geoms)
    return wkb, geoms


def _check_all(frame, report: ImportReport, progress: Progress):
    """Every geometry checked (and repaired) at once, into the report: when writing cannot start."""
    progress("memeriksa geometri", 0, report.features_read)
    result = validate_geometries(frame, kind="polygon")
    report.errors += result.errors
    report.repairs += result.repairs
    report.errors.sort(key=lambda p: p.feature or 0)
    return result.frame


def _region_rows(frame, fields: dict[str, str], report: ImportReport) -> tuple[list[tuple], list[int]]:
    """(code, bps_code, name, level, kind, parent) per feature, and the numbers of the features left without a
    row (no code: the crosswalk's or an invalid one); problems go to the report."""
    rows: list[tuple] = []
    dropped: list[int] = []
    seen: dict[str, int] = {}
    codes = frame[fields["code"]].tolist()
    names = frame[fields["name"]].tolist()
    bps = frame[fields["bps_code"]].tolist() if "bps_code" in fields else [None] * len(frame)
    for number, (raw_code, raw_name, raw_bps) in enumerate(zip(codes, names, bps, strict=True), start=1):
        if raw_code is CROSSWALK_FAILED:
            dropped.append(number)
            continue  # the crosswalk reported why
        code = normalise_code(raw_code)
        name = text_or_none(raw_name)
        if code is None:
            report.errors.append(Problem.of("region.code_invalid", feature=number, field=fields["code"],
                                            value=raw_code))
            dropped.append(number)
            continue
        if name is None:
            report.errors.append(Problem.of("region.name_empty", feature=number, field=fields["name"]))
        if code in seen:
            report.errors.append(Problem.of("region.code_again", feature=number, field=fields["code"], code=code,
                                            first=seen[code]))
        seen.setdefault(code, number)
        bps_code = text_or_none(raw_bps)
        if bps_code and bps_code.endswith(".0"):
            bps_code = bps_code[:-2]
        rows.append((code, bps_code, name, *code_facts(code)))
    return rows, dropped
