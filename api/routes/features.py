"""GeoJSON items of each collection (OGC API Features paths); the full OGC API is built on this."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth import current_principal
from api.deps import connection
from geo.errors import NotFound
from layers.access import Principal
from layers.features import (
    COLLECTIONS,
    MAX_LIMIT,
    Collection,
    ItemsQuery,
    count_items,
    fetch_item,
    get_collection,
    stream_items,
)

router = APIRouter(tags=["features"])
GEOJSON = "application/geo+json"


def _collection_document(request: Request, collection: Collection) -> dict:
    base = str(request.base_url).rstrip("/")
    return {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"rel": "self", "type": "application/json", "href": f"{base}/collections/{collection.id}"},
            {"rel": "items", "type": GEOJSON, "href": f"{base}/collections/{collection.id}/items"},
        ],
    }


@router.get("/collections", summary="Daftar koleksi")
async def collections(request: Request) -> dict:
    base = str(request.base_url).rstrip("/")
    return {
        "links": [{"rel": "self", "type": "application/json", "href": f"{base}/collections"}],
        "collections": [_collection_document(request, c) for c in COLLECTIONS.values()],
    }


@router.get("/collections/{collection_id}", summary="Satu koleksi")
async def collection(request: Request, collection_id: str) -> dict:
    return _collection_document(request, get_collection(collection_id))


@router.get("/collections/{collection_id}/items", summary="Fitur GeoJSON sebuah koleksi",
            response_class=StreamingResponse)
async def items(
    request: Request,
    collection_id: str,
    limit: int | None = Query(None, description=f"Jumlah fitur (maksimum {MAX_LIMIT})"),
    offset: int | None = Query(None, description="Lewati sejumlah fitur"),
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat (EPSG:4326)"),
    tenant: str | None = Query(None, description="Kode kab/kota Kemendagri, mis. 12.71"),
    principal: Principal = Depends(current_principal),
) -> StreamingResponse:
    collection = get_collection(collection_id)
    query = ItemsQuery.parse(limit, offset, bbox, tenant, principal)
    pool = request.app.state.pool
    async with pool.connection() as conn:
        matched = await count_items(conn, collection, query)
    links = _page_links(request, collection, query, matched)
    return StreamingResponse(_feature_collection(pool, collection, query, matched, links), media_type=GEOJSON)


@router.get("/collections/{collection_id}/items/{fid}", summary="Satu fitur")
async def item(request: Request, collection_id: str, fid: str, conn: AsyncConnection = Depends(connection),
               principal: Principal = Depends(current_principal)) -> JSONResponse:
    collection = get_collection(collection_id)
    feature = await fetch_item(conn, collection, fid, principal)
    if feature is None:
        raise NotFound(f"collection '{collection_id}' has no feature '{fid}'")
    body = json.loads(feature)
    base = str(request.base_url).rstrip("/")
    body["links"] = [
        {"rel": "self", "type": GEOJSON, "href": f"{base}/collections/{collection.id}/items/{fid}"},
        {"rel": "collection", "type": "application/json", "href": f"{base}/collections/{collection.id}"},
    ]
    return JSONResponse(body, media_type=GEOJSON)


def _page_links(request: Request, collection: Collection, query: ItemsQuery, matched: int) -> list[dict]:
    base = f"{str(request.base_url).rstrip('/')}/collections/{collection.id}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}

    def href(offset: int) -> str:
        return f"{base}?{urlencode({**params, 'limit': query.limit, 'offset': offset})}"

    links = [{"rel": "self", "type": GEOJSON, "href": href(query.offset)}]
    if query.offset + query.limit < matched:
        links.append({"rel": "next", "type": GEOJSON, "href": href(query.offset + query.limit)})
    if query.offset > 0:
        links.append({"rel": "prev", "type": GEOJSON, "href": href(max(0, query.offset - query.limit))})
    return links


async def _feature_collection(
    pool: AsyncConnectionPool, collection: Collection, query: ItemsQuery, matched: int, links: list[dict]
) -> AsyncIterator[str]:
    """The response body, streamed; it holds its own pooled connection for as long as it streams."""
    yield '{"type":"FeatureCollection","features":['
    returned = 0
    async with pool.connection() as conn:
        async for feature in stream_items(conn, collection, query):
            yield ("," if returned else "") + feature
            returned += 1
    yield f'],"numberMatched":{matched},"numberReturned":{returned},"links":{json.dumps(links)}}}'
