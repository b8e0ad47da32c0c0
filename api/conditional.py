"""Conditional requests for every route that answers with an ETag (items, item, tiles): the validator headers
and the 304 answer are built here, once; whether the client's copy is current is layers.serving.versions.conditional.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from layers.accounts.access import Principal
from layers.serving.purge import HEADER as LAYERS_HEADER
from layers.serving.purge import layers_header
from layers.serving.versions import VARY, cache_control, conditional


def validator_headers(etag: str, principal: Principal, layers: tuple[str, ...] = ()) -> dict[str, str]:
    """ETag and Cache-Control of a representation that clients (and shared caches, per caller scope) revalidate;
    X-Kotaku-Layers names the layers the ETag depends on (a shared cache bans by them: layers/serving/purge.py)."""
    headers = {"ETag": etag, "Cache-Control": cache_control(principal), "Vary": VARY}
    if layers:
        headers[LAYERS_HEADER] = layers_header(layers)
    return headers


def not_modified(headers: dict[str, str]) -> Response:
    """The 304 answer: no body, the same validators as the 200 would carry."""
    return Response(status_code=304, headers=headers)


def revalidate(request: Request, etag: str, principal: Principal,
               layers: tuple[str, ...] = ()) -> tuple[dict[str, str], Response | None]:
    """(the validator headers, the 304 to answer when the request's If-None-Match holds `etag`, else None)."""
    headers = validator_headers(etag, principal, layers)
    if conditional(etag, request.headers.get("if-none-match")):
        return headers, not_modified(headers)
    return headers, None
