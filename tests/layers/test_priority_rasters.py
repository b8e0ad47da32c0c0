"""Zonal statistics of rasters over slum areas, in the raster's own CRS (UTM, DGN95 TM-3): population for the
density of pertimbangan lain, and the share of each area flooded above a depth. Synthetic GeoTIFFs made in the
test; the real Jakarta rasters of ../shared/data when present, cross-checked with gdalwarp."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.features import geometry_mask
from shapely.geometry import box, mapping

from geo.measure import geodesic_area_ha
from layers.db.frames import run
from layers.imports.rasters import raster_stats
from layers.imports.slum_areas import import_slum_areas
from layers.scoring.priority import priorities_op
from layers.scoring.scores import SYSTEM
from tests.layers.scoring_helpers import TENANT, clean_scoring, scalar


def write_tif(path, crs: str, transform: Affine, array: np.ndarray, nodata=None) -> None:
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1], count=1,
                       dtype=array.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(array, 1)


def area_geometry(conn, slum_area_id: int):
    return shapely.from_wkt(scalar(conn, "SELECT ST_AsText(geom) FROM slum_areas WHERE id = %s", slum_area_id))


def grid_over(geom, crs: str, pixel: float, margin: float = 50.0):
    projected = shapely.transform(geom, lambda xy: np.column_stack(
        Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(xy[:, 0], xy[:, 1])))
    minx, miny, maxx, maxy = projected.bounds
    x0, y1 = np.floor((minx - margin) / pixel) * pixel, np.ceil((maxy + margin) / pixel) * pixel
    width, height = int(np.ceil((maxx + margin - x0) / pixel)), int(np.ceil((y1 - miny + margin) / pixel))
    return projected, Affine(pixel, 0, x0, 0, -pixel, y1), (height, width)


@pytest.fixture
def medan(demo_conn):
    return demo_conn


@pytest.mark.writes_demo
def test_population_raster_in_utm_gives_density_with_artefacts_ignored(medan, tmp_path):
    target = scalar(medan, "SELECT min(id) FROM slum_areas WHERE tenant = %s", TENANT)
    geom = area_geometry(medan, target)
    projected, transform, shape = grid_over(geom, "EPSG:32647", 10.0)
    people = np.full(shape, 0.5, dtype="float32")  # 0.5 person per 100 m2 = 50 people per ha
    inside = np.argwhere(~geometry_mask([projected], out_shape=shape, transform=transform))
    for r, c in inside[:3]:
        people[r, c] = -1500.0  # interpolation artefacts
    path = tmp_path / "penduduk_utm47.tif"
    write_tif(path, "EPSG:32647", transform, people, nodata=-9999.0)

    report = raster_stats(medan, path, tenant=TENANT, kind="population")
    assert report.ok and report.source_crs == "EPSG:32647"
    assert any("3 negative pixel(s)" in w.reason for w in report.warnings)
    assert sum("lies outside the raster" in w.reason for w in report.warnings) == 59
    value, valid = medan.execute("SELECT value, valid_share FROM slum_area_raster_stats "
                                 "WHERE slum_area_id = %s AND kind = 'population'", [target]).fetchone()
    area_ha = float(geodesic_area_ha([geom])[0])
    assert value == pytest.approx(area_ha * 50, rel=0.02)
    assert valid == pytest.approx(1.0, abs=0.01)

    rows = run(medan, priorities_op(TENANT, SYSTEM)).set_index("slum_area_id")
    assert rows.loc[target, "density_source"] == "raster penduduk_utm47.tif"
    assert rows.loc[target, "density"] == pytest.approx(50, rel=0.02)
    assert (rows.drop(index=target)["density_source"] == "survei 2023").all()


@pytest.mark.writes_demo
def test_flood_share_in_a_dgn95_tm3_raster(medan, tmp_path):
    target = scalar(medan, "SELECT min(id) FROM slum_areas WHERE tenant = %s", TENANT)
    geom = area_geometry(medan, target)
    crs = "EPSG:23831"  # DGN95 / Indonesia TM-3 zone 47.1, where Medan lies
    projected, transform, shape = grid_over(geom, crs, 5.0)
    depth = np.zeros(shape, dtype="float32")
    split = shape[1] // 2
    depth[:, :split] = 1.2  # the western half under 1.2 m of water
    path = tmp_path / "banjir_tm3.tif"
    write_tif(path, crs, transform, depth)
    report = raster_stats(medan, path, tenant=TENANT, kind="flood", depth=0.5)
    assert report.ok and report.summary["depth_m"] == 0.5
    share = scalar(medan, "SELECT value FROM slum_area_raster_stats WHERE slum_area_id = %s AND kind = 'flood'",
                   target)
    west = box(transform.c, transform.f + transform.e * shape[0], transform.c + split * transform.a, transform.f)
    expected = projected.intersection(west).area / projected.area
    assert 0.05 < expected < 0.95
    assert share == pytest.approx(expected, abs=0.01)
    flood = run(medan, priorities_op(TENANT, SYSTEM)).set_index("slum_area_id").loc[target, "flood_share"]
    assert flood == pytest.approx(share)


def test_a_raster_without_crs_needs_one(medan, tmp_path):
    path = tmp_path / "tanpa_crs.tif"
    write_tif(path, None, Affine(10, 0, 0, 0, -10, 0), np.ones((4, 4), dtype="float32"))
    with pytest.raises(Exception, match="--crs"):
        raster_stats(medan, path, tenant=TENANT, kind="population")


# -- the real Jakarta rasters (../shared/data, tests only) -------------------------------------------------------
def jakarta_areas(conn, tmp_path, boxes: list[tuple[float, float, float, float]]) -> list[int]:
    clean_scoring(conn)
    features = [{"type": "Feature", "geometry": mapping(box(*b)), "properties": {"Kawasan": f"Uji {i}"}}
                for i, b in enumerate(boxes)]
    path = tmp_path / "jakarta.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    import_slum_areas(conn, path, tenant="31.72", decree="SK uji")
    return [r[0] for r in conn.execute("SELECT id FROM slum_areas WHERE tenant = '31.72' ORDER BY source_feature")]


@pytest.mark.shared
def test_jakarta_population_utm48n_with_negative_artefacts(shared_data, conn, tmp_path):
    raster = shared_data / "rasters" / "Population_Jakarta_UTM48N.tif"
    with rasterio.open(raster) as src:
        to_lonlat = Transformer.from_crs(src.crs.to_wkt(), "EPSG:4326", always_xy=True)
        # a block of 6 x 6 whole pixels around the first negative artefact (row 49, col 490)
        x0, y0 = src.transform @ (487, 46)
        x1, y1 = src.transform @ (493, 52)
        values = src.read(1, window=((46, 52), (487, 493)), masked=True).filled(np.nan)
    ring = [to_lonlat.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    lons, lats = zip(*ring, strict=True)
    ids = jakarta_areas(conn, tmp_path, [(min(lons), min(lats), max(lons), max(lats)), (106.80, -6.20, 106.81,
                                                                                        -6.19)])
    report = raster_stats(conn, raster, tenant="31.72", kind="population")
    assert report.source_crs == "EPSG:32648"
    assert any("negative pixel" in w.reason for w in report.warnings)
    value = scalar(conn, "SELECT value FROM slum_area_raster_stats WHERE slum_area_id = %s", ids[0])
    positive = float(values[values >= 0].sum())
    assert (values < 0).sum() == 1  # the artefact; nodata pixels are NaN here
    # lon/lat box around a UTM block: edges differ by well under a pixel
    assert value == pytest.approx(positive, rel=0.05)


@pytest.mark.shared
def test_jakarta_flood_dgn95_agrees_with_gdalwarp(shared_data, conn, tmp_path):
    gdalwarp = shutil.which("gdalwarp")
    if gdalwarp is None:
        pytest.skip("gdalwarp (gdal-bin) is not installed")
    raster = shared_data / "rasters" / "201208140700_Jakarta_200m_Sobek_Hypothetical_Scenario_ACCESSA_6_hours.tif"
    boxes = [(106.80, -6.16, 106.84, -6.12), (106.86, -6.22, 106.90, -6.18), (106.74, -6.20, 106.78, -6.16)]
    ids = jakarta_areas(conn, tmp_path, boxes)
    report = raster_stats(conn, raster, tenant="31.72", kind="flood", depth=0.3)
    assert report.source_crs == "EPSG:23834"
    ours = dict(conn.execute("SELECT slum_area_id, value FROM slum_area_raster_stats WHERE kind = 'flood'").fetchall())

    warped = tmp_path / "warped.tif"  # the real client: GDAL's own reprojection to lon/lat, fine pixels
    subprocess.run([gdalwarp, "-q", "-t_srs", "EPSG:4326", "-tr", "0.0002", "0.0002", "-r", "near",
                    str(raster), str(warped)], check=True, timeout=120)
    with rasterio.open(warped) as src:
        depth = src.read(1, masked=True)
        for area_id, b in zip(ids, boxes, strict=True):
            inside = ~geometry_mask([box(*b)], out_shape=depth.shape, transform=src.transform)
            cells = depth[inside]
            reference = float((cells.filled(0) >= 0.3).sum() / inside.sum())
            assert ours[area_id] == pytest.approx(reference, abs=0.03), area_id
    assert max(ours.values()) > 0.05  # the boxes are not all dry
