"""The asset register over HTTP (issue 12): an asset and its handover details, inspections, maintenance, assets due
for inspection, community groups. Thin: every handler calls layers/planning/asset_cases.py (the CLI calls the same).

PATCH /assets/{id} and POST /assets/{id}/inspections take JSON, or multipart/form-data when files come along (the
berita acara `document`, an as-built `geometry_file` GeoJSON/GPKG, inspection `photos`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute, is_json
from api.deps import sync_connection
from api.models import error_responses
from geo.errors import InvalidInput
from layers.accounts.access import Principal
from layers.planning import asset_cases

router = APIRouter(tags=["aset"], route_class=CheckedJSONRoute)
FORM_OR_JSON = {"application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {"schema": {"type": "object"}}}


class MaintenanceRequest(BaseModel):
    done_on: str = Field(..., description="tanggal (YYYY-MM-DD)")
    kind: str = Field(..., description="operasi, pemeliharaan atau perbaikan")
    cost: float | None = Field(None, ge=0, description="biaya (Rp)")
    notes: str | None = None


class GroupRequest(BaseModel):
    tenant: str | None = Field(None, description="kab/kota (default: kab/kota pengguna)")
    kind: str = Field(..., description="kpp, bkm atau lkm")
    name: str
    kelurahan_code: str | None = None
    parent_id: int | None = Field(None, description="BKM/LKM induk sebuah KPP")
    area: dict[str, Any] | None = Field(None, description="wilayah kelompok (GeoJSON Polygon)")
    members: list[dict[str, Any]] | None = Field(None, description="anggota: name, role, phone")


class MemberRequest(BaseModel):
    name: str
    role: str | None = None
    phone: str | None = None


async def _body(request: Request, file_fields: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list]]:
    """(fields, files by field) of a JSON or multipart body; a multipart `geometry` field is GeoJSON text."""
    if is_json(request):
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError as error:
            raise InvalidInput(f"the body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object")
        return body, {}
    form = await request.form()
    fields: dict[str, Any] = {}
    files: dict[str, list] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key not in file_fields:
                raise InvalidInput(f"unexpected file field '{key}'; files go in {', '.join(file_fields)}")
            files.setdefault(key, []).append((value.filename or key, await value.read()))
        else:
            fields[key] = value
    if isinstance(fields.get("geometry"), str):
        try:
            fields["geometry"] = json.loads(fields["geometry"])
        except ValueError:
            raise InvalidInput("geometry: not GeoJSON text", details=[{"field": "geometry"}]) from None
    return fields, files


@router.get("/assets/{asset_id}", summary="Aset (publik): serah terima, kondisi, umur layanan, pemeriksaan, O&P",
            responses=error_responses(404, 503))
def get_asset(asset_id: int, principal: Principal = Depends(current_principal),
              conn=Depends(sync_connection)) -> dict:
    return asset_cases.show(conn, principal, asset_id)


@router.patch("/assets/{asset_id}", summary="Ubah data serah terima aset (berita acara, nilai, penerima, "
              "geometri terbangun)", openapi_extra={"requestBody": {"content": FORM_OR_JSON}},
              responses=error_responses(400, 401, 403, 404, 413, 415, 503))
async def patch_asset(request: Request, asset_id: int, principal: Principal = Depends(current_principal),
                      conn=Depends(sync_connection)) -> dict:
    from starlette.concurrency import run_in_threadpool

    fields, files = await _body(request, ("document", "geometry_file"))
    document = files.get("document", [None])[0]
    geometry_file = files.get("geometry_file", [None])[0]
    return await run_in_threadpool(asset_cases.update, conn, principal, asset_id, fields,
                                   settings=request.app.state.settings, document=document,
                                   geometry_file=geometry_file)


@router.get("/assets/{asset_id}/document", summary="Berkas berita acara serah terima", response_class=Response,
            responses=error_responses(404, 503))
def asset_document(request: Request, asset_id: int, principal: Principal = Depends(current_principal),
                   conn=Depends(sync_connection)) -> Response:
    media_type, content = asset_cases.document(conn, principal, asset_id, settings=request.app.state.settings)
    return Response(content, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/assets/{asset_id}/inspections", status_code=201, summary="Catat pemeriksaan kondisi aset",
             openapi_extra={"requestBody": {"content": FORM_OR_JSON}},
             responses=error_responses(400, 401, 403, 404, 413, 415, 503))
async def inspect_asset(request: Request, asset_id: int, principal: Principal = Depends(current_principal),
                        conn=Depends(sync_connection)) -> dict:
    from starlette.concurrency import run_in_threadpool

    fields, files = await _body(request, ("photos",))
    unknown = sorted(set(fields) - {"inspected_on", "condition", "notes"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}; known: inspected_on, condition, notes, photos")
    return await run_in_threadpool(
        asset_cases.inspect, conn, principal, asset_id, inspected_on=fields.get("inspected_on"),
        condition=str(fields.get("condition") or ""), notes=fields.get("notes"), photos=files.get("photos"),
        settings=request.app.state.settings)


@router.get("/assets/{asset_id}/inspections/{inspection_id}/photos/{number}", summary="Foto pemeriksaan (berkas)",
            response_class=Response, responses=error_responses(404, 503))
def inspection_photo(request: Request, asset_id: int, inspection_id: int, number: int,
                     principal: Principal = Depends(current_principal), conn=Depends(sync_connection)) -> Response:
    media_type, content = asset_cases.inspection_photo(conn, principal, asset_id, inspection_id, number,
                                                       settings=request.app.state.settings)
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


@router.post("/assets/{asset_id}/maintenance", status_code=201, summary="Catat operasi dan pemeliharaan (O&P)",
             responses=error_responses(400, 401, 403, 404, 503))
def maintain_asset(asset_id: int, body: MaintenanceRequest, principal: Principal = Depends(current_principal),
                   conn=Depends(sync_connection)) -> dict:
    return asset_cases.maintain(conn, principal, asset_id, done_on=body.done_on, kind=body.kind, cost=body.cost,
                                notes=body.notes)


@router.get("/tenants/{tenant}/assets/due", summary="Aset yang sudah waktunya diperiksa",
            responses=error_responses(400, 503))
def assets_due(tenant: str, today: dt.date | None = Query(None, description="tanggal acuan (default: hari ini)"),
               principal: Principal = Depends(current_principal), conn=Depends(sync_connection)) -> dict:
    due = asset_cases.due(conn, principal, tenant, today)
    return {"tenant": tenant, "today": (today or dt.date.today()).isoformat(), "assets": due}


@router.get("/groups", summary="Kelompok (KPP, BKM/LKM); anggota hanya untuk kab/kota sendiri",
            responses=error_responses(400, 503))
def list_groups(tenant: str | None = None, principal: Principal = Depends(current_principal),
                conn=Depends(sync_connection)) -> dict:
    return {"groups": asset_cases.groups(conn, principal, tenant)}


@router.post("/groups", status_code=201, summary="Buat kelompok (KPP, BKM/LKM)",
             responses=error_responses(400, 401, 403, 503))
def create_group(body: GroupRequest, principal: Principal = Depends(current_principal),
                 conn=Depends(sync_connection)) -> dict:
    return asset_cases.add_group(conn, principal, body.model_dump(exclude_none=True))


@router.post("/groups/{group_id}/members", status_code=201, summary="Tambah anggota kelompok",
             responses=error_responses(400, 401, 403, 404, 503))
def add_member(group_id: int, body: MemberRequest, principal: Principal = Depends(current_principal),
               conn=Depends(sync_connection)) -> dict:
    return asset_cases.add_member(conn, principal, group_id, body.model_dump())
