"""Messages in Bahasa Indonesia and English (geo/messages.py, data/messages/messages.csv): the catalogue is
complete and clean, HTTP errors answer in the language Accept-Language asks for, the CLI's --lang."""

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
from geo.errors import InvalidInput, NotFound
from geo.messages import catalogue, describe, message, negotiate, placeholders
from geo.problems import Problem
from layers.imports.activities import import_activities
from layers.imports.report import ImportFailed
from tests.layers import test_import_activities

medan = test_import_activities.medan  # Medan's boundaries in the test database

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
# a Python class or value leaking into a sentence: None, NoneType, InvalidInput, ValueError, <class ...>
LEAKS = re.compile(r"\bNone\b|NoneType|<class|\b[A-Z][a-z]+[A-Z][A-Za-z]*(Error|Input|Exception|Format)\b|\bnan\b")
SAMPLE = {"file": "kumuh.csv", "feature": 3, "field": "skor", "value": "abc", "layer": "RT", "layers": "RT, RW",
          "reason": "bad", "format": "CSV", "formats": "CSV, XLSX", "suffix": ".pdf", "tenant": "12.71",
          "area": "Indonesia", "bbox": "94,-11,142,7", "x0": "1", "x1": "2", "y0": "3", "y1": "4",
          "list": "programme", "known": "kotaku, apbd", "rows": "65, 67", "first": 2,
          "read": 3, "written": 0, "seconds": "0.01", "count": 2, "max": 80, "level": "KR", "score": 62,
          "expected": "KB", "name": "Bagan Dali", "within": " (kecamatan Medan Belawan)", "closest": "Bagan Deli",
          "code": "12.71.08.1006", "label": "RT 01", "kelurahan": "Bagan Deli", "path": "/x", "method": "PUT"}


def test_every_message_has_both_languages_with_the_same_parameters():
    for key, texts in catalogue().items():
        assert texts["en"].strip() and texts["id"].strip(), key
        assert sorted(placeholders(texts["en"])) == sorted(placeholders(texts["id"])), key
        assert texts["en"] != texts["id"] or not re.search("[a-z]{4}", texts["en"]), key
        if not key.startswith(("where.", "http.")):  # Problem.of(key, feature=, field=, severity=, **params)
            assert not {"feature", "field", "severity"} & set(placeholders(texts["en"])), key


@pytest.mark.parametrize("lang", ["id", "en"])
def test_no_message_shows_none_or_a_class_name(lang):
    for key in catalogue():
        for params in (SAMPLE, {k: None for k in SAMPLE}, {}):
            text = message(key, lang, **params)
            assert not LEAKS.search(text), (key, text)
            assert "{" not in text and "}" not in text, (key, text)


def test_problems_and_errors_render_in_both_languages():
    problem = Problem.of("field.not_number", feature=4, field="skor", value="12,5x")
    assert str(problem) == "feature 4, field skor: '12,5x' is not a number"
    assert problem.text("id") == "fitur/baris 4, kolom skor: '12,5x' bukan angka"
    assert problem.as_dict("id")["reason"] == "'12,5x' bukan angka" and problem.as_dict()["key"] == "field.not_number"
    error = InvalidInput.of("file.missing", file="kumuh.csv")
    assert error.message == "file not found: kumuh.csv" and describe(error, "id") == "berkas tidak ditemukan: kumuh.csv"
    plain = NotFound("survey unit 9 does not exist")
    assert describe(plain, "en") == "survey unit 9 does not exist"
    assert describe(plain, "id").startswith("Data atau alamat yang diminta tidak ditemukan")
    assert [negotiate("id-ID,id;q=0.9,en;q=0.8"), negotiate("en-US,id;q=0.5"), negotiate(None), negotiate("fr")] == [
        "id", "en", "en", "en"]


@pytest.fixture
def client(empty_db):
    with TestClient(create_app(empty_db), raise_server_exceptions=False) as test_client:
        yield test_client


