"""Read any vector file a user uploads into one shape: a GeoDataFrame in EPSG:4326.

GeoJSON, GeoPackage, Shapefile (.shp or a .zip holding one), KML/KMZ, CSV (WKT or lon/lat columns) and the other
vector formats in `ALLOWED_DRIVERS` are read through pyogrio with Arrow. Whatever the source, the result has
the source's attribute columns under their own names, a 2D `geometry` column, a RangeIndex in file order, and
the original CRS recorded in `source_crs`. Geometry validity is not judged here: see `geo.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.archives import extracted_zip
from geo.crs import crs_label, to_wgs84
from geo.csv_geometry import read_csv_geometry
from geo.dbf_encoding import detect_encoding, sidecar, undecodable
from geo.errors import DEFAULT_MAX_BYTES, InvalidInput, TooLarge, UnsupportedFormat
from geo.kml_attributes import tidy_kml_frame
from geo.problems import Problem

ACCEPTED_FORMATS = (
    "GeoJSON, GeoPackage, Shapefile (.shp with its .dbf/.shx/.prj, or a .zip holding them), KML, KMZ, "
    "CSV with a WKT column or longitude/latitude columns, FlatGeobuf, GML, GPX, MapInfo TAB"
)
# GDAL drivers we let read uploads. Left out on purpose: network drivers, and OGR_VRT/GDALG, whose files can
# point GDAL at other files on the server.
ALLOWED_DRIVERS = frozenset(
    {
        "GeoJSON", "GeoJSONSeq", "ESRIJSON", "TopoJSON", "JSONFG", "GPKG", "SQLite", "ESRI Shapefile",
        "LIBKML", "KML", "FlatGeobuf", "GML", "GPX", "MapInfo File",
    }
)  # fmt: skip
_CSV_SUFFIXES = (".csv", ".tsv")
_ARCHIVE_MEMBERS = (".gpkg", ".geojson", ".json", ".kml", ".csv", ".fgb", ".gml", ".gpx", ".tab", ".sqlite")
_KML_DRIVERS = ("LIBKML", "KML")
# Markers of files that make GDAL open other files or run pipelines as soon as they are opened.
_REFUSED_CONTENT = (b"<ogrvrtdatasource", b"gdal_streamed_alg")


@dataclass
class VectorData:
    """A vector file as read: `frame` in EPSG:4326 plus where it came from and what was assumed on the way.

    `source_crs` is the file's CRS as "EPSG:xxxx" (or its name when it has no code); None when the file had
    none and EPSG:4326 was assumed (a warning says so).
    """

    frame: gpd.GeoDataFrame
    source_crs: str | None
    layer: str | None
    driver: str
    warnings: list[Problem] = field(default_factory=list)


def read_vector(
    path: str | Path, *, layer: str | None = None, crs: str | int | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> VectorData:
    """Read the vector file at `path` (see the module docstring).

    `layer` picks a layer of a multi-layer file (GeoPackage, KML folder) or a shapefile inside a zip. `crs`
    declares the CRS of the data, overriding the file's (for a CSV the default is EPSG:4326). Raises TooLarge
    above `max_bytes`, UnsupportedFormat for files GDAL cannot read, InvalidInput for everything else wrong.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInput.of("file.missing", file=path.name)
    if not path.is_file():
        raise UnsupportedFormat(f"{path.name} is a folder; upload a file or a .zip ({ACCEPTED_FORMATS})")
    _check_size(path, max_bytes)
    _check_not_blank(path)
    declared = _parse_crs(crs)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with extracted_zip(path, max_bytes) as root:
            member, member_layer = _archive_member(root, path.name, layer)
            return read_vector(member, layer=member_layer, crs=crs, max_bytes=max_bytes)
    if suffix == ".kmz":
        with extracted_zip(path, max_bytes) as root:
            return _read_gdal(_kmz_document(root, path.name), layer, declared)
    if suffix in _CSV_SUFFIXES:
        frame = read_csv_geometry(path)
        return _finish(frame, declared or CRS.from_epsg(4326), layer=None, driver="CSV")
    return _read_gdal(path, layer, declared)


def _parse_crs(crs: str | int | None) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except CRSError as exc:
        raise InvalidInput(f"unknown coordinate reference system {crs!r}", details=[{"field": "crs"}]) from exc


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if path.suffix.lower() == ".shp":
        size = sum(p.stat().st_size for p in path.parent.iterdir() if p.stem == path.stem and p.is_file())
    if size > max_bytes:
        reason = f"{path.name} is {size:,} bytes, more than the upload limit of {max_bytes:,} bytes"
        raise TooLarge(reason, details=[Problem(reason).as_dict()])


def _check_not_blank(path: Path) -> None:
    """A 0-byte file (an interrupted copy or download) is said as such, not as a format GDAL does not know; a
    shapefile whose .dbf is 0 bytes would otherwise read as polygons without a single attribute (names, codes,
    areas silently lost)."""
    if path.stat().st_size == 0:
        raise InvalidInput.of("file.zero_bytes", file=path.name)
    if path.suffix.lower() == ".shp":
        for suffix in (".dbf", ".shx"):
            part = sidecar(path, suffix)
            if part is not None and part.stat().st_size == 0:
                raise InvalidInput.of("file.zero_bytes_part", file=path.name, part=part.name)


