"""OpenStreetMap files (.osm XML, .osm.pbf) read through GDAL's OSM driver (bundled with pyogrio's GDAL).

The driver offers the layers `points`, `lines`, `multilinestrings`, `multipolygons` and `other_relations`, with
the keys of GDAL's osmconf.ini as columns (name, highway, waterway, building, landuse, natural, place ...) and the
rest in `other_tags`. Only these OSM files are opened here: the general reader (geo/read.py) keeps its list of
accepted drivers.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from geo.errors import InvalidInput, UnsupportedFormat

OSM_SUFFIXES = (".osm", ".pbf")
OSM_LAYERS = ("points", "lines", "multipolygons")


def is_osm_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".osm") or name.endswith(".osm.pbf") or name.endswith(".pbf")


def read_osm(path: Path) -> dict[str, gpd.GeoDataFrame]:
    """The points, lines and multipolygons of an OSM file, in EPSG:4326 (OSM's own CRS)."""
    if not path.is_file():
        raise InvalidInput(f"{path.name}: no such file")
    try:
        driver = pyogrio.read_info(path, layer="points")["driver"]
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat(f"{path.name} is not an OpenStreetMap file GDAL can read ({exc})") from exc
    if driver != "OSM":
        raise UnsupportedFormat(f"{path.name} is a {driver} file, not OpenStreetMap XML or PBF")
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer in OSM_LAYERS:
        try:
            frame = pyogrio.read_dataframe(path, layer=layer)
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput(f"{path.name}: layer {layer} cannot be read ({exc})") from exc
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        out[layer] = frame.set_crs(4326, allow_override=True)
    return out
