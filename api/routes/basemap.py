"""The basemap (issue 13): `/tiles/basemap/{z}/{x}/{y}.pbf` and `.png`, its TileJSON, and the tilesets' `metadata.json`.

Thin over maps/basemap_flow.py (one tile: ETag, 304, cache, render, 204) and layers/basemap/tiles.py. Included
before api/routes/tiles.py so `basemap` is not taken for a collection id. `/tiles/{id}/metadata.json` is the
MBTiles-metadata form GDAL's MVT driver reads beside `{z}/{x}/{y}.pbf`: `ogrinfo MVT:http://host/tiles/{id}/12` reads
every tile of zoom 12 within the metadata's bounds (the tenant's, else the data's own).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.conditional import not_modified
from api.models import TileJSON
from api.routes.features import version_reader
from api.routes.ogc import base_url
from api.routes.tiles import TENANT_QUERY, _all_fields, tile_cache
from geo.bounds import INDONESIA
from layers.basemap.classes import LAYERS
from layers.basemap.tiles import LAYER_DESCRIPTIONS, LAYER_FIELDS, MAX_ZOOM, MIN_ZOOMS, basemap_bounds
from layers.serving.bounds import centre, collection_bounds, tenant_bounds
from layers.serving.collections import Collection, get_collection
from layers.serving.tiles import MAX_ZOOM as COLLECTION_MAX_ZOOM
from layers.serving.tiles import MIN_ZOOM, check_tenant
from maps.basemap_flow import answer_basemap_tile
from maps.style_json import ATTRIBUTION, BASEMAP_ATTRIBUTION
from maps.tile_flow import MVT, PNG, TileAnswer

router = APIRouter(tags=["Tiles"])
# metadata.json: the zoom GDAL reads a whole tileset at (its ZOOM_LEVEL default is the metadata's maxzoom)
METADATA_MAX_ZOOM = {"basemap": 14}
METADATA_DEFAULT_MAX_ZOOM = 12


@router.get("/tiles/basemap/{z}/{x}/{y}.pbf", summary="Ubin vektor peta dasar (XYZ)", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def basemap_tile(request: Request, z: int, x: int, y: int, tenant: str | None = TENANT_QUERY) -> Response:
    answer = await answer_basemap_tile(request.app.state.pool, tile_cache(request), version_reader(request), z, x, y,
                                       tenant=tenant, if_none_match=request.headers.get("if-none-match"))
    return _response(answer)


@router.get("/tiles/basemap/{z}/{x}/{y}.png", summary="Ubin PNG peta dasar (XYZ)", response_class=Response,
            responses={200: {"content": {PNG: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def basemap_png(request: Request, z: int, x: int, y: int, tenant: str | None = TENANT_QUERY,
                      part: str = Query("all", description="all (semua), ground (tanpa nama) atau names (nama saja)"),
                      scale: int = Query(1, description="1: 512 piksel; 2: 1024 piksel (layar 2x)")) -> Response:
    """The basemap drawn by the server (maps/basemap_png.py): 512-px tiles of MapLibre's zoom, without street
    names. The pages draw its ground at every zoom and its names below the street names' zoom."""
    answer = await answer_basemap_tile(request.app.state.pool, tile_cache(request), version_reader(request), z, x, y,
                                       tenant=tenant, if_none_match=request.headers.get("if-none-match"), png=True,
                                       part=part, scale=scale)
    return _response(answer)


def _response(answer: TileAnswer) -> Response:
    headers = answer.headers()
    if answer.status == 304:
        return not_modified(headers)
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    return Response(answer.body, media_type=answer.media_type, headers=headers)


async def _bounds(request: Request, tenant: str | None, basemap: bool, collection: Collection | None = None
                  ) -> tuple[list[float], list[float | int]]:
    """The tenant's bounds; else the data's (basemap features, or the collection's rows); else Indonesia."""
    async with request.app.state.pool.connection() as conn:
        found = await tenant_bounds(conn, tenant) if tenant else None
        if found is None and basemap:
            found = await basemap_bounds(conn, tenant)
        if found is None and collection is not None:
            found = await collection_bounds(conn, collection.table, collection.where)
    if found is None:
        return list(INDONESIA.box), [117.0, -2.5, 5]
    return found, centre(found, 12 if tenant else 10)


def _basemap_layers() -> list[dict]:
    return [{"id": layer, "description": LAYER_DESCRIPTIONS[layer], "minzoom": MIN_ZOOMS[layer],
             "maxzoom": MAX_ZOOM, "fields": LAYER_FIELDS[layer]} for layer in LAYERS]


@router.get("/tiles/basemap/tilejson.json", summary="TileJSON 3.0 peta dasar", response_model=TileJSON,
            response_model_exclude_unset=True)
async def basemap_tilejson(request: Request, tenant: str | None = TENANT_QUERY) -> TileJSON:
    tenant = check_tenant(tenant)
    bounds, center = await _bounds(request, tenant, basemap=True)
    suffix = f"?tenant={tenant}" if tenant else ""
    return TileJSON.model_validate({
        "tilejson": "3.0.0", "name": "Peta dasar", "version": "1.0.0",
        "description": "Jalan, bangunan, perairan, penggunaan lahan dan nama tempat (OpenStreetMap), nama wilayah",
        "attribution": BASEMAP_ATTRIBUTION, "scheme": "xyz",
        "tiles": [f"{base_url(request)}/tiles/basemap/{{z}}/{{x}}/{{y}}.pbf{suffix}"],
        "minzoom": MIN_ZOOM, "maxzoom": MAX_ZOOM, "bounds": bounds, "center": center,
        "vector_layers": _basemap_layers(),
    })


@router.get("/tiles/{tileset_id}/metadata.json", summary="Metadata set ubin (bentuk MBTiles, untuk GDAL MVT)")
async def tileset_metadata(request: Request, tileset_id: str, tenant: str | None = TENANT_QUERY,
                           maxzoom: int | None = Query(None, ge=0, le=COLLECTION_MAX_ZOOM,
                                                       description="Zoom yang dibaca GDAL (bawaan 12, basemap 14)")
                           ) -> dict:
    """MBTiles metadata (values as strings, `json` holding vector_layers), as GDAL's MVT driver reads it."""
    tenant = check_tenant(tenant)
    if tileset_id == "basemap":
        layers = _basemap_layers()
        name, description, attribution = "Peta dasar", "OpenStreetMap", BASEMAP_ATTRIBUTION
    else:
        collection: Collection = get_collection(tileset_id)
        layers = [{"id": collection.id, "description": collection.description, "minzoom": MIN_ZOOM,
                   "maxzoom": COLLECTION_MAX_ZOOM,
                   "fields": {n: kind.capitalize() if kind != "integer" else "Number"
                              for n, (kind, _) in _all_fields(collection).items()}}]
        name, description, attribution = collection.title, collection.description, ATTRIBUTION
    bounds, center = await _bounds(request, tenant, basemap=tileset_id == "basemap",
                                   collection=None if tileset_id == "basemap" else collection)
    top = maxzoom if maxzoom is not None else METADATA_MAX_ZOOM.get(tileset_id, METADATA_DEFAULT_MAX_ZOOM)
    return {"name": name, "description": description, "attribution": attribution, "format": "pbf",
            "type": "overlay", "version": "2", "scheme": "xyz", "minzoom": str(MIN_ZOOM), "maxzoom": str(top),
            "bounds": ",".join(str(v) for v in bounds), "center": ",".join(str(v) for v in center),
            "json": json.dumps({"vector_layers": layers}, ensure_ascii=False)}
