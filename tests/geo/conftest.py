"""Fixtures for tests/geo. `shared_data` (../shared/data, skipped when absent) comes from tests/conftest.py."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest


@pytest.fixture
def write_frame(tmp_path: Path) -> Callable[..., Path]:
    """write_frame(name, geometries, crs=..., **columns) -> path of the written file (driver from the suffix)."""

    def write(name: str, geometries: list, crs: str | int | None = 4326, **columns: list) -> Path:
        path = tmp_path / name
        frame = gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries(geometries), crs=crs)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided")  # files without a CRS are the point
            frame.to_file(path, engine="pyogrio")
        return path

    return write
