"""One settings object (README table, no module reading the environment) and logging: request ids in the
response header, in JSON log lines and as the database application_name; 500 and 503 in the error shape."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from api.logs import configure_logging
from data import data_path
from layers.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KOTAKU = str(Path(sys.executable).with_name("kotaku"))
CLOSED_PORT_URL = "postgresql://kotaku:x@127.0.0.1:9/kotaku?connect_timeout=1"  # nothing listens on port 9


def env_name(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else f"KOTAKU_{field.upper()}"


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("KOTAKU_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.fixture
def json_logs():
    """Logging configured as `KOTAKU_LOG_FORMAT=json` does it, into a buffer; the root logger restored after."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging(Settings(log_format="json", log_level="INFO"), buffer)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def json_lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


# -- settings ---------------------------------------------------------------------------------------------------
def test_settings_defaults(clean_env):
    settings = Settings()
    assert settings.database_url is None and settings.app_role == "kotaku_app"
    assert settings.tile_cache_mb == 256 and settings.tile_cache_bytes == 256 * 2**20
    assert settings.photo_max_distance_m == 200 and settings.pool_timeout_s == 30
    assert settings.log_level == "INFO" and settings.log_format == "text" and settings.serve_loop == "auto"
    assert settings.var_dir == ROOT / "var" and settings.attachments_dir == ROOT / "var" / "attachments"


def test_settings_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "postgresql://a:b@db.example:5432/kotaku")
    clean_env.setenv("KOTAKU_VAR", str(tmp_path))
    clean_env.setenv("KOTAKU_TILE_CACHE_MB", "0")
    clean_env.setenv("KOTAKU_PHOTO_MAX_DISTANCE_M", "50")
    clean_env.setenv("KOTAKU_LOG_FORMAT", "JSON")
    clean_env.setenv("KOTAKU_LOG_LEVEL", "debug")
    clean_env.setenv("KOTAKU_APP_ROLE", "kotaku_app_x")
    clean_env.setenv("KOTAKU_PG_BIN", "")  # empty is unset
    settings = Settings()
    assert settings.database_url == "postgresql://a:b@db.example:5432/kotaku"
    assert settings.var_dir == tmp_path and settings.attachments_dir == tmp_path / "attachments"
    assert settings.tile_cache_bytes == 0 and settings.photo_max_distance_m == 50
    assert settings.log_format == "json" and settings.log_level == "DEBUG" and settings.app_role == "kotaku_app_x"
    assert settings.pg_bin is None
    clean_env.setenv("KOTAKU_DATABASE_URL", "postgresql://k@other/kotaku")  # the prefixed name wins
    assert Settings().database_url == "postgresql://k@other/kotaku"
    assert Settings(database_url="postgresql://given/x").database_url == "postgresql://given/x"  # tests pass theirs
    clean_env.setenv("KOTAKU_TILE_CACHE_MB", "lots")
    with pytest.raises(ValidationError, match="tile_cache_mb"):
        Settings()


