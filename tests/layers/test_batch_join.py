"""The national batch join (issue 14 item 5) on the Medan demo: one process and a real Dask LocalCluster (two
worker processes) give the same pairs, they agree with what PostGIS computed at import (slum_area_regions: the
same slum area/desa pairs, overlaps within 1 %, equal-area projection against the spheroid), and writing the result
back leaves the database's joins as they were."""

from __future__ import annotations

import psycopg
import pytest

pytest.importorskip("dask_geopandas", reason="the batch extra (make test installs it)")

from layers.keterpaduan import batch_join  # noqa: E402


def pairs(frame) -> dict[tuple[int, str], float]:
    return {(int(a), str(r)): float(ha) for a, r, ha in zip(frame.slum_area_id, frame.region_code, frame.overlap_ha,
                                                             strict=True)}


@pytest.mark.writes_demo
def test_the_batch_join_on_dask_equals_one_process_and_the_import(demo_url):
    with psycopg.connect(demo_url) as conn:
        areas, activities, desa = batch_join.read_inputs(conn)
        stored = {(a, r): ha for a, r, ha in conn.execute(
            "SELECT slum_area_id, region_code, overlap_ha FROM slum_area_regions").fetchall()}
        kelurahan = conn.execute("SELECT id, kelurahan_code FROM slum_areas ORDER BY id").fetchall()
    single = batch_join.join_single(areas, activities, desa)
    client = batch_join.dask_client(None, workers=2)
    try:
        dask = batch_join.join_dask(areas, activities, desa, client, partitions=4)
    finally:
        batch_join.close_client(client)
    assert pairs(dask.overlaps) == pytest.approx(pairs(single.overlaps))
    assert sorted(map(tuple, dask.activity_regions.to_numpy().tolist())) == sorted(
        map(tuple, single.activity_regions.to_numpy().tolist()))
    assert len(single.activity_regions) == len(activities)  # every demo activity lies in a desa
    # against PostGIS: pairs with a measurable overlap are the same, the hectares within 1 %
    found = {key: ha for key, ha in pairs(single.overlaps).items() if ha > 0.01}
    assert set(found) == {key for key, ha in stored.items() if ha > 0.01}
    assert all(found[key] == pytest.approx(stored[key], rel=0.01) for key in found)
    with psycopg.connect(demo_url) as conn:
        written = batch_join.write_results(conn, dask)
        assert written["slum_area_regions"] == len(dask.overlaps)
        assert written["slum_areas_moved"] == 0  # the largest share names the same kelurahan as the import did
        assert conn.execute("SELECT id, kelurahan_code FROM slum_areas ORDER BY id").fetchall() == kelurahan