def _archive_member(root: Path, name: str, layer: str | None) -> tuple[Path, str | None]:
    """The vector file to read inside an extracted zip, and the layer to ask it for."""
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and not any(s.startswith((".", "__MACOSX")) for s in p.parts[-1:])
    )
    files = [p for p in files if "__MACOSX" not in p.relative_to(root).parts]
    shapefiles = [p for p in files if p.suffix.lower() == ".shp"]
    candidates = shapefiles or [p for p in files if p.suffix.lower() in _ARCHIVE_MEMBERS]
    if not candidates:
        raise UnsupportedFormat(f"{name} holds no vector file; accepted formats: {ACCEPTED_FORMATS}")
    if len(candidates) == 1:
        single = candidates[0]
        return single, (None if single.suffix.lower() == ".shp" else layer)
    chosen = [p for p in candidates if layer is not None and layer.lower() in (p.stem.lower(), p.name.lower())]
    if len(chosen) == 1:
        return chosen[0], None
    listed = ", ".join(str(p.relative_to(root)) for p in candidates)
    raise InvalidInput.of("file.several_layers", file=name, layers=listed)


def _kmz_document(root: Path, name: str) -> Path:
    """The main KML of a KMZ: doc.kml, else the first .kml at the top level, else the first anywhere."""
    kmls = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".kml" and p.is_file())
    kmls.sort(key=lambda p: (p.name.lower() != "doc.kml", len(p.relative_to(root).parts), str(p)))
    if not kmls:
        raise UnsupportedFormat(f"{name} holds no KML document")
    return kmls[0]


def _layers(path: Path) -> tuple[list[str], list[str]]:
    """(all layer names, names of layers with a geometry column)."""
    try:
        listing = pyogrio.list_layers(path)
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat.of("file.not_vector", file=path.name,
                                   formats=ACCEPTED_FORMATS) from exc
    names = [str(n) for n, _ in listing]
    return names, [str(n) for n, geometry_type in listing if geometry_type is not None]


def _choose_layers(path: Path, layer: str | None, driver: str) -> list[str]:
    names, spatial = _layers(path)
    if layer is not None:
        if layer not in names:
            raise InvalidInput.of("layer.missing", file=path.name, layer=layer, layers=", ".join(names))
        return [layer]
    if not spatial:
        raise InvalidInput.of("file.no_geometry", file=path.name)
    if len(spatial) > 1 and driver not in _KML_DRIVERS:
        raise InvalidInput.of("file.several_layers", file=path.name, layers=", ".join(spatial))
    return spatial


def _info(path: Path, layer: str | int) -> dict:
    try:
        return pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput.of("file.cannot_read", file=path.name, reason=str(exc)) from exc


def _refuse_indirection(path: Path) -> None:
    with open(path, "rb") as f:
        head = f.read(64 * 1024).lower()
    if any(marker in head for marker in _REFUSED_CONTENT):
        raise UnsupportedFormat(f"{path.name} refers GDAL to other data (VRT/GDALG); accepted: {ACCEPTED_FORMATS}")


def _read_gdal(path: Path, layer: str | None, declared: CRS | None) -> VectorData:
    _refuse_indirection(path)
    if not _layers(path)[0]:
        raise InvalidInput(f"{path.name} has no geometry column: it holds no layers")
    driver = _info(path, 0)["driver"]
    if driver not in ALLOWED_DRIVERS:
        raise UnsupportedFormat.of("file.driver_refused", file=path.name, driver=driver, formats=ACCEPTED_FORMATS)
    chosen = _choose_layers(path, layer, driver)
    info = _info(path, chosen[0])
    encoding = detect_encoding(path) if driver == "ESRI Shapefile" else None
    frames = [_read_layer(path, name, encoding) for name in chosen]
    if len(frames) > 1:  # KML folders are how Google Earth users file placemarks, not separate datasets
        for name, frame in zip(chosen, frames, strict=True):
            frame.insert(0, "kml_folder", name)
        frame = pd.concat(frames, ignore_index=True)
    else:
        frame = frames[0]
    if driver in _KML_DRIVERS:
        frame = tidy_kml_frame(frame)
    if declared is None and info["crs"] is not None:
        declared = CRS.from_user_input(info["crs"])
    return _finish(frame, declared, layer=chosen[0] if len(chosen) == 1 else None, driver=driver)


def _read_layer(path: Path, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding, use_arrow=True, on_invalid="fix")
    except UnicodeDecodeError as exc:
        raise undecodable(path, None, encoding) from exc
    except (DataSourceError, DataLayerError) as exc:
        raise InvalidInput.of("file.cannot_read", file=path.name, reason=str(exc)) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInput.of("file.no_geometry", file=path.name)
    _check_text(frame, path, encoding)
    return frame


def _check_text(frame: pd.DataFrame, path: Path, encoding: str | None) -> None:
    """Refuse text columns holding bytes that are not UTF-8.

    Through Arrow, GDAL hands such bytes over unchecked (e.g. a .cpg saying UTF-8 over a cp1252 .dbf): the
    frame would read fine and fail later, wherever the column is first touched.
    """
    for column in frame.columns:
        if column == frame.geometry.name or not pd.api.types.is_string_dtype(frame[column].dtype):
            continue
        try:
            pyarrow.array(frame[column].array).validate(full=True)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowTypeError) as exc:
            raise undecodable(path, str(column), encoding) from exc


def _finish(frame: gpd.GeoDataFrame, declared: CRS | None, *, layer: str | None, driver: str) -> VectorData:
    """Common last steps: `geometry` column, RangeIndex, 2D, EPSG:4326."""
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = frame.reset_index(drop=True)
    geoms = np.asarray(frame.geometry.array)
    if shapely.has_z(geoms).any():
        frame["geometry"] = gpd.GeoSeries(shapely.force_2d(geoms), index=frame.index, crs=frame.crs)
    frame, warnings = to_wgs84(frame, declared)
    return VectorData(
        frame=frame,
        source_crs=crs_label(declared) if declared is not None else None,
        layer=layer,
        driver=driver,
        warnings=warnings,
    )
