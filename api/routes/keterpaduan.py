"""Programme integration (keterpaduan) summaries as JSON: a thin adapter over layers/keterpaduan/summary.py on the async
pool; rows are limited to what the caller may see (public: published decrees' slum areas, activities without
personal data)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.auth import current_principal
from api.models import KeterpaduanSummary, error_responses
from layers.accounts.access import Principal
from layers.db.frames import arun
from layers.keterpaduan.summary import as_json, keterpaduan_op
from layers.values.codes import tenant_code

router = APIRouter(tags=["keterpaduan"])


@router.get("/tenants/{tenant}/keterpaduan", summary="Keterpaduan program per kawasan kumuh dan wilayah",
            response_model=KeterpaduanSummary, response_model_exclude_unset=True, response_class=JSONResponse,
            responses=error_responses(400, 401, 404, 503))
async def tenant_keterpaduan(
    request: Request,
    tenant: str,
    decree: str | None = Query(None, description="Nomor SK kumuh (bawaan: SK terbaru yang boleh dilihat)"),
    principal: Principal = Depends(current_principal),
) -> dict:
    code = tenant_code(tenant)
    async with request.app.state.pool.connection() as conn:
        result = await arun(conn, keterpaduan_op(code, principal, decree=decree))
    return as_json(result)
