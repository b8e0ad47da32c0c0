"""OGC API Features over the Medan demo: landing, conformance, OpenAPI 3.0, HTML, queryables, items with paging,
datetime, property filters, CQL2, ETags; keterpaduan sums; personal data never served; streaming stays flat."""

from __future__ import annotations

import asyncio
import json
import tracemalloc

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.serving.collections import SLUM_AREA_SCORES

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
COLLECTIONS = ("regions", "slum-areas", "survey-units", "activities", "assets", "keterpaduan",
               "activities-points", "activities-lines", "activities-polygons", "regions-kabkota", "regions-kecamatan",
               "regions-desa-kelurahan")
SECRET_NAME, SECRET_PHONE = "Budi Rahasia Sekali", "081299887766"


@pytest.fixture(scope="module")
def demo_db(fresh_demo):
    """The demo loaded once for this module (tests here only read, or undo what they change)."""
    url = fresh_demo()
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE activities SET proposer_name = %s, proposer_phone = %s", [SECRET_NAME, SECRET_PHONE])
        conn.commit()
    return url


@pytest.fixture(scope="module")
def client(demo_db):
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def scalar(url: str, query: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def all_pages(client: TestClient, path: str, params: dict) -> tuple[list[dict], int]:
    body = client.get(path, params=params).json()
    features, matched = list(body["features"]), body["numberMatched"]
    while (nxt := next((link["href"] for link in body["links"] if link["rel"] == "next"), None)):
        body = client.get(nxt).json()
        features += body["features"]
    return features, matched


def test_landing_links_and_honest_conformance(client):
    landing = client.get("/").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    classes = client.get("/conformance").json()["conformsTo"]
    for suffix in ("features-1/1.0/conf/core", "features-1/1.0/conf/geojson", "features-1/1.0/conf/html",
                   "features-1/1.0/conf/oas30", "features-3/1.0/conf/queryables", "features-3/1.0/conf/filter",
                   "cql2/1.0/conf/cql2-text", "tiles-1/1.0/conf/mvt", "tiles-1/1.0/conf/png"):
        assert any(c.endswith(suffix) for c in classes), suffix
    # nothing claimed that is not served: e.g. no CRS (Part 2), no sorting, no CQL2 arithmetic
    assert not any(c.endswith(("conf/crs", "conf/sorting", "conf/arithmetic", "conf/temporal-functions"))
                   for c in classes)


def test_api_definition_is_openapi_30(client):
    response = client.get("/api")
    assert response.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    assert document["openapi"] == "3.0.3"
    text = json.dumps(document)
    assert '"type": "null"' not in text and '"const"' not in text
    parameters = document["paths"]["/collections/{collection_id}/items"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10_000 and limit["schema"]["type"] == "integer"
    assert {"bbox", "datetime", "filter", "filter-lang"} <= {p["name"] for p in parameters}


def test_collections_list_all_five(client):
    body = client.get("/collections").json()
    assert [c["id"] for c in body["collections"]][:len(COLLECTIONS)] == list(COLLECTIONS)  # then the catalogues
    for c in body["collections"][:len(COLLECTIONS)]:
        rels = {link["rel"] for link in c["links"]}
        assert "items" in rels and "http://www.opengis.net/def/rel/ogc/1.0/queryables" in rels
        assert c["extent"]["spatial"]["bbox"][0][0] < 98 < c["extent"]["spatial"]["bbox"][0][2]
    assert client.get("/collections/activities").json()["extent"]["temporal"]


def test_html_for_browsers_with_escaped_data(client, demo_db):
    with psycopg.connect(demo_db) as conn:
        conn.execute("UPDATE slum_areas SET kawasan = '<b>tebal</b>' WHERE id = 1")
        conn.commit()
    try:
        for path in ("/", "/conformance", "/collections", "/collections/slum-areas",
                     "/collections/slum-areas/queryables", "/collections/slum-areas/items",
                     "/collections/slum-areas/items/1"):
            response = client.get(path, headers=BROWSER)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), path
            assert '<html lang="id">' in response.text
        page = client.get("/collections/slum-areas/items/1", params={"f": "html"}).text
        assert "&lt;b&gt;tebal&lt;/b&gt;" in page and "<b>tebal</b>" not in page
        assert client.get("/collections", params={"f": "json"}, headers=BROWSER).headers["content-type"] \
            .startswith("application/json")
        assert client.get("/collections", params={"f": "xml"}).status_code == 400
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("UPDATE slum_areas SET kawasan = 'Kawasan Pesisir Bagan Deli' WHERE id = 1")
            conn.commit()


def test_queryables_describe_filterable_properties(client):
    activities = client.get("/collections/activities/queryables")
    assert activities.headers["content-type"].startswith("application/schema+json")
    properties = activities.json()["properties"]
    assert {"stage", "program", "funding_source", "year", "kind", "criteria", "geometry"} <= set(properties)
    assert properties["year"]["type"] == "integer" and properties["criteria"]["type"] == "array"
    assert not {"proposer_name", "proposer_phone", "attributes"} & set(properties)
    slum = client.get("/collections/slum-areas/queryables").json()["properties"]
    assert {"level", "score", "priority", "kelurahan_code"} <= set(slum)


def test_paging_returns_every_activity_once(client, demo_db):
    features, matched = all_pages(client, "/collections/activities/items", {"limit": 75})
    assert matched == scalar(demo_db, "SELECT count(*) FROM activities") == 340
    assert len(features) == len({f["id"] for f in features}) == 340
    body = client.get("/collections/activities/items", params={"limit": 75, "offset": 300}).json()
    assert body["numberReturned"] == 40 and {"prev", "self"} <= {link["rel"] for link in body["links"]}
    assert client.get("/collections/activities/items", params={"limit": 50_000}).json()["numberReturned"] == 340


def test_datetime_selects_fiscal_years(client, demo_db):
    expected = scalar(demo_db, "SELECT count(*) FROM activities WHERE year_end >= 2024 AND year_start <= 2024")
    body = client.get("/collections/activities/items", params={"datetime": "2024-06-01", "limit": 1000}).json()
    assert body["numberMatched"] == expected > 0
    for f in body["features"]:
        assert f["properties"]["year"] <= 2024 <= f["properties"]["year_end"]
    open_end = client.get("/collections/activities/items", params={"datetime": "2025-01-01T00:00:00Z/.."}).json()
    assert open_end["numberMatched"] == scalar(demo_db, "SELECT count(*) FROM activities WHERE year_end >= 2025")
    for params, message in (({"datetime": "kemarin"}, "RFC 3339"), ({"datetime": "2025-01-01/2020-01-01"}, "after")):
        response = client.get("/collections/activities/items", params=params)
        assert response.status_code == 400 and message in response.json()["description"]
    regions = client.get("/collections/regions/items", params={"datetime": "2024-01-01"})
    assert regions.status_code == 400 and "no time" in regions.json()["description"]


def test_property_filters(client, demo_db):
    body = client.get("/collections/activities/items", params={"stage": "selesai", "limit": 1000}).json()
    assert body["numberMatched"] == scalar(demo_db, "SELECT count(*) FROM activities WHERE stage = 'selesai'") > 0
    assert {f["properties"]["stage"] for f in body["features"]} == {"selesai"}
    both = client.get("/collections/activities/items", params={"program": "NSUP", "year": 2024}).json()
    assert both["numberMatched"] == scalar(
        demo_db, "SELECT count(*) FROM activities WHERE program = 'NSUP' AND year_start = 2024")
    criteria = client.get("/collections/activities/items", params={"criteria": "2a", "limit": 1000}).json()
    assert criteria["numberMatched"] == scalar(demo_db, "SELECT count(*) FROM activities WHERE '2a' = ANY(criteria)")
    level, expected = scalar(demo_db, f"SELECT ARRAY[sc.level, count(*)::text] FROM slum_areas t LEFT JOIN LATERAL "
                                      f"({SLUM_AREA_SCORES}) sc ON true WHERE sc.level IS NOT NULL "
                                      "GROUP BY sc.level ORDER BY count(*) DESC LIMIT 1")
    levels = client.get("/collections/slum-areas/items", params={"level": level, "limit": 100}).json()
    assert levels["numberMatched"] == int(expected) > 0
    assert {f["properties"]["level"] for f in levels["features"]} == {level}
    for params, message in (({"proposer_name": "x"}, "unknown parameter 'proposer_name'"),
                            ({"year": "dua"}, "not a whole number"), ({"colour": "red"}, "unknown parameter")):
        response = client.get("/collections/activities/items", params=params)
        assert response.status_code == 400 and message in response.json()["description"]


@pytest.mark.parametrize(("expression", "lang", "sql"), [
    ("program = 'NSUP' AND year >= 2024", "cql2-text", "program = 'NSUP' AND year_start >= 2024"),
    ("title LIKE 'Rabat%' OR cost > 500000000", "cql2-text", "title LIKE 'Rabat%%' OR cost > 500000000"),
    ("NOT (stage IN ('selesai', 'serah_terima')) AND year BETWEEN 2023 AND 2025", None,
     "stage NOT IN ('selesai', 'serah_terima') AND year_start BETWEEN 2023 AND 2025"),
    ("S_INTERSECTS(geometry, BBOX(98.65, 3.55, 98.70, 3.60))", None,
     "ST_Intersects(geom, ST_MakeEnvelope(98.65, 3.55, 98.70, 3.60, 4326))"),
    ("A_CONTAINS(criteria, ('2a', '2b')) AND funding_source IS NULL", None,
     "criteria @> '{2a,2b}' AND funding_source IS NULL"),
    ('{"op": "=", "args": [{"property": "funding_source"}, "DANA_DESA"]}', "cql2-json", "funding_source = 'DANA_DESA'"),
])
def test_cql2_filters_match_sql(client, demo_db, expression, lang, sql):
    params = {"filter": expression, "limit": 1}
    if lang:
        params["filter-lang"] = lang
    response = client.get("/collections/activities/items", params=params)
    assert response.status_code == 200, response.text
    assert response.json()["numberMatched"] == scalar(demo_db, f"SELECT count(*) FROM activities WHERE {sql}")


@pytest.mark.parametrize(("expression", "message"), [
    ("proposer_phone = '0812'", "not a queryable"),
    ("year = 'dua ribu'", "compares 'year'"),
    ("stage = ", "cannot parse"),
    ("year + 1 > 2024", "not supported"),
])
def test_bad_cql2_filters_are_400(client, expression, message):
    response = client.get("/collections/activities/items", params={"filter": expression})
    assert response.status_code == 400 and message in response.json()["description"]


def test_keterpaduan_counts_programmes_per_slum_area(client, demo_db):
    features, _ = all_pages(client, "/collections/keterpaduan/items", {"limit": 100})
    assert len(features) == 60
    busiest = max(features, key=lambda f: f["properties"]["activities"])
    props = busiest["properties"]
    expected = scalar(demo_db, (
        "SELECT count(*) FROM activities a JOIN slum_areas s ON ST_Intersects(a.geom, s.geom) "
        "WHERE s.id = %s AND a.status NOT IN ('ditolak', 'dibatalkan')"), [busiest["id"]])
    assert props["activities"] == expected > 1
    assert props["program_count"] == len(props["programs"]) and props["funding_source_count"] == len(
        props["funding_sources"])
    total = scalar(demo_db, (
        "SELECT coalesce(sum(a.cost), 0) FROM activities a JOIN slum_areas s ON ST_Intersects(a.geom, s.geom) "
        "WHERE s.id = %s AND a.status NOT IN ('ditolak', 'dibatalkan')"), [busiest["id"]])
    # the demo has no budget lines: every rupiah is still proposed, none budgeted or realised (never added up)
    assert float(props["proposed_cost"]) == float(total) and props["budgeted"] == props["realised"] == 0


def test_personal_data_is_never_served(client):
    texts = [client.get("/collections/activities/items", params={"limit": 1000}).text,
             client.get("/collections/activities/items", params={"limit": 1000, "f": "html"}).text,
             client.get("/collections/activities/items/1").text,
             client.get("/collections/activities/queryables").text,
             client.get("/collections/keterpaduan/items", params={"limit": 100}).text]
    for text in texts:
        assert SECRET_NAME not in text and SECRET_PHONE not in text


def test_items_etag_follows_the_data(client, demo_db):
    first = client.get("/collections/activities/items", params={"limit": 5})
    etag = first.headers["etag"]
    assert etag.startswith('"') and "no-cache" in first.headers["cache-control"]
    again = client.get("/collections/activities/items", params={"limit": 5}, headers={"if-none-match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag
    with psycopg.connect(demo_db) as conn:
        conn.execute("UPDATE activities SET title = title || ' (diubah)' WHERE id = 1")
        conn.commit()
    try:
        changed = client.get("/collections/activities/items", params={"limit": 5}, headers={"if-none-match": etag})
        assert changed.status_code == 200 and changed.headers["etag"] != etag
        assert "(diubah)" in client.get("/collections/activities/items/1").json()["properties"]["title"]
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("UPDATE activities SET title = replace(title, ' (diubah)', '') WHERE id = 1")
            conn.commit()


def test_unpublished_areas_are_private_and_tagged_per_caller(client, demo_db):
    with psycopg.connect(demo_db) as conn:
        conn.execute("UPDATE decrees SET published = false")
        conn.commit()
    try:
        public = client.get("/collections/slum-areas/items")
        assert public.json()["numberMatched"] == 0
        client.app.dependency_overrides[current_principal] = lambda: Principal(role="admin", username="uji")
        admin = client.get("/collections/slum-areas/items", headers={"if-none-match": public.headers["etag"]})
        assert admin.status_code == 200 and admin.json()["numberMatched"] == 60
        assert admin.headers["etag"] != public.headers["etag"] and admin.headers["cache-control"].startswith("private")
    finally:
        client.app.dependency_overrides.clear()
        with psycopg.connect(demo_db) as conn:
            conn.execute("UPDATE decrees SET published = true")
            conn.commit()


def test_items_stream_with_flat_memory(demo_db):
    """10,000 features go out while Python holds a few hundred at a time (server-side cursor, itersize 500)."""
    from api.routes.features import _feature_collection
    from layers.serving.collections import get_collection
    from layers.serving.filters import ItemsQuery

    with psycopg.connect(demo_db) as conn:
        conn.execute("INSERT INTO activities (tenant, title, kind, year_start, year_end, geom) "
                     "SELECT '12.71', 'Uji aliran ' || i || repeat('x', 200), 'apar', 2024, 2024, "
                     "ST_SetSRID(ST_MakePoint(98.6 + i * 1e-6, 3.6), 4326) FROM generate_series(1, 10000) i")
        conn.commit()

    async def stream() -> tuple[int, int]:
        from psycopg_pool import AsyncConnectionPool

        async with AsyncConnectionPool(demo_db, min_size=1, max_size=2, kwargs={"autocommit": True}) as pool:
            collection = get_collection("activities")
            query = ItemsQuery.parse(collection, limit=10_000, filters={"kind": "apar"})
            size = 0
            tracemalloc.start()
            async for chunk in _feature_collection(pool, collection, query, 10_000, []):
                size += len(chunk)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return size, peak

    try:
        size, peak = asyncio.run(stream())
        assert size > 4_000_000
        assert peak < size / 4, f"peak {peak:,} bytes of Python memory for a {size:,}-byte response"
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM activities WHERE title LIKE 'Uji aliran %%'")
            conn.commit()
