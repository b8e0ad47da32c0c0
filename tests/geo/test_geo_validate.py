"""validate_geometries: what a user reads for each broken geometry, and that repairs always come out usable."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.validate import promote_to_multipolygon, validate_geometries

SINJAI = shapely.box(120.25, -5.13, 120.26, -5.12)
BOWTIE = shapely.Polygon([(120.25, -5.13), (120.26, -5.12), (120.26, -5.13), (120.25, -5.12)])


def frame(*geoms: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"nama": [f"f{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=4326)


def test_bowtie_is_repaired_and_reported_with_its_area() -> None:
    result = validate_geometries(frame(SINJAI, BOWTIE))
    assert result.ok and result.errors == []
    (repair,) = result.repairs
    assert (repair.feature, repair.field, repair.severity) == (2, "geometry", "repair")
    assert repair.reason.startswith("invalid geometry repaired: Self-intersection[120.255 -5.125]")
    assert "area 0.0000 ha before" in repair.reason  # the two lobes cancel in a signed-area sum
    fixed = result.frame.geometry.iloc[1]
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid and len(fixed.geoms) == 2
    assert result.frame.geometry.iloc[0].geom_type == "MultiPolygon"  # every polygon is promoted
    assert result.frame["nama"].tolist() == ["f0", "f1"]


def test_empty_and_missing_geometries() -> None:
    result = validate_geometries(frame(SINJAI, shapely.Polygon(), None))
    assert not result.ok
    assert [(p.feature, p.reason) for p in result.errors] == [(2, "geometry is empty"), (3, "geometry is empty")]


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_coordinate() -> None:
    broken = shapely.Polygon([(120.25, -5.13), (np.nan, -5.12), (120.26, -5.12)])
    (error,) = validate_geometries(frame(SINJAI, broken)).errors
    assert error.feature == 2 and "not numbers (NaN or infinity)" in error.reason


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("kind", ["polygon", "line", "point", "any"])
def test_non_finite_coordinates_anywhere_are_named_in_every_kind(kind) -> None:
    """Only geometries GEOS finds invalid are searched for NaN/infinity: every kind of geometry holding one is."""
    inf_part = shapely.MultiPolygon([SINJAI, shapely.box(120.3, -5.2, np.inf, -5.1)])
    nan_line = shapely.LineString([(120.25, -5.13), (120.26, np.nan)])
    nan_point = shapely.Point(np.nan, -5.12)
    nan_in_collection = shapely.GeometryCollection([SINJAI, shapely.Point(120.2, np.inf)])
    fine = {"polygon": SINJAI, "line": shapely.LineString([(120.25, -5.13), (120.26, -5.12)]),
            "point": shapely.Point(120.25, -5.13), "any": SINJAI}[kind]
    result = validate_geometries(frame(fine, inf_part, nan_line, nan_point, nan_in_collection), kind=kind)
    named = [p.feature for p in result.errors if "not numbers (NaN or infinity)" in p.reason]
    assert named == [2, 3, 4, 5]


def test_swapped_latitude_and_longitude_get_a_hint() -> None:
    swapped = shapely.transform(SINJAI, lambda xy: xy[:, ::-1])
    far = shapely.box(10, 50, 11, 51)  # Europe: outside, and not a swap either
    errors = validate_geometries(frame(swapped, SINJAI, far)).errors
    assert [e.feature for e in errors] == [1, 3]
    assert errors[0].reason.startswith("outside Indonesia (bbox x 94.4 – 141.6, y -11.6 – 6.6)")
    assert errors[0].reason.endswith("latitude and longitude look swapped")
    # the same box in Bahasa Indonesia: numbers only, no English compass letters
    assert "di luar Indonesia (bbox x 94.4 – 141.6, y -11.6 – 6.6): geometri membentang" in errors[0].text("id")
    assert "swapped" not in errors[1].reason


def test_point_in_a_polygon_layer_names_the_type() -> None:
    (error,) = validate_geometries(frame(SINJAI, shapely.Point(120.25, -5.12))).errors
    assert error.feature == 2
    assert error.reason == "geometry is a Point, but this layer takes polygons (Polygon or MultiPolygon)"


def test_polygon_collections_are_merged_and_mixed_ones_refused() -> None:
    other = shapely.box(120.3, -5.13, 120.31, -5.12)
    polygons = shapely.GeometryCollection([SINJAI, other])
    mixed = shapely.GeometryCollection([SINJAI, shapely.Point(120.3, -5.1)])
    result = validate_geometries(frame(polygons, mixed))
    assert result.frame.geometry.iloc[0].equals(shapely.MultiPolygon([SINJAI, other]))
    assert [(e.feature, e.reason.split(",")[0]) for e in result.errors] == [(2, "geometry is a GeometryCollection")]


def test_line_layer_keeps_lines_and_refuses_polygons() -> None:
    road = shapely.LineString([(120.25, -5.12), (120.26, -5.13)])
    roads = shapely.MultiLineString([[(120.25, -5.12), (120.26, -5.13)], [(120.27, -5.12), (120.28, -5.13)]])
    collapsed = shapely.LineString([(120.25, -5.12), (120.25, -5.12)])
    result = validate_geometries(frame(road, roads, SINJAI, collapsed), kind="line")
    assert result.frame.geometry.iloc[0].equals(road) and result.frame.geometry.iloc[1].equals(roads)
    assert [e.feature for e in result.errors] == [3, 4]
    assert "takes lines (LineString or MultiLineString)" in result.errors[0].reason
    assert "leaves no line" in result.errors[1].reason


def test_point_layer_unwraps_single_multipoints() -> None:
    single = shapely.MultiPoint([(120.25, -5.12)])
    several = shapely.MultiPoint([(120.25, -5.12), (120.26, -5.12)])
    result = validate_geometries(frame(single, several, shapely.Point(120.3, -5.1)), kind="point")
    assert result.frame.geometry.iloc[0].equals(shapely.Point(120.25, -5.12))
    (error,) = result.errors
    assert error.feature == 2
    assert error.reason == "geometry is a MultiPoint of 2 points, but this layer takes one point per feature"


def test_promote_to_multipolygon() -> None:
    line = shapely.LineString([(0, 0), (1, 1)])
    out = promote_to_multipolygon(np.array([SINJAI, shapely.MultiPolygon([SINJAI]), line, None], dtype=object))
    assert [g.geom_type if g is not None else None for g in out] == ["MultiPolygon", "MultiPolygon", None, None]


@st.composite
def scribbles(draw: st.DrawFn) -> shapely.Polygon:
    """A ring through random points in a ~1 km square in Sinjai: often self-intersecting, sometimes degenerate."""
    n = draw(st.integers(3, 12))
    xs = draw(st.lists(st.floats(120.25, 120.26), min_size=n, max_size=n))
    ys = draw(st.lists(st.floats(-5.13, -5.12), min_size=n, max_size=n))
    return shapely.polygons(np.c_[xs + xs[:1], ys + ys[:1]])


@settings(max_examples=150, deadline=None)
@given(st.lists(scribbles(), min_size=1, max_size=8))
def test_repaired_polygons_are_always_valid_multipolygons(rings: list[shapely.Polygon]) -> None:
    inputs = [*rings, BOWTIE]
    result = validate_geometries(frame(*inputs))
    failed = {e.feature for e in result.errors}
    assert all("leaves no polygon" in e.reason for e in result.errors)
    repaired = {p.feature for p in result.repairs}
    for row, (before, after) in enumerate(zip(inputs, result.frame.geometry, strict=True), start=1):
        assert (row in repaired or row in failed) == (not before.is_valid)  # every invalid input is reported
        if row not in failed:
            assert after.geom_type == "MultiPolygon" and after.is_valid and not after.is_empty
    assert len(inputs) in repaired  # the bowtie, every time