def test_http_errors_answer_in_the_asked_language(client):
    for path, status in (("/tidak-ada", 404), ("/collections/tidak-ada", 404),
                         ("/collections/slum-areas/items?limit=banyak", 400), ("/users", 401)):
        english = client.get(path)
        indonesian = client.get(path, headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.8"})
        assert english.status_code == indonesian.status_code == status, (path, english.text, indonesian.text)
        assert indonesian.headers["content-language"] == "id"
        assert set(indonesian.json()) == {"code", "description", "details"}
        assert indonesian.json()["code"] == english.json()["code"]
        assert indonesian.json()["description"] != english.json()["description"], path
        assert not LEAKS.search(indonesian.json()["description"]), indonesian.json()
    assert client.get("/tidak-ada", headers={"Accept-Language": "id"}).json()["description"] == (
        "Alamat tidak ada: /tidak-ada")
    bad = client.get("/collections/slum-areas/items?limit=banyak", headers={"Accept-Language": "id"}).json()
    assert "tidak valid" in bad["description"] and "limit" in bad["description"]
    assert "Silakan masuk" in client.get("/users", headers={"Accept-Language": "id"}).json()["description"]
    assert client.get("/tidak-ada").json()["description"] == "Not Found"  # English stays as it was


def test_the_cli_reports_an_import_in_either_language(database_url, tmp_path):
    path = tmp_path / "kosong.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": "12.71.01.1001", "nama": "X"}, "geometry": None}]}))
    env = {**os.environ, "DATABASE_URL": database_url}
    runs = {lang: subprocess.run([KOTAKU, "--lang", lang, "import", "regions", str(path), "--json"],
                                 capture_output=True, text=True, timeout=300, env=env) for lang in ("id", "en")}
    assert {r.returncode for r in runs.values()} == {2}, {k: r.stderr[-500:] for k, r in runs.items()}
    reasons = {lang: json.loads(r.stdout)["errors"][0]["reason"] for lang, r in runs.items()}
    assert reasons == {"id": "geometri kosong", "en": "geometry is empty"}, runs["id"].stdout[:3000]
    human = subprocess.run([KOTAKU, "--lang", "id", "import", "regions", str(path)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert human.returncode == 2 and "ditolak, tidak ada yang ditulis" in human.stderr
    assert "1 kesalahan:" in human.stderr and "fitur/baris 1, kolom geometry: geometri kosong" in human.stderr
    bad = subprocess.run([KOTAKU, "--lang", "fr", "db", "status"], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "give id or en" in bad.stderr


def test_the_same_bad_activities_file_in_both_languages(conn, medan, tmp_path):
    path = tmp_path / "usulan.csv"
    path.write_text(test_import_activities.HEADER
                    + 'Kolam,kolam_retensi,2025,REGULER,APBD_KABKOTA,"POINT (98.686 3.584)",\n'
                    + ',jalan_paving,,BANSOS,APBD_KABKOTA,"POINT (98.686 3.584)",\n'
                    + 'Hidran,hidran_umum,2025,REGULER,APBD_KABKOTA,"POINT (3.584 98.686)",\n'
                    + 'Hidran,hidran_umum,2025,REGULER,APBD_KABKOTA,"POINT EMPTY",\n')
    with pytest.raises(ImportFailed) as failed:
        import_activities(conn, path, tenant="12.71")
    report = failed.value.report
    english = {(p["feature"], p["field"]): p["reason"] for p in report.as_dict("en")["errors"]}
    indonesian = {(p["feature"], p["field"]): p["reason"] for p in report.as_dict("id")["errors"]}
    assert english.keys() == indonesian.keys()
    assert english[(1, "kind")].startswith("unknown activity kind 'kolam_retensi'; known: ")
    assert indonesian[(1, "kind")].startswith("jenis kegiatan 'kolam_retensi' tidak dikenal; yang dikenal: ")
    assert (english[(2, "title")], indonesian[(2, "title")]) == ("title is required", "title wajib diisi")
    assert indonesian[(2, "year_start")] == "year_start wajib diisi (tahun anggaran, 2000-2100)"
    assert indonesian[(2, "program")].startswith("program 'BANSOS' tidak dikenal")
    assert indonesian[(3, "geometry")].endswith("lintang dan bujur tampaknya tertukar")
    assert indonesian[(4, "geometry")] == "geometri kosong"
    for text in [*english.values(), *indonesian.values()]:
        assert not LEAKS.search(text), text


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_error_pages_in_indonesian_unless_it_asks_for_english(client):
    page = client.get("/tidak-ada", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == "id" and '<html lang="id">' in page.text
    assert "404 &middot; Tidak ditemukan" in page.text and "Alamat tidak ada: /tidak-ada" in page.text
    assert "Kembali ke peta" in page.text and "Kode kesalahan: <code>not_found</code>" in page.text
    english = client.get("/tidak-ada", headers={"Accept": BROWSER, "Accept-Language": "en-US,en;q=0.9"})
    assert english.headers["content-language"] == "en" and "404 &middot; Not found" in english.text
    assert "No such path: /tidak-ada" in english.text and "Back to the map" in english.text
    asked = client.get("/tidak-ada?lang=en", headers={"Accept": BROWSER, "Accept-Language": "id"})
    assert "No such path" in asked.text
    login = client.get("/users", headers={"Accept": BROWSER, "Accept-Language": "id-ID,id;q=0.9,en;q=0.8"})
    assert login.status_code == 401 and "Perlu masuk" in login.text and "Silakan masuk" in login.text
    bad = client.get("/collections/slum-areas/items?limit=banyak", headers={"Accept": BROWSER})
    assert bad.status_code == 400 and "parameter limit tidak valid" in bad.text
    for response in (page, english, login, bad):
        assert not LEAKS.search(response.text) and "Traceback" not in response.text, response.text
    # scripts keep the JSON shape: JSON asked first, ?f=json, or no HTML in Accept
    for headers, path in (({"Accept": "application/json, text/html"}, "/tidak-ada"),
                          ({"Accept": BROWSER}, "/tidak-ada?f=json"), ({"Accept": "*/*"}, "/tidak-ada")):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and set(response.json()) == {"code", "description", "details"}
