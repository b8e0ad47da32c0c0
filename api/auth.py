"""Who is calling. Until accounts exist every caller is anonymous (`publik`); the accounts work replaces
`current_principal` with bearer tokens and session cookies. Routes take the caller with
`principal: Principal = Depends(current_principal)` and pass it to layers/ for row filters and permissions."""

from __future__ import annotations

from fastapi import Request

from layers.access import PUBLIC, Principal


async def current_principal(request: Request) -> Principal:
    return PUBLIC
