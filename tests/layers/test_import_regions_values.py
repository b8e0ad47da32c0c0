"""What a region import stores does not depend on how fast it goes: every row holds the file's geometry as checked
and repaired by geo.validate, its geodesic area as geo.measure computes it (within 1e-6 relative), SRID 4326.

Run on the largest boundary file we have (8,492 desa of Jawa Timur: five COPY chunks, checked one chunk ahead of
the writing, with the repairs its source needs) and on the demo's Medan kelurahan.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from data import data_path
from geo.measure import geodesic_area_ha
from geo.read import read_vector
from geo.validate import validate_geometries
from layers.imports.regions import COPY_CHUNK, import_regions


def _stored(conn) -> dict[str, tuple[float, bytes, int]]:
    rows = conn.execute("SELECT code, area_ha, ST_AsBinary(geom), ST_SRID(geom) FROM regions").fetchall()
    return {code: (area, bytes(wkb), srid) for code, area, wkb, srid in rows}


def _assert_stored_as_checked(conn, path: Path) -> int:
    report = import_regions(conn, path)
    assert report.ok
    expected = validate_geometries(read_vector(path).frame, kind="polygon")
    assert [p.feature for p in report.repairs] == [p.feature for p in expected.repairs]
    stored = _stored(conn)
    codes = expected.frame["kode"].tolist()
    assert sorted(stored) == sorted(codes)
    geoms = np.asarray(expected.frame.geometry.values, dtype=object)
    areas = geodesic_area_ha(geoms)
    got = np.array([stored[code][0] for code in codes])
    np.testing.assert_allclose(got, areas, rtol=1e-6, atol=0)
    assert shapely.equals_exact(shapely.from_wkb([stored[code][1] for code in codes]), geoms, tolerance=0).all()
    assert {stored[code][2] for code in codes} == {4326}
    assert report.summary["total_area_ha"] == round(float(areas.sum()), 3)
    return len(codes)


def test_jawa_timur_desa_stored_with_their_checked_geometry_and_area(conn, shared_data):
    path = shared_data / "bench" / "desa_kel_jawa_timur.gpkg"
    assert _assert_stored_as_checked(conn, path) == 8492 > 4 * COPY_CHUNK


def test_medan_kelurahan_stored_with_their_checked_geometry_and_area(conn):
    assert _assert_stored_as_checked(conn, data_path("demo", "boundaries", "kota_medan_desa_kel.geojson")) == 151
