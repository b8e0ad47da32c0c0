"""`kotaku demo`: the demo data (Kota Medan)."""

from __future__ import annotations

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import out, progress_bar
from api.cli.root import app


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the demo is already loaded")) -> None:
    """Load the demo: Kota Medan (12.71) boundaries and synthetic slum areas, surveys and activities."""
    from layers.imports.demo import load_demo

    url = database_url()
    migrate(url)
    with connect(url) as conn, progress_bar() as progress:
        summary = load_demo(conn, if_empty=if_empty, progress=progress)
    out.print_json(data=summary)

