"""HTTP: /healthz, /docs, GeoJSON items with bbox, limit, offset, tenant and next links, JSON errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path
from layers.db.schema import head_revision
from layers.imports.regions import import_regions
from layers.imports.slum_areas import import_slum_areas

MEDAN = data_path("demo", "boundaries")


@pytest.fixture
def client(empty_db):
    with TestClient(create_app(empty_db)) as test_client:
        yield test_client


@pytest.fixture
def medan(conn):
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        import_regions(conn, MEDAN / f"kota_medan_{level}.geojson")


def test_healthz_reports_database_and_schema(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["schema_version"] == head_revision()
    assert body["postgis"].startswith("3.")


@pytest.mark.slow  # waits out connection timeouts (~5 s)
def test_healthz_says_503_when_the_database_is_unreachable():
    app = create_app("postgresql://kotaku:x@127.0.0.1:9/kotaku?connect_timeout=1")  # nothing listens on port 9
    with TestClient(app) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_docs_and_openapi(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/collections/{collection_id}/items" in paths and "/healthz" in paths


def test_region_items_paging_and_next_links(client, medan):
    page = client.get("/collections/regions/items", params={"limit": 50, "tenant": "12.71"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("application/geo+json")
    body = page.json()
    assert body["numberMatched"] == 173 and body["numberReturned"] == 50  # 1 kota, 21 kecamatan, 151 kelurahan
    codes = [f["id"] for f in body["features"]]
    seen = set(codes)
    next_link = next(link["href"] for link in body["links"] if link["rel"] == "next")
    while next_link:
        body = client.get(next_link).json()
        seen |= {f["id"] for f in body["features"]}
        next_link = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == 173  # every feature once, none repeated across pages
    feature = client.get("/collections/regions/items/12.71.01.1001").json()
    assert feature["properties"]["name"] == "Pasar Baru" and feature["geometry"]["type"] == "MultiPolygon"


def test_bbox_filters_and_tenant_scopes(client, medan):
    everything = client.get("/collections/regions/items", params={"limit": 1}).json()["numberMatched"]
    small = client.get("/collections/regions/items", params={"bbox": "98.68,3.58,98.69,3.59"}).json()
    assert 0 < small["numberMatched"] < everything
    for feature in small["features"]:
        assert feature["properties"]["tenant"] == "12.71"
    other = client.get("/collections/regions/items", params={"tenant": "7307"}).json()
    assert other["numberMatched"] == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"bbox": "98,3,99"}, "four numbers"),
        ({"bbox": "a,b,c,d"}, "four numbers"),
        ({"bbox": "3.5,98.6,3.6,98.7"}, "swapped"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"offset": -1}, "offset"),
        ({"tenant": "Medan"}, "not a kab/kota code"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_bad_parameters_get_400_with_a_reason(client, params, message):
    response = client.get("/collections/regions/items", params=params)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "description", "details"} and message in body["description"]


def test_unknown_collection_and_feature_are_404(client, medan):
    assert client.get("/collections/nope/items").status_code == 404
    response = client.get("/collections/regions/items/99.99")
    assert response.status_code == 404 and "no feature" in response.json()["description"]


def test_slum_area_features_carry_area_and_kelurahan(client, conn, medan, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    kelurahan = gpd.read_file(MEDAN / "kota_medan_desa_kel.geojson").set_index("kode")
    point = kelurahan.loc["12.71.01.1001"].geometry.representative_point()
    frame = gpd.GeoDataFrame({"Kawasan": ["Uji <b>tebal</b>"]},
                             geometry=[box(point.x - 0.001, point.y - 0.001, point.x + 0.001, point.y + 0.001)],
                             crs="EPSG:4326")
    frame.to_file(tmp_path / "k.geojson")
    import_slum_areas(conn, tmp_path / "k.geojson", tenant="12.71", decree="SK draf")
    hidden = client.get("/collections/slum-areas/items", params={"tenant": "12.71"}).json()
    assert hidden["numberMatched"] == 0  # an unpublished decree is not public
    assert client.get("/collections/slum-areas/items/1").status_code == 404
    import_slum_areas(conn, tmp_path / "k.geojson", tenant="12.71", decree="SK 1", published=True)
    body = client.get("/collections/slum-areas/items", params={"tenant": "12.71"}).json()
    assert body["numberMatched"] == 1
    properties = body["features"][0]["properties"]
    assert properties["area_ha"] == pytest.approx(4.9, rel=0.05)  # 0.002 x 0.002 degrees at 3.6 N
    assert properties["kelurahan_code"] == "12.71.01.1001"
    assert properties["kelurahan_codes"][0]["code"] == "12.71.01.1001"
    assert properties["kawasan"] == "Uji <b>tebal</b>"  # data is returned as data; pages escape it
