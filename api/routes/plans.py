"""Plans and budgets over HTTP (issue 12 item 4): planning documents and their items, an activity's plan item and
budget lines. Thin: every handler calls layers/planning/plans.py (which checks permissions and audits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute
from api.deps import sync_connection
from api.models import error_responses
from layers.accounts.access import Principal
from layers.planning import plans

router = APIRouter(tags=["rencana dan anggaran"], route_class=CheckedJSONRoute)


class PlanBody(BaseModel):
    kind: str = Field(..., description="rplp, rkm (per kelurahan), rp2kpkp, siap (per kab/kota), rkpd (per tahun)")
    tenant: str | None = Field(None, description="kab/kota (bawaan: milik pengguna)")
    kelurahan_code: str | None = Field(None, description="kelurahan (wajib untuk RPLP/RKM)")
    title: str | None = None
    year_start: int = Field(..., ge=2000, le=2100)
    year_end: int | None = Field(None, ge=2000, le=2100)
    document_number: str | None = Field(None, max_length=200)


class PlanItemBody(BaseModel):
    title: str = Field(..., min_length=1, max_length=500)
    code: str | None = Field(None, max_length=50)
    kind: str | None = Field(None, description="jenis kegiatan (katalog)")
    kelurahan_code: str | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    volume: float | None = Field(None, ge=0)
    unit: str | None = Field(None, max_length=20)
    cost_estimate: float | None = Field(None, ge=0, description="perkiraan biaya (Rp)")


class PlanLinkBody(BaseModel):
    plan_item_id: int


class BudgetLineBody(BaseModel):
    year: int = Field(..., ge=2000, le=2100)
    account_code: str = Field(..., min_length=1, max_length=100, description="kode rekening")
    dpa_number: str | None = Field(None, max_length=100, description="nomor DPA")
    funding_source: str | None = Field(None, description="sumber dana (bawaan: milik kegiatan)")
    allocated: float = Field(..., ge=0, description="pagu / anggaran (Rp)")
    realised: float = Field(0, ge=0, description="realisasi (Rp)")


WRITE = error_responses(400, 401, 403, 404, 409, 503)


@router.post("/plans", status_code=201, summary="Buat dokumen rencana (RPLP/RKM/RP2KP-KP/SIAP/RKPD)",
             responses=WRITE)
def create_plan(body: PlanBody, principal: Principal = Depends(current_principal),
                conn=Depends(sync_connection)) -> dict[str, Any]:
    return plans.create_plan(conn, principal, body.model_dump(exclude_none=True))


@router.post("/plans/{plan_id}/items", status_code=201, summary="Tambah butir rencana", responses=WRITE)
def add_item(plan_id: int, body: PlanItemBody, principal: Principal = Depends(current_principal),
             conn=Depends(sync_connection)) -> dict[str, Any]:
    return plans.add_item(conn, principal, plan_id, body.model_dump(exclude_none=True))


@router.get("/tenants/{tenant}/plans", summary="Dokumen rencana kab/kota dan butirnya (publik)",
            responses=error_responses(400, 503))
def list_plans(tenant: str, conn=Depends(sync_connection)) -> dict[str, Any]:
    return {"plans": plans.list_plans(conn, tenant)}


@router.put("/activities/{activity_id}/plan-item", summary="Kaitkan kegiatan dengan butir rencana", responses=WRITE)
def link(activity_id: int, body: PlanLinkBody, principal: Principal = Depends(current_principal),
         conn=Depends(sync_connection)) -> dict[str, Any]:
    return plans.link_activity(conn, principal, activity_id, body.plan_item_id)


@router.post("/activities/{activity_id}/budget-lines", status_code=201, summary="Baris anggaran (DPA, pagu, realisasi)",
             responses=WRITE)
def budget_line(activity_id: int, body: BudgetLineBody, principal: Principal = Depends(current_principal),
                conn=Depends(sync_connection)) -> dict[str, Any]:
    return plans.set_budget_line(conn, principal, activity_id, body.model_dump(exclude_none=True))
