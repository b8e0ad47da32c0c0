"""`kotaku scores`, `priorities`, `progress` (tables as CSV or JSON) and `kotaku raster ...` (zonal statistics)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import err
from api.cli.reports import run_import
from api.cli.root import app
from geo.errors import InvalidInput
from layers.values.fields import csv_safe


def _emit(frame, fmt: str, output: Path | None, extra: dict | None = None) -> None:
    """A table as CSV or JSON, to a file or stdout."""
    from layers.db.frames import records

    if fmt not in ("csv", "json"):
        raise InvalidInput(f"--format must be csv or json, not {fmt!r}")
    if fmt == "csv":
        text = frame.map(csv_safe).to_csv(index=False)  # formula-like text quoted for spreadsheets
    else:
        text = json.dumps({**(extra or {}), "rows": records(frame)} if extra is not None else records(frame),
                          ensure_ascii=False, indent=1, default=str) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"{len(frame)} rows written to {output}", highlight=False)
    else:
        sys.stdout.write(text)


def _read_op(op):
    from layers.db.frames import run

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        return run(conn, op)


@app.command()
def scores(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    round_name: str = typer.Option(None, "--round", help="Only this round"),
    fmt: str = typer.Option("csv", "--format", help="csv or json"),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout"),
) -> None:
    """Slum scores per unit and round: volume, percentage and score per criterion, total, level."""
    from layers.scoring.scores import SYSTEM, score_table, unit_scores_op
    from layers.values.codes import tenant_code

    code = tenant_code(tenant)
    _emit(score_table(_read_op(unit_scores_op(code, SYSTEM, round=round_name))), fmt, output)


@app.command()
def priorities(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the newest decree)"),
    fmt: str = typer.Option("csv", "--format", help="csv or json"),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout"),
) -> None:
    """Ranked slum areas: class, rank, handling, kewenangan and the factors that gave the class."""
    from layers.scoring.priority import priorities_op
    from layers.scoring.scores import SYSTEM
    from layers.scoring.status import refresh_status
    from layers.values.codes import tenant_code

    code = tenant_code(tenant)
    url = database_url()
    migrate(url)
    with connect(url) as conn:
        refresh_status(conn, code)
        conn.commit()
    _emit(_read_op(priorities_op(code, SYSTEM, decree=decree)), fmt, output)


@app.command()
def progress(
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    baseline: str = typer.Option(None, help="Baseline round (default: 'baseline', else the earliest)"),
    until: int = typer.Option(None, help="Count activities completed up to this year"),
    what: str = typer.Option("series", "--table", help="series (rounds per area/region), kumuh-akhir (regions), "
                                                       "kumuh-akhir-units"),
    fmt: str = typer.Option("csv", "--format", help="csv or json"),
    output: Path = typer.Option(None, "-o", "--output", help="Write to this file instead of stdout"),
) -> None:
    """Progress: score time series per slum area, kelurahan, kecamatan and kab/kota, or kumuh akhir."""
    from layers.scoring.progress import kumuh_akhir_op, time_series_op
    from layers.scoring.scores import SYSTEM
    from layers.values.codes import tenant_code

    code = tenant_code(tenant)
    if what == "series":
        result = _read_op(time_series_op(code, SYSTEM, baseline=baseline))
        _emit(result["series"], fmt, output, {"tenant": code, "baseline": result["baseline"],
                                              "rounds": result["rounds"]} if fmt == "json" else None)
    elif what in ("kumuh-akhir", "kumuh-akhir-units"):
        result = _read_op(kumuh_akhir_op(code, SYSTEM, baseline=baseline, until=until))
        table = result["regions"] if what == "kumuh-akhir" else result["units"]
        meta = {k: result[k] for k in ("tenant", "baseline", "baseline_year", "until", "summary")}
        _emit(table, fmt, output, meta if fmt == "json" else None)
        err.print(json.dumps(result["summary"], ensure_ascii=False), highlight=False)
    else:
        raise InvalidInput(f"--table must be series, kumuh-akhir or kumuh-akhir-units, not {what!r}")


raster_app = typer.Typer(help="Zonal statistics of rasters over slum areas (any CRS).", no_args_is_help=True)
app.add_typer(raster_app, name="raster")


@raster_app.command("population")
def raster_population(
    file: Path = typer.Argument(..., help="Population raster (GeoTIFF or any GDAL raster)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    values: str = typer.Option("count", help="count (people per pixel), per_ha or per_km2 (densities)"),
    crs: str = typer.Option(None, help="CRS of a raster that does not declare one, e.g. EPSG:32748"),
    band: int = typer.Option(1, help="Band number"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """People per slum area from a population raster (used for population density)."""
    from layers.imports.rasters import raster_stats

    run_import(raster_stats, as_json, path=file, tenant=tenant, kind="population", values=values, crs=crs,
                band=band)


@raster_app.command("flood")
def raster_flood(
    file: Path = typer.Argument(..., help="Flood depth raster (metres)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    depth: float = typer.Option(0.5, help="Depth (m) at or above which a pixel counts as flooded"),
    crs: str = typer.Option(None, help="CRS of a raster that does not declare one"),
    band: int = typer.Option(1, help="Band number"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Share of each slum area flooded at or above a depth."""
    from layers.imports.rasters import raster_stats

    run_import(raster_stats, as_json, path=file, tenant=tenant, kind="flood", depth=depth, crs=crs, band=band)

