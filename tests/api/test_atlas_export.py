"""The atlas as users get it: `GET /exports/atlas.pdf?tenant=` (the rows the caller may export, as the other
downloads) and `kotaku export atlas --tenant ... -o atlas.pdf` (a file appears whole; bad input exits 2 and
writes nothing). Pages are counted with poppler's pdfinfo, titles read with pdftotext."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import current_principal
from layers.accounts.access import Principal
from tests.two_tenants import seed

# a roman numeral title-cased as a word after another word ('Belawan Ii'): no output may show it
TITLE_CASED_NUMERAL = re.compile(r"(?<=\w )(Ii|Iii|Iv|Vi|Vii|Viii|Ix|Xi|Xii)\b")

POKJA_MEDAN = Principal(role="pokja", username="pokja-medan", tenant="12.71")
KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.fixture
def client(conn, empty_db):
    seed(conn)
    conn.commit()
    app = create_app(empty_db)
    with TestClient(app) as test_client:
        test_client.as_user = lambda p: app.dependency_overrides.__setitem__(current_principal, lambda: p)
        yield test_client


def test_atlas_download_holds_what_the_caller_may_export(client, tmp_path):
    anonymous = client.get("/exports/atlas.pdf", params={"tenant": "1271"})
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.headers["content-type"] == "application/pdf"
    assert anonymous.headers["content-disposition"] == 'attachment; filename="atlas_1271.pdf"'
    (tmp_path / "public.pdf").write_bytes(anonymous.content)
    assert pdf_pages(tmp_path / "public.pdf") == 3  # the kab/kota, its one kecamatan, its one published kawasan
    text = pdf_text(tmp_path / "public.pdf")
    assert "Kawasan published" in text and "Kawasan unpublished" not in text and "Pak Budi" not in text
    assert "Kecamatan Wilayah 12.71.01 (12.71.01)" in text
    client.as_user(POKJA_MEDAN)
    own = client.get("/exports/atlas.pdf", params={"tenant": "12.71"})
    (tmp_path / "own.pdf").write_bytes(own.content)
    assert "Kawasan unpublished" in pdf_text(tmp_path / "own.pdf")
    assert client.get("/exports").json()["atlas"]["path"] == "/exports/atlas.pdf?tenant=KODE"


def test_atlas_download_errors_are_clear(client):
    assert client.get("/exports/atlas.pdf").status_code == 400  # tenant is required
    assert client.get("/exports/atlas.pdf", params={"tenant": "1"}).status_code == 400
    unknown = client.get("/exports/atlas.pdf", params={"tenant": "12.72"}, headers={"Accept-Language": "id"})
    assert unknown.status_code == 400 and "12.72" in unknown.json()["description"]
    missing = client.get("/exports/atlas.pdf", params={"tenant": "12.71", "decree": "SK yang tidak ada"})
    assert missing.status_code == 404


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([KOTAKU, "export", "atlas", *args], capture_output=True, text=True, env=env, timeout=600)


def test_cli_writes_the_atlas_whole(demo_url, tmp_path):
    target = tmp_path / "atlas.pdf"
    result = kotaku(["--tenant", "12.71", "-o", str(target), "--json"], demo_url)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["pages"] == pdf_pages(target) == 1 + 21 + 16 and info["bytes"] == target.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.pdf"]  # no temporary file left
    # the demo's boundary file says 'Belawan Ii' (a tool title-cased it): the atlas prints it as the place is written
    text = subprocess.run(["pdftotext", "-layout", str(target), "-"], capture_output=True, text=True, check=True,
                          timeout=120).stdout
    assert "Belawan II" in text and "Belawan Ii" not in text
    assert TITLE_CASED_NUMERAL.findall(text) == []
    for args, message in ((["--tenant", "127"], "not a kab/kota code"), (["--tenant", "12.72"], "12.72 is unknown")):
        bad = kotaku([*args, "-o", str(tmp_path / "bad.pdf")], demo_url)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.pdf"]
