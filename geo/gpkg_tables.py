"""A GeoPackage feature table read with Python's own sqlite3: what geo.read_wkb streams for a bulk import.

A GeoPackage is an SQLite database (OGC 12-128r18): the layers are listed in `gpkg_contents`, each geometry
column in `gpkg_geometry_columns` with its type, CRS and Z/M flags, the CRS in `gpkg_spatial_ref_sys`. A geometry
is a blob: a header ("GP", version, flags, srs_id, an envelope of 0 to 64 bytes) followed by standard WKB. Only
the simple case is taken here (one layer of 2D Polygon or MultiPolygon in EPSG:4326, an integer primary key, an
extent within +-180 from gpkg_contents or the layer's R-tree); for anything else `plain_table` returns None and
the caller reads the file through GDAL (geo.read), which also words what is wrong.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# PRAGMA application_id of a GeoPackage: "GPKG" (1.2 and later), "GP10", "GP11" (1.0, 1.1)
APPLICATION_IDS = (0x47504B47, 0x47503130, 0x47503131)
_TYPES = ("POLYGON", "MULTIPOLYGON")
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)  # by the header's envelope indicator (flags bits 1-3)
_EXTENDED = 0x20  # flags bit 5: an extension geometry type, not standard WKB
MMAP_BYTES = 1 << 30
_UNDECODABLE = re.compile(r"column '(.+?)' with text")


class Unreadable(Exception):
    """The file could not be read to the end (a corrupt page, a blob that is no GeoPackage geometry)."""


class Undecodable(Exception):
    """Text in `column` is not UTF-8, as GeoPackage requires."""

    def __init__(self, column: str | None) -> None:
        super().__init__(column)
        self.column = column


@dataclass
class PlainTable:
    name: str
    fields: list[str]
    count: int


def connect(path: Path) -> sqlite3.Connection:
    """Read-only: the file is never changed, not even its journal. Pages mapped into memory rather than copied
    in by a read() each: the whole table is scanned twice (attributes, then geometries), and most of its bytes
    are geometry blobs."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    return conn


def plain_table(path: Path, *, layer: str | None, max_bytes: int) -> PlainTable | None:
    """The one polygon layer of a simple GeoPackage in EPSG:4326, or None (see the module docstring)."""
    if path.stat().st_size > max_bytes:
        return None  # geo.read refuses it, naming the limit
    try:
        with closing(connect(path)) as conn:
            return _plain(conn, layer)
    except sqlite3.Error:
        return None  # not SQLite, encrypted, locked...: geo.read says what it is


def _plain(conn: sqlite3.Connection, layer: str | None) -> PlainTable | None:
    if conn.execute("PRAGMA application_id").fetchone()[0] not in APPLICATION_IDS:
        return None
    names = [row[0] for row in conn.execute("SELECT table_name FROM gpkg_contents")]
    geometry = {row[0]: row[1:] for row in conn.execute(
        "SELECT table_name, column_name, geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns")}
    spatial = [name for name in names if name in geometry]
    if layer is not None:
        spatial = [layer] if layer in spatial else []
    if len(spatial) != 1:
        return None
    table = spatial[0]
    column, type_name, srs_id, z, m = geometry[table]
    if str(type_name).upper() not in _TYPES or z != 0 or m != 0:
        return None
    srs = conn.execute("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                       [srs_id]).fetchone()
    if srs is None or str(srs[0]).upper() != "EPSG" or srs[1] != 4326:
        return None
    info = conn.execute(f"PRAGMA table_info({_quoted(table)})").fetchall()  # cid, name, type, notnull, default, pk
    keys = [row for row in info if row[5]]
    if len(keys) != 1 or str(keys[0][2]).upper() != "INTEGER":
        return None
    extent = _extent(conn, table, column)
    if extent is None or not all(math.isfinite(v) and abs(v) <= 180.0 for v in extent):
        return None
    fields = [row[1] for row in info if not row[5] and row[1] != column]
    count = conn.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0]
    return PlainTable(table, fields, count)


def _extent(conn: sqlite3.Connection, table: str, column: str) -> tuple[float, ...] | None:
    """The layer's extent as GDAL reports it: gpkg_contents' own, else its R-tree's; None when neither says."""
    row = conn.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                       [table]).fetchone()
    if row is not None and None not in row:
        return tuple(float(v) for v in row)
    try:
        row = conn.execute(f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM "
                           f"{_quoted(f'rtree_{table}_{column}')}").fetchone()
    except sqlite3.OperationalError:
        return None  # no R-tree
    return None if row is None or None in row else tuple(float(v) for v in row)


class TableReader:
    """One table's attributes and geometries, each read on its own connection (from its own thread), in the
    order of the primary key: the order GDAL reads them in, so feature numbers match read_vector's."""

    def __init__(self, path: Path, table: str) -> None:
        self.path, self.table = path, table

    def columns(self, names: list[str]) -> dict[str, np.ndarray]:
        """The fields `names` as numpy object arrays (None where empty)."""
        if not names:
            return {}
        listed = ", ".join(_quoted(name) for name in names)
        try:
            with closing(connect(self.path)) as conn:
                rows = conn.execute(f"SELECT {listed} FROM {_quoted(self.table)} ORDER BY {self._key(conn)}"
                                    ).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" in str(exc):
                found = _UNDECODABLE.search(str(exc))
                raise Undecodable(found.group(1) if found else None) from exc
            raise Unreadable(str(exc)) from exc
        except sqlite3.Error as exc:
            raise Unreadable(str(exc)) from exc
        values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        return {name: _objects(column) for name, column in zip(names, values, strict=True)}

    def wkb_batches(self, batch_size: int) -> Iterator[np.ndarray]:
        """The WKB of each feature (None where it has no geometry), `batch_size` features at a time."""
        try:
            with closing(connect(self.path)) as conn:
                column = conn.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?",
                                      [self.table]).fetchone()[0]
                cursor = conn.execute(f"SELECT {_quoted(column)} FROM {_quoted(self.table)} "
                                      f"ORDER BY {self._key(conn)}")
                read = 0
                while rows := cursor.fetchmany(batch_size):
                    yield _objects(tuple(_wkb(row[0], read + number) for number, row in enumerate(rows, start=1)))
                    read += len(rows)
        except sqlite3.Error as exc:
            raise Unreadable(str(exc)) from exc

    def _key(self, conn: sqlite3.Connection) -> str:
        info = conn.execute(f"PRAGMA table_info({_quoted(self.table)})").fetchall()
        return _quoted(next(row[1] for row in info if row[5]))


def _objects(values: tuple) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _wkb(blob: bytes | None, feature: int) -> bytes | None:
    """The standard WKB inside a GeoPackage geometry blob (its header skipped)."""
    if blob is None:
        return None
    if not isinstance(blob, bytes) or blob[:2] != b"GP" or len(blob) < 8:
        raise Unreadable(f"feature {feature}: its geometry is not a GeoPackage geometry")
    flags = blob[3]
    indicator = (flags >> 1) & 0x07
    if indicator >= len(_ENVELOPE_BYTES) or flags & _EXTENDED:
        raise Unreadable(f"feature {feature}: its geometry header is not a standard GeoPackage one")
    return blob[8 + _ENVELOPE_BYTES[indicator]:]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
