"""`kotaku export ...`: GIS files, spreadsheets and printable map sheets (maps/exports)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import log, out, progress_bar
from api.cli.root import app

export_app = typer.Typer(help="Exports: GIS files, spreadsheets and printable map sheets.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("keterpaduan")
def export_keterpaduan_command(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 12.71 or 1271"),
    fmt: str = typer.Option(..., "--format", help="gpkg, shp, kml, kmz, geojson, csv, xlsx, pdf, png or html"),
    output: Path = typer.Option(..., "-o", "--output", help="File to write (replaced whole, never half-written)"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the tenant's newest decree)"),
    public: bool = typer.Option(False, "--public", help="Only what anonymous visitors see (published decrees)"),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON"),
) -> None:
    """The programme integration (keterpaduan) figures of one kab/kota: slum areas with scores and projected
    level, activities of every programme and funding source, summaries, memorandum; never personal data."""
    from layers.accounts.access import PUBLIC, cli_principal
    from layers.values.codes import tenant_code
    from maps.exports import check_format, export_keterpaduan

    fmt = check_format(fmt)
    code = tenant_code(tenant)
    url = database_url()
    migrate(url)
    started = time.perf_counter()
    with connect(url) as conn, progress_bar(not as_json) as progress:
        info = export_keterpaduan(conn, code, fmt, output, PUBLIC if public else cli_principal(), decree=decree,
                                  progress=progress)
    seconds = time.perf_counter() - started
    log.info("export keterpaduan done: file=%s tenant=%s format=%s bytes=%d features=%s seconds=%.2f",
             info["path"], code, info["format"], info["bytes"], info["features"], seconds,
             extra={"command": "export keterpaduan", "file": str(info["path"]), "tenant": code,
                    "format": info["format"], "bytes": info["bytes"], "counts": info["features"],
                    "seconds": round(seconds, 3)})
    if as_json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    counts = ", ".join(f"{k} {v}" for k, v in info["features"].items())
    out.print(f"{info['path']}: {info['format']}, {info['bytes']:,} bytes ({counts})", highlight=False)



@export_app.command("atlas")
def export_atlas_command(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 12.71 or 1271"),
    output: Path = typer.Option(..., "-o", "--output", help="PDF to write (replaced whole, never half-written)"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the tenant's newest decree)"),
    public: bool = typer.Option(False, "--public", help="Only what anonymous visitors see (published decrees)"),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON"),
) -> None:
    """The atlas: one PDF with a map page for the kab/kota, each kecamatan and each kawasan (title, legend,
    scale bar, north arrow, figures, sources; the basemap when one is loaded). Progress per page on stderr."""
    from layers.accounts.access import PUBLIC, cli_principal
    from layers.values.codes import tenant_code
    from maps.exports.atlas import export_atlas

    code = tenant_code(tenant)
    url = database_url()
    migrate(url)
    started = time.perf_counter()
    with connect(url) as conn, progress_bar(not as_json) as progress:
        info = export_atlas(conn, code, output, PUBLIC if public else cli_principal(), decree=decree,
                            progress=progress)
    seconds = time.perf_counter() - started
    log.info("export atlas done: file=%s tenant=%s pages=%d bytes=%d seconds=%.2f", info["path"], code,
             info["pages"], info["bytes"], seconds,
             extra={"command": "export atlas", "file": str(info["path"]), "tenant": code, "pages": info["pages"],
                    "bytes": info["bytes"], "seconds": round(seconds, 3)})
    if as_json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return
    out.print(f"{info['path']}: atlas PDF, {info['pages']} pages, {info['bytes']:,} bytes", highlight=False)
