"""A plain vector file read for a bulk import: attributes in a DataFrame and each feature's WKB as GDAL hands it
over, no geometry object built.

The region importer parses, checks and measures the WKB chunk by chunk in threads and stores the file's own WKB
wherever a geometry needed no repair (shapely.to_wkb would give the same bytes). Only files that need none of
`geo.read.read_vector`'s conversions are covered: a GeoPackage or FlatGeobuf with one layer of 2D Polygon or
MultiPolygon declared EPSG:4326, its extent within +-180 on both axes (every feature "looks like
longitude/latitude", geo.crs), text valid UTF-8. For anything else `read_wkb` returns None and the caller reads
with read_vector: same checks, same messages. Files read_vector refuses outright (too large, VRT, missing layer)
are refused here the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geo.errors import InvalidInput
from geo.read import DEFAULT_MAX_BYTES, _check_size, _choose_layers, _info, _layers, _refuse_indirection

_SUFFIXES = {".gpkg": "GPKG", ".fgb": "FlatGeobuf"}
_TYPES = ("Polygon", "MultiPolygon")
WGS84_LABEL = "EPSG:4326"


@dataclass
class WkbVector:
    """A file as `read_wkb` reads it: `attributes` (RangeIndex in file order) and `wkb` (bytes per feature, None
    where a feature has no geometry); the geometry column is called "geometry" as read_vector calls it."""

    attributes: pd.DataFrame
    wkb: np.ndarray
    layer: str
    driver: str
    source_crs: str = WGS84_LABEL
    column: str = "geometry"


def read_wkb(path: str | Path, *, layer: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> WkbVector | None:
    """The file at `path` as attributes and WKB, or None when it needs read_vector (see the module docstring)."""
    path = Path(path)
    driver = _SUFFIXES.get(path.suffix.lower())
    if driver is None or not path.is_file():
        return None
    _check_size(path, max_bytes)
    _refuse_indirection(path)
    if not _layers(path)[0] or _info(path, 0)["driver"] != driver:
        return None
    chosen = _choose_layers(path, layer, driver)
    info = _info(path, chosen[0])
    bounds = np.asarray(info.get("total_bounds") or (np.nan,) * 4, dtype=float)
    if (info["crs"] != WGS84_LABEL or info["geometry_type"] not in _TYPES or len(chosen) != 1
            or not (np.isfinite(bounds).all() and (np.abs(bounds) <= 180.0).all())):
        return None
    try:
        meta, table = pyogrio.read_arrow(path, layer=chosen[0])
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput.of("file.cannot_read", file=path.name, reason=str(exc)) from exc
    column = meta["geometry_name"] or "wkb_geometry"
    if column not in table.column_names or not _text_valid(table):
        return None
    wkb = table.column(column).to_numpy(zero_copy_only=False)
    attributes = table.drop_columns([column]).to_pandas()
    return WkbVector(attributes=attributes, wkb=np.asarray(wkb, dtype=object), layer=chosen[0], driver=driver)


def _text_valid(table: pyarrow.Table) -> bool:
    """Are the text columns valid UTF-8? (GDAL hands undecodable bytes over unchecked; read_vector names them.)"""
    for column in table.columns:
        if pyarrow.types.is_string(column.type) or pyarrow.types.is_large_string(column.type):
            try:
                column.validate(full=True)
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError):
                return False
    return True
