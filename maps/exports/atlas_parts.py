"""What the atlas is made of, shared by the atlas (maps/exports/atlas.py: which pages, in which order) and the page
drawing (maps/exports/atlas_page.py): the data read once, a page's subject, and the layers in the map's CRS."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from maps.exports.bundle import Bundle


@dataclass
class Atlas:
    bundle: Bundle
    basemap: gpd.GeoDataFrame  # layer, class, name, min_zoom; EPSG:4326 (empty: no basemap loaded)


@dataclass
class Page:
    kind: str  # "kabkota", "kecamatan" or "kawasan"
    key: str  # region code or kawasan name
    title: str
    subtitle: str
    focus: gpd.GeoSeries  # what the page is about, in the map's CRS
    facts: list[tuple[str, str]]


@dataclass
class Layers:
    """Everything a page draws, once, in the map's CRS."""
    bundle: Bundle
    crs: str
    regions: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    activities: gpd.GeoDataFrame
    basemap: gpd.GeoDataFrame


def prepare_layers(atlas: Atlas, crs: str) -> Layers:
    bundle = atlas.bundle
    acts = bundle.activities()
    return Layers(bundle, crs, bundle.regions.to_crs(crs), bundle.layers["kawasan_kumuh"].to_crs(crs),
                  acts.to_crs(crs) if len(acts) else acts, atlas.basemap.to_crs(crs))
