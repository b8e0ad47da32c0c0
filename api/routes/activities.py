"""Proposals and activities over HTTP: OGC API Features Part 4 writes on `activities`, the overlap check as a dry
run, workflow transitions, links, history and photos. Thin: every handler calls layers/ and maps its errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute
from api.deps import connection, sync_connection
from api.models import ConflictReport, OverlapVerdict, SavedActivity, error_responses
from geo.errors import InvalidInput, TooLarge
from geo.validate import geojson_problem
from layers.accounts.access import Principal
from layers.planning import proposals
from layers.planning.attachments import MAX_PHOTO_BYTES, MAX_VIDEO_BYTES, Capture, sniff

router = APIRouter(tags=["usulan"], route_class=CheckedJSONRoute)
ITEMS = "/collections/activities/items"
GEOJSON = "application/geo+json"
# 409 of a write: the error shape, its details the overlap verdict when an overlap blocked it.
CONFLICT: dict[int | str, dict[str, Any]] = {409: {
    "model": ConflictReport,
    "description": "Diblokir tumpang tindih (details: verdict) atau tahap usulan tidak lagi dapat diubah"}}
# Checked against the models (keys left out stay out) and written by json.dumps as before.
TYPED: dict = {"response_model_exclude_unset": True, "response_class": JSONResponse}


class ActivityFeature(BaseModel):
    """A GeoJSON Feature: geometry in EPSG:4326 (lon, lat) and the activity's fields in properties."""

    type: str = Field("Feature", pattern="^Feature$")
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class TransitionRequest(BaseModel):
    action: str = Field(..., description="teruskan, teruskan_pokir, tolak, kembalikan, kemajuan, ajukan_ulang, "
                                         "aktifkan_kembali, batalkan")
    reason: str | None = Field(None, description="alasan (wajib untuk tolak, kembalikan, batalkan)")
    progress: int | None = Field(None, ge=0, le=100, description="0, 50 atau 100 (untuk kemajuan)")


def _geometry(feature: ActivityFeature) -> shapely.Geometry | None:
    if feature.geometry is None:
        return None
    problem = geojson_problem(feature.geometry)
    if problem:
        raise InvalidInput(problem, details=[{"field": "geometry", "reason": problem}])
    try:
        return shapely.from_geojson(_json(feature.geometry))
    except (shapely.errors.GEOSException, ValueError, TypeError) as error:
        raise InvalidInput(f"geometry is not valid GeoJSON: {error}",
                           details=[{"field": "geometry", "reason": str(error)}]) from None


def upload_limit(head: bytes, file_name: str) -> int:
    """The most bytes a file of this type may have (its type read from its first bytes)."""
    media_type, _ = sniff(head)
    return MAX_VIDEO_BYTES if media_type.startswith("video/") else MAX_PHOTO_BYTES


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


@router.post("/overlap-check", summary="Periksa tumpang tindih tanpa menyimpan", response_model=OverlapVerdict,
             **TYPED, responses=error_responses(400, 401, 403, 503))
async def overlap_check(feature: ActivityFeature, principal: Principal = Depends(current_principal),
                        conn=Depends(connection)) -> dict:
    """The verdict a creation would get (the same check), without saving anything."""
    return await proposals.check_async(conn, feature.properties, _geometry(feature), principal)


@router.post(ITEMS, status_code=201, summary="Buat usulan/kegiatan (409 bila tumpang tindih)",
             responses={201: {"model": SavedActivity, "description": "Tersimpan (header Location: fitur baru)"},
                        **error_responses(400, 401, 403), **CONFLICT, **error_responses(503)})
def create(request: Request, feature: ActivityFeature, principal: Principal = Depends(current_principal),
           conn=Depends(sync_connection)) -> JSONResponse:
    result = proposals.create(conn, principal, feature.properties, _geometry(feature))
    location = f"{str(request.base_url).rstrip('/')}{ITEMS}/{result['id']}"
    return JSONResponse(result, status_code=201, headers={"Location": location})


@router.put(ITEMS + "/{activity_id}", summary="Ganti usulan (diperiksa tumpang tindih lagi)",
            response_model=SavedActivity, **TYPED,
            responses={**error_responses(400, 401, 403, 404), **CONFLICT, **error_responses(503)})
def replace(activity_id: int, feature: ActivityFeature, principal: Principal = Depends(current_principal),
            conn=Depends(sync_connection)) -> dict:
    return proposals.update(conn, principal, activity_id, feature.properties, _geometry(feature), replace=True)


@router.patch(ITEMS + "/{activity_id}", summary="Ubah sebagian usulan (diperiksa tumpang tindih lagi)",
              response_model=SavedActivity, **TYPED,
              responses={**error_responses(400, 401, 403, 404), **CONFLICT, **error_responses(503)})
def patch(activity_id: int, feature: ActivityFeature, principal: Principal = Depends(current_principal),
          conn=Depends(sync_connection)) -> dict:
    return proposals.update(conn, principal, activity_id, feature.properties, _geometry(feature), replace=False)


@router.delete(ITEMS + "/{activity_id}", status_code=204, summary="Hapus usulan yang belum diproses",
               responses=error_responses(401, 403, 404, 409, 503))
