"""Decree (SK Kumuh) versions over HTTP: what each replacement of a decree's slum areas removed, and bringing a
version back. Thin: the same functions as `kotaku decree history|restore` (layers/imports/decree_versions.py), which
check decree.manage (admin, or bappeda/pokja of the kab/kota) and write the audit trail (decree.restore).

The decree is named by `?decree=` (SK numbers hold slashes and spaces, which a path cannot carry); without it, the
kab/kota's only decree with versions, as on the command line.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute
from api.deps import sync_connection
from api.models import error_responses
from layers.accounts.access import Principal
from layers.imports.decree_versions import decree_history, restore_version

router = APIRouter(tags=["SK kumuh"], route_class=CheckedJSONRoute)

DECREE = Query(None, max_length=300, description="nomor SK Kumuh (bawaan: satu-satunya SK kab/kota yang punya versi)")


@router.get("/tenants/{tenant}/decree-versions", summary="Riwayat versi SK Kumuh: apa yang dihapus tiap penggantian",
            responses=error_responses(400, 401, 403, 404, 503))
def history(tenant: str, decree: str | None = DECREE, principal: Principal = Depends(current_principal),
            conn=Depends(sync_connection)) -> dict[str, Any]:
    """The decree's current areas and every replaced version, newest first: areas, hectares, kawasan, when, by what
    and whom, and when it was restored."""
    return decree_history(conn, tenant, decree, principal=principal)


@router.post("/tenants/{tenant}/decree-versions/{version}/restore", summary="Pulihkan versi SK Kumuh",
             responses=error_responses(400, 401, 403, 404, 503))
def restore(tenant: str, version: int, decree: str | None = DECREE, principal: Principal = Depends(current_principal),
            conn=Depends(sync_connection)) -> dict[str, Any]:
    """Bring back the areas of `version`; the current areas become a new version first (so a restore is undone the
    same way). Survey units and activities are linked back, scores rebuilt, the restore audited."""
    return restore_version(conn, tenant, version, decree=decree, principal=principal)
