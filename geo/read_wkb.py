"""A plain vector file read for a bulk import: the attributes first, then each feature's WKB as the file holds it,
batch by batch while the caller already works on the first ones; no geometry object, no DataFrame.

The region importer parses, checks and measures the WKB chunk by chunk in threads as the batches arrive, and
stores the file's own WKB wherever a geometry needed no repair (shapely.to_wkb would give the same bytes). Only
files that need none of `geo.read.read_vector`'s conversions are covered: a GeoPackage or FlatGeobuf with one
layer of 2D Polygon or MultiPolygon declared EPSG:4326 whose feature count is known, its extent within +-180 on
both axes (every feature "looks like longitude/latitude", geo.crs). For anything else `plain_layer` returns None
and the caller reads with read_vector: same checks, same messages. Text that is not UTF-8 is refused here as
read_vector refuses it.

A GeoPackage is an SQLite database: it is read with Python's own sqlite3 (geo.gpkg_tables), without GDAL, so
that `kotaku import regions` starts without pyogrio, which imports pandas and geopandas as it loads (about a
third of a second of the command line's start on this machine's 2 cores). A FlatGeobuf is read through pyogrio.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from geo import gpkg_tables
from geo.dbf_encoding import undecodable
from geo.errors import DEFAULT_MAX_BYTES, InvalidInput

if TYPE_CHECKING:
    import pandas as pd

WGS84_LABEL = "EPSG:4326"


class ColumnReader(Protocol):
    """How a plain layer is read: geo.gpkg_tables.TableReader, geo.read_fgb.LayerReader."""

    def columns(self, names: list[str]) -> dict[str, np.ndarray]: ...

    def wkb_batches(self, batch_size: int) -> Iterator[np.ndarray]: ...


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

    def stream(self, batch_size: int, *, columns: Iterable[str] = ()) -> WkbStream:
        """The WKB in batches of `batch_size`, and the attribute `columns` read alongside (others when asked)."""
        return WkbStream(self, batch_size, list(columns))

    def reader(self) -> ColumnReader:
        if self.driver == "GPKG":
            return gpkg_tables.TableReader(self.path, self.layer)
        from geo import read_fgb  # pyogrio: loaded only for a FlatGeobuf

        return read_fgb.LayerReader(self.path, self.layer)


def plain_layer(path: str | Path, *, layer: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> PlainLayer | None:
    """The layer of `path` to stream, or None when it needs read_vector (see the module docstring)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in (".gpkg", ".fgb"):
        return None
    if suffix == ".gpkg":
        found = gpkg_tables.plain_table(path, layer=layer, max_bytes=max_bytes)
        if found is None:
            return None
        return PlainLayer(path, found.name, "GPKG", found.fields, found.count)
    from geo import read_fgb

    return read_fgb.plain_layer(path, layer=layer, max_bytes=max_bytes, make=PlainLayer)


class Attributes:
    """The attribute table of a plain layer, column by column (numpy object arrays, None where empty): what an
    importer reads of it (`table[name].tolist()`, `len(table)`, `table.columns`) without pandas. A column is read
    from the file when first asked for: an importer uses two or three of a layer's fields (reading all nine of
    the national desa file takes twice as long), and text that is not UTF-8 is refused in the columns read."""

    def __init__(self, layer: PlainLayer, reader: ColumnReader) -> None:
        self._layer, self._reader = layer, reader
        self._loaded: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    @property
    def columns(self) -> list[str]:
        return list(self._layer.fields)

    def __len__(self) -> int:
        return self._layer.count

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._layer.fields:
            raise KeyError(name)
        self.load([name])
        return self._loaded[name]

    def load(self, names: list[str]) -> None:
        """Read the columns `names` not read yet (one pass over the file for all of them)."""
        with self._lock:
            missing = [name for name in dict.fromkeys(names) if name not in self._loaded]
            if missing:
                self._loaded.update(_read_columns(self._layer, self._reader, missing))

    def to_frame(self) -> pd.DataFrame:
        """Every column, as a DataFrame: for a rejects file (layers/imports/region_skip.py)."""
        import pandas as pd  # here: an import that writes no rejects file never loads pandas

        self.load(self.columns)
        return pd.DataFrame({name: self._loaded[name] for name in self.columns}, index=pd.RangeIndex(len(self)))


def _read_columns(layer: PlainLayer, reader: ColumnReader, names: list[str]) -> dict[str, np.ndarray]:
    try:
        columns = reader.columns(names)
    except gpkg_tables.Undecodable as exc:
        raise undecodable(layer.path, exc.column, None) from exc
    except gpkg_tables.Unreadable as exc:
        raise InvalidInput.of("file.cannot_read", file=layer.path.name, reason=str(exc)) from exc
    for values in columns.values():
        _check_count(len(values), layer)
    return columns


class WkbStream:
    """The layer read in two threads of its own: the attribute columns asked for (a tenth of a second for the
    codes and names of 83,762 desa) and the WKB, batch by batch. `stream[a:b]` is the WKB of features a..b-1
    (bytes, None where a feature has no geometry), waiting until they are read; `attributes()` the attribute
    table, there long before the last batch, so that the caller works on codes and names while the geometries
    are still being read. A read error is raised by both."""

    def __init__(self, layer: PlainLayer, batch_size: int, columns: list[str]) -> None:
        self._layer, self._batch_size, self._columns = layer, batch_size, columns
        self._pieces: list[np.ndarray] = []
        self._starts: list[int] = []  # row number of each piece's first feature
        self._read, self._done = 0, False
        self._error: BaseException | None = None
        self._ready = threading.Condition()
        # threads of their own: geo.parallel's pool may be busy hashing the file or reading the code list
        reader = ThreadPoolExecutor(max_workers=2, thread_name_prefix="geo-read")
        self._attributes: Future[Attributes] = reader.submit(self._read_attributes)
        reader.submit(self._run)
        reader.shutdown(wait=False)

    def attributes(self) -> Attributes:
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

    def _read_attributes(self) -> Attributes:
        attributes = Attributes(self._layer, self._layer.reader())
        attributes.load(self._columns)
        return attributes

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
            for wkb in layer.reader().wkb_batches(self._batch_size):
                with self._ready:
                    self._starts.append(self._read)
                    self._pieces.append(wkb)
                    self._read += len(wkb)
                    self._ready.notify_all()
        except gpkg_tables.Unreadable as exc:
            raise InvalidInput.of("file.cannot_read", file=layer.path.name, reason=str(exc)) from exc


def _check_count(read: int, layer: PlainLayer) -> None:
    if read != layer.count:
        raise InvalidInput.of("file.cannot_read", file=layer.path.name,
                              reason=f"{read:,} features read of the {layer.count:,} it lists")
