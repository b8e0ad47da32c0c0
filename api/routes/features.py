"""OGC API Features (Part 1 core, GeoJSON, HTML; Part 3 queryables and CQL2 filter) over layers/serving/collections.py.

Thin: parameters are checked and turned into SQL in layers/serving/filters.py; features stream from PostGIS.
Responses carry a strong ETag tied to the data versions of the layers the collection reads (304 on
If-None-Match), so clients revalidate cheaply and see an edit on their next request.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from psycopg_pool import AsyncConnectionPool

from api import models
from api.auth import current_principal
from api.conditional import revalidate
from api.routes.ogc import HTML_ALTERNATE, JSON_OR_HTML, base_url, format_links, wants_html
from geo.bounds import INDONESIA
from geo.errors import NotFound
from layers.accounts.access import Principal
from layers.serving.catalogue import CATALOGUES, code_enums
from layers.serving.catalogue import collection_document as catalogue_collection_document
from layers.serving.collections import COLLECTIONS, Collection, get_collection, queryables
from layers.serving.filters import MAX_LIMIT, RESERVED_PARAMETERS, ItemsQuery
from layers.serving.items import count_items, fetch_item, stream_items
from layers.serving.versions import VersionReader, definition_hash, strong_etag
from maps.ogc_html import collection_html, collections_html, item_html, items_html, queryables_html

router = APIRouter(tags=["OGC API Features"])
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
F_QUERY = Query(None, description="json atau html")
# Items are streamed (and an item is passed through as PostGIS wrote it): documented here, not response_model.
GEOJSON_OR_HTML = {"text/html": {"schema": {"type": "string"}}}
ITEMS_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": models.FeatureCollection, "content": {
    GEOJSON: {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}, **GEOJSON_OR_HTML}}}
ITEM_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"model": models.Feature, "content": {
    GEOJSON: {"schema": {"$ref": "#/components/schemas/Feature"}}, **GEOJSON_OR_HTML}}}


def version_reader(request: Request) -> VersionReader:
    """The process's batched reader of layer versions (made on first use, on the app's pool)."""
    pool = request.app.state.pool
    target = pool.target() if hasattr(pool, "target") else None  # one reader per server when reads are routed
    readers = getattr(request.app.state, "version_readers", None)
    if readers is None:
        readers = request.app.state.version_readers = {}
    reader = readers.get(target)
    if reader is None:
        reader = readers[target] = VersionReader(pool)
    return reader


def _collection_document(base: str, collection: Collection) -> dict:
    href = f"{base}/collections/{collection.id}"
    doc: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [list(INDONESIA.box)], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": href},
            {"rel": "alternate", "type": "text/html", "href": f"{href}?f=html"},
            {"rel": "items", "type": GEOJSON, "title": "Fitur (GeoJSON)", "href": f"{href}/items"},
            {"rel": "items", "type": "text/html", "title": "Fitur (HTML)", "href": f"{href}/items?f=html"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": SCHEMA_JSON,
             "title": "Properti yang dapat difilter", "href": f"{href}/queryables"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json",
             "title": "Ubin vektor", "href": f"{href}/tiles"},
        ],
    }
    if collection.temporal:
        doc["extent"]["temporal"] = {"interval": [[None, None]],
                                     "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return doc


@router.get("/collections", summary="Daftar koleksi", response_model=models.Collections, **JSON_OR_HTML,
            responses={**HTML_ALTERNATE, **models.error_responses(400)})
async def collections(request: Request, f: str | None = F_QUERY):
    html = wants_html(request, f)
    base = base_url(request)
    doc = {
        "links": format_links(f"{base}/collections", "self", "application/json", html),
        "collections": [_collection_document(base, c) for c in COLLECTIONS.values()]
        + [catalogue_collection_document(base, c) for c in CATALOGUES.values()],
    }
    return HTMLResponse(collections_html(doc)) if html else doc


@router.get("/collections/{collection_id}", summary="Satu koleksi", response_model=models.Collection,
            **JSON_OR_HTML, responses={**HTML_ALTERNATE, **models.error_responses(400, 404)})
async def collection(request: Request, collection_id: str, f: str | None = F_QUERY):
    doc = _collection_document(base_url(request), get_collection(collection_id))
    return HTMLResponse(collection_html(doc)) if wants_html(request, f) else doc


@router.get("/collections/{collection_id}/queryables", summary="Properti yang dapat difilter (Part 3)",
            responses=models.error_responses(400, 404))
async def collection_queryables(request: Request, collection_id: str, f: str | None = F_QUERY):
    doc = queryables(get_collection(collection_id), base_url(request))
    if collection_id == "activities":  # the catalogue's codes, so a client can offer a valid choice
        async with request.app.state.pool.connection() as aconn:
            for name, codes in (await code_enums(aconn)).items():
                if name in doc["properties"]:
                    doc["properties"][name]["enum"] = codes
    if wants_html(request, f, ("json", "schema+json")):
        return HTMLResponse(queryables_html(doc))
    return JSONResponse(doc, media_type=SCHEMA_JSON)


@router.get("/collections/{collection_id}/items", summary="Fitur GeoJSON sebuah koleksi",
            response_class=StreamingResponse,
            responses={**ITEMS_RESPONSES, **models.error_responses(400, 401, 404, 503)})
async def items(
    request: Request,
    collection_id: str,
    limit: int | None = Query(None, description=f"Jumlah fitur per halaman (bawaan 100, maksimum {MAX_LIMIT})",
                              json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT, "default": 100}),
    offset: int | None = Query(None, description="Lewati sejumlah fitur", json_schema_extra={"minimum": 0}),
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat (CRS84)"),
    datetime: str | None = Query(None, description="Waktu atau selang RFC 3339, mis. 2023-01-01/2024-12-31"),
    tenant: str | None = Query(None, description="Kode kab/kota Kemendagri, mis. 12.71"),
    filter: str | None = Query(None, description="Filter CQL2, mis. stage = 'selesai' AND year >= 2023"),
    filter_lang: str | None = Query(None, alias="filter-lang", description="cql2-text (bawaan) atau cql2-json"),
    filter_crs: str | None = Query(None, alias="filter-crs", description=CRS84),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description=CRS84),
    f: str | None = Query(None, description="geojson, json atau html"),
    principal: Principal = Depends(current_principal),
) -> Response:
    collection = get_collection(collection_id)
    html = wants_html(request, f, ("json", "geojson"))
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMETERS}
    parse = partial(ItemsQuery.parse, collection, limit=limit, offset=offset, bbox=bbox, datetime_text=datetime,
                    tenant=tenant, filters=filters, cql=filter, cql_lang=filter_lang, filter_crs=filter_crs,
                    bbox_crs=bbox_crs, principal=principal)
    # A CQL2 filter goes to the isolated parser process (layers/serving/isolated.py): wait for it off the loop.
    query = await anyio.to_thread.run_sync(parse) if filter else parse()
    pool = request.app.state.pool
    versions = await version_reader(request).versions(collection.versions)
    etag = strong_etag(definition_hash(collection.id, collection), versions, principal, "items", html,
                       sorted(request.query_params.items()))
    headers, unchanged = revalidate(request, etag, principal, collection.versions)
    if unchanged:
        return unchanged
    async with pool.connection() as conn:
        matched = await count_items(conn, collection, query)
    links = _page_links(request, collection, query, matched, html)
    if html:
        features = [json.loads(text) async for text in _features(pool, collection, query)]
        return HTMLResponse(items_html(collection.title, collection.id, features, matched, links), headers=headers)
    return StreamingResponse(_feature_collection(pool, collection, query, matched, links), media_type=GEOJSON,
                             headers=headers)


@router.get("/collections/{collection_id}/items/{fid}", summary="Satu fitur",
            responses={**ITEM_RESPONSES, **models.error_responses(400, 401, 404, 503)})
async def item(request: Request, collection_id: str, fid: str, f: str | None = Query(None),
               principal: Principal = Depends(current_principal)) -> Response:
    collection = get_collection(collection_id)
    html = wants_html(request, f, ("json", "geojson"))
    versions = await version_reader(request).versions(collection.versions)
    etag = strong_etag(definition_hash(collection.id, collection), versions, principal, "item", fid, html)
    headers, unchanged = revalidate(request, etag, principal, collection.versions)
    if unchanged:
        return unchanged
    async with request.app.state.pool.connection() as conn:
        feature = await fetch_item(conn, collection, fid, principal)
    if feature is None:
        raise NotFound(f"collection '{collection_id}' has no feature '{fid}'")
    body = json.loads(feature)
    href = f"{base_url(request)}/collections/{collection.id}"
    body["links"] = [
        *format_links(f"{href}/items/{fid}", "self", GEOJSON, html),
        {"rel": "collection", "type": "application/json", "href": href},
    ]
    if html:
        return HTMLResponse(item_html(collection.title, body), headers=headers)
    return JSONResponse(body, media_type=GEOJSON, headers=headers)


def _page_links(request: Request, collection: Collection, query: ItemsQuery, matched: int, html: bool) -> list[dict]:
    base = f"{base_url(request)}/collections/{collection.id}/items"
    params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset", "f")}
    media = "text/html" if html else GEOJSON

    def href(offset: int, fmt: str | None = None) -> str:
        extra = {"f": fmt} if fmt else ({"f": "html"} if html else {})
        return f"{base}?{urlencode({**params, 'limit': query.limit, 'offset': offset, **extra})}"

    links = [{"rel": "self", "type": media, "href": href(query.offset)},
             {"rel": "alternate", "type": GEOJSON if html else "text/html",
              "href": href(query.offset, "json" if html else "html")}]
    if query.offset + query.limit < matched:
        links.append({"rel": "next", "type": media, "href": href(query.offset + query.limit)})
    if query.offset > 0:
        links.append({"rel": "prev", "type": media, "href": href(max(0, query.offset - query.limit))})
    return links


async def _features(pool: AsyncConnectionPool, collection: Collection, query: ItemsQuery) -> AsyncIterator[str]:
    async with pool.connection() as conn:
        async for feature in stream_items(conn, collection, query):
            yield feature


async def _feature_collection(
    pool: AsyncConnectionPool, collection: Collection, query: ItemsQuery, matched: int, links: list[dict]
) -> AsyncIterator[str]:
    """The response body, streamed; it holds its own pooled connection for as long as it streams."""
    yield '{"type":"FeatureCollection","features":['
    returned = 0
    async for feature in _features(pool, collection, query):
        yield ("," if returned else "") + feature
        returned += 1
    yield f'],"numberMatched":{matched},"numberReturned":{returned},"links":{json.dumps(links)}}}'
