"""Typed responses (api/models): /openapi.json names the public contract's schemas and the routes reference them;
real answers on the Medan demo validate against the models, and the typed JSON is the same text as before."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from api.models import (
    Collection,
    Collections,
    ConflictReport,
    Conformance,
    ErrorBody,
    Feature,
    FeatureCollection,
    KeterpaduanSummary,
    LandingPage,
    OverlapVerdict,
    TileJSON,
)
from api.routes.ogc import openapi_30
from layers.accounts.access import Principal
from layers.db.frames import run
from layers.imports.demo import load_demo
from layers.keterpaduan.summary import as_json, keterpaduan_op
from layers.serving.catalogue import CATALOGUES

ITEMS = "/collections/activities/items"
KETERPADUAN = "/tenants/{tenant}/keterpaduan"
POKJA = Principal(role="pokja", username="pokja1", tenant="12.71", area_code="12.71")
ADMIN = Principal(role="admin", username="admin1")
NAMED = ("LandingPage", "Conformance", "Collections", "Collection", "OverlapVerdict", "ConflictReport", "ErrorBody",
         "KeterpaduanSummary", "FeatureCollection", "Feature")
# (path, method, status, media type, schema): what the contract promises in /openapi.json.
REFERENCES = [
    ("/", "get", "200", "application/json", "LandingPage"),
    ("/conformance", "get", "200", "application/json", "Conformance"),
    ("/collections", "get", "200", "application/json", "Collections"),
    ("/collections/{collection_id}", "get", "200", "application/json", "Collection"),
    ("/collections/{collection_id}/items", "get", "200", "application/geo+json", "FeatureCollection"),
    ("/collections/{collection_id}/items/{fid}", "get", "200", "application/geo+json", "Feature"),
    ("/overlap-check", "post", "200", "application/json", "OverlapVerdict"),
    (ITEMS, "post", "201", "application/json", "SavedActivity"),
    (ITEMS, "post", "409", "application/json", "ConflictReport"),
    (ITEMS + "/{activity_id}", "put", "409", "application/json", "ConflictReport"),
    (ITEMS + "/{activity_id}", "patch", "409", "application/json", "ConflictReport"),
    (KETERPADUAN, "get", "200", "application/json", "KeterpaduanSummary"),
]
# Error statuses each route documents with ErrorBody.
ERRORS = [
    ("/", "get", ("400",)),
    ("/collections/{collection_id}", "get", ("400", "404")),
    ("/collections/{collection_id}/items", "get", ("400", "401", "404", "503")),
    ("/overlap-check", "post", ("400", "401", "403", "503")),
    (ITEMS, "post", ("400", "401", "403", "503")),
    (ITEMS + "/{activity_id}", "delete", ("401", "403", "404", "409", "503")),
    ("/activities/{activity_id}/attachments", "post", ("400", "413", "415")),
    (KETERPADUAN, "get", ("400", "401", "404", "503")),
]


def schema_ref(document: dict, path: str, method: str, status: str, media: str) -> str | None:
    content = document["paths"][path][method]["responses"][status].get("content", {})
    return content.get(media, {}).get("schema", {}).get("$ref")


@pytest.fixture(scope="module")
def document() -> dict:
    """FastAPI's OpenAPI 3.1 document (built without a database: nothing here needs one)."""
    return create_app("postgresql://kotaku:x@127.0.0.1:9/kotaku").openapi()


def test_openapi_names_the_contract_schemas(document):
    schemas = document["components"]["schemas"]
    assert set(NAMED) <= set(schemas)
    assert not [name for name in schemas if name.endswith(("-Input", "-Output"))]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "description", "details"}
    assert set(schemas["ErrorBody"]["required"]) == {"code", "description"}
    assert schemas["ConflictReport"]["properties"]["details"]["anyOf"][0] == {
        "$ref": "#/components/schemas/OverlapVerdict"}
    summary = schemas["KeterpaduanSummary"]["properties"]
    assert {"tenant", "decree", "slum_areas", "kelurahan", "kecamatan", "kabkota", "by_year"} == set(summary)
    assert "conformsTo" in schemas["Conformance"]["properties"]
    assert {"itemType", "storageCrs", "extent", "links"} <= set(schemas["Collection"]["properties"])


@pytest.mark.parametrize(("path", "method", "status", "media", "name"), REFERENCES)
def test_routes_reference_their_models(document, path, method, status, media, name):
    assert schema_ref(document, path, method, status, media) == f"#/components/schemas/{name}"


