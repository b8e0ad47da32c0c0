"""The root `kotaku` typer app and its callback; the command modules add their commands and groups to it."""

from __future__ import annotations

import contextlib
import sys

import typer

from api.cli.output import set_language
from api.logs import configure_logging
from geo.errors import KotakuError
from layers.db.connection import database_url
from layers.serving.purge import CommandWatch, parse_urls
from layers.settings import Settings

app = typer.Typer(help="kotaku-gis: peta kawasan kumuh, usulan dan keterpaduan program KOTAKU.",
                  no_args_is_help=True, pretty_exceptions_enable=False)


@app.callback()
def startup(ctx: typer.Context, lang: str = typer.Option(
        None, "--lang", help="Language of messages and import reports: id (Bahasa Indonesia) or en "
                             "(default: KOTAKU_LANG, else en)")) -> None:
    """Read the settings (environment, prefix KOTAKU_) once and set up logging (to stderr) for any command."""
    settings = Settings()
    if lang is not None:
        if lang not in ("id", "en"):
            raise typer.BadParameter(f"'{lang}' is not a language: give id or en", param_hint="--lang")
        settings = settings.model_copy(update={"lang": lang})
    configure_logging(settings, sys.stderr)
    set_language(settings.lang)
    ctx.obj = settings
    purge_urls = parse_urls(settings.cache_purge_urls)
    if purge_urls and ctx.invoked_subcommand not in ("serve", None):  # serve bans per write (api/cache_purge.py)
        with contextlib.suppress(KotakuError):  # no database (yet): nothing to compare, nothing banned
            watch = CommandWatch(purge_urls, database_url(settings, start=False))
            ctx.call_on_close(watch.finish)
