"""`kotaku basemap import`: roads, buildings, water, landuse and places from an OSM file or any vector file.

OpenStreetMap `.osm`/`.osm.pbf` files are read by GDAL's OSM driver (geo/osm.py); other files (GeoJSON,
GeoPackage, Shapefile, Geofabrik's shapefiles ...) by geo/read.py, every spatial layer unless one is named. Each
feature's layer comes from its tags, case-insensitively: `highway` makes a road, `building` (not 'no') a building,
`waterway` or `natural=water` water, `landuse` (and parks, woods) landuse, `place` a place name; a file without
those tags (a roads shapefile with only TYPE and NAME) takes its layer from `kind` or from its layer name (road/
jalan, building/bangunan, water/sungai, landuse, place). The class is the tag's value (else `fclass`, `osm_type`,
`type`), its zoom and rank from layers/basemap/classes.py. Features whose geometry does not fit the layer (a road
polygon) or that match no layer are skipped and counted. Places given as polygons keep a point inside them.

The whole file is read and classified before anything is written; then, in one transaction, the tenant's basemap
(or the shared one, without tenant) is replaced, unless `append`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from psycopg import Connection, sql

from geo.errors import InvalidInput
from geo.osm import is_osm_file, read_osm
from geo.read import read_vector
from layers.basemap.classes import DEFAULT_CLASS, LAYERS, normalise_class, zoom_and_rank
from layers.values.codes import tenant_code

logger = logging.getLogger(__name__)

TAG_OF = {"roads": "highway", "buildings": "building", "water": "waterway", "landuse": "landuse", "places": "place"}
CLASS_FIELDS = ("fclass", "osm_type", "type")
NAME_FIELDS = ("name", "nama", "name_id")
LAYER_HINTS = (("roads", ("road", "jalan", "highway")), ("buildings", ("building", "bangunan")),
               ("water", ("water", "sungai", "river")), ("landuse", ("landuse", "guna_lahan")),
               ("places", ("place", "tempat")))
GEOMETRY_KINDS = {"roads": {"line"}, "buildings": {"polygon"}, "water": {"line", "polygon"},
                  "landuse": {"polygon"}, "places": {"point", "polygon"}}
LANDUSE_NATURAL = {"wood": "forest", "scrub": "grass", "grassland": "grass", "wetland": "grass"}
LANDUSE_LEISURE = {"park": "park", "garden": "park", "playground": "park", "pitch": "park"}


@dataclass
class BasemapReport:
    file: str
    tenant: str | None
    layers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LAYERS, 0))
    skipped: int = 0
    replaced: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"file": self.file, "tenant": self.tenant, "layers": self.layers, "imported": sum(self.layers.values()),
                "skipped": self.skipped, "replaced": self.replaced, "seconds": round(self.seconds, 2)}


def _lower(frame: pd.DataFrame) -> pd.DataFrame:
    columns = {c: str(c).lower() for c in frame.columns if c != frame.geometry.name}
    out = frame.rename(columns=columns)
    return out.loc[:, ~out.columns.duplicated()]


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = frame[name].astype(object)
    return values.where(values.notna() & (values.astype(str).str.strip() != ""), None)


def _first(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for name in names:
        out = out.where(out.notna(), _text(frame, name))
    return out


def _optional(value: object) -> str | None:
    """Text of a cell, None when missing: pandas 3 keeps a missing text as NaN (a float), never as None, so a
    road without a name would otherwise be stored, and labelled on the map, as 'nan'."""
    return None if value is None or pd.isna(value) else str(value)


def _guess(layer_name: str) -> str | None:
    lowered = layer_name.lower()
    return next((kind for kind, hints in LAYER_HINTS if any(h in lowered for h in hints)), None)


def classify(frame: gpd.GeoDataFrame, layer_name: str, kind: str | None = None) -> gpd.GeoDataFrame:
    """Rows `layer, class, name, osm_id, geometry` of the features that make a basemap layer."""
    frame = _lower(frame)
    n = len(frame)
    layer = pd.Series([None] * n, index=frame.index, dtype=object)
    cls = pd.Series([None] * n, index=frame.index, dtype=object)
    fallback_class = _first(frame, CLASS_FIELDS)
    if kind is not None:
        layer[:] = kind
        cls = _text(frame, TAG_OF[kind]).where(lambda s: s.notna(), fallback_class)
    else:
        # the most specific tag wins: place names, then roads, buildings, water, landuse
        natural, leisure = _text(frame, "natural"), _text(frame, "leisure")
        landuse = _text(frame, "landuse").where(lambda s: s.notna(), natural.map(LANDUSE_NATURAL)).where(
            lambda s: s.notna(), leisure.map(LANDUSE_LEISURE))
        building = _text(frame, "building").where(lambda s: s.astype(str).str.lower() != "no", None)
        water = _text(frame, "waterway").where(lambda s: s.notna(), natural.where(natural == "water", None))
        for name, values in (("landuse", landuse), ("water", water), ("buildings", building),
                             ("roads", _text(frame, "highway")), ("places", _text(frame, "place"))):
            hit = values.notna()
            layer = layer.where(~hit, name)
            cls = cls.where(~hit, values)
        if not layer.notna().any() and (guessed := _guess(layer_name)) is not None:
            layer[:] = guessed
            cls = fallback_class
    geoms = np.asarray(frame.geometry.array)
    dims = shapely.get_dimensions(geoms)
    geometry_kind = np.select([dims == 0, dims == 1, dims == 2], ["point", "line", "polygon"], "none")
    keep = np.array([lv is not None and g is not None and not shapely.is_empty(g) and gk in GEOMETRY_KINDS[lv]
                     for lv, g, gk in zip(layer, geoms, geometry_kind, strict=True)], dtype=bool)
    out = gpd.GeoDataFrame({
        "layer": layer[keep].to_numpy(),
        "class": [normalise_class(c) or DEFAULT_CLASS[lv] for c, lv in zip(cls[keep], layer[keep], strict=True)],
        "name": _first(frame, NAME_FIELDS)[keep].to_numpy(),
        "osm_id": _first(frame, ("osm_id", "osm_way_id"))[keep].to_numpy(),
    }, geometry=list(geoms[keep]), crs=frame.crs)
    places = (out["layer"] == "places").to_numpy()
    if places.any():
        out.loc[places, "geometry"] = shapely.point_on_surface(np.asarray(out.geometry.array)[places])
    polygons = np.isin(out["layer"].to_numpy(), ["buildings", "landuse", "water"])
    if polygons.any():
        out.loc[polygons, "geometry"] = shapely.make_valid(np.asarray(out.geometry.array)[polygons])
    return out


def read_basemap(path: Path, *, layer: str | None = None, kind: str | None = None) -> tuple[gpd.GeoDataFrame, int]:
    """(classified features, skipped count) of a whole file."""
    if kind is not None and kind not in LAYERS:
        raise InvalidInput.of("basemap.kind", kind=kind, layers=", ".join(LAYERS))
    frames: list[gpd.GeoDataFrame] = []
    total = 0
    if is_osm_file(path):
        for osm_layer, frame in read_osm(path).items():
            total += len(frame)
            frames.append(classify(frame, osm_layer, kind))
    else:
        names: list[str | None] = [layer] if layer else [None]
        if layer is None and path.suffix.lower() in (".gpkg", ".sqlite"):
            names = [str(n) for n, g in pyogrio.list_layers(path) if g is not None]
        for name in names:
            data = read_vector(path, layer=name)
            total += len(data.frame)
            frames.append(classify(data.frame, name or path.stem, kind))
    features = pd.concat(frames, ignore_index=True) if frames else gpd.GeoDataFrame()
    if len(features) == 0:
        raise InvalidInput.of("basemap.no_features", file=path.name)
    return gpd.GeoDataFrame(features, geometry="geometry", crs=4326), total - len(features)


def import_basemap(conn: Connection, path: str | Path, *, tenant: str | None = None, layer: str | None = None,
                   kind: str | None = None, append: bool = False) -> BasemapReport:
    """Read, classify and store a basemap file (see the module docstring); all-or-nothing."""
    started = time.perf_counter()
    path = Path(path)
    code = tenant_code(tenant) if tenant else None
    features, skipped = read_basemap(path, layer=layer, kind=kind)
    report = BasemapReport(file=path.name, tenant=code, skipped=skipped)
    with conn.transaction():
        if not append:
            cur = conn.execute(sql.SQL("DELETE FROM basemap_features WHERE tenant IS NOT DISTINCT FROM %s"), [code])
            report.replaced = cur.rowcount
        wkb = shapely.to_wkb(shapely.set_srid(np.asarray(features.geometry.array), 4326), hex=True,
                             include_srid=True)
        copy = sql.SQL("COPY basemap_features (tenant, layer, class, name, min_zoom, rank, osm_id, source_file, geom) "
                       "FROM STDIN")
        with conn.cursor() as cur, cur.copy(copy) as writer:
            for row_layer, row_class, name, osm_id, geom in zip(
                    features["layer"], features["class"], features["name"], features["osm_id"], wkb, strict=True):
                stored, min_zoom, rank = zoom_and_rank(row_layer, row_class)
                writer.write_row((code, row_layer, stored, _optional(name), min_zoom, rank, _optional(osm_id),
                                  path.name, geom))
                report.layers[row_layer] += 1
    report.seconds = time.perf_counter() - started
    logger.info("basemap import %s: tenant %s, %s, %d skipped, %.1f s", path.name, code or "-", report.layers,
                skipped, report.seconds)
    return report
