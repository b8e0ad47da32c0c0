"""A plain vector file read for a bulk import: the attributes in a DataFrame first, then each feature's WKB as GDAL
hands it over, batch by batch while the caller already works on the first ones; no geometry object.

The region importer parses, checks and measures the WKB chunk by chunk in threads as the batches arrive, and
stores the file's own WKB wherever a geometry needed no repair (shapely.to_wkb would give the same bytes). Only
files that need none of `geo.read.read_vector`'s conversions are covered: a GeoPackage or FlatGeobuf with one
layer of 2D Polygon or MultiPolygon declared EPSG:4326 whose feature count is known, its extent within +-180 on
both axes (every feature "looks like longitude/latitude", geo.crs). For anything else `plain_layer` returns None
and the caller reads with read_vector: same checks, same messages. Files read_vector refuses outright (too
large, VRT, missing layer) are refused here the same way, and so is text that is not UTF-8.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geo.errors import InvalidInput
from geo.read import DEFAULT_MAX_BYTES, _check_size, _choose_layers, _info, _layers, _refuse_indirection, _undecodable

_SUFFIXES = {".gpkg": "GPKG", ".fgb": "FlatGeobuf"}
_TYPES = ("Polygon", "MultiPolygon")
WGS84_LABEL = "EPSG:4326"


@dataclass
class PlainLayer:
    """A layer `read_wkb` can stream: its attribute `fields` and feature `count` known before reading."""

    path: Path
    layer: str
    driver: str
    fields: list[str]
    count: int
    source_crs: str = WGS84_LABEL
    column: str = "geometry"  # as read_vector names the geometry column

    def stream(self, batch_size: int) -> WkbStream:
        return WkbStream(self, batch_size)


def plain_layer(path: str | Path, *, layer: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> PlainLayer | None:
    """The layer of `path` to stream, or None when it needs read_vector (see the module docstring)."""
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
            or info["features"] < 0 or not (np.isfinite(bounds).all() and (np.abs(bounds) <= 180.0).all())):
        return None
    return PlainLayer(path, chosen[0], driver, [str(f) for f in info["fields"]], int(info["features"]))


class WkbStream:
    """The layer read in two threads of its own: its attributes (without geometry: a tenth of a second for 83,762
    desa) and its WKB, batch by batch. `stream[a:b]` is the WKB of features a..b-1 (bytes, None where a feature
    has no geometry), waiting until they are read; `attributes()` the attribute table, there long before the last
    batch, so that the caller works on codes and names while the geometries are still being read. A read error is
    raised by both."""

    def __init__(self, layer: PlainLayer, batch_size: int) -> None:
        self._layer, self._batch_size = layer, batch_size
        self._pieces: list[np.ndarray] = []
        self._starts: list[int] = []  # row number of each piece's first feature
        self._read, self._done = 0, False
        self._error: BaseException | None = None
        self._ready = threading.Condition()
        # threads of their own: geo.parallel's pool may be busy hashing the file or reading the code list
        reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="geo-read")
        self._attributes: Future[pd.DataFrame] = reader.submit(self._read_attributes)
        reader.submit(self._run)
        reader.shutdown(wait=False)

    def attributes(self) -> pd.DataFrame:
        return self._attributes.result()

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop = rows.start or 0, rows.stop
        with self._ready:
            self._ready.wait_for(lambda: self._read >= stop or self._done)
            if self._error is not None:
                raise self._error
            first = max(bisect_right(self._starts, start) - 1, 0)
            last = bisect_right(self._starts, stop - 1) if stop > start else first
            pieces, offset = self._pieces[first:last], self._starts[first] if self._starts else 0
        joined = pieces[0] if len(pieces) == 1 else np.concatenate(pieces) if pieces else np.zeros(0, dtype=object)
        return joined[start - offset:stop - offset]

    def _read_attributes(self) -> pd.DataFrame:
        layer = self._layer
        try:
            _, table = pyogrio.read_arrow(layer.path, layer=layer.layer, read_geometry=False)
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput.of("file.cannot_read", file=layer.path.name, reason=str(exc)) from exc
        _check_text(table, layer.path)
        _check_count(table.num_rows, layer)
        return table.to_pandas()

    def _run(self) -> None:
        try:
            self._read_batches()
            _check_count(self._read, self._layer)
        except BaseException as exc:
            with self._ready:
                self._error, self._done = exc, True
                self._ready.notify_all()
            return
        with self._ready:
            self._done = True
            self._ready.notify_all()

    def _read_batches(self) -> None:
        layer = self._layer
        try:
            with pyogrio.open_arrow(layer.path, layer=layer.layer, batch_size=self._batch_size, columns=[],
                                    use_pyarrow=True) as (meta, reader):
                column = meta["geometry_name"] or "wkb_geometry"
                for batch in reader:
                    wkb = np.asarray(batch.column(column).to_numpy(zero_copy_only=False), dtype=object)
                    with self._ready:
                        self._starts.append(self._read)
                        self._pieces.append(wkb)
                        self._read += len(wkb)
                        self._ready.notify_all()
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput.of("file.cannot_read", file=layer.path.name, reason=str(exc)) from exc


def _check_count(read: int, layer: PlainLayer) -> None:
    if read != layer.count:
        raise InvalidInput.of("file.cannot_read", file=layer.path.name,
                              reason=f"{read:,} features read of the {layer.count:,} it lists")


def _check_text(batch: pyarrow.Table, path: Path) -> None:
    """Text that is not UTF-8 named as read_vector names it (GDAL hands undecodable bytes over unchecked)."""
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if pyarrow.types.is_string(column.type) or pyarrow.types.is_large_string(column.type):
            try:
                column.validate(full=True)
            except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError) as exc:
                raise _undecodable(path, name, None) from exc
