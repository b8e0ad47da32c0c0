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
    """The points, lines and multipolygons of an OSM file, in EPSG:4326 (OSM's own CRS). A missing, empty, cut or
    non-OSM file is an InvalidInput with a catalogue message (Indonesian or English), read before anything is
    written."""
    name = path.name
    if not path.is_file():
        raise InvalidInput.of("file.missing", file=name)
    if path.stat().st_size == 0:
        raise InvalidInput.of("osm.empty", file=name)
    try:
        driver = pyogrio.read_info(path, layer=0)["driver"]  # layer 0: any format, no warning
    except (DataSourceError, DataLayerError) as exc:
        raise UnsupportedFormat.of("osm.not_osm", details=[_reason(path, exc)], file=name) from exc
    if driver != "OSM":
        raise UnsupportedFormat.of("osm.other_format", file=name, driver=driver)
    out: dict[str, gpd.GeoDataFrame] = {}
    for layer in OSM_LAYERS:
        try:
            frame = pyogrio.read_dataframe(path, layer=layer)
        except (DataSourceError, DataLayerError) as exc:
            raise InvalidInput.of("osm.broken", details=[_reason(path, exc)], file=name) from exc
        if not isinstance(frame, gpd.GeoDataFrame):
            continue
        out[layer] = frame.set_crs(4326, allow_override=True)
    return out


def _reason(path: Path, what: object) -> dict[str, str]:
    """GDAL's own words for the details: the first sentence (not its advice on driver prefixes), without the folder
    the file was in."""
    return {"file": path.name, "reason": str(what).replace(str(path), path.name).split(";")[0].strip()}
