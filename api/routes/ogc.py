"""OGC API landing page, conformance and the OpenAPI 3.0 definition; format negotiation shared by OGC routes.

`/conformance` lists only what is implemented and tested (tests/api/test_ogc*.py, tests/e2e/test_clients*.py).
FastAPI writes OpenAPI 3.1; `/api` serves the same definition rewritten as OpenAPI 3.0 (nullable instead of
null types, enum instead of const ...), which is what the OGC `oas30` class and older clients expect.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.models import Conformance, LandingPage, error_responses
from geo.errors import InvalidInput
from maps.ogc_html import conformance_html, landing_html

router = APIRouter(tags=["OGC API"])
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
# JSON by default, HTML with ?f=html or a browser's Accept: the JSON form is checked against the route's model,
# keys left out stay out (exclude_unset), and json.dumps writes it as before (response_class=JSONResponse).
HTML_ALTERNATE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {"schema": {"type": "string"}}}}}
JSON_OR_HTML: dict = {"response_model_exclude_unset": True, "response_class": JSONResponse}

FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
FILTERING = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE = [
    f"{FEATURES}/core", f"{FEATURES}/geojson", f"{FEATURES}/html", f"{FEATURES}/oas30",
    f"{FILTERING}/queryables", f"{FILTERING}/queryables-query-parameters", f"{FILTERING}/filter",
    f"{FILTERING}/features-filter",
    f"{CQL2}/cql2-text", f"{CQL2}/cql2-json", f"{CQL2}/basic-cql2", f"{CQL2}/advanced-comparison-operators",
    f"{CQL2}/basic-spatial-functions", f"{CQL2}/spatial-functions", f"{CQL2}/array-functions",
    f"{TILES}/core", f"{TILES}/tileset", f"{TILES}/tilesets-list", f"{TILES}/geodata-tilesets", f"{TILES}/mvt",
    f"{TILES}/png",
]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def wants_html(request: Request, f: str | None, formats: tuple[str, ...] = ("json",)) -> bool:
    """`f=html` or `f=json`/geojson...; without `f`, a browser's Accept (text/html before any JSON) asks for HTML."""
    if f is not None:
        f = f.lower()
        if f == "html":
            return True
        if f in formats:
            return False
        raise InvalidInput(f"f='{f}' is not a format of this resource: use {', '.join((*formats, 'html'))}")
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def format_links(href: str, rel_json: str, media_json: str, html: bool) -> list[dict]:
    """self + alternate links for a resource served as JSON and HTML."""
    sep = "&" if "?" in href else "?"
    json_link = {"type": media_json, "title": "JSON", "href": f"{href}{sep}f=json"}
    html_link = {"type": "text/html", "title": "HTML", "href": f"{href}{sep}f=html"}
    return [{"rel": "self", **(html_link if html else json_link)},
            {"rel": "alternate", **(json_link if html else html_link)}]


@router.get("/", summary="Halaman awal OGC API", response_model=LandingPage, **JSON_OR_HTML,
            responses={**HTML_ALTERNATE, **error_responses(400)})
async def landing(request: Request, f: str | None = Query(None, description="json atau html")):
    html = wants_html(request, f)
    base = base_url(request)
    doc = {
        "title": "kotaku-gis",
        "description": "Peta kawasan kumuh, survei, usulan dan keterpaduan program KOTAKU: OGC API Features "
                       "(GeoJSON, HTML), ubin vektor (MVT) dan ubin PNG.",
        "links": [
            *format_links(f"{base}/", "self", "application/json", html),
            {"rel": "service-desc", "type": OPENAPI_30, "title": "OpenAPI 3.0", "href": f"{base}/api"},
            {"rel": "service-doc", "type": "text/html", "title": "Dokumentasi API", "href": f"{base}/docs"},
            {"rel": "conformance", "type": "application/json", "title": "Kesesuaian standar",
             "href": f"{base}/conformance"},
            {"rel": "data", "type": "application/json", "title": "Koleksi", "href": f"{base}/collections"},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "type": "application/json",
             "title": "Skema ubin", "href": f"{base}/tileMatrixSets"},
        ],
    }
    return HTMLResponse(landing_html(doc)) if html else doc


@router.get("/conformance", summary="Kelas kesesuaian OGC", response_model=Conformance, **JSON_OR_HTML,
            responses={**HTML_ALTERNATE, **error_responses(400)})
async def conformance(request: Request, f: str | None = Query(None, description="json atau html")):
    doc = {"conformsTo": CONFORMANCE}
    return HTMLResponse(conformance_html(doc)) if wants_html(request, f) else doc


@router.get("/api", summary="Definisi API (OpenAPI 3.0)")
async def api_definition(request: Request) -> JSONResponse:
    document = getattr(request.app.state, "openapi_30", None)
    if document is None:
        document = openapi_30(request.app.openapi())
        request.app.state.openapi_30 = document
    return JSONResponse(document, media_type=OPENAPI_30)


def openapi_30(document: dict) -> dict:
    """FastAPI's OpenAPI 3.1 document rewritten as 3.0 (the subset FastAPI produces)."""
    out = _schema_30(document)
    out["openapi"] = "3.0.3"
    out.pop("jsonSchemaDialect", None)
    out.pop("webhooks", None)
    return out


def _schema_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _schema_30(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            node.pop(key)
            if len(rest) == 1 and isinstance(rest[0], dict) and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif rest:
                node[key] = rest
            node["nullable"] = True
    if isinstance(node.get("type"), list):
        types = [t for t in node["type"] if t != "null"]
        if len(types) < len(node["type"]):
            node["nullable"] = True
        node["type"] = types[0] if len(types) == 1 else types
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list) and "type" in node:
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node.get(bound), bool):
            node[plain] = node[bound]
            node[bound] = True
    node.pop("$schema", None)
    node.pop("contentMediaType", None)
    return node
