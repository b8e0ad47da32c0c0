"""Geodesic area/length, UTM zones and the Indonesia box."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Proj, Transformer

from geo.bounds import INDONESIA
from geo.measure import (
    EQUAL_AREA_CRS,
    _equal_area_m2,
    geodesic_area_ha,
    geodesic_area_ha_exact,
    geodesic_length_m,
    utm_epsg_for,
)
from geo.read import read_vector


@st.composite
def indonesian_polygons(draw: st.DrawFn) -> shapely.Polygon:
    """A simple star-shaped polygon, 50 m to 5 km across, somewhere over Indonesia's lon/lat box."""
    lon = draw(st.floats(95.5, 140.5))
    lat = draw(st.floats(-10.5, 5.5))
    n = draw(st.integers(3, 40))
    angles = np.sort(draw(st.lists(st.floats(0, 2 * np.pi, exclude_max=True), min_size=n, max_size=n, unique=True)))
    radii = np.array(draw(st.lists(st.floats(0.0005, 0.05), min_size=n, max_size=n)))
    polygon = shapely.Polygon(np.c_[lon + radii * np.cos(angles), lat + radii * np.sin(angles)])
    return polygon


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(polygon=indonesian_polygons(), driver=st.sampled_from(["GPKG", "ESRI Shapefile"]))
def test_geodesic_area_survives_a_trip_through_the_local_utm_zone(polygon: shapely.Polygon, driver: str) -> None:
    """Written in its UTM zone (as consultants deliver files) and read back: the same area within 0.1 %."""
    if not polygon.is_valid or geodesic_area_ha([polygon])[0] < 1e-3:
        return  # degenerate draw (collinear points): nothing to compare
    if 4 * np.pi * polygon.area / polygon.length**2 < 0.01:
        # a sliver (e.g. 3.4 km long, 3.5 m high): centimetres between the edges of the UTM plane and those of the
        # equal-area plane are more than 0.1 % of so small an area, whichever measure is right
        return
    lon, lat = polygon.centroid.x, polygon.centroid.y
    epsg = utm_epsg_for(lon, lat)
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    projected = shapely.transform(polygon, lambda xy: np.c_[to_utm.transform(xy[:, 0], xy[:, 1])])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("parcel.gpkg" if driver == "GPKG" else "parcel.shp")
        gpd.GeoDataFrame({"name": ["parcel"]}, geometry=[projected], crs=epsg).to_file(path, driver=driver)
        data = read_vector(path)
    assert data.source_crs == f"EPSG:{epsg}"
    expected = geodesic_area_ha([polygon])[0]
    assert geodesic_area_ha(data.frame.geometry)[0] == pytest.approx(expected, rel=1e-3)
    # An independent computation: planar UTM area divided by the projection's areal scale at the centroid.
    scale = Proj(f"EPSG:{epsg}").get_factors(lon, lat).areal_scale
    assert projected.area / scale / 10_000 == pytest.approx(expected, rel=1e-3)


def test_known_lengths_and_areas() -> None:
    equator_degree = shapely.LineString([(120, 0), (121, 0)])
    assert geodesic_length_m([equator_degree])[0] == pytest.approx(111_319.49, abs=0.01)  # a * pi / 180
    square = shapely.box(120.0, -5.01, 120.01, -5.0)  # about 1.1 km by 1.1 km
    hole = shapely.box(120.002, -5.008, 120.008, -5.002)
    with_hole = shapely.Polygon(square.exterior, [hole.exterior])
    area, area_hole = geodesic_area_ha([square, hole])
    assert geodesic_area_ha([with_hole])[0] == pytest.approx(area - area_hole, rel=1e-9)
    assert geodesic_area_ha([square.reverse()])[0] == pytest.approx(area, rel=1e-12)  # orientation-free
    perimeter = geodesic_length_m([square])[0]
    assert geodesic_length_m([with_hole])[0] == pytest.approx(perimeter + geodesic_length_m([hole])[0])


