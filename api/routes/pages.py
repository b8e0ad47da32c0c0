"""The pages: /peta, /peta/usulan, /peta/keterpaduan, /publik (HTML built by maps/pages), and /peta/cari, the kelurahan
search the pages call. Thin: each handler reads the caller and hands over to maps/pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.auth import current_principal
from layers.accounts.access import Principal
from layers.values.codes import tenant_code
from maps.pages.context import SEARCH_LIMIT, search_regions
from maps.pages.keterpaduan import keterpaduan_page
from maps.pages.proposal import proposal_page
from maps.pages.public import public_page
from maps.pages.viewer import viewer_page
from maps.static_files import STATIC_DIR
from maps.style_json import online_basemaps

router = APIRouter(tags=["halaman"])
TENANT = Query(None, description="Kab/kota yang dibuka (kode Kemendagri, mis. 12.71)")
# Pages load only this server's scripts, styles, images and tiles; inline scripts are folium's.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}


def map_headers(request: Request) -> dict[str, str]:
    """The pages' headers; with online basemaps configured (KOTAKU_ONLINE_BASEMAPS), their hosts may serve images
    and fetches too, so the layer control's online entries can draw. Without the setting: this server only."""
    hosts = sorted({origin(b.url) for b in online_basemaps(request.app.state.settings.online_basemaps)})
    if not hosts:
        return SECURITY_HEADERS
    extra = " ".join(hosts)
    policy = SECURITY_HEADERS["Content-Security-Policy"].replace("img-src 'self'", f"img-src 'self' {extra}")
    return {**SECURITY_HEADERS,
            "Content-Security-Policy": policy.replace("connect-src 'self'", f"connect-src 'self' {extra}")}


def origin(url: str) -> str:
    """scheme://host[:port] of a tile URL template ('{s}.tile...' hosts become a wildcard)."""
    parts = urlsplit(url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}"


async def _page(request: Request, build, principal: Principal, tenant: str | None) -> HTMLResponse:
    async with request.app.state.pool.connection() as conn:
        html = await build(conn, principal, tenant)
    return HTMLResponse(html, headers=map_headers(request))


@router.get("/peta", response_class=HTMLResponse, summary="Peta kawasan kumuh (Pokja PKP)")
async def viewer(request: Request, tenant: str | None = TENANT,
                 principal: Principal = Depends(current_principal)) -> HTMLResponse:
    return await _page(request, viewer_page, principal, tenant)


@router.get("/peta/usulan", response_class=HTMLResponse, summary="Menggambar dan mengirim usulan")
async def proposals(request: Request, tenant: str | None = TENANT,
                    principal: Principal = Depends(current_principal)) -> HTMLResponse:
    return await _page(request, proposal_page, principal, tenant)


@router.get("/peta/keterpaduan", response_class=HTMLResponse, summary="Peta keterpaduan program")
async def keterpaduan(request: Request, tenant: str | None = TENANT,
                      principal: Principal = Depends(current_principal)) -> HTMLResponse:
    return await _page(request, keterpaduan_page, principal, tenant)


@router.get("/peta/cari", summary="Cari kelurahan/desa atau kecamatan menurut nama atau kode")
async def search(request: Request, q: str = Query(..., max_length=100, description="Nama atau kode wilayah"),
                 tenant: str | None = TENANT, limit: int = Query(SEARCH_LIMIT, ge=1, le=100)) -> dict:
    code = tenant_code(tenant) if tenant and tenant.strip() else None
    async with request.app.state.pool.connection() as conn:
        found = await search_regions(conn, q, code, limit)
    return {"query": q, "results": found}


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    """Browsers ask every page of the site for it (the login page too): the pages' icon, never a 404."""
    return FileResponse(STATIC_DIR / "kotaku" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/publik", response_class=HTMLResponse, summary="Catatan publik (tanpa login)")
async def public_record(request: Request, tenant: str | None = TENANT,
                        kelurahan: str | None = Query(None, max_length=20,
                                                      description="Kelurahan (kode Kemendagri, mis. 12.71.01.1001)"),
                        ) -> HTMLResponse:
    """Read as the public whoever asks: published rows, no personal data."""
    async with request.app.state.pool.connection() as conn:
        html = await public_page(conn, tenant, kelurahan)
    return HTMLResponse(html, headers=SECURITY_HEADERS)
