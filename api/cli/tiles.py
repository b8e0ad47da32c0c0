"""`kotaku tile`: one tile exactly as the HTTP API serves it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from api.cli.context import current_settings, database_url, migrate
from api.cli.output import out
from api.cli.root import app


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
    from layers.db.connection import resolve_app_login
    from layers.serving.cache import TileCache
    from layers.serving.versions import VersionReader
    from maps.exports.atomic import atomic_output
    from maps.tile_flow import answer_tile

    url = database_url()
    migrate(url)

    async def run() -> Any:
        settings = current_settings()
        login = resolve_app_login(url, settings.app_role, settings.app_database_url)
        async with AsyncConnectionPool(login.url, min_size=1, max_size=1, open=False,
                                       kwargs={"autocommit": True, **login.kwargs}) as pool:
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
