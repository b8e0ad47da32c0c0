"""`kotaku cache purge`: BAN layers on the shared HTTP caches (KOTAKU_CACHE_PURGE_URLS) by hand, e.g. after an edit
made in SQL outside kotaku (writes through the API and the command line ban on their own)."""

from __future__ import annotations

import typer

from api.cli.context import current_settings, database_url
from api.cli.output import out
from api.cli.root import app

cache_app = typer.Typer(help="The shared HTTP caches in front of kotaku serve (Varnish).", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("purge")
def purge_command(layers: list[str] = typer.Argument(None, help="Layers to ban (default: every layer)")) -> None:
    """Drop the cached tiles and items of LAYERS (all when none given) from every cache."""
    import psycopg

    from layers.serving.purge import ban, parse_urls, read_versions

    urls = parse_urls(current_settings().cache_purge_urls)
    if not urls:
        raise typer.BadParameter("KOTAKU_CACHE_PURGE_URLS is not set: no cache to purge")
    if not layers:
        with psycopg.connect(database_url()) as conn:
            layers = sorted(read_versions(conn))
    done = ban(urls, sorted(layers))
    out.print(f"banned {' '.join(sorted(layers))} on {done} of {len(urls)} caches")
    if done < len(urls):
        raise typer.Exit(1)
