"""The `kotaku` command line: a thin adapter over layers/ (the HTTP API calls the same functions)."""

from __future__ import annotations

import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from api.errors import DATABASE_UNAVAILABLE, exit_code
from api.logs import configure_logging
from geo.errors import InvalidInput, KotakuError, ServiceUnavailable
from layers.db import connection as db_connection
from layers.db import schema
from layers.db.cluster import Cluster
from layers.imports.report import ImportFailed, ImportReport
from layers.settings import Settings

app = typer.Typer(help="kotaku-gis: peta kawasan kumuh, usulan dan keterpaduan program KOTAKU.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="The database: the private cluster under var/ or DATABASE_URL.", no_args_is_help=True)
import_app = typer.Typer(help="Import files (all-or-nothing, with a report).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
user_app = typer.Typer(help="Users: one role each, scoped to an area; passwords and bearer tokens.",
                       no_args_is_help=True)
audit_app = typer.Typer(help="The append-only, hash-chained audit trail.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("kotaku.cli")


def main() -> None:
    try:
        app()
    except KotakuError as error:
        err.print(f"[bold red]Error:[/] {error.message}", highlight=False)
        if error.details and not isinstance(error, ImportFailed):
            err.print(json.dumps(error.details, indent=2, ensure_ascii=False, default=str), highlight=False)
        sys.exit(exit_code(error))
    except DATABASE_UNAVAILABLE as error:
        err.print(f"[bold red]Error:[/] the database is unavailable: {error}", highlight=False)
        sys.exit(exit_code(error))


@app.callback()
def startup(ctx: typer.Context) -> None:
    """Read the settings (environment, prefix KOTAKU_) once and set up logging (to stderr) for any command."""
    settings = Settings()
    configure_logging(settings, sys.stderr)
    ctx.obj = settings


# -- the settings, handed to layers/ by these wrappers -----------------------------------------------
def _settings() -> Settings:
    """The settings the callback built for this command (built now when a command runs without it)."""
    context = click.get_current_context(silent=True)
    root = context.find_root() if context else None
    if root is None or not isinstance(root.obj, Settings):
        settings = Settings()
        if root is not None:
            root.obj = settings
        return settings
    return root.obj


def database_url(start: bool = True) -> str:
    return db_connection.database_url(_settings(), start=start)


def configured_url() -> str | None:
    return _settings().database_url


def connect(url: str, **kwargs):
    return db_connection.connect(url, app_role=_settings().app_role, **kwargs)


def migrate(url: str | None = None) -> str:
    return schema.migrate(url or database_url(), _settings().app_role)


def reset(url: str | None = None) -> str:
    return schema.reset(url or database_url(), _settings().app_role)


def _cluster() -> Cluster:
    return Cluster.from_settings(_settings())


# -- serve -----------------------------------------------------------------------------------------
@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port to listen on"),
          workers: int = typer.Option(1, min=1, help="Worker processes (each with its own pool and tile cache)"),
          access_log: bool = typer.Option(True, help="Log every request")) -> None:
    """Bring the database up, migrate it, and serve the API and pages."""
    from api.server import run_server

    _check_port_free(host, port)
    url = database_url()
    revision = migrate(url)
    out.print(f"database ready (schema {revision}); serving on http://{host}:{port}  (API docs: /docs)")
    run_server(url, host, port, workers=workers, access_log=access_log, settings=_settings())


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
        status = _cluster().up()
        out.print(f"cluster running on 127.0.0.1:{status.port} (data in {status.data_dir})")
    out.print(f"schema at revision {migrate()}")


@db_app.command("down")
def db_down() -> None:
    """Stop the private cluster."""
    if _external_notice():
        return
    out.print("cluster stopped" if _cluster().down() else "cluster was not running")


@db_app.command("status")
def db_status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Whether the database is initialised, running, and at which schema revision."""
    from layers.db.schema import current_revision, head_revision

    info: dict = {"external": bool(configured_url()), "schema_head": head_revision()}
    if not configured_url():
        status = _cluster().status()
        info.update(status.as_dict())
        info["url"] = _mask(status.url)
        running = status.running
    else:
        info["url"] = _mask(configured_url())
        running = True
    info["schema_version"] = None
    if running:
        try:
            with connect(database_url(start=False), owner=True) as conn:
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
    from layers.imports.demo import load_demo

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


def _log_import(action: Callable[..., ImportReport], report: ImportReport, tenant: str | None) -> None:
    """One line a finished import: what, file, tenant, counts, seconds (INFO when imported, WARNING rejected)."""
    what = action.__name__.removeprefix("import_")
    level = logging.INFO if report.ok else logging.WARNING
    log.log(level, "import %s %s: file=%s tenant=%s read=%d written=%d errors=%d warnings=%d seconds=%.2f",
            what, "done" if report.ok else "rejected", report.file, tenant, report.features_read,
            report.features_written, len(report.errors), len(report.warnings), report.seconds,
            extra={"command": f"import {what}", "file": str(report.file), "tenant": tenant, "ok": report.ok,
                   "read": report.features_read, "written": report.features_written,
                   "errors": len(report.errors), "seconds": round(report.seconds, 3)})


def _run_import(action: Callable[..., ImportReport], as_json: bool, **kwargs) -> None:
    url = database_url()
    migrate(url)
    try:
        with connect(url) as conn, _progress(not as_json) as progress:
            report = action(conn, progress=progress, **kwargs)
    except ImportFailed as failed:
        _log_import(action, failed.report, kwargs.get("tenant"))
        _print_report(failed.report, as_json)
        raise typer.Exit(exit_code(failed)) from None
    except KotakuError as error:
        if not as_json:
            raise
        print(json.dumps({"ok": False, **error.as_dict()}, ensure_ascii=False, indent=2, default=str))
        raise typer.Exit(exit_code(error)) from None
    _log_import(action, report, kwargs.get("tenant"))
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
    from layers.imports.activities import import_activities

    _run_import(import_activities, as_json, path=file, tenant=tenant, layer=layer)


# -- users and audit -------------------------------------------------------------------------------
def _with_connection(action: Callable[..., Any]) -> Any:
    """Run `action(conn)` (a coroutine of layers.accounts.users) on an async connection working as the app's role."""
    import asyncio

    from layers.db.connection import connect_async

    url = database_url()
    migrate(url)

    async def run() -> Any:
        async with await connect_async(url, autocommit=True, app_role=_settings().app_role) as conn:
            return await action(conn)

    return asyncio.run(run())


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise InvalidInput("--password-stdin: no password on standard input")
    return line


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="User name: lowercase letters, digits, '.', '_', '-'"),
    role: str = typer.Option(..., help="kepling, lurah, camat, opd, bappeda, pokja, konsultan or admin"),
    area: str = typer.Option(None, help="kepling 12.71.01.1001/Lingkungan 02; lurah 12.71.01.1001; camat "
                                        "12.71.01; opd 12.71/Dinas PU; bappeda, pokja 12.71; konsultan 12.71,73.07"),
    agency: str = typer.Option(None, help="opd: its agency (or after '/' in --area)"),
    display_name: str = typer.Option(None, "--display-name", help="Full name shown in pages"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input "
                                        "(otherwise one is generated and printed once)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Add a user with one role scoped to an area."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import add_user

    password = _read_password(password_stdin)
    user, generated = _with_connection(lambda conn: add_user(
        conn, cli_principal(), name, role, area, password=password, display_name=display_name, agency=agency))
    if as_json:
        print(json.dumps({**user.as_dict(), "password": generated}, ensure_ascii=False))
        return
    scope = user.area_code or ",".join(user.tenants) or "all"
    out.print(f"user {user.username} added: {user.role} of {scope}" + (f" ({user.agency})" if user.agency else ""),
              highlight=False)
    if generated:
        out.print(f"password: {generated}   (shown once: give it to the user)", highlight=False)


@user_app.command("list")
def user_list(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """List users with their role, area and state."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import list_users

    users = _with_connection(lambda conn: list_users(conn, cli_principal()))
    if as_json:
        print(json.dumps([u.as_dict() for u in users], ensure_ascii=False))
        return
    for user in users:
        scope = user.area_code or ",".join(user.tenants) or "-"
        state = "disabled" if user.disabled else "active"
        out.print(f"{user.username:24} {user.role:10} {scope:34} {user.agency or '':16} {state}", highlight=False)


@user_app.command("token")
def user_token(
    name: str = typer.Argument(..., help="User name"),
    label: str = typer.Option(None, help="What the token is for, e.g. 'QGIS kantor'"),
    expires_days: int = typer.Option(None, "--expires-days", help="Expire after this many days (default: never)"),
) -> None:
    """Print a new bearer token for the user (only its hash is kept: it cannot be shown again)."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import issue_token

    token_id, token = _with_connection(lambda conn: issue_token(conn, cli_principal(), name, label=label,
                                                                expires_days=expires_days))
    err.print(f"token {token_id} for {name} (send it as 'Authorization: Bearer TOKEN'; "
              f"revoke with 'kotaku user revoke {name} --token {token_id}')", highlight=False)
    print(token)


@user_app.command("revoke")
def user_revoke(
    name: str = typer.Argument(..., help="User name"),
    token: int = typer.Option(None, "--token", help="Only this token id (default: every token and session)"),
) -> None:
    """Revoke a bearer token of the user, or all its tokens and sessions."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import revoke_tokens

    revoked = _with_connection(lambda conn: revoke_tokens(conn, cli_principal(), name, token))
    out.print(f"revoked {len(revoked)} token(s)/session(s) of {name}: {revoked}", highlight=False)


def _set_disabled(name: str, disabled: bool) -> None:
    from layers.accounts.access import cli_principal
    from layers.accounts.users import set_disabled

    user = _with_connection(lambda conn: set_disabled(conn, cli_principal(), name, disabled))
    out.print(f"user {user.username} {'disabled (tokens and sessions revoked)' if user.disabled else 'enabled'}",
              highlight=False)


@user_app.command("disable")
def user_disable(name: str = typer.Argument(..., help="User name")) -> None:
    """Disable a user: it can no longer log in, and its tokens and sessions stop working at once."""
    _set_disabled(name, True)


@user_app.command("enable")
def user_enable(name: str = typer.Argument(..., help="User name")) -> None:
    """Enable a disabled user again (it needs a new token or a login)."""
    _set_disabled(name, False)


@user_app.command("password")
def user_password(
    name: str = typer.Argument(..., help="User name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from standard "
                                        "input (otherwise one is generated and printed once)"),
) -> None:
    """Set a new password (the user's sessions end)."""
    from layers.accounts.access import cli_principal
    from layers.accounts.users import set_password

    password = _read_password(password_stdin)
    generated = _with_connection(lambda conn: set_password(conn, cli_principal(), name, password))
    out.print(f"password of {name} changed" + (f": {generated}   (shown once)" if generated else ""),
              highlight=False)


@audit_app.command("verify")
def audit_verify(
    head: str = typer.Option(None, "--head", help="A head hash printed by an earlier verify: it must still be in "
                                                  "the chain (detects deleted newest entries)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Check the hash chain; exit 1 naming the first broken entry."""
    from layers.accounts.audit import verify

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        result = verify(conn, expected_head=head)
    if as_json:
        print(json.dumps(result.as_dict()))
    elif result.ok:
        out.print(f"audit trail intact: {result.entries} entries; head {result.head_id} {result.head_hash}",
                  highlight=False)
    else:
        err.print(f"[bold red]audit trail broken:[/] {result.problem}", highlight=False)
        if result.broken_id is not None:
            err.print(f"first broken entry: {result.broken_id} ({result.entries} entries before it are intact)",
                      highlight=False)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    limit: int = typer.Option(20, help="How many of the newest entries"),
    entity: str = typer.Option(None, help="Only this entity (user, api_token, decree, ...)"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Show the newest audit entries."""
    from layers.accounts.audit import recent

    url = database_url()
    migrate(url)
    with connect(url) as conn:
        entries = recent(conn, limit=limit, entity=entity)
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, default=str))
        return
    for e in entries:
        out.print(f"{e['id']:>6} {e['at']:%Y-%m-%d %H:%M:%S} {e['actor']:20} {e['action']:22} "
                  f"{e['entity']}:{e['entity_id'] or ''}", highlight=False)



# -- scoring: surveys, scores, priorities, progress, rasters ---------------------------------------
@import_app.command("surveys")
def import_surveys_command(
    file: Path = typer.Argument(..., help="KOTAKU workbook (kumuhRT/rtrw/kawasan) or a table (CSV/XLSX)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code, e.g. 33.75 or 3375"),
    round_name: str = typer.Option(None, "--round", help="Round name; with a round/tahun column: import only it"),
    scheme: str = typer.Option("permen14_2018", help="Scoring scheme of rows without a scheme column"),
    create_units: bool = typer.Option(False, "--create-units", help="Create unmatched units under their kelurahan"),
    strict: bool = typer.Option(False, "--strict", help="Reject the file when stored scores contradict volumes"),
    sheet: str = typer.Option(None, help="Sheet of a workbook that holds a flat table"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. label=RT_RW,kelurahan=DESA,v_1a=VOL1A"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import survey volumes per unit and round; inconsistent stored scores are flagged, never scored."""
    from layers.imports.surveys import import_surveys

    _run_import(import_surveys, as_json, path=file, tenant=tenant, round=round_name, scheme=scheme,
                create_units=create_units, strict=strict, sheet=sheet, field_map=field_map)


@import_app.command("strategic-zones")
def import_strategic_zones_command(
    file: Path = typer.Argument(..., help="Vector file of strategic zones (RTRW/RDTR)"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    value: str = typer.Option(None, help="Strategic value of zones without a value field (e.g. strategis)"),
    layer: str = typer.Option(None, help="Layer name in a multi-layer file"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. name=NAMA,value=NILAI"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import the strategic zones of a tenant (replaces them); slum areas inside get their value."""
    from layers.imports.priority import import_strategic_zones

    _run_import(import_strategic_zones, as_json, path=file, tenant=tenant, value=value, layer=layer,
                field_map=field_map)


@import_app.command("priority-inputs")
def import_priority_inputs_command(
    file: Path = typer.Argument(..., help="Table (CSV/XLSX): slum area, MBR %, potensi, nilai strategis, legalitas"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    sheet: str = typer.Option(None, help="Sheet of a workbook"),
    field_map: str = typer.Option(None, "--map", help="Field names, e.g. mbr_share_pct=MBR,potential=POTENSI"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import pertimbangan-lain and legality inputs per slum area."""
    from layers.imports.priority import import_priority_inputs

    _run_import(import_priority_inputs, as_json, path=file, tenant=tenant, sheet=sheet, field_map=field_map)


@import_app.command("priority-matrix")
def import_priority_matrix_command(
    file: Path = typer.Argument(..., help="CSV with level,pl,legality,class,rank,rank9,handling"),
    tenant: str = typer.Option(..., help="Kab/kota Kemendagri code"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Use a tenant's own level x PL x legality matrix instead of the packaged one."""
    from layers.imports.priority import import_priority_matrix

    _run_import(import_priority_matrix, as_json, path=file, tenant=tenant)


def _emit(frame, fmt: str, output: Path | None, extra: dict | None = None) -> None:
    """A table as CSV or JSON, to a file or stdout."""
    from layers.db.frames import records

    if fmt not in ("csv", "json"):
        raise InvalidInput(f"--format must be csv or json, not {fmt!r}")
    if fmt == "csv":
        text = frame.to_csv(index=False)
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

    _run_import(raster_stats, as_json, path=file, tenant=tenant, kind="population", values=values, crs=crs,
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

    _run_import(raster_stats, as_json, path=file, tenant=tenant, kind="flood", depth=depth, crs=crs, band=band)


# -- exports ---------------------------------------------------------------------------------------
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
    with connect(url) as conn, _progress(not as_json) as progress:
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


# -- tiles -----------------------------------------------------------------------------------------
@app.command("tile")
def tile_command(
    collection: str = typer.Argument(..., help="Collection id, e.g. slum-areas"),
    z: int = typer.Argument(..., help="Zoom"),
    x: int = typer.Argument(..., help="Column"),
    y: int = typer.Argument(..., help="Row"),
    output: Path = typer.Option(..., "-o", "--output", help="File to write the tile to"),
    png: bool = typer.Option(False, "--png", help="A PNG map tile instead of a vector tile (MVT)"),
    style: str = typer.Option(None, help="PNG style (default: the collection's first)"),
    tenant: str = typer.Option(None, help="Only this kab/kota (Kemendagri code)"),
    public: bool = typer.Option(False, "--public", help="Only what anonymous visitors see"),
    as_json: bool = typer.Option(False, "--json", help="Print status, ETag and feature count as JSON"),
) -> None:
    """One tile exactly as the HTTP API serves it (maps/tile_flow.py); an empty tile writes an empty file."""
    import asyncio

    from psycopg_pool import AsyncConnectionPool

    from layers.accounts.access import PUBLIC, cli_principal
    from layers.db.connection import app_role_kwargs
    from layers.serving.cache import TileCache
    from layers.serving.versions import VersionReader
    from maps.exports.atomic import atomic_output
    from maps.tile_flow import answer_tile

    url = database_url()
    migrate(url)

    async def run() -> Any:
        role = app_role_kwargs(url, _settings().app_role)
        async with AsyncConnectionPool(url, min_size=1, max_size=1, open=False,
                                       kwargs={"autocommit": True, **role}) as pool:
            return await answer_tile(pool, TileCache(0), VersionReader(pool), collection, z, x, y,
                                     PUBLIC if public else cli_principal(), tenant=tenant, png=png, style=style)

    answer = asyncio.run(run())
    with atomic_output(output) as temp:
        temp.write_bytes(answer.body)
    if as_json:
        print(json.dumps({"status": answer.status, "path": str(output), "media_type": answer.media_type,
                          "bytes": len(answer.body), "features": answer.features, "etag": answer.etag}))
        return
    what = "empty tile" if answer.status == 204 else f"{len(answer.body):,} bytes, {answer.features} features"
    out.print(f"{output}: {answer.media_type}, {what}", highlight=False)


if __name__ == "__main__":
    main()
