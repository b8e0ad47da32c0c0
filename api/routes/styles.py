"""MapLibre styles (style spec v8): `/styles` lists them, `/styles/{id}.json` serves one. Thin over
maps/style_json.py; sources point at this server's TileJSON (`?tenant=` passes on to them)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.routes.ogc import base_url
from api.routes.tiles import TENANT_QUERY
from layers.serving.tiles import check_tenant
from maps.style_json import online_basemaps, style_document, style_ids, style_title

router = APIRouter(tags=["Styles"])


@router.get("/styles", summary="Daftar gaya peta MapLibre")
async def list_styles(request: Request) -> dict:
    base = base_url(request)
    return {"styles": [{"id": s, "title": style_title(s),
                        "links": [{"rel": "stylesheet", "type": "application/vnd.mapbox.style+json",
                                   "href": f"{base}/styles/{s}.json"}]} for s in style_ids()]}


@router.get("/styles/{style_id}.json", summary="Gaya peta MapLibre (style spec v8)")
async def style(request: Request, style_id: str, tenant: str | None = TENANT_QUERY) -> dict:
    return style_document(style_id, base_url(request), tenant=check_tenant(tenant),
                          online=online_basemaps(request.app.state.settings.online_basemaps))