def readme_settings_table() -> dict[str, str]:
    """variable -> default, from the table of README's "Settings" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[1]
    return rows


def test_readme_table_lists_every_setting_with_its_default():
    table = readme_settings_table()
    for field, info in Settings.model_fields.items():
        assert env_name(field) in table, f"{env_name(field)} ({field}) is not in the README's Settings table"
        default = info.default
        if default is not None:
            shown = f"{default:g}" if isinstance(default, float | int) else str(default)
            assert f"`{shown}`" in table[env_name(field)], f"README default of {env_name(field)}: {shown}"
    known = {env_name(f) for f in Settings.model_fields} | {"KOTAKU_DATABASE_URL", "KOTAKU_TEST_DATABASE_URL"}
    assert set(table) <= known, f"README lists settings that do not exist: {set(table) - known}"


def test_no_module_reads_the_environment_but_the_settings():
    readers = re.compile(r"\bos\.environ\b|\bgetenv\s*\(|\bfrom os import[^\n]*\benviron\b|\bos\.getenvb?\b")
    offenders = []
    for room in ("geo", "indicators", "layers", "maps", "api"):
        for path in sorted((ROOT / room).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() == "layers/settings.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if readers.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "read the environment outside layers/settings.py:\n" + "\n".join(offenders)


# -- request ids and logs -----------------------------------------------------------------------------------------
@pytest.fixture
def client(empty_db):
    with TestClient(create_app(empty_db, Settings(log_format="json"))) as test_client:
        yield test_client


def test_request_id_round_trip_and_json_access_line(client, json_logs, caplog):
    caplog.set_level(logging.INFO)
    response = client.get("/collections/regions/items", params={"limit": 1}, headers={"X-Request-ID": "rid-42.a"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "rid-42.a"
    access = [e for e in json_lines(json_logs) if e["logger"] == "kotaku.access"]
    assert access and access[-1]["request_id"] == "rid-42.a"
    assert access[-1]["method"] == "GET" and access[-1]["path"] == "/collections/regions/items"
    assert access[-1]["status"] == 200 and access[-1]["ms"] >= 0
    assert any(getattr(r, "request_id", None) == "rid-42.a" for r in caplog.records if r.name == "kotaku.access")

    made = client.get("/collections", headers={"X-Request-ID": "no spaces; or <tags> please " + "x" * 80})
    rid = made.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)  # not the client's: a new one
    assert client.get("/collections").headers["x-request-id"] not in ("", rid)  # one per request
    assert any(e["request_id"] == rid for e in json_lines(json_logs) if e["logger"] == "kotaku.access")


def test_application_name_is_the_request_id_while_the_request_runs(client, empty_db):
    """The owner locks `regions`; an items request waits on the lock: pg_stat_activity shows who waits."""
    rid = "appname-check-7"
    result = {}
    with psycopg.connect(empty_db) as locker, psycopg.connect(empty_db, autocommit=True) as watcher:
        locker.execute("LOCK TABLE regions IN ACCESS EXCLUSIVE MODE")
        request = threading.Thread(target=lambda: result.update(response=client.get(
            "/collections/regions/items", headers={"X-Request-ID": rid})))
        request.start()
        # the session is named before its query reaches the lock: under load the first sighting may still
        # be running (wait_event_type NULL), so watch until it waits or the deadline passes
        sightings = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (sightings and sightings[-1][0] == "Lock"):
            seen = watcher.execute("SELECT wait_event_type, current_user FROM pg_stat_activity "
                                   "WHERE application_name = %s AND datname = current_database()",
                                   [f"kotaku {rid}"]).fetchone()
            if seen is not None:
                sightings.append(seen)
            time.sleep(0.05)
        locker.rollback()  # let the request go on
        request.join(30)
        assert sightings, "no database session named after the request"
        assert sightings[-1][0] == "Lock", f"the named session never waited on the lock: {sightings[-3:]}"
        assert result["response"].status_code == 200 and result["response"].headers["x-request-id"] == rid
        # given back to the pool, the connection is plain `kotaku` again
        names = [r[0] for r in watcher.execute("SELECT application_name FROM pg_stat_activity "
                                               "WHERE datname = current_database() AND application_name "
                                               "LIKE 'kotaku%%'").fetchall()]
        assert f"kotaku {rid}" not in names and "kotaku" in names


def test_an_unexpected_error_is_logged_and_answered_500_in_the_error_shape(empty_db, json_logs):
    app = create_app(empty_db, Settings())

    @app.get("/test-only/boom")  # on this throwaway instance only
    async def boom():
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app) as test_client:
        response = test_client.get("/test-only/boom", headers={"X-Request-ID": "boom-1"})
    body = response.json()
    assert response.status_code == 500 and set(body) == {"code", "description", "details"}
    assert body["code"] == "internal_error" and body["details"] == {"request_id": "boom-1"}
    assert "Terjadi kesalahan" in body["description"] and "unexpected error" in body["description"]
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "boom-1"
    logged = [e for e in json_lines(json_logs) if e["level"] == "ERROR"]
    assert logged and logged[-1]["request_id"] == "boom-1" and "RuntimeError" in logged[-1]["exc_info"]
    access = [e for e in json_lines(json_logs) if e["logger"] == "kotaku.access"]
    assert access[-1]["status"] == 500 and access[-1]["request_id"] == "boom-1"


def test_database_errors_from_any_route_are_503_database_unavailable(empty_db):
    app = create_app(empty_db, Settings())

    @app.get("/test-only/db-down")
    def db_down():
        raise psycopg.OperationalError("connection to server at 127.0.0.1 failed: server closed the connection")

    with TestClient(app) as test_client:
        response = test_client.get("/test-only/db-down", headers={"X-Request-ID": "down-1"})
    assert response.status_code == 503
    assert response.json() == {"code": "database_unavailable", "description": response.json()["description"],
                                "details": {"request_id": "down-1", "error": "OperationalError"}}


def test_a_stopped_database_gives_503_on_items():
    app = create_app(CLOSED_PORT_URL, Settings(pool_timeout_s=1))
    with TestClient(app) as test_client:
        started = time.monotonic()
        response = test_client.get("/collections/slum-areas/items")
    body = response.json()
    assert response.status_code == 503 and body["code"] == "database_unavailable"
    assert set(body) == {"code", "description", "details"} and body["details"]["request_id"]
    assert "Basis data" in body["description"] and "database is unavailable" in body["description"]
    assert time.monotonic() - started < 15


# -- the command line ------------------------------------------------------------------------------------------------
def test_cli_import_logs_one_line_to_stderr_and_keeps_json_stdout_clean(empty_db):
    path = data_path("demo", "boundaries", "kota_medan_kab_kota.geojson")
    env = {**os.environ, "DATABASE_URL": empty_db, "KOTAKU_LOG_FORMAT": "json"}
    result = subprocess.run([KOTAKU, "import", "regions", str(path), "--json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["features_written"] == 1  # stdout is the report only
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    done = [e for e in lines if e.get("command") == "import regions"]
    assert len(done) == 1 and done[0]["level"] == "INFO" and done[0]["file"].endswith("kota_medan_kab_kota.geojson")
    assert done[0]["read"] == 1 and done[0]["written"] == 1 and done[0]["seconds"] >= 0
