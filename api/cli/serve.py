"""`kotaku serve`: the database up and migrated, then the API and pages."""

from __future__ import annotations

import socket

import typer

from api.cli.context import current_settings, database_url, migrate
from api.cli.output import out
from api.cli.root import app
from geo.errors import ServiceUnavailable


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Address to listen on"),
          port: int = typer.Option(8000, help="Port to listen on"),
          workers: int = typer.Option(1, min=1, help="Worker processes (each with its own pool and tile cache)"),
          access_log: bool = typer.Option(True, help="Log every request")) -> None:
    """Bring the database up, migrate it, and serve the API and pages."""
    from api.server import run_server

    _check_port_free(host, port)
    from layers.db.connection import resolve_app_login

    url = database_url()
    revision = migrate(url)
    settings = current_settings()
    # The server processes get the app's own login only (never the owner's password) when it may log in.
    login = resolve_app_login(url, settings.app_role, settings.app_database_url)
    out.print(f"database ready (schema {revision}); serving on http://{host}:{port}  (API docs: /docs)")
    run_server(login.url if login.own else url, host, port, workers=workers, access_log=access_log,
               settings=settings)


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port another server listens on. SO_REUSEADDR as the server itself binds: connections of a server
    that just died (TIME_WAIT) do not block a restart, a live listener still does (Linux refuses the bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ServiceUnavailable(
                f"cannot listen on {host}:{port} ({exc.strerror}): another server (a second 'kotaku serve'?) "
                "is using it; choose another with --port"
            ) from None
