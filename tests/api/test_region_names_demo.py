"""The demo as loaded (its Medan boundaries say 'Belawan Ii', 'Kota Matsum Iv': a tool title-cased them) shows the
names as the places are written, 'Belawan II', on the OGC items (the atlas: tests/api/test_atlas_export.py)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from data import data_path

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
# a roman numeral title-cased as a word after another word: what the boundary file has and no output may show
TITLE_CASED_NUMERAL = re.compile(r"(?<=\w )(Ii|Iii|Iv|Vi|Vii|Viii|Ix|Xi|Xii)\b")


@pytest.fixture(scope="module")
def client(fresh_demo):
    with TestClient(create_app(fresh_demo())) as test_client:
        yield test_client


def test_the_shipped_file_is_still_title_cased():
    """What the other tests undo: the MIT boundary file is shipped unchanged."""
    text = data_path("demo", "boundaries", "kota_medan_desa_kel.geojson").read_text(encoding="utf-8")
    assert '"Belawan Ii"' in text and '"Kota Matsum Iv"' in text


def test_items_show_the_names_as_written(client):
    body = client.get("/collections/regions-desa-kelurahan/items", params={"limit": 1000}).json()
    names = {f["properties"]["code"]: f["properties"]["name"] for f in body["features"]}
    assert len(names) == body["numberMatched"] == 151
    assert names["12.71.08.1002"] == "Belawan II" and names["12.71.10.1008"] == "Kota Matsum IV"
    assert names["12.71.03.1007"] == "Sei Sikambing C II" and names["12.71.01.1001"] == "Pasar Baru"
    assert [n for n in names.values() if TITLE_CASED_NUMERAL.search(n)] == []
    kecamatan = client.get("/collections/regions-kecamatan/items", params={"limit": 100}).json()
    assert {"Medan Belawan", "Medan Kota"} <= {f["properties"]["name"] for f in kecamatan["features"]}

