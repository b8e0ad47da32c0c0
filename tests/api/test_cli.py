"""The `kotaku` command as a user runs it: exit codes, --json reports, messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from data import data_path

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def run(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, env=env, timeout=300)


def test_import_regions_json_report(empty_db):
    result = run(["import", "regions", str(data_path("demo", "boundaries", "kota_medan_desa_kel.geojson")),
                  "--json"], empty_db)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["features_written"] == 151
    assert report["summary"]["by_level"] == {"desa_kelurahan": 151}


def test_broken_file_exits_2_and_names_features(empty_db, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kode": "12.71.01.1001", "nama": "A"},
         "geometry": {"type": "Polygon", "coordinates": [[[3.5, 98.6], [3.6, 98.6], [3.6, 98.7], [3.5, 98.6]]]}},
        {"type": "Feature", "properties": {"kode": "12.71.01.1002", "nama": "B"}, "geometry": None},
    ]}))
    result = run(["import", "regions", str(path), "--json"], empty_db)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert not report["ok"] and report["features_written"] == 0
    assert [e["feature"] for e in report["errors"]] == [1, 2]
    human = run(["import", "regions", str(path)], empty_db)
    assert human.returncode == 2 and "rejected, nothing written" in human.stderr and "swapped" in human.stderr


def test_missing_file_and_bad_tenant_are_clear_errors(empty_db, tmp_path):
    missing = run(["import", "regions", str(tmp_path / "nope.gpkg")], empty_db)
    assert missing.returncode == 2 and "nope.gpkg" in missing.stderr
    bad_tenant = run(["import", "slum-areas", str(tmp_path / "x.geojson"), "--tenant", "Medan"], empty_db)
    assert bad_tenant.returncode == 2 and "not a kab/kota code" in bad_tenant.stderr


def test_db_status_with_database_url(empty_db):
    result = run(["db", "status", "--json"], empty_db)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["external"] is True and status["schema_version"] == status["schema_head"]
    assert "***" in status["url"]  # the password is never printed


def test_reset_needs_confirmation(empty_db):
    result = run(["db", "reset"], empty_db)
    assert result.returncode == 2 and "--yes" in result.stderr


def test_a_plain_geopackage_is_imported_without_loading_pandas(empty_db, tmp_path):
    """What keeps `kotaku import regions` quick to start (bench/import_regions.py): a plain GeoPackage is read with
    sqlite3 (geo.gpkg_tables), so neither pyogrio nor pandas, geopandas or pyarrow is loaded; the rows are all
    there."""
    gpkg = tmp_path / "desa kel.gpkg"  # a space: the file is opened by URI
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(gpkg), str(data_path("demo", "boundaries",
                   "kota_medan_desa_kel.geojson")), "-nlt", "MULTIPOLYGON"], check=True, capture_output=True)
    script = ("import json, sys\nfrom api.cli import main\nsys.argv = ['kotaku', 'import', 'regions', sys.argv[1], "
              "'--json']\ntry:\n    main()\nexcept SystemExit as end:\n    assert not end.code, end.code\n"
              "print(json.dumps(sorted(m for m in ('pandas', 'geopandas', 'pyogrio', 'pyarrow') if m in sys.modules)),"
              " file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", script, str(gpkg)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "DATABASE_URL": empty_db})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["features_written"] == 151
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
