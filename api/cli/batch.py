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
    partitions: int = typer.Option(None, min=1, help="Spatial pieces (default 8 per worker)"),
    single: bool = typer.Option(False, "--single", help="One process (geopandas), no Dask"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Compute and print, write nothing"),
) -> None:
    """Every slum area and activity against every desa/kelurahan: slum_area_regions and the kelurahan codes."""
    url = database_url()
    started = time.perf_counter()
    if single:
        from layers.keterpaduan import batch_join

        with connect(url) as conn:
            areas, activities, desa = batch_join.read_inputs(conn)
            read_s = time.perf_counter() - started
            result = batch_join.join_single(areas, activities, desa)
            written = {} if dry_run else batch_join.write_results(conn, result)
        what = (f"{len(areas)} slum areas, {len(activities)} activities, {len(desa)} desa read in {read_s:.1f} s; "
                f"{len(result.overlaps)} overlaps and {len(result.activity_regions)} activity desa computed in "
                f"{result.seconds['compute']:.1f} s (one process)")
    else:
        what, written = _on_dask(url, scheduler or current_settings().dask_scheduler, workers, partitions, dry_run)
    out.print(what + ("; nothing written (--dry-run)" if dry_run else
                      f"; written: {', '.join(f'{k} {v}' for k, v in written.items())}"))


def _on_dask(url: str, scheduler: str | None, workers: int, partitions: int | None,
             dry_run: bool) -> tuple[str, dict[str, int]]:
    """The workers read their pieces and write the run's tables; applied here in one transaction."""
    from layers.db.connection import resolve_app_login
    from layers.keterpaduan import batch_dask, batch_join

    settings = current_settings()
    app = resolve_app_login(url, settings.app_role, settings.app_database_url)
    login = batch_dask.Login(app.url, dict(app.kwargs))
    client = batch_dask.dask_client(scheduler, workers)
    try:
        with connect(url, owner=True) as owner:
            tables = batch_dask.RunTables.create(owner, settings.app_role)
            try:
                with connect(url) as conn:
                    pieces = batch_dask.plan(conn, batch_join.Source(),
                                             partitions or 8 * batch_dask.worker_count(client))
                totals = batch_dask.run_dask(client, login, tables, pieces)
                written: dict[str, int] = {}
                if not dry_run:
                    with connect(url) as conn, conn.transaction():
                        written = batch_join.apply_rows(conn, tables.overlaps, tables.points)
            finally:
                tables.drop(owner)
    finally:
        batch_dask.close_client(client)
    what = (f"{len(pieces)} pieces of {int(totals.get('desa', 0))} desa on Dask: {int(totals.get('areas_read', 0))} "
            f"slum areas and {int(totals.get('activities_read', 0))} activities read by the workers, "
            f"{int(totals.get('overlaps', 0))} overlaps and {int(totals.get('activity_desa', 0))} activity desa "
            f"written by them in {totals['compute']:.1f} s")
    return what, written
