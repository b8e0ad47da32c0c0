"""The catalogue over HTTP: `/catalogue/{id}` (a JSON list) and the non-spatial collections `/collections/{id}`,
`/collections/{id}/items` for programs, funding-sources and activity-kinds (layers/serving/catalogue.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection

from api import models
from api.deps import connection
from api.routes.ogc import base_url
from layers.serving.catalogue import (
    CATALOGUES,
    catalogue_rows,
    collection_document,
    get_catalogue,
    items_document,
)

router = APIRouter(tags=["Katalog"])


@router.get("/catalogue", summary="Daftar katalog (program, sumber dana, jenis kegiatan)")
async def catalogue_index(request: Request):
    base = base_url(request)
    return {"catalogues": [{"id": c.id, "title": c.title, "href": f"{base}/catalogue/{c.id}"}
                           for c in CATALOGUES.values()]}


@router.get("/catalogue/{catalogue_id}", summary="Isi satu katalog (daftar JSON)",
            responses=models.error_responses(404))
async def catalogue_list(catalogue_id: str, aconn: AsyncConnection = Depends(connection)):
    return await catalogue_rows(aconn, get_catalogue(catalogue_id))


def _add_collection_routes(catalogue_id: str) -> None:
    """Explicit paths (not a pattern), so /collections/{collection_id} of the spatial collections stays as it is."""

    @router.get(f"/collections/{catalogue_id}", summary=f"Koleksi tanpa geometri: {catalogue_id}",
                name=f"catalogue_collection_{catalogue_id}")
    async def catalogue_collection(request: Request):
        return collection_document(base_url(request), get_catalogue(catalogue_id))

    @router.get(f"/collections/{catalogue_id}/items", summary=f"Item tanpa geometri: {catalogue_id}",
                name=f"catalogue_items_{catalogue_id}")
    async def catalogue_items(request: Request, aconn: AsyncConnection = Depends(connection)):
        catalogue = get_catalogue(catalogue_id)
        rows = await catalogue_rows(aconn, catalogue)
        return JSONResponse(items_document(base_url(request), catalogue, rows), media_type="application/geo+json")


for _catalogue_id in CATALOGUES:
    _add_collection_routes(_catalogue_id)
