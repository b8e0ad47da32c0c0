"""`kotaku db ...`: the private cluster under var/ (or the DATABASE_URL server) and its schema."""

from __future__ import annotations

import typer

from api.cli.context import cluster, configured_url, connect, database_url, migrate, reset
from api.cli.output import out
from api.cli.root import app
from geo.errors import InvalidInput, ServiceUnavailable

db_app = typer.Typer(help="The database: the private cluster under var/ or DATABASE_URL.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _external_notice() -> bool:
    if configured_url():
        out.print("DATABASE_URL is set: using that server; the local cluster is not managed.")
        return True
    return False


@db_app.command("up")
def db_up() -> None:
    """Initialise (first time) and start the private cluster; migrate the schema."""
    if not _external_notice():
        status = cluster().up()
        out.print(f"cluster running on 127.0.0.1:{status.port} (data in {status.data_dir})")
    out.print(f"schema at revision {migrate()}")


@db_app.command("down")
def db_down() -> None:
    """Stop the private cluster."""
    if _external_notice():
        return
    out.print("cluster stopped" if cluster().down() else "cluster was not running")


@db_app.command("status")
def db_status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output")) -> None:
    """Whether the database is initialised, running, and at which schema revision."""
    from layers.db.schema import current_revision, head_revision

    info: dict = {"external": bool(configured_url()), "schema_head": head_revision()}
    if not configured_url():
        status = cluster().status()
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

