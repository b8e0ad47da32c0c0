"""User management over HTTP (admin only; the same functions as `kotaku user ...`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection
from pydantic import BaseModel, Field

from api.auth import current_principal
from api.body_checks import CheckedJSONRoute
from api.deps import connection
from layers.accounts import users
from layers.accounts.access import Principal

router = APIRouter(prefix="/users", tags=["users"], route_class=CheckedJSONRoute)


class NewUser(BaseModel):
    username: str = Field(description="2-63 lowercase letters, digits, '.', '_' or '-'")
    role: str = Field(description="kepling, lurah, camat, opd, bappeda, pokja, konsultan or admin")
    area: str | None = Field(None, description="e.g. 12.71.01.1001/Lingkungan 02 (kepling), 12.71 (bappeda)")
    agency: str | None = Field(None, description="opd: the agency, e.g. Dinas PU")
    display_name: str | None = None
    password: str | None = Field(None, description="omitted: one is generated and returned once")


class NewToken(BaseModel):
    label: str | None = None
    expires_days: int | None = Field(None, ge=1, le=36_500)


class NewPassword(BaseModel):
    password: str | None = Field(None, description="omitted: one is generated and returned once")


def _user(user: users.User) -> dict:
    return {**user.as_dict(), "created_at": user.created_at.isoformat() if user.created_at else None}


@router.get("", summary="Daftar pengguna")
async def list_users(conn: AsyncConnection = Depends(connection),
                     principal: Principal = Depends(current_principal)) -> list[dict]:
    return [_user(u) for u in await users.list_users(conn, principal)]


@router.post("", status_code=201, summary="Tambah pengguna")
async def add_user(body: NewUser, conn: AsyncConnection = Depends(connection),
                   principal: Principal = Depends(current_principal)) -> dict:
    user, generated = await users.add_user(conn, principal, body.username, body.role, body.area,
                                           password=body.password, display_name=body.display_name,
                                           agency=body.agency)
    return {**_user(user), "password": generated}


@router.post("/{username}/disable", summary="Nonaktifkan pengguna (semua token dan sesi dicabut)")
async def disable_user(username: str, conn: AsyncConnection = Depends(connection),
                       principal: Principal = Depends(current_principal)) -> dict:
    return _user(await users.set_disabled(conn, principal, username, True))


@router.post("/{username}/enable", summary="Aktifkan kembali pengguna")
async def enable_user(username: str, conn: AsyncConnection = Depends(connection),
                      principal: Principal = Depends(current_principal)) -> dict:
    return _user(await users.set_disabled(conn, principal, username, False))


@router.post("/{username}/password", summary="Ganti kata sandi (sesi pengguna berakhir)")
async def set_password(username: str, body: NewPassword, conn: AsyncConnection = Depends(connection),
                       principal: Principal = Depends(current_principal)) -> dict:
    return {"username": username, "password": await users.set_password(conn, principal, username, body.password)}


@router.get("/{username}/tokens", summary="Token dan sesi pengguna (tanpa rahasianya)")
async def list_tokens(username: str, conn: AsyncConnection = Depends(connection),
                      principal: Principal = Depends(current_principal)) -> JSONResponse:
    rows = await users.list_tokens(conn, principal, username)
    return JSONResponse([{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows])


@router.post("/{username}/tokens", status_code=201, summary="Token bearer baru (ditampilkan sekali)")
async def issue_token(username: str, body: NewToken, conn: AsyncConnection = Depends(connection),
                      principal: Principal = Depends(current_principal)) -> dict:
    token_id, token = await users.issue_token(conn, principal, username, label=body.label,
                                              expires_days=body.expires_days)
    return {"id": token_id, "username": username, "token": token}


@router.delete("/{username}/tokens/{token_id}", summary="Cabut satu token")
async def revoke_token(username: str, token_id: int, conn: AsyncConnection = Depends(connection),
                       principal: Principal = Depends(current_principal)) -> dict:
    return {"revoked": await users.revoke_tokens(conn, principal, username, token_id)}