def test_points_lines_collections_and_missing() -> None:
    line = shapely.LineString([(120, -5), (120, -5.01)])
    box = shapely.box(120, -5.01, 120.01, -5)
    geoms = [None, shapely.Point(120, -5), line, shapely.GeometryCollection([box, line]), shapely.Polygon()]
    area = geodesic_area_ha(gpd.GeoSeries(geoms, crs=4326))
    length = geodesic_length_m(geoms)
    assert np.isnan(area[0]) and np.isnan(length[0])
    assert area[1] == area[2] == area[4] == 0 and length[1] == length[4] == 0
    assert area[3] == pytest.approx(geodesic_area_ha([box])[0])
    assert length[3] == pytest.approx(length[2] + geodesic_length_m([box])[0])
    with pytest.raises(ValueError, match="longitude/latitude"):
        geodesic_area_ha(gpd.GeoSeries([box], crs=32751))


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(98.67, 3.59, 32647), (120.26, -5.12, 32751), (106.8, -6.2, 32748), (140.7, -2.5, 32754), (95.3, 5.5, 32646)],
)
def test_utm_zone_of_indonesian_cities(lon: float, lat: float, epsg: int) -> None:
    assert utm_epsg_for(lon, lat) == epsg


def test_indonesia_box_has_a_margin_and_works_on_arrays() -> None:
    assert INDONESIA.contains(94.6, -11.5, 141.5, 6.5)  # outermost islands plus the documented margin
    assert not INDONESIA.contains(150, -5, 151, -4)
    inside = INDONESIA.contains_extents([[120, -5, 121, -4], [-5, 120, -4, 121], [np.nan, 0, 0, 0]])
    assert inside.tolist() == [True, False, False]


@settings(max_examples=60, deadline=None)
@given(
    lon=st.floats(95.5, 140.5), lat=st.floats(-10.5, 5.5), size=st.floats(1e-4, 0.3), stretch=st.floats(0.05, 1.0),
    sides=st.integers(3, 40),
)
def test_fast_area_agrees_with_geographiclib(lon, lat, size, stretch, sides):
    """The vectorised equal-area path and the exact GeographicLib path agree within 1e-4 (the rule is 1e-3)."""
    angles = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    radius = size * (0.6 + 0.4 * np.cos(3 * angles))
    ring = np.column_stack([lon + radius * np.cos(angles), lat + stretch * radius * np.sin(angles)])
    polygon = shapely.Polygon(ring)
    if not polygon.is_valid or polygon.area == 0:
        return
    fast, exact = geodesic_area_ha([polygon])[0], geodesic_area_ha_exact([polygon])[0]
    assert abs(fast - exact) / exact < 1e-4


def test_equal_area_path_gives_the_areas_of_epsg_6933() -> None:
    """The fast path measures what PROJ's EPSG:6933 and GEOS measure, within 1e-5: random polygons across Indonesia
    from 10 m to 0.1° (11 km) across, with holes, multi-part and in collections."""
    rng = np.random.default_rng(6933)
    geoms = []
    for lon, lat, size in zip(rng.uniform(94.0, 142.0, 400), rng.uniform(-12.0, 7.0, 400),
                              10 ** rng.uniform(-4, np.log10(0.0125), 400), strict=True):
        outer = shapely.Point(lon, lat).buffer(size, quad_segs=int(rng.integers(2, 16)))
        hole = shapely.Point(lon + size / 4, lat).buffer(size / 3)
        second = shapely.Point(lon + 3 * size, lat).buffer(size / 2)
        geoms += [outer, outer.difference(hole), shapely.MultiPolygon([outer, second]),
                  shapely.GeometryCollection([outer, shapely.Point(lon, lat)])]
    to_6933 = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
    expected = shapely.area(shapely.transform(np.array(geoms), lambda xy: np.column_stack(
        to_6933.transform(xy[:, 0], xy[:, 1]))))
    ours = _equal_area_m2(np.array(geoms, dtype=object))
    assert np.allclose(ours, expected, rtol=1e-5, atol=0)
    assert _equal_area_m2(np.array([shapely.Point(110, -7), shapely.LineString([(110, -7), (110.1, -7)]),
                                    shapely.Polygon()], dtype=object)).tolist() == [0.0, 0.0, 0.0]
