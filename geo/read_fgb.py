"""A plain FlatGeobuf read through pyogrio for geo.read_wkb (a GeoPackage is read without GDAL: geo.gpkg_tables).
Loaded only when such a file is imported: pyogrio loads pandas and geopandas with it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geo.dbf_encoding import undecodable
from geo.errors import InvalidInput
from geo.read import _check_size, _choose_layers, _info, _layers, _refuse_indirection

DRIVER = "FlatGeobuf"
_TYPES = ("Polygon", "MultiPolygon")
WGS84_LABEL = "EPSG:4326"


def plain_layer(path: Path, *, layer: str | None, max_bytes: int, make: Callable):
    """`make(path, layer, driver, fields, count)` for a plain layer (geo.read_wkb), else None."""
    _check_size(path, max_bytes)
    _refuse_indirection(path)
    if not _layers(path)[0] or _info(path, 0)["driver"] != DRIVER:
        return None
    chosen = _choose_layers(path, layer, DRIVER)
    info = _info(path, chosen[0])
    bounds = np.asarray(info.get("total_bounds") or (np.nan,) * 4, dtype=float)
    if (info["crs"] != WGS84_LABEL or info["geometry_type"] not in _TYPES or len(chosen) != 1
            or info["features"] < 0 or not (np.isfinite(bounds).all() and (np.abs(bounds) <= 180.0).all())):
        return None
    return make(path, chosen[0], DRIVER, [str(f) for f in info["fields"]], int(info["features"]))


class LayerReader:
    def __init__(self, path: Path, layer: str) -> None:
        self.path, self.layer = path, layer

    def columns(self, names: list[str]) -> dict[str, np.ndarray]:
        if not names:
            return {}
        try:
            _, table = pyogrio.read_arrow(self.path, layer=self.layer, read_geometry=False, columns=names)
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput.of("file.cannot_read", file=self.path.name, reason=str(exc)) from exc
        _check_text(table, self.path)
        frame = table.to_pandas()
        return {str(name): np.asarray(frame[name].astype(object).where(frame[name].notna(), None), dtype=object)
                for name in frame.columns}

    def wkb_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        try:
            with pyogrio.open_arrow(self.path, layer=self.layer, batch_size=batch_size, columns=[],
                                    use_pyarrow=True) as (meta, reader):
                column = meta["geometry_name"] or "wkb_geometry"
                for batch in reader:
                    yield np.asarray(batch.column(column).to_numpy(zero_copy_only=False), dtype=object)
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput.of("file.cannot_read", file=self.path.name, reason=str(exc)) from exc


def _check_text(batch: pyarrow.Table, path: Path) -> None:
    """Text that is not UTF-8 named as read_vector names it (GDAL hands undecodable bytes over unchecked)."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pyarrow.types.is_string(column.type) or pyarrow.types.is_large_string(column.type):
            try:
                column.validate(full=True)
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError) as exc:
                raise undecodable(path, name, None) from exc