@pytest.mark.parametrize(("path", "method", "statuses"), ERRORS)
def test_errors_are_documented_with_the_error_body(document, path, method, statuses):
    for status in statuses:
        assert schema_ref(document, path, method, status, "application/json") == "#/components/schemas/ErrorBody"


def test_invalid_requests_are_documented_as_400_error_body_not_422(document):
    """The handler answers a request FastAPI rejects with 400 ErrorBody (api/http_errors.py): no operation lists
    FastAPI's automatic 422 HTTPValidationError, and every one FastAPI would list it for lists 400 -> ErrorBody."""
    app = create_app("postgresql://kotaku:x@127.0.0.1:9/kotaku")
    plain = get_openapi(title=app.title, version=app.version, routes=app.routes)  # FastAPI's own, with the 422s
    validated = [(path, method) for path, item in plain["paths"].items() for method, operation in item.items()
                 if "422" in operation["responses"]]
    assert ("/tiles/{collection_id}/{z}/{x}/{y}.pbf", "get") in validated and ("/users", "post") in validated
    listing_422 = [(path, method) for path, item in document["paths"].items() for method, operation in item.items()
                   if "422" in operation["responses"]]
    assert not listing_422
    for path, method in validated:
        assert schema_ref(document, path, method, "400", "application/json") == "#/components/schemas/ErrorBody", (
            path, method)
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])
    assert '"422"' not in json.dumps(openapi_30(document))


def test_html_forms_stay_documented_and_the_30_rewrite_keeps_the_names(document):
    for path in ("/", "/conformance", "/collections", "/collections/{collection_id}",
                 "/collections/{collection_id}/items"):
        assert "text/html" in document["paths"][path]["get"]["responses"]["200"]["content"], path
    rewritten = openapi_30(document)
    assert set(NAMED) <= set(rewritten["components"]["schemas"])
    assert '"type": "null"' not in json.dumps(rewritten)


def test_tilejson_schema_is_published(document):
    assert "TileJSON" in document["components"]["schemas"]
    assert schema_ref(document, "/tiles/{collection_id}/tilejson.json", "get", "200",
                      "application/json") == "#/components/schemas/TileJSON"


def test_tilejson_model_describes_the_document():
    schema = TileJSON.model_json_schema()
    assert set(schema["required"]) == {"tilejson", "tiles"}
    assert {"vector_layers", "bounds", "center", "minzoom", "maxzoom"} <= set(schema["properties"])


# -- real answers on the demo ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_db(request: pytest.FixtureRequest) -> str:
    """A database with the Medan demo: a copy of this module's own from `fresh_demo` (tests/conftest.py) where
    the suite offers it, else the test database emptied and the demo loaded into it. Tests here only read (the
    409 saves nothing)."""
    try:
        return request.getfixturevalue("fresh_demo")()
    except pytest.FixtureLookupError:
        pass
    url = request.getfixturevalue("database_url")
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE activities, survey_units, slum_area_regions, slum_areas, decrees, regions "
                     "RESTART IDENTITY CASCADE")
        conn.commit()
        load_demo(conn)
    return url


@pytest.fixture(scope="module")
def app(demo_db):
    return create_app(demo_db)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def as_(app, client):
    """as_(principal): the module's client acting as that principal (undone after the test)."""
    def act(principal: Principal) -> TestClient:
        app.dependency_overrides[current_principal] = lambda: principal
        return client

    yield act
    app.dependency_overrides.pop(current_principal, None)


