"""The root `kotaku` typer app and its callback; the command modules add their commands and groups to it."""

from __future__ import annotations

import sys

import typer

from api.logs import configure_logging
from layers.settings import Settings

app = typer.Typer(help="kotaku-gis: peta kawasan kumuh, usulan dan keterpaduan program KOTAKU.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def startup(ctx: typer.Context) -> None:
    """Read the settings (environment, prefix KOTAKU_) once and set up logging (to stderr) for any command."""
    settings = Settings()
    configure_logging(settings, sys.stderr)
    ctx.obj = settings
