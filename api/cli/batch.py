"""`kotaku batch join`: the national desa join of slum areas and activities on Dask (keterpaduan/batch_join.py)."""

from __future__ import annotations

import time

import typer

from api.cli.context import connect, current_settings, database_url
from api.cli.output import out
from api.cli.root import app

batch_app = typer.Typer(help="Batch jobs on a Dask cluster (the `batch` extra: dask, distributed, dask-geopandas).",
                        no_args_is_help=True)
app.add_typer(batch_app, name="batch")


@batch_app.command("join")
def join_command(
    scheduler: str = typer.Option(None, help="Dask scheduler (tcp://host:8786); default KOTAKU_DASK_SCHEDULER, "
                                             "else a local cluster"),
    workers: int = typer.Option(2, min=1, help="Workers of the local cluster (without a scheduler)"),
    partitions: int = typer.Option(None, min=1, help="Pieces per input (default 4 per worker)"),
    single: bool = typer.Option(False, "--single", help="One process (geopandas), no Dask"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compute and print, write nothing"),
) -> None:
    """Every slum area and activity against every desa/kelurahan: slum_area_regions and the kelurahan codes."""
    from layers.keterpaduan import batch_join

    url = database_url()
    with connect(url) as conn:
        started = time.perf_counter()
        areas, activities, desa = batch_join.read_inputs(conn)
        read_s = time.perf_counter() - started
        if single:
            result = batch_join.join_single(areas, activities, desa)
        else:
            client = batch_join.dask_client(scheduler or current_settings().dask_scheduler, workers)
            try:
                result = batch_join.join_dask(areas, activities, desa, client, partitions)
            finally:
                batch_join.close_client(client)
        written = {} if dry_run else batch_join.write_results(conn, result)
    out.print(f"{len(areas)} slum areas, {len(activities)} activities, {len(desa)} desa read in {read_s:.1f} s; "
              f"{len(result.overlaps)} overlaps and {len(result.activity_regions)} activity desa computed in "
              f"{result.seconds['compute']:.1f} s ({'one process' if single else 'Dask'})"
              + ("; nothing written (--dry-run)" if dry_run else
                 f"; written: {', '.join(f'{k} {v}' for k, v in written.items())}"))
