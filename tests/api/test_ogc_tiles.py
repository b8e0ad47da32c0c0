"""Vector tiles over the Medan demo, decoded with mapbox-vector-tile: layer names, integer ids, styling
properties, low-zoom aggregates that agree with SQL, the per-tile cap, ETag/304/204 tied to data versions (an edit
shows at once, cache or not), row filters, TileJSON 3.0 and the OGC tiles resources."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from layers.serving.collections import SLUM_AREA_SCORES
from layers.serving.tiles import MAX_FEATURES_PER_TILE

TMS = morecantile.tms.get("WebMercatorQuad")
MEDAN = (98.675, 3.60)
SECRET_NAME, SECRET_PHONE = "Siti Rahasia Sekali", "081377665544"


@pytest.fixture(scope="module")
def demo_db(fresh_demo):
    url = fresh_demo()
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE activities SET proposer_name = %s, proposer_phone = %s", [SECRET_NAME, SECRET_PHONE])
        conn.commit()
    return url


@pytest.fixture(scope="module")
def client(demo_db):
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    tile = TMS.tile(lon, lat, z)
    return z, tile.x, tile.y


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content)


def scalar(url: str, query: str, params=()):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def test_feature_tiles_carry_styling_properties_and_integer_ids(client, demo_db):
    lon, lat = scalar(demo_db, "SELECT ARRAY[ST_X(c), ST_Y(c)] FROM (SELECT ST_Centroid(geom) c FROM slum_areas "
                               "WHERE id = 1) s")
    z, x, y = tile_of(lon, lat, 14)
    for collection, expected in (
        # (priority too, once scored: MVT leaves out null values, and the demo has no priority inputs)
        ("slum-areas", {"level", "score", "kawasan", "area_ha", "kelurahan_code", "tenant"}),
        ("activities", {"program", "funding_source", "stage", "year", "kind", "status", "cost", "criteria"}),
        ("keterpaduan", {"activities", "program_count", "funding_source_count", "proposed_cost", "programs",
                         "level"}),
        ("survey-units", {"label", "households", "slum_area_id"}),
        ("regions", {"code", "name", "level"}),
    ):
        response = client.get(f"/tiles/{collection}/{z}/{x}/{y}.pbf")
        assert response.status_code == 200, collection
        assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        layers = decode(response.content)
        assert list(layers) == [collection]  # layer name = collection id
        features = layers[collection]["features"]
        assert features and all(isinstance(f["id"], int) and f["id"] > 0 for f in features)
        keys = set().union(*(f["properties"] for f in features))
        assert expected <= keys, (collection, expected - keys)
        assert not {"proposer_name", "proposer_phone", "attributes"} & keys
        assert SECRET_NAME.encode() not in response.content and SECRET_PHONE.encode() not in response.content
    slum = decode(client.get(f"/tiles/slum-areas/{z}/{x}/{y}.pbf").content)["slum-areas"]["features"]
    first = next(f for f in slum if f["id"] == 1)
    level, score = scalar(demo_db, f"SELECT ARRAY[sc.level, sc.score::text] FROM slum_areas t LEFT JOIN LATERAL "
                                   f"({SLUM_AREA_SCORES}) sc ON true WHERE t.id = 1")
    assert level in ("TK", "KR", "KS", "KB")
    assert first["properties"]["level"] == level and first["properties"]["score"] == float(score)


def test_ogc_route_is_the_xyz_tile(client):
    z, x, y = tile_of(*MEDAN, 13)
    xyz = client.get(f"/tiles/activities/{z}/{x}/{y}.pbf")
    ogc = client.get(f"/collections/activities/tiles/WebMercatorQuad/{z}/{y}/{x}")  # OGC order: row (y), col (x)
    assert xyz.status_code == ogc.status_code == 200 and xyz.content == ogc.content


@pytest.mark.parametrize(("z", "level", "prefix"), [(10, "desa_kelurahan", 13), (8, "kecamatan", 8)])
def test_low_zooms_show_region_aggregates_that_agree_with_sql(client, demo_db, z, level, prefix):
    zz, x, y = tile_of(*MEDAN, z)
    features = decode(client.get(f"/tiles/activities/{zz}/{x}/{y}.pbf").content)["activities"]["features"]
    assert features and {f["properties"]["aggregate"] for f in features} == {level}
    for f in features:
        code = f["properties"]["code"]
        assert f["id"] == int(code.replace(".", ""))
        expected = scalar(demo_db, "SELECT count(*) FROM activities WHERE left(kelurahan_code, %s) = %s",
                          [prefix, code])
        assert f["properties"]["activities"] == expected
    slum = decode(client.get(f"/tiles/slum-areas/{zz}/{x}/{y}.pbf").content)["slum-areas"]["features"]
    assert sum(f["properties"]["slum_areas"] for f in slum) == scalar(
        demo_db, "SELECT count(*) FROM slum_areas WHERE kelurahan_code IS NOT NULL")
    assert {f["properties"]["level"] for f in slum} <= {"TK", "KR", "KS", "KB"}


def test_an_edit_shows_in_the_next_aggregate_tile(client, demo_db):
    """Aggregates read per-kelurahan tallies; writes mark their kelurahan and the next tile recomputes them."""
    z, x, y = tile_of(*MEDAN, 10)
    url = f"/tiles/activities/{z}/{x}/{y}.pbf"

    def counts() -> dict[str, int]:
        features = decode(client.get(url).content)["activities"]["features"]
        return {f["properties"]["code"]: f["properties"]["activities"] for f in features}

    before = counts()
    code = "12.71.01.1001"
    with psycopg.connect(demo_db) as conn:
        conn.execute("INSERT INTO activities (tenant, title, kind, year_start, year_end, kelurahan_code, program, "
                     "geom) "
                     "SELECT '12.71', 'Uji agregat ' || i, 'apar', 2030, 2030, %s, 'BSPS', "
                     "ST_PointOnSurface(r.geom) FROM regions r, generate_series(1, 3) i WHERE r.code = %s",
                     [code, code])
        conn.commit()
    try:
        after = counts()
        assert after[code] == before.get(code, 0) + 3
        assert {k: v for k, v in after.items() if k != code} == {k: v for k, v in before.items() if k != code}
        feature = next(f for f in decode(client.get(url).content)["activities"]["features"]
                       if f["properties"]["code"] == code)
        assert feature["properties"]["year_max"] == 2030
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM activities WHERE title LIKE 'Uji agregat %%'")
            conn.commit()
    assert counts() == before


def test_regions_show_coarser_levels_at_low_zoom(client):
    z, x, y = tile_of(*MEDAN, 9)
    levels = {f["properties"]["level"] for f in decode(client.get(f"/tiles/regions/{z}/{x}/{y}.pbf").content)
              ["regions"]["features"]}
    assert levels == {"kabkota", "kecamatan"}
    z, x, y = tile_of(*MEDAN, 12)
    levels = {f["properties"]["level"] for f in decode(client.get(f"/tiles/regions/{z}/{x}/{y}.pbf").content)
              ["regions"]["features"]}
    assert "desa_kelurahan" in levels


def test_a_dense_tile_is_capped(client, demo_db):
    with psycopg.connect(demo_db) as conn:
        conn.execute("INSERT INTO activities (tenant, title, kind, year_start, year_end, cost, geom) "
                     "SELECT '12.71', 'Uji padat ' || i, 'apar', 2024, 2024, i, "
                     "ST_SetSRID(ST_MakePoint(98.7001 + (i %% 100) * 1e-5, 3.5001 + (i / 100) * 1e-5), 4326) "
                     "FROM generate_series(1, %s) i", [MAX_FEATURES_PER_TILE + 500])
        conn.commit()
    try:
        z, x, y = tile_of(98.7003, 3.5003, 15)
        response = client.get(f"/tiles/activities/{z}/{x}/{y}.pbf")
        features = decode(response.content)["activities"]["features"]
        assert len(features) == MAX_FEATURES_PER_TILE and response.headers["x-tile-capped"] == "true"
        assert min(int(f["properties"]["cost"]) for f in features) == 501  # the costliest kept first
    finally:
        with psycopg.connect(demo_db) as conn:
            conn.execute("DELETE FROM activities WHERE title LIKE 'Uji padat %%'")
            conn.commit()


def test_empty_tiles_are_204_and_etags_give_304(client):
    empty = client.get("/tiles/activities/12/100/100.pbf")  # the Atlantic
    assert empty.status_code == 204 and not empty.content and empty.headers["etag"]
    z, x, y = tile_of(*MEDAN, 13)
    first = client.get(f"/tiles/activities/{z}/{x}/{y}.pbf")
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/") and "no-cache" in first.headers["cache-control"]
    again = client.get(f"/tiles/activities/{z}/{x}/{y}.pbf", headers={"if-none-match": etag})
    assert again.status_code == 304 and not again.content and again.headers["etag"] == etag
    assert client.get(f"/tiles/activities/{z}/{x}/{y}.pbf", headers={"if-none-match": '"other", ' + etag}
                      ).status_code == 304


@pytest.mark.parametrize("cache_mb", ["0", "64"])
def test_an_edit_shows_in_the_next_tile_without_restart(demo_db, monkeypatch, cache_mb):
    monkeypatch.setenv("KOTAKU_TILE_CACHE_MB", cache_mb)
    lon, lat, activity = scalar(demo_db, "SELECT ARRAY[ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)), "
                                         "id] FROM activities WHERE kind = 'apar' ORDER BY id LIMIT 1")
    z, x, y = tile_of(lon, lat, 16)
    url = f"/tiles/activities/{z}/{x}/{y}.pbf"
    with TestClient(create_app(demo_db)) as client:
        before = client.get(url)
        again = client.get(url)
        assert again.headers["etag"] == before.headers["etag"] and again.content == before.content
        with psycopg.connect(demo_db) as conn:
            old = conn.execute("SELECT stage FROM activities WHERE id = %s", [int(activity)]).fetchone()[0]
            conn.execute("UPDATE activities SET stage = 'pelaksanaan', program = 'PISEW' WHERE id = %s",
                         [int(activity)])
            conn.commit()
        try:
            after = client.get(url, headers={"if-none-match": before.headers["etag"]})
            assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
            feature = next(f for f in decode(after.content)["activities"]["features"] if f["id"] == int(activity))
            assert feature["properties"]["stage"] == "pelaksanaan" and feature["properties"]["program"] == "PISEW"
        finally:
            with psycopg.connect(demo_db) as conn:
                conn.execute("UPDATE activities SET stage = %s, program = NULL WHERE id = %s", [old, int(activity)])
                conn.commit()


def test_decree_publication_changes_public_tiles(client, demo_db):
    z, x, y = tile_of(*MEDAN, 10)
    url = f"/tiles/slum-areas/{z}/{x}/{y}.pbf"
    published = client.get(url)
    assert published.status_code == 200
    with psycopg.connect(demo_db) as conn:
        conn.execute("UPDATE decrees SET published = false")
        conn.commit()
    try:
        hidden = client.get(url, headers={"if-none-match": published.headers["etag"]})
        assert hidden.status_code == 204  # nothing public left
        client.app.dependency_overrides[current_principal] = lambda: Principal(role="pokja", tenant="12.71",
                                                                                username="pokja.medan")
        own = client.get(url)
        assert own.status_code == 200 and own.headers["cache-control"].startswith("private")
        assert own.headers["etag"] != hidden.headers["etag"]
    finally:
        client.app.dependency_overrides.clear()
        with psycopg.connect(demo_db) as conn:
            conn.execute("UPDATE decrees SET published = true")
            conn.commit()


def test_tenant_filter_and_bad_addresses(client):
    z, x, y = tile_of(*MEDAN, 13)
    assert client.get(f"/tiles/activities/{z}/{x}/{y}.pbf", params={"tenant": "73.07"}).status_code == 204
    assert client.get(f"/tiles/activities/{z}/{x}/{y}.pbf", params={"tenant": "1271"}).status_code == 200
    assert client.get(f"/tiles/activities/{z}/{x}/{y}.pbf", params={"tenant": "Medan"}).status_code == 400
    for path in ("/tiles/activities/3/8/1.pbf", "/tiles/activities/23/0/0.pbf", "/tiles/nope/1/0/0.pbf",
                 "/collections/activities/tiles/WorldCRS84Quad/1/0/0"):
        assert client.get(path).status_code == 404, path


def test_tilejson_3_with_vector_layer_fields(client):
    doc = client.get("/tiles/slum-areas/tilejson.json").json()
    assert doc["tilejson"] == "3.0.0" and doc["tiles"][0].endswith("/tiles/slum-areas/{z}/{x}/{y}.pbf")
    layer = doc["vector_layers"][0]
    assert layer["id"] == "slum-areas"
    assert {"level": "String", "score": "Number", "priority": "String", "aggregate": "String",
            "slum_areas": "Number"}.items() <= layer["fields"].items()
    activities = client.get("/tiles/activities/tilejson.json", params={"tenant": "12.71"}).json()
    assert activities["tiles"][0].endswith("?tenant=12.71")
    assert {"program", "funding_source", "stage", "year"} <= set(activities["vector_layers"][0]["fields"])
    png = client.get("/tiles/keterpaduan/tilejson.json", params={"format": "png"}).json()
    assert png["tiles"][0].endswith(".png?style=cakupan-program") and "vector_layers" not in png


def test_ogc_tiles_resources(client):
    sets = client.get("/tileMatrixSets").json()["tileMatrixSets"]
    assert [s["id"] for s in sets] == ["WebMercatorQuad"]
    tms = client.get("/tileMatrixSets/WebMercatorQuad").json()
    assert tms["id"] == "WebMercatorQuad" and len(tms["tileMatrices"]) == 25
    tilesets = client.get("/collections/activities/tiles").json()["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    tileset = client.get("/collections/activities/tiles/WebMercatorQuad").json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith("/collections/activities/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    assert "stage" in tileset["layers"][0]["propertiesSchema"]["properties"]
    z, x, y = tile_of(*MEDAN, 13)
    href = template.format(tileMatrix=z, tileRow=y, tileCol=x)
    assert client.get(href.replace("http://testserver", "")).status_code == 200


def test_version_reads_are_shared_under_load_yet_never_stale(demo_db):
    import asyncio

    from psycopg_pool import AsyncConnectionPool

    from layers.serving.versions import VersionReader

    async def run() -> tuple[int, int, int]:
        async with AsyncConnectionPool(demo_db, min_size=1, max_size=4, kwargs={"autocommit": True}) as pool:
            reader = VersionReader(pool)
            results = await asyncio.gather(*(reader.versions(("activities",)) for _ in range(50)))
            assert len(set(results)) == 1
            shared_reads = reader.reads
            async with pool.connection() as conn:
                await conn.execute("UPDATE activities SET title = title WHERE id = 1")
            after = await reader.versions(("activities", "nope"))
            return shared_reads, results[0][0], after

    shared_reads, before, after = asyncio.run(run())
    assert shared_reads < 5  # 50 concurrent requests, a handful of queries
    assert after == (before + 1, 0)  # the write committed before the request is seen; unknown layers are 0


def test_tile_shapes_are_simplified_to_half_a_pixel_and_no_further(client, demo_db):
    """Kelurahan outlines at zoom 11 (what a city view draws three times: boundaries, slum and activity aggregates)
    come with fewer vertices than PostGIS would clip from the stored polygons, none farther than half a pixel of
    a 512-pixel tile (4 of 4096 units, plus the unit grid) from the exact outline."""
    from shapely import wkt
    from shapely.geometry import box, shape

    z, x, y = tile_of(*MEDAN, 11)
    tile = mapbox_vector_tile.decode(client.get(f"/tiles/regions/{z}/{x}/{y}.pbf").content,
                                     default_options={"y_coord_down": True})
    drawn = {f["id"]: shape(f["geometry"]) for f in tile["regions"]["features"]
             if f["properties"]["level"] == "desa_kelurahan"}
    with psycopg.connect(demo_db) as conn:
        exact = dict(conn.execute(
            "SELECT replace(code, '.', '')::bigint, ST_AsText(ST_AsMVTGeom(ST_Transform(geom, 3857), "
            "ST_TileEnvelope(%s, %s, %s), 4096, 64, true)) FROM regions WHERE level = 'desa_kelurahan' "
            "AND code LIKE '12.71.%%'", [z, x, y]).fetchall())
    assert len(drawn) > 50
    drawn_vertices = exact_vertices = 0
    for fid, geometry in drawn.items():
        outline = wkt.loads(exact[fid])
        visible = box(0, 0, 4096, 4096)  # the 64-unit buffer around the tile is drawn by its neighbours
        shown, wanted = geometry.intersection(visible), outline.intersection(visible)
        if shown.is_empty or wanted.is_empty:  # a sliver along the tile's edge: thinner than the tolerance
            sliver = wanted if shown.is_empty else shown
            assert sliver.area <= (4 + 1.5) * sliver.length / 2, fid
        else:
            assert shown.hausdorff_distance(wanted) <= 4 + 1.5, fid
        drawn_vertices += len(geometry.boundary.coords) if geometry.boundary.geom_type == "LineString" else sum(
            len(part.coords) for part in geometry.boundary.geoms)
        exact_vertices += len(outline.boundary.coords) if outline.boundary.geom_type == "LineString" else sum(
            len(part.coords) for part in outline.boundary.geoms)
    assert drawn_vertices < 0.9 * exact_vertices, (drawn_vertices, exact_vertices)
