"""The national batch join (issue 14 item 5) on the Medan demo. On Dask each worker reads its own spatial piece from
PostGIS and COPYs its rows into the run's tables; the result equals the one-process (geopandas) result row for row,
the one-process result agrees with what PostGIS computed at import (slum_area_regions: the same slum area/desa
pairs, overlaps within 1 %, equal-area projection against the spheroid), and writing it back leaves the database's
joins as they were. The Dask side runs on a cluster given by its scheduler address (a LocalCluster started apart,
as a remote one would be) and, through `kotaku batch join`, on the command's own LocalCluster."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import psycopg
import pytest

pytest.importorskip("dask_geopandas", reason="the batch extra (make test installs it)")

from layers.keterpaduan import batch_dask, batch_join  # noqa: E402

KOTAKU = os.path.join(os.path.dirname(sys.executable), "kotaku")


def pairs(frame) -> dict[tuple[int, str], float]:
    return {(int(a), str(r)): float(ha) for a, r, ha in zip(frame.slum_area_id, frame.region_code, frame.overlap_ha,
                                                             strict=True)}


def ordered(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    return frame.sort_values(list(keys), kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster started apart from the code under test, reached by its address only."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                           processes=True)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.mark.writes_demo
def test_dask_pieces_read_by_the_workers_equal_one_process_row_for_row(demo_url, scheduler):
    with psycopg.connect(demo_url) as conn:
        areas, activities, desa = batch_join.read_inputs(conn)
        stored = {(a, r): ha for a, r, ha in conn.execute(
            "SELECT slum_area_id, region_code, overlap_ha FROM slum_area_regions").fetchall()}
        kelurahan = conn.execute("SELECT id, kelurahan_code FROM slum_areas ORDER BY id").fetchall()
        pieces = batch_dask.plan(conn, batch_join.Source(), 6)
    single = batch_join.join_single(areas, activities, desa)
    assert len(pieces) == 6 and sorted(c for p in pieces for c in p.codes) == sorted(desa.code)  # each desa once

    client = batch_dask.dask_client(scheduler)
    try:
        with psycopg.connect(demo_url) as owner:
            tables = batch_dask.RunTables.create(owner, None)
            try:
                totals = batch_dask.run_dask(client, batch_dask.Login(demo_url), tables, pieces)
                with psycopg.connect(demo_url) as conn:
                    dask = tables.read(conn)
                    written = batch_join.apply_rows(conn, tables.overlaps, tables.points)
                    conn.commit()
            finally:
                tables.drop(owner)
    finally:
        batch_dask.close_client(client)
    # row for row: the same pairs, the same doubles
    pd.testing.assert_frame_equal(dask.overlaps, ordered(single.overlaps, "slum_area_id", "region_code"))
    pd.testing.assert_frame_equal(dask.activity_regions, ordered(single.activity_regions, "activity_id"))
    assert len(single.activity_regions) == len(activities)  # every demo activity lies in a desa
    # each worker read its slice, not everything: together about the whole input, once
    assert totals["activities_read"] < 2 * len(activities) and totals["areas_read"] < 2 * len(areas)
    # against PostGIS: pairs with a measurable overlap are the same, the hectares within 1 %
    found = {key: ha for key, ha in pairs(single.overlaps).items() if ha > 0.01}
    assert set(found) == {key for key, ha in stored.items() if ha > 0.01}
    assert all(found[key] == pytest.approx(stored[key], rel=0.01) for key in found)
    assert written["slum_area_regions"] == len(dask.overlaps)
    assert written["slum_areas_moved"] == 0  # the largest share names the same kelurahan as the import did
    with psycopg.connect(demo_url) as conn:
        assert conn.execute("SELECT id, kelurahan_code FROM slum_areas ORDER BY id").fetchall() == kelurahan


@pytest.mark.writes_demo
def test_the_command_runs_on_its_local_cluster_as_the_app_and_leaves_no_run_tables(demo_url):
    """Then `--single` (one process) finds nothing to change and rewrites the same overlaps."""
    def state(conn):
        return (conn.execute("SELECT id, kelurahan_code FROM slum_areas ORDER BY id").fetchall(),
                conn.execute("SELECT id, kelurahan_code FROM activities ORDER BY id").fetchall())

    with psycopg.connect(demo_url) as conn:
        before = state(conn)
        conn.execute("UPDATE activities SET kelurahan_code = NULL WHERE id = (SELECT min(id) FROM activities)")
        conn.commit()
    done = subprocess.run([KOTAKU, "batch", "join", "--workers", "2", "--partitions", "4"], capture_output=True,
                          text=True, env={**os.environ, "DATABASE_URL": demo_url}, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "4 pieces" in done.stdout and "activities_moved 1" in done.stdout, done.stdout
    with psycopg.connect(demo_url) as conn:
        assert state(conn) == before  # the cleared desa is back, every slum area's kelurahan as the import set it
        overlaps = conn.execute("SELECT count(*) FROM slum_area_regions").fetchone()[0]
        assert f"slum_area_regions {overlaps}" in done.stdout
        stored = conn.execute("SELECT * FROM slum_area_regions ORDER BY 1, 2").fetchall()
    single = subprocess.run([KOTAKU, "batch", "join", "--single"], capture_output=True, text=True,
                            env={**os.environ, "DATABASE_URL": demo_url}, timeout=300)
    assert single.returncode == 0, single.stderr
    assert "activities_moved 0" in single.stdout and "slum_areas_moved 0" in single.stdout, single.stdout
    with psycopg.connect(demo_url) as conn:  # one process writes what the workers wrote, to the last bit
        assert conn.execute("SELECT * FROM slum_area_regions ORDER BY 1, 2").fetchall() == stored
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'kotaku_batch_%'").fetchone()[0] == 0


def test_an_unreachable_scheduler_is_exit_2_in_indonesian_and_writes_nothing(demo_url):
    with psycopg.connect(demo_url) as conn:
        before = conn.execute("SELECT count(*), sum(overlap_ha) FROM slum_area_regions").fetchone()
    for address in ("tcp://127.0.0.1:1", "bukan-alamat"):
        done = subprocess.run([KOTAKU, "--lang", "id", "batch", "join", "--scheduler", address], capture_output=True,
                              text=True, env={**os.environ, "DATABASE_URL": demo_url}, timeout=120)
        assert done.returncode == 2, (done.stdout, done.stderr)
        message = " ".join(done.stderr.split())
        assert f"penjadwal Dask {address} tidak dapat dihubungi" in message, message
        assert "Traceback" not in message and "None" not in message
    with psycopg.connect(demo_url) as conn:
        assert conn.execute("SELECT count(*), sum(overlap_ha) FROM slum_area_regions").fetchone() == before
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'kotaku_batch_%'").fetchone()[0] == 0
