"""Exports of the keterpaduan (programme integration) figures of one tenant, one module per format family:
vector.py (gpkg, shp, geojson), kml.py (kml, kmz), tables.py (csv, xlsx), maps/print_sheet.py (pdf, png) and
html_map.py (html). `export_keterpaduan` is what the CLI and HTTP call: who may see what, then the bundle, then
the writer, into a temporary file renamed over the target at the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from geo.errors import InvalidInput
from layers.accounts.access import PUBLIC, Principal
from layers.accounts.permissions import Target, require
from layers.db.frames import run
from layers.keterpaduan.summary import as_json, export_op, tenant_known_query
from layers.planning.asset_cases import export_rows
from layers.values.codes import tenant_code
from layers.values.progress import Progress, no_progress
from maps.exports.atomic import atomic_output
from maps.exports.bundle import Bundle, asset_layer, build_bundle

MEDIA_TYPES = {
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
    "kmz": "application/vnd.google-earth.kmz",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "png": "image/png",
    "html": "text/html; charset=utf-8",
}
FORMATS = tuple(MEDIA_TYPES)
FILE_SUFFIX = {"shp": ".shp.zip"}  # every other format: "." + its name


def _writer(fmt: str) -> Callable[[Bundle, Path, Progress], None]:
    # imported on demand: matplotlib, openpyxl and folium load only for the format asked
    if fmt in ("gpkg", "shp", "geojson"):
        from maps.exports import vector

        return {"gpkg": vector.write_gpkg, "shp": vector.write_shapefile_zip, "geojson": vector.write_geojson}[fmt]
    if fmt in ("kml", "kmz"):
        from maps.exports import kml

        return kml.write_kml if fmt == "kml" else kml.write_kmz
    if fmt in ("csv", "xlsx"):
        from maps.exports import tables

        return tables.write_csv if fmt == "csv" else tables.write_xlsx
    if fmt in ("pdf", "png"):
        from maps import print_sheet

        return print_sheet.write_pdf if fmt == "pdf" else print_sheet.write_png
    from maps.exports import html_map

    return html_map.write_html


def check_format(fmt: str) -> str:
    value = (fmt or "").strip().lower().lstrip(".")
    if value not in MEDIA_TYPES:
        raise InvalidInput(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}",
                           details={"format": fmt})
    return value


def file_name(tenant: str, fmt: str) -> str:
    return f"keterpaduan_{tenant.replace('.', '')}{FILE_SUFFIX.get(fmt, '.' + fmt)}"


def export_principal(principal: Principal, tenant: str) -> Principal:
    """Whose rows the export holds. Anonymous callers, and users who do not read this tenant's non-public rows
    anyway, get the public rows only; anyone whose rows would include non-public ones needs the `export`
    permission on the tenant (tenant roles, assigned konsultan, admin)."""
    if principal.is_public or not principal.reads_tenant(tenant):
        return PUBLIC
    require(principal, "export", Target(tenant=tenant))
    return principal


def collect(conn: psycopg.Connection, tenant: str, principal: Principal, *, decree: str | None = None) -> Bundle:
    """The bundle of one tenant as `principal` may export it (row filters and the export permission), read in
    one snapshot (REPEATABLE READ, READ ONLY) unless the caller already holds a transaction."""
    code = tenant_code(tenant)
    reader = export_principal(principal, code)
    outer = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    with conn.transaction():
        if not outer:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        known = run(conn, _single(tenant_known_query(code)))
        if not bool(known.iloc[0, 0]):
            raise InvalidInput(f"kab/kota {code} is unknown: no boundary, slum-area decree or activity is loaded "
                               "for it", details={"tenant": code})
        result = run(conn, export_op(code, reader, decree=decree))
        asset_rows = export_rows(conn, code)  # the asset register is public: the same rows for every reader
    bundle = build_bundle(result, as_json(result), public_only=reader.is_public)
    bundle.assets = asset_layer(asset_rows)
    return bundle


def _single(query):
    frame = yield query
    return frame


def export_keterpaduan(conn: psycopg.Connection, tenant: str, fmt: str, path: Path | str, principal: Principal,
                       *, decree: str | None = None, progress: Progress = no_progress) -> dict[str, Any]:
    """Write the keterpaduan export of `tenant` in `fmt` to `path` (atomically). Returns what was written."""
    fmt = check_format(fmt)
    progress("membaca data", 0, 1)
    bundle = collect(conn, tenant, principal, decree=decree)
    return write_bundle(bundle, fmt, path, progress)


def write_bundle(bundle: Bundle, fmt: str, path: Path | str, progress: Progress = no_progress) -> dict[str, Any]:
    """Write a collected bundle in `fmt` to `path`, atomically (no database needed any more)."""
    fmt = check_format(fmt)
    if fmt == "shp" and not str(path).lower().endswith(".zip"):
        path = Path(f"{path}.zip")  # several files in one: the Shapefile export is a zip, and named so
    writer = _writer(fmt)
    with atomic_output(path) as temp:
        writer(bundle, temp, progress)
    target = Path(path)
    return {"tenant": bundle.tenant, "format": fmt, "path": str(target), "bytes": target.stat().st_size,
            "public_only": bundle.public_only, "decree": bundle.decree, "features": bundle.feature_counts()}
