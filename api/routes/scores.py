"""Scores, their history, priorities and progress (JSON; CSV for the score table). Thin adapters over the
operations of layers/scoring/scores.py, layers/scoring/priority.py and layers/scoring/progress.py, run on the
async pool; every read is limited to what the caller may see (row filters of slum-areas and survey-units)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.auth import current_principal
from geo.errors import InvalidInput, NotFound
from layers.accounts.access import Principal
from layers.db.frames import arun, records
from layers.scoring.priority import priorities_op
from layers.scoring.progress import kumuh_akhir_op, time_series_op
from layers.scoring.scores import score_table, slum_area_history_op, unit_history_op, unit_scores_op
from layers.values.codes import normalise_code, tenant_code
from layers.values.fields import csv_safe

router = APIRouter(tags=["skor kekumuhan"])
SCOPE_OF_LEVEL = {1: "kabkota", 2: "kecamatan", 3: "kelurahan"}  # dots in the code -> scope


async def _run(request: Request, op):
    async with request.app.state.pool.connection() as conn:
        return await arun(conn, op)


@router.get("/tenants/{tenant}/scores", summary="Skor per unit survei dan putaran")
async def tenant_scores(
    request: Request,
    tenant: str,
    round: str | None = Query(None, description="Hanya putaran ini, mis. 2023"),
    format: str = Query("json", description="json atau csv"),
    principal: Principal = Depends(current_principal),
):
    if format not in ("json", "csv"):
        raise InvalidInput(f"format must be json or csv, not {format!r}")
    code = tenant_code(tenant)
    table = score_table(await _run(request, unit_scores_op(code, principal, round=round)))
    if format == "csv":
        return Response(table.map(csv_safe).to_csv(index=False), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="skor_{code}.csv"'})
    return {"tenant": code, "round": round, "count": len(table), "rows": records(table)}


@router.get("/survey-units/{unit_id}/scores", summary="Riwayat skor satu unit survei")
async def unit_scores(request: Request, unit_id: int, principal: Principal = Depends(current_principal)) -> dict:
    table = score_table(await _run(request, unit_history_op(unit_id, principal)))
    return {"unit_id": unit_id, "history": records(table)}


@router.get("/slum-areas/{slum_area_id}/scores", summary="Riwayat skor satu kawasan kumuh dan unitnya")
async def slum_area_scores(request: Request, slum_area_id: int,
                           principal: Principal = Depends(current_principal)) -> dict:
    result = await _run(request, slum_area_history_op(slum_area_id, principal))
    return {"slum_area": records(result["slum_area"])[0], "history": records(result["history"]),
            "units": records(score_table(result["units"]))}


@router.get("/regions/{code}/scores", summary="Riwayat skor wilayah (kelurahan, kecamatan, kab/kota)")
async def region_scores(request: Request, code: str, baseline: str | None = Query(None),
                        principal: Principal = Depends(current_principal)) -> dict:
    region = normalise_code(code)
    if region is None or region.count(".") not in SCOPE_OF_LEVEL:
        raise InvalidInput(f"'{code}' is not a kab/kota, kecamatan or kelurahan code")
    result = await _run(request, time_series_op(region[:5], principal, baseline=baseline))
    series = result["series"]
    rows = series[(series["scope"] == SCOPE_OF_LEVEL[region.count(".")]) & (series["code"] == region)]
    if rows.empty:
        raise NotFound(f"no scored surveys in region {region}")
    slum_areas = series[(series["scope"] == "slum_area")]
    if region.count(".") > 1:
        units = result["units"]
        inside = units[units["kelurahan_code"].astype("string").str.startswith(region).fillna(False)]
        slum_areas = slum_areas[slum_areas["code"].isin(inside["slum_area_id"].dropna().astype(int).astype(str))]
    return {"code": region, "scope": SCOPE_OF_LEVEL[region.count(".")], "baseline": result["baseline"],
            "history": records(rows.drop(columns=["area_total", "area_level", "coverage"])),
            "slum_areas": records(slum_areas)}


@router.get("/tenants/{tenant}/priorities", summary="Urutan prioritas penanganan kawasan kumuh")
async def tenant_priorities(request: Request, tenant: str, decree: str | None = Query(None, description="Nomor SK"),
                            principal: Principal = Depends(current_principal)) -> dict:
    code = tenant_code(tenant)
    table = await _run(request, priorities_op(code, principal, decree=decree))
    return {"tenant": code, "decree": decree or (table["decree"].iloc[0] if len(table) else None),
            "count": len(table), "rows": records(table)}


@router.get("/tenants/{tenant}/progress", summary="Kemajuan penanganan: deret waktu dan kumuh akhir")
async def tenant_progress(
    request: Request,
    tenant: str,
    baseline: str | None = Query(None, description="Putaran baseline (bawaan: 'baseline' atau yang pertama)"),
    until: int | None = Query(None, ge=1900, le=2200, description="Kegiatan selesai sampai tahun ini"),
    principal: Principal = Depends(current_principal),
) -> dict:
    code = tenant_code(tenant)
    series = await _run(request, time_series_op(code, principal, baseline=baseline))
    if not series["rounds"]:
        return {"tenant": code, "baseline": None, "rounds": [], "series": [], "kumuh_akhir": None}
    akhir = await _run(request, kumuh_akhir_op(code, principal, baseline=series["baseline"], until=until))
    return {
        "tenant": code,
        "baseline": series["baseline"],
        "rounds": series["rounds"],
        "series": records(series["series"]),
        "kumuh_akhir": {
            "baseline_year": akhir["baseline_year"],
            "until": until,
            "summary": akhir["summary"],
            "regions": records(akhir["regions"]),
            "skipped": records(akhir["skipped"]),
        },
    }
