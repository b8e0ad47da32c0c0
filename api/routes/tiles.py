"""Tiles: OGC API Tiles (vector tiles per collection, PNG map tiles, tile matrix sets), the XYZ aliases
`/tiles/{id}/{z}/{x}/{y}.pbf|.png`, TileJSON 3.0 and legends. Thin over maps/tile_flow.py (one tile: ETag, 304,
cache, render, 204), layers/serving/tiles.py and maps/.
"""

from __future__ import annotations

import morecantile
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import current_principal
from api.conditional import not_modified
from api.models import TileJSON
from api.routes.features import version_reader
from api.routes.ogc import base_url
from geo.bounds import INDONESIA
from geo.errors import NotFound
from layers.accounts.access import Principal
from layers.serving.bounds import centre, tenant_bounds
from layers.serving.cache import TileCache
from layers.serving.collections import Collection, get_collection
from layers.serving.tiles import (
    AGGREGATE_NOTE,
    AGGREGATES,
    MAX_ZOOM,
    MIN_ZOOM,
    TILE_MATRIX_SET,
    check_tenant,
    layer_fields,
)
from maps.legends import legend_json, legend_svg
from maps.style_json import ATTRIBUTION
from maps.styles import Style
from maps.tile_flow import MVT, PNG, answer_tile, png_style

router = APIRouter(tags=["Tiles"])
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
EPSG_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
TENANT_QUERY = Query(None, description="Hanya kab/kota ini (kode Kemendagri, mis. 12.71)")
STYLE_QUERY = Query(None, description="Gaya peta: tingkat-kumuh, prioritas (slum-areas), cakupan-program (keterpaduan)")


def tile_cache(request: Request) -> TileCache:
    cache = getattr(request.app.state, "tile_cache", None)
    if cache is None:
        cache = request.app.state.tile_cache = TileCache.from_settings(request.app.state.settings)
    return cache


def _check_tms(tms_id: str) -> None:
    if tms_id != TILE_MATRIX_SET:
        raise NotFound(f"tile matrix set '{tms_id}' is not offered: use {TILE_MATRIX_SET}")


async def _tile(request: Request, collection_id: str, z: int, x: int, y: int, principal: Principal,
                tenant: str | None, style_id: str | None = None, png: bool = False) -> Response:
    """The HTTP adapter of maps.tile_flow.answer_tile: request in, Response out."""
    answer = await answer_tile(request.app.state.pool, tile_cache(request), version_reader(request), collection_id,
                               z, x, y, principal, tenant=tenant, png=png, style=style_id,
                               if_none_match=request.headers.get("if-none-match"))
    headers = answer.headers()
    if answer.status == 304:
        return not_modified(headers)
    if answer.status == 204:
        return Response(status_code=204, headers=headers)
    return Response(answer.body, media_type=answer.media_type, headers=headers)


