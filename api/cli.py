"""The `kotaku` command line: a thin adapter over layers/ (the HTTP API calls the same functions)."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.errors import exit_code
from geo.errors import InvalidInput, KotakuError, ServiceUnavailable
from layers.cluster import Cluster
from layers.database import configured_url, connect, database_url
from layers.imports.common import ImportFailed, ImportReport
from layers.schema import migrate, reset

app = typer.Typer(help="kotaku-gis: peta kawasan kumuh, usulan dan keterpaduan program KOTAKU.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: the private cluster under var/ or DATABASE_URL.", no_args_is_help=True)
import_app = typer.Typer(help="Import files (all-or-nothing, with a report).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    try:
        app()
    except KotakuError as error:
        err.print(f"[bold red]Error:[/] {error.message}", highlight=False)
        if error.details and not isinstance(error, ImportFailed):
            err.print(json.dumps(error.details, indent=2, ensure_ascii=False, default=str), highlight=False)
        sys.exit(exit_code(error))


# -- serve -----------------------------------------------------------------------------------------
@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port to listen on")) -> None:
    """Bring the database up, migrate it, and serve the API and pages."""
    import uvicorn

    from api.app import create_app

    _check_port_free(host, port)
    url = database_url()
    revision = migrate(url)
    out.print(f"database ready (schema {revision}); serving on http://{host}:{port}  (API docs: /docs)")
    uvicorn.run(create_app(url), host=host, port=port, log_level="info")


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServiceUnavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}): another server (a second 'kotaku serve'?) "
                "is using it; choose another with --port"
            ) from None


# -- db --------------------------------------------------------------------------------------------
def _external_notice() -> bool:
    if configured_url():
        out.print("DATABASE_URL is set: using that server; the local cluster is not managed.")
        return True
    return False


@db_app.command("up")
def db_up() -> None:
    """Initialise (first time) and start the private cluster; migrate the schema."""
    if not _external_notice():
        status = Cluster().up()
        out.print(f"cluster running on 127.0.0.1:{status.port} (data in {status.data_dir})")
    out.print(f"schema at revision {migrate()}")


@db_app.command("down")
def db_down() -> None:
    """Stop the private cluster."""
    if _external_notice():
        return
    out.print("cluster stopped" if Cluster().down() else "cluster was not running")


@db_app.command("status")
def db_status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Whether the database is initialised, running, and at which schema revision."""
    from layers.schema import current_revision, head_revision

    info: dict = {"external": bool(configured_url()), "schema_head": head_revision()}
    if not configured_url():
        status = Cluster().status()
        info.update(status.as_dict())
        info["url"] = _mask(status.url)
        running = status.running
    else:
        info["url"] = _mask(configured_url())
        running = True
    info["schema_version"] = None
    if running:
        try:
            with connect(database_url(start=False)) as conn:
                info["schema_version"] = current_revision(conn)
        except ServiceUnavailable as exc:
            info["error"] = exc.message
            running = False
    info["running"] = running
    if as_json:
        out.print_json(data=info)
    else:
        for key, value in info.items():
            out.print(f"{key:15} {value}", highlight=False)
    if not running:
        raise typer.Exit(1)


def _mask(url: str | None) -> str | None:
    if not url or "@" not in url:
        return url
    head, tail = url.rsplit("@", 1)
    user = head.split("//", 1)[1].split(":", 1)[0]
    return f"{head.split('//', 1)[0]}//{user}:***@{tail}"


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the schema to the newest revision and seed the reference tables."""
    out.print(f"schema at revision {migrate()}")


@db_app.command("reset")
def db_reset(yes: bool = typer.Option(False, "--yes", help="Confirm that all data may be deleted")) -> None:
    """Drop all kotaku tables and migrate again (ALL DATA IS LOST)."""
    if not yes:
        raise InvalidInput("reset deletes all data: run 'kotaku db reset --yes' to confirm")
    out.print(f"schema reset to revision {reset()}")


# -- demo ------------------------------------------------------------------------------------------
@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the demo is already loaded")) -> None:
    """Load the demo: Kota Medan (12.71) boundaries and synthetic slum areas, surveys and activities."""
    from layers.demo import load_demo

    url = database_url()
    migrate(url)
    with connect(url) as conn, _progress() as progress:
        summary = load_demo(conn, if_empty=if_empty, progress=progress)
    out.print_json(data=summary)


# -- imports ---------------------------------------------------------------------------------------
@contextmanager
def _progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr driven by (stage, done, total) callbacks."""
    if not enabled or not err.is_terminal:
        yield lambda stage, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=1)

        def update(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=max(total, 1))

        yield update


