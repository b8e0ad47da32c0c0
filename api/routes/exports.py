"""Downloads of the keterpaduan exports: GET /exports/keterpaduan.{format}?tenant=CODE. A thin adapter over
maps/exports: anonymous callers get the public rows, logged-in callers what the `export` permission gives them
(never personal data). The file is written to a temporary folder and streamed, then deleted."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.auth import current_principal
from api.models import error_responses
from layers.accounts.access import Principal
from layers.values.codes import tenant_code
from maps.exports import FORMATS, MEDIA_TYPES, check_format, collect, file_name, write_bundle

router = APIRouter(tags=["ekspor"])


@router.get("/exports", summary="Format ekspor keterpaduan yang tersedia")
def export_index() -> dict:
    return {"keterpaduan": {"path": "/exports/keterpaduan.{format}?tenant=KODE", "formats": list(FORMATS),
                            "media_types": MEDIA_TYPES},
            "atlas": {"path": "/exports/atlas.pdf?tenant=KODE", "formats": ["pdf"],
                      "media_types": {"pdf": MEDIA_TYPES["pdf"]}}}


@router.get("/exports/keterpaduan.{fmt}", summary="Ekspor keterpaduan program satu kab/kota",
            response_class=FileResponse, responses=error_responses(400, 401, 403, 503))
def export_keterpaduan_file(
    request: Request,
    fmt: str,
    tenant: str = Query(..., description="Kode Kemendagri kab/kota, mis. 12.71"),
    decree: str | None = Query(None, description="Nomor SK kumuh (bawaan: SK terbaru yang boleh dilihat)"),
    principal: Principal = Depends(current_principal),
) -> FileResponse:
    fmt = check_format("shp" if fmt.lower() == "shp.zip" else fmt)
    code = tenant_code(tenant)
    # at most KOTAKU_EXPORT_CONCURRENCY exports hold their rows and drawing in memory at once (api/limits.py);
    # the finished file is streamed from disk outside the slot
    with request.app.state.export_slots.slot():
        # the connection goes back to the pool before the (slower) drawing and writing
        with request.app.state.sync_pool.connection() as conn:
            bundle = collect(conn, code, principal, decree=decree)
        folder = Path(tempfile.mkdtemp(prefix="kotaku-export-"))
        try:
            name = file_name(code, fmt)
            write_bundle(bundle, fmt, folder / name)
            del bundle
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return FileResponse(folder / name, media_type=MEDIA_TYPES[fmt], filename=name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/exports/atlas.pdf", summary="Atlas peta (PDF): kab/kota, setiap kecamatan dan setiap kawasan",
            response_class=FileResponse, responses=error_responses(400, 401, 403, 503))
def export_atlas_file(
    request: Request,
    tenant: str = Query(..., description="Kode Kemendagri kab/kota, mis. 12.71"),
    decree: str | None = Query(None, description="Nomor SK kumuh (bawaan: SK terbaru yang boleh dilihat)"),
    principal: Principal = Depends(current_principal),
) -> FileResponse:
    """One PDF page for the kab/kota, then each kecamatan, then each kawasan (maps/exports/atlas.py); the rows
    the caller may export, as for the keterpaduan downloads, in one export slot."""
    from maps.exports import atlas as atlas_export  # on demand: matplotlib loads only for the atlas

    code = tenant_code(tenant)
    with request.app.state.export_slots.slot():
        with request.app.state.sync_pool.connection() as conn:
            atlas = atlas_export.collect_atlas(conn, code, principal, decree=decree)
        folder = Path(tempfile.mkdtemp(prefix="kotaku-atlas-"))
        try:
            name = atlas_export.file_name(code)
            atlas_export.write_atlas_file(atlas, folder / name)
            del atlas
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return FileResponse(folder / name, media_type=MEDIA_TYPES["pdf"], filename=name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
