"""`kotaku basemap import FILE`: roads, buildings, water, landuse and places into the basemap (issue 13).
Thin over layers/basemap/imports.py."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import out
from api.cli.root import app

basemap_app = typer.Typer(help="The basemap served at /tiles/basemap: OpenStreetMap or other vector files.",
                          no_args_is_help=True)
app.add_typer(basemap_app, name="basemap")


@basemap_app.command("import")
def basemap_import(
    file: Path = typer.Argument(..., help="An .osm.pbf/.osm extract, or GeoJSON, GeoPackage, Shapefile ..."),
    tenant: str = typer.Option(None, help="Kab/kota code; unset: a basemap shared by every kab/kota"),
    layer: str = typer.Option(None, help="Only this layer of the file (GeoPackage)"),
    kind: str = typer.Option(None, help="Every feature is of this basemap layer: roads, buildings, water, landuse, "
                                        "places (for files without OSM tags)"),
    append: bool = typer.Option(False, "--append", help="Add to the stored basemap instead of replacing it"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Load a basemap file: the tenant's basemap is replaced (unless --append) in one transaction."""
    from layers.basemap.imports import import_basemap

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        report = import_basemap(conn, file, tenant=tenant, layer=layer, kind=kind, append=append).as_dict()
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    layers = ", ".join(f"{name} {count:,}" for name, count in report["layers"].items())
    out.print(f"{report['file']}: {report['imported']:,} features ({layers}), {report['skipped']:,} skipped, "
              f"{report['replaced']:,} replaced, {report['seconds']} s", highlight=False)