def _run_import(action: Callable[..., ImportReport], as_json: bool, **kwargs) -> None:
    url = database_url()
    migrate(url)
    try:
        with connect(url) as conn, _progress(not as_json) as progress:
            report = action(conn, progress=progress, **kwargs)
    except ImportFailed as failed:
        _print_report(failed.report, as_json)
        raise typer.Exit(exit_code(failed)) from None
    except KotakuError as error:
        if not as_json:
            raise
        print(json.dumps({"ok": False, **error.as_dict()}, ensure_ascii=False, indent=2, default=str))
        raise typer.Exit(exit_code(error)) from None
    _print_report(report, as_json)


def _print_report(report: ImportReport, as_json: bool, shown: int = 50) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    console = out if report.ok else err
    verdict = "[green]imported[/]" if report.ok else "[bold red]rejected, nothing written[/]"
    console.print(f"{Path(report.file).name}: {verdict}  ({report.features_read} read, "
                  f"{report.features_written} written, {report.seconds:.2f} s)", highlight=False)
    console.print(f"  layer {report.layer}  driver {report.driver}  crs {report.source_crs}", highlight=False)
    if report.fields:
        console.print("  fields: " + ", ".join(f"{k}={v}" for k, v in report.fields.items()), highlight=False)
    for title, problems, style in (("errors", report.errors, "red"), ("repairs", report.repairs, "yellow"),
                                   ("warnings", report.warnings, "yellow")):
        if not problems:
            continue
        console.print(f"  [{style}]{len(problems)} {title}:[/]")
        for problem in problems[:shown]:
            console.print(f"    - {problem}", highlight=False, markup=False)
        if len(problems) > shown:
            console.print(f"    ... {len(problems) - shown} more (use --json for all)")
    for key, value in report.summary.items():
        console.print(f"  {key}: {value}", highlight=False)


@import_app.command("regions")
def import_regions_command(
    file: Path = typer.Argument(..., help="Vector file: GeoJSON, GeoPackage, Shapefile (.shp/.zip), KML/KMZ, CSV"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. code=KD_DESA,name=NAMA,bps_code=KD_BPS"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import administrative boundaries keyed by Kemendagri code (level and parent from the code)."""
    from layers.imports.regions import import_regions

    _run_import(import_regions, as_json, path=file, layer=layer, field_map=field_map)


@import_app.command("slum-areas")
def import_slum_areas_command(
    file: Path = typer.Argument(..., help="Vector file (Delineasi_Kumuh_AR or similar)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 73.07 or 7307"),
    decree: str = typer.Option(None, help="SK Kumuh number (default: the file's SK_KUMUH, else the file name)"),
    published: bool = typer.Option(False, "--published", help="Mark the decree as published (public)"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. kawasan=NAMA,stated_area_ha=LUAS"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import delineated slum areas of one decree; replaces that decree's areas."""
    from layers.imports.slum_areas import import_slum_areas

    _run_import(import_slum_areas, as_json, path=file, tenant=tenant, decree=decree, published=published,
                layer=layer, field_map=field_map)


@import_app.command("activities")
def import_activities_command(
    file: Path = typer.Argument(..., help="CSV (WKT or lon/lat columns), GeoJSON, GeoPackage, KML/KMZ"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code for rows without a tenant column"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import proposals/activities: every row meets the overlap check; all-or-nothing."""
    import getpass

    from layers.codes import tenant_code
    from layers.imports.activities import import_activities

    _run_import(import_activities, as_json, path=file, tenant=tenant_code(tenant), layer=layer,
                actor=f"cli:{getpass.getuser()}")


if __name__ == "__main__":
    main()