# -- XYZ tiles (first: the hottest routes, matched first) ---------------------------------------------
@router.get("/tiles/{collection_id}/{z}/{x}/{y}.pbf", summary="Ubin vektor (XYZ)", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def xyz_vector_tile(request: Request, collection_id: str, z: int, x: int, y: int,
                          tenant: str | None = TENANT_QUERY,
                          principal: Principal = Depends(current_principal)) -> Response:
    return await _tile(request, collection_id, z, x, y, principal, tenant)


@router.get("/tiles/{collection_id}/{z}/{x}/{y}.png", summary="Ubin peta PNG (XYZ)", response_class=Response,
            responses={200: {"content": {PNG: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def xyz_png_tile(request: Request, collection_id: str, z: int, x: int, y: int,
                       style: str | None = STYLE_QUERY, tenant: str | None = TENANT_QUERY,
                       principal: Principal = Depends(current_principal)) -> Response:
    return await _tile(request, collection_id, z, x, y, principal, tenant, style, png=True)


# -- OGC API Tiles -----------------------------------------------------------------------------------------
@router.get("/tileMatrixSets", summary="Skema ubin yang tersedia")
async def tile_matrix_sets(request: Request) -> dict:
    href = f"{base_url(request)}/tileMatrixSets/{TILE_MATRIX_SET}"
    return {"tileMatrixSets": [{"id": TILE_MATRIX_SET, "title": "Google Maps Compatible for the World",
                                "uri": TMS_URI, "links": [{"rel": "self", "type": "application/json",
                                                           "href": href}]}]}


@router.get("/tileMatrixSets/{tms_id}", summary="Definisi skema ubin")
async def tile_matrix_set(tms_id: str) -> dict:
    _check_tms(tms_id)
    return morecantile.tms.get(TILE_MATRIX_SET).model_dump(mode="json", exclude_none=True)


def _tileset(request: Request, collection: Collection, png_style: Style | None = None) -> dict:
    base = base_url(request)
    if png_style:
        template = (f"{base}/collections/{collection.id}/map/tiles/{TILE_MATRIX_SET}/{{tileMatrix}}/{{tileRow}}/"
                    f"{{tileCol}}?style={png_style.id}")
        self_href = f"{base}/collections/{collection.id}/map/tiles/{TILE_MATRIX_SET}?style={png_style.id}"
    else:
        template = f"{base}/collections/{collection.id}/tiles/{TILE_MATRIX_SET}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
        self_href = f"{base}/collections/{collection.id}/tiles/{TILE_MATRIX_SET}"
    doc = {
        "title": collection.title + (f" ({png_style.title})" if png_style else ""),
        "dataType": "map" if png_style else "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            {"rel": "self", "type": "application/json", "href": self_href},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
             "href": f"{base}/tileMatrixSets/{TILE_MATRIX_SET}"},
            {"rel": "item", "type": PNG if png_style else MVT, "templated": True, "href": template},
        ],
    }
    if not png_style:
        doc["layers"] = [{"id": collection.id, "dataType": "vector", "minTileMatrix": str(MIN_ZOOM),
                          "maxTileMatrix": str(MAX_ZOOM), "propertiesSchema": _properties_schema(collection)}]
    return doc


def _all_fields(collection: Collection) -> dict[str, tuple[str, str]]:
    fields = dict(layer_fields(collection, "features"))
    if collection.id in AGGREGATES:
        for name, value in layer_fields(collection, "kecamatan").items():
            fields.setdefault(name, value)
    return fields


def _properties_schema(collection: Collection) -> dict:
    return {"type": "object", "properties": {
        name: {"type": kind, "title": title} for name, (kind, title) in _all_fields(collection).items()}}


@router.get("/collections/{collection_id}/tiles", summary="Daftar set ubin vektor koleksi")
async def tilesets(request: Request, collection_id: str) -> dict:
    collection = get_collection(collection_id)
    tileset = _tileset(request, collection)
    return {"tilesets": [{key: tileset[key] for key in ("title", "dataType", "crs", "tileMatrixSetURI", "links")}],
            "links": [{"rel": "self", "type": "application/json",
                       "href": f"{base_url(request)}/collections/{collection_id}/tiles"}]}


@router.get("/collections/{collection_id}/tiles/{tms_id}", summary="Metadata set ubin vektor")
async def tileset(request: Request, collection_id: str, tms_id: str) -> dict:
    _check_tms(tms_id)
    return _tileset(request, get_collection(collection_id))


@router.get("/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
            summary="Ubin vektor (MVT)", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def ogc_vector_tile(request: Request, collection_id: str, tms_id: str, tile_matrix: int, tile_row: int,
                          tile_col: int, tenant: str | None = TENANT_QUERY,
                          principal: Principal = Depends(current_principal)) -> Response:
    _check_tms(tms_id)
    return await _tile(request, collection_id, tile_matrix, tile_col, tile_row, principal, tenant)


@router.get("/collections/{collection_id}/map/tiles/{tms_id}", summary="Metadata set ubin peta (PNG)")
async def map_tileset(request: Request, collection_id: str, tms_id: str, style: str | None = STYLE_QUERY) -> dict:
    _check_tms(tms_id)
    collection = get_collection(collection_id)
    return _tileset(request, collection, png_style(collection, style))


@router.get("/collections/{collection_id}/map/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
            summary="Ubin peta PNG (koroplet)", response_class=Response,
            responses={200: {"content": {PNG: {}}}, 204: {"description": "ubin kosong"}, 304: {}})
async def ogc_map_tile(request: Request, collection_id: str, tms_id: str, tile_matrix: int, tile_row: int,
                       tile_col: int, style: str | None = STYLE_QUERY, tenant: str | None = TENANT_QUERY,
                       principal: Principal = Depends(current_principal)) -> Response:
    _check_tms(tms_id)
    return await _tile(request, collection_id, tile_matrix, tile_col, tile_row, principal, tenant, style, png=True)


# -- XYZ aliases, TileJSON, legends -------------------------------------------------------------------------
@router.get("/tiles/{collection_id}/tilejson.json", summary="TileJSON 3.0", response_model=TileJSON,
            response_model_exclude_unset=True)
async def tilejson(request: Request, collection_id: str, tenant: str | None = TENANT_QUERY,
                   format: str = Query("pbf", description="pbf (vektor) atau png"),
                   style: str | None = STYLE_QUERY) -> TileJSON:
    collection = get_collection(collection_id)
    tenant = check_tenant(tenant)
    base = base_url(request)
    query = []
    if format == "png":
        query.append(f"style={png_style(collection, style).id}")
    elif format != "pbf":
        raise NotFound(f"format '{format}' is not offered: pbf or png")
    if tenant:
        query.append(f"tenant={tenant}")
    suffix = ("?" + "&".join(query)) if query else ""
    doc = {
        "tilejson": "3.0.0",
        "name": collection.title,
        "description": collection.description,
        "version": "1.0.0",
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{collection.id}/{{z}}/{{x}}/{{y}}.{format}{suffix}"],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": list(INDONESIA.box),
        "center": [117.0, -2.5, 5],
    }
    if tenant:  # the kab/kota's own bounds and centre, when its region is loaded
        async with request.app.state.pool.connection() as conn:
            bounds = await tenant_bounds(conn, tenant)
        if bounds is not None:
            doc["bounds"], doc["center"] = bounds, centre(bounds, 12)
    if format == "pbf":
        doc["vector_layers"] = [{
            "id": collection.id,
            "description": f"{collection.description}. {AGGREGATE_NOTE}" if collection.id in AGGREGATES
            else collection.description,
            "minzoom": MIN_ZOOM,
            "maxzoom": MAX_ZOOM,
            "fields": {name: kind.capitalize() if kind != "integer" else "Number"
                       for name, (kind, _) in _all_fields(collection).items()},
        }]
    return TileJSON.model_validate(doc)


@router.get("/tiles/{collection_id}/legend.json", summary="Legenda gaya peta (JSON)")
async def legend(collection_id: str, style: str | None = STYLE_QUERY) -> dict:
    return legend_json(png_style(get_collection(collection_id), style))


@router.get("/tiles/{collection_id}/legend.svg", summary="Legenda gaya peta (SVG)", response_class=Response)
async def legend_image(collection_id: str, style: str | None = STYLE_QUERY) -> Response:
    return Response(legend_svg(png_style(get_collection(collection_id), style)), media_type="image/svg+xml")
