"""Error pages for browsers: the same error as the JSON shape (api/http_errors.py), as a small HTML page.

A request gets the page when it asks for HTML before JSON (a browser navigating: Accept text/html first; or
`?f=html`), never when it names JSON first or asks `?f=json` (scripts, fetch, QGIS and GDAL keep the JSON shape).
The pages of kotaku are in Bahasa Indonesia, so are their error pages: in Indonesian unless `?lang=en` or the
browser's Accept-Language asks for English before Indonesian (geo/messages.py negotiate, default id).
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

from geo.messages import Lang, as_lang, message, negotiate

STATUS_KEYS = {400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503}


def wants_html(headers: Any, query: Any) -> bool:
    """True when the request asks for an HTML answer before a JSON one."""
    form = (query.get("f") if query is not None else None) or ""
    if form:
        return form.lower() == "html"
    accept = ((headers.get("accept") if headers is not None else None) or "").lower()
    html, json = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json < 0 or html < json)


def page_lang(headers: Any, query: Any) -> Lang:
    """`?lang=id|en`, else the browser's Accept-Language, else Indonesian (the language of the pages)."""
    asked = query.get("lang") if query is not None else None
    if asked:
        return as_lang(asked, default="id")
    return negotiate(headers.get("accept-language") if headers is not None else None, default="id")


def error_page(status: int, body: dict, lang: Lang, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page of an error body {"code", "description", "details"} with its status and Content-Language."""
    title = message(f"page.status_{status if status in STATUS_KEYS else 500 if status >= 500 else 400}", lang)
    request_id = (body.get("details") or {}).get("request_id") if isinstance(body.get("details"), dict) else None
    quoted = (f'<p class="rid">{escape(message("page.request_id", lang))}: <code>{escape(str(request_id))}</code></p>'
              if request_id else "")
    text = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} {escape(title)} - kotaku-gis</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}} .code{{color:#777}} a{{color:#0b5394}}</style></head>
<body><h1>{status} &middot; {escape(title)}</h1>
<p class="description">{escape(str(body.get("description") or ""))}</p>
<p class="code">{escape(message("page.code", lang))}: <code>{escape(str(body.get("code") or ""))}</code></p>{quoted}
<p><a href="/peta">{escape(message("page.back", lang))}</a></p></body></html>
"""
    return HTMLResponse(text, status_code=status, headers={**(headers or {}), "Content-Language": lang})