def delete(activity_id: int, principal: Principal = Depends(current_principal),
           conn=Depends(sync_connection)) -> Response:
    proposals.delete(conn, principal, activity_id)
    return Response(status_code=204)


@router.options(ITEMS, include_in_schema=False)
def options_items() -> Response:
    return Response(status_code=204, headers={"Allow": "GET, HEAD, POST, OPTIONS"})


@router.options(ITEMS + "/{activity_id}", include_in_schema=False)
def options_item(activity_id: int) -> Response:
    return Response(status_code=204, headers={"Allow": "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"})


@router.post("/activities/{activity_id}/transitions", summary="Langkah alur perencanaan",
             responses=error_responses(400, 401, 403, 404, 409, 503))
def transition(activity_id: int, step: TransitionRequest, principal: Principal = Depends(current_principal),
               conn=Depends(sync_connection)) -> dict:
    return proposals.transition(conn, principal, activity_id, step.action, reason=step.reason,
                                progress=step.progress)


@router.get("/activities/{activity_id}/history", summary="Riwayat usulan (publik)",
            responses=error_responses(401, 404, 503))
def history(activity_id: int, principal: Principal = Depends(current_principal),
            conn=Depends(sync_connection)) -> dict:
    return proposals.public_record(conn, principal, activity_id)


@router.get("/activities/{activity_id}/links", summary="Kolaborasi dan tumpang tindih yang disetujui",
            responses=error_responses(401, 404, 503))
def links(activity_id: int, principal: Principal = Depends(current_principal),
          conn=Depends(sync_connection)) -> dict:
    return {"links": proposals.public_record(conn, principal, activity_id)["links"]}


@router.post("/activities/{activity_id}/attachments", status_code=201, summary="Unggah foto/video (maks. 5)",
             responses=error_responses(400, 401, 403, 404, 413, 415, 503))
async def upload(request: Request, activity_id: int, file: UploadFile = File(...),
                 progress_step: int | None = Form(None, description="tahap kemajuan yang dibuktikan: 0, 50, 100"),
                 capture_lon: float | None = Form(None, ge=-180, le=180, description="bujur saat diambil (perangkat)"),
                 capture_lat: float | None = Form(None, ge=-90, le=90, description="lintang saat diambil (perangkat)"),
                 capture_accuracy_m: float | None = Form(None, ge=0, le=1e6, description="akurasi lokasi (m)"),
                 captured_at: datetime | None = Form(None, description="waktu pengambilan (ISO 8601, perangkat)"),
                 principal: Principal = Depends(current_principal), conn=Depends(sync_connection)) -> dict:
    # The request was held to KOTAKU_UPLOAD_MAX_MB before it was read (api/limits.py) and the multipart parser spooled
    # the file to a temporary file; only a file within its type's limit (10 MB a photo) is read into memory.
    limit = upload_limit(await file.read(16), file.filename or "foto")
    if file.size is not None and file.size > limit:
        raise TooLarge(f"{file.filename or 'foto'}: {file.size / 1e6:.1f} MB is over the {limit // 2**20} MB limit")
    await file.seek(0)
    content = await file.read(limit + 1)
    if progress_step is not None and progress_step not in (0, 50, 100):
        raise InvalidInput(f"progress_step must be 0, 50 or 100 (got {progress_step})",
                           details=[{"field": "progress_step", "reason": "not 0, 50 or 100"}])
    capture = Capture(lon=capture_lon, lat=capture_lat, accuracy_m=capture_accuracy_m, at=captured_at,
                      progress_step=progress_step)
    return await run_in_threadpool(proposals.attach_file, conn, principal, activity_id, file.filename or "foto",
                                   content, settings=request.app.state.settings, capture=capture)


class StepDecision(BaseModel):
    decision: str = Field(..., pattern="^(konfirmasi|tolak)$", description="konfirmasi atau tolak")
    reason: str = Field(..., min_length=1, max_length=2000, description="alasan (wajib)")


@router.post("/activities/{activity_id}/progress/{step}/verification",
             summary="Konfirmasi atau tolak tahap kemajuan yang perlu verifikasi",
             responses=error_responses(400, 401, 403, 404, 409, 503))
def verify_progress(activity_id: int, step: int, body: StepDecision,
                    principal: Principal = Depends(current_principal), conn=Depends(sync_connection)) -> dict:
    return proposals.verify_step(conn, principal, activity_id, step, confirm=body.decision == "konfirmasi",
                                 reason=body.reason)


@router.get("/activities/{activity_id}/attachments/{attachment_id}", summary="Foto/video usulan (berkas)",
            response_class=Response, responses=error_responses(401, 404, 503))
def attachment(request: Request, activity_id: int, attachment_id: int,
               principal: Principal = Depends(current_principal), conn=Depends(sync_connection)) -> Response:
    media_type, content = proposals.attachment_content(conn, principal, activity_id, attachment_id,
                                                       settings=request.app.state.settings)
    # Named by content (SHA-256), so a file never changes; `private`: whether a caller may see it depends on who asks.
    return Response(content, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})