def compact(value) -> bytes:
    """What JSONResponse writes for a dict: the text the routes answered before they were typed."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def test_ogc_documents_validate_and_html_still_works(client):
    landing = client.get("/")
    assert landing.headers["content-type"] == "application/json"
    LandingPage.model_validate(landing.json())
    assert Conformance.model_validate(client.get("/conformance").json()).conforms_to
    listed = Collections.model_validate(client.get("/collections").json())
    for entry in listed.collections:
        one = client.get(f"/collections/{entry.id}")
        assert Collection.model_validate(one.json()) == entry
        if entry.id in CATALOGUES:  # programmes, funding sources, activity kinds: no geometry, so no extent
            assert entry.extent is None and "extent" not in one.json()
            continue
        # keys left out stay out: only collections with a time have a temporal extent
        assert entry.extent is not None
        assert ("temporal" in one.json()["extent"]) == (entry.extent.temporal is not None)
    for path in ("/", "/conformance", "/collections", "/collections/activities"):
        page = client.get(path, params={"f": "html"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
    bad = client.get("/collections", params={"f": "xml"})
    assert bad.status_code == 400 and ErrorBody.model_validate(bad.json()).code == "invalid_input"
    missing = client.get("/collections/nope")
    assert missing.status_code == 404 and ErrorBody.model_validate(missing.json()).code == "not_found"


def test_typed_collection_json_is_the_same_text(client):
    """Typing changed nothing a client reads: same keys, same order, same values, same bytes."""
    from api.routes.features import _collection_document
    from layers.serving.collections import COLLECTIONS

    body = client.get("/collections/activities").content
    assert body == compact(_collection_document("http://testserver", COLLECTIONS["activities"]))


def test_items_and_item_validate_against_the_documented_schemas(client):
    page = FeatureCollection.model_validate(client.get(ITEMS, params={"limit": 5}).json())
    assert page.number_returned == len(page.features) == 5
    one = client.get(f"{ITEMS}/{page.features[0].id}").json()
    assert Feature.model_validate(one).id == page.features[0].id


def a_demo_activity(client: TestClient) -> dict:
    """A live demo activity as a new proposal would repeat it (same kind, years and geometry)."""
    features = client.get(ITEMS, params={"limit": 200}).json()["features"]
    chosen = next(f for f in features if f["properties"]["status"] in ("aktif", "selesai"))
    keep = ("title", "kind", "criteria", "year_end", "tenant", "volume", "unit", "cost")
    properties = {k: v for k, v in chosen["properties"].items() if k in keep and v is not None}
    properties["year_start"] = chosen["properties"]["year"]
    return {"id": chosen["id"], "feature": {"type": "Feature", "geometry": chosen["geometry"],
                                             "properties": {**properties, "program": "NSUP",
                                                            "funding_source": "CSR"}}}


def count_activities(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM activities").fetchone()
    assert row is not None
    return int(row[0])


def test_overlap_verdict_and_409_conflict_report_validate(as_, demo_db):
    client = as_(ADMIN)
    existing = a_demo_activity(client)
    response = client.post("/overlap-check", json=existing["feature"])
    assert response.status_code == 200, response.text
    verdict = OverlapVerdict.model_validate(response.json())
    assert verdict.blocked and existing["id"] in [c.id for c in verdict.conflicts]
    for related in response.json()["conflicts"] + response.json()["collaborations"]:
        # the amount's key is named by `measure`, and no other measure key is added
        measures = {"shared_length_m", "shared_area_m2", "distance_m"} & set(related)
        assert measures == {related["measure"]}
    before = count_activities(demo_db)
    refused = client.post(ITEMS, json=existing["feature"])
    assert refused.status_code == 409, refused.text
    report = ConflictReport.model_validate(refused.json())
    assert report.code == "conflict" and report.details is not None and report.details.blocked
    assert existing["id"] in [c.id for c in report.details.conflicts]
    assert count_activities(demo_db) == before  # nothing saved
    bad = client.post("/overlap-check", json={"type": "Feature", "geometry": None, "properties": {}})
    assert bad.status_code == 400 and ErrorBody.model_validate(bad.json()).code == "invalid_input"


def test_keterpaduan_summary_validates_and_is_the_same_text(as_, demo_db):
    client = as_(POKJA)
    response = client.get("/tenants/12.71/keterpaduan")
    assert response.status_code == 200, response.text
    summary = KeterpaduanSummary.model_validate(response.json())
    assert summary.tenant == "12.71" and summary.slum_areas and summary.kelurahan and summary.kecamatan
    assert summary.kabkota.code == "12.71" and summary.kabkota.activities > 0
    with psycopg.connect(demo_db) as conn:
        expected = as_json(run(conn, keterpaduan_op("12.71", POKJA)))
    assert response.content == compact(expected)
    public = as_(Principal()).get("/tenants/1271/keterpaduan")
    KeterpaduanSummary.model_validate(public.json())
    unknown = client.get("/tenants/73.07/keterpaduan")
    assert unknown.status_code == 404 and ErrorBody.model_validate(unknown.json()).code == "not_found"


@pytest.mark.parametrize("params", [{}, {"format": "png"}])
def test_tilejson_answer_validates(client, params):
    doc = client.get("/tiles/slum-areas/tilejson.json", params=params).json()
    tilejson = TileJSON.model_validate(doc)
    assert tilejson.tilejson == "3.0.0" and (tilejson.vector_layers is None) == bool(params)
