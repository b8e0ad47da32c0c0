"""The catalogue over HTTP (issue 11 item 7): programmes, funding sources and activity kinds as JSON lists and as
non-spatial OGC API collections, and their codes as `enum`s of the activities' queryables; GDAL's OAPIF driver
still lists every collection."""

from __future__ import annotations

import csv
import subprocess

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path
from tests.e2e.servers import running_server


def _codes(name: str) -> list[str]:
    with open(data_path("reference", name), newline="", encoding="utf-8") as handle:
        return sorted(row["code"] for row in csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo_db(fresh_demo):
    return fresh_demo()


@pytest.fixture(scope="module")
def client(demo_db):
    with TestClient(create_app(demo_db)) as test_client:
        yield test_client


@pytest.mark.parametrize(("catalogue", "csv_name"), [("programs", "programs.csv"),
                                                     ("funding-sources", "funding_sources.csv"),
                                                     ("activity-kinds", "activity_kinds.csv")])
def test_each_catalogue_is_a_json_list_and_a_collection_without_geometry(client, catalogue, csv_name):
    listing = client.get(f"/catalogue/{catalogue}")
    assert listing.status_code == 200
    assert [row["code"] for row in listing.json()] == _codes(csv_name)
    collection = client.get(f"/collections/{catalogue}")
    assert collection.status_code == 200 and collection.json()["id"] == catalogue
    items = client.get(f"/collections/{catalogue}/items")
    assert items.status_code == 200 and items.headers["content-type"].startswith("application/geo+json")
    features = items.json()["features"]
    assert [f["id"] for f in features] == _codes(csv_name) and all(f["geometry"] is None for f in features)
    ids = [c["id"] for c in client.get("/collections").json()["collections"]]
    assert catalogue in ids and "activities" in ids


def test_activity_kinds_carry_what_a_form_needs(client):
    kinds = {row["code"]: row for row in client.get("/catalogue/activity-kinds").json()}
    paving = kinds["jalan_paving"]
    assert paving["unit"] == "m" and paving["geometry_type"] == "line" and paving["criteria"] == ["2a", "2b"]
    assert paving["unit_price"] == 450000 and paving["service_life_years"] > 0
    assert {"jalan_aspal", "jembatan", "talud", "box_culvert", "ipal_komunal", "mck", "tps3r", "hidran_kebakaran",
            "apar", "rth"} <= set(kinds)


def test_activity_queryables_give_codes_as_enum(client):
    schema = client.get("/collections/activities/queryables").json()["properties"]
    assert schema["kind"]["enum"] == _codes("activity_kinds.csv")
    assert schema["program"]["enum"] == _codes("programs.csv")
    assert schema["funding_source"]["enum"] == _codes("funding_sources.csv")


def test_unknown_catalogue_is_404_naming_the_known_ones(client):
    answer = client.get("/catalogue/colours")
    assert answer.status_code == 404 and "programs" in answer.json()["description"]


def test_ogrinfo_lists_spatial_and_catalogue_collections(demo_db):
    with running_server(demo_db, "--no-access-log") as base:
        result = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{base}/"], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        for collection in ("regions", "slum-areas", "activities", "programs", "funding-sources", "activity-kinds"):
            assert f": {collection}" in result.stdout, result.stdout
        kinds = subprocess.run(["ogrinfo", "-ro", "-al", "-q", f"OAPIF:{base}/", "activity-kinds"],
                               capture_output=True, text=True, timeout=120)
        assert kinds.returncode == 0, kinds.stderr
        assert "jalan_paving" in kinds.stdout
