"""`kotaku demo`: the demo data (Kota Medan), and Kota Jakarta Pusat's boundaries, OpenStreetMap basemap and
synthetic slum layers."""

from __future__ import annotations

import typer

from api.cli.context import connect, database_url, migrate
from api.cli.output import out, progress_bar
from api.cli.root import app


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the demo is already loaded")) -> None:
    """Load the demo: Kota Medan (12.71) boundaries and synthetic slum areas, surveys and activities; Kota Jakarta
    Pusat (31.71) boundaries, its OpenStreetMap roads and buildings as the basemap, and synthetic slum areas,
    surveys and activities on it."""
    from layers.imports.demo import load_demo, load_demo_jakarta_pusat
    from layers.imports.demo_basemap import load_demo_basemap

    url = database_url()
    migrate(url)
    with connect(url) as conn, progress_bar() as progress:
        summary = load_demo(conn, if_empty=if_empty, progress=progress)
        summary["basemap"] = load_demo_basemap(conn, if_empty=if_empty, progress=progress)
        # after the basemap (its boundaries), in a transaction of its own: the basemap's tests load it without these
        summary["jakarta_pusat"] = load_demo_jakarta_pusat(conn, if_empty=if_empty, progress=progress)
    out.print_json(data=summary)

