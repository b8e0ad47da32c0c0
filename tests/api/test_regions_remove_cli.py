"""`kotaku regions remove|replace` and BPS-only boundary files, as a user runs them (the installed CLI, real PostGIS).

What a user checks: what goes is listed with what uses it; a removal that would orphan slum areas is refused
(exit 4, the conflict code) and changes nothing; forced, the undo file puts every row back;
replace swaps a wrong file for the right one; a BPS-coded file loads with Kemendagri codes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pyogrio
import pytest

from data import data_path
from tests.layers.test_bps_crosswalk import bps_file

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
MEDAN = data_path("demo", "boundaries")


def kotaku(args: list[str], url: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "KOTAKU_VAR": str(tmp_path / "var")}
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, env=env, timeout=300)


def regions(url: str, where: str = "TRUE") -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT code, name, bps_code, ST_AsText(geom) FROM regions WHERE {where} ORDER BY code"  # noqa: S608
        ).fetchall()


@pytest.mark.writes_demo
def test_remove_refuses_with_dependents_then_forced_and_undone(demo_url, tmp_path):
    before = regions(demo_url)
    kecamatan = "12.71.08"  # Medan Belawan: the demo has slum areas there
    dry = kotaku(["regions", "remove", kecamatan, "--dry-run", "--json"], demo_url, tmp_path)
    assert dry.returncode == 0, dry.stderr
    told = json.loads(dry.stdout)
    assert told["removed"] is False and told["regions"] == 7  # the kecamatan and its 6 kelurahan
    assert told["dependents"]["slum areas (their kelurahan)"] > 0

    refused = kotaku(["regions", "remove", kecamatan], demo_url, tmp_path)
    assert refused.returncode == 4
    assert "slum areas" in refused.stderr and "--force" in refused.stderr and "Traceback" not in refused.stderr
    assert regions(demo_url) == before

    undo = tmp_path / "undo.gpkg"
    forced = kotaku(["regions", "remove", kecamatan, "--force", "--undo-file", str(undo), "--json"], demo_url, tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["removed"] is True
    assert regions(demo_url, f"code LIKE '{kecamatan}%'") == []
    assert pyogrio.read_info(undo)["features"] == 7

    back = kotaku(["import", "regions", str(undo)], demo_url, tmp_path)
    assert back.returncode == 0, back.stderr
    assert regions(demo_url) == before


def test_replace_a_wrong_boundary_and_undo(empty_db, tmp_path):
    url = empty_db
    right = kotaku(["import", "regions", str(MEDAN / "kota_medan_desa_kel.geojson")], url, tmp_path)
    assert right.returncode == 0, right.stderr
    good = regions(url)
    # a wrong file for 12.71: only the first 100 kelurahan, names and outlines of someone else's
    frame = pyogrio.read_dataframe(MEDAN / "kota_medan_desa_kel.geojson").iloc[:100].copy()
    frame["nama"] = "SALAH " + frame["nama"]
    frame["geometry"] = frame.geometry.translate(0.001, 0)
    wrong = tmp_path / "wrong.gpkg"
    pyogrio.write_dataframe(frame, wrong)
    undo = tmp_path / "undo.gpkg"
    replaced = kotaku(["regions", "replace", str(wrong), "--within", "12.71", "--undo-file", str(undo), "--json"],
                      url, tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    result = json.loads(replaced.stdout)
    assert result["regions"] == 51 and result["import"]["features_written"] == 100
    assert len(regions(url)) == 100 and all(r[1].startswith("SALAH ") for r in regions(url))

    # a file for another kab/kota is refused, nothing changes
    other = kotaku(["regions", "replace", str(MEDAN / "kota_medan_desa_kel.geojson"), "--within", "12.72"], url,
                   tmp_path)
    assert other.returncode == 2 and "outside 12.72" in other.stderr
    assert len(regions(url)) == 100

    undone = kotaku(["regions", "replace", str(undo), "--within", "12.71"], url, tmp_path)
    assert undone.returncode == 0, undone.stderr
    assert regions(url) == good


def test_bps_only_file_loads_with_kemendagri_codes_and_match_report(empty_db, tmp_path):
    answer = bps_file(MEDAN / "kota_medan_desa_kel.geojson", tmp_path / "medan_bps.gpkg", "1275")
    result = kotaku(["import", "regions", str(tmp_path / "medan_bps.gpkg"), "--json"], empty_db, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["crosswalk"]["matched"] == 151
    assert report["summary"]["crosswalk"]["unmatched"] == []
    rows = {r[2]: r[0] for r in regions(empty_db)}
    assert rows == answer  # every BPS code kept beside the Kemendagri code it was matched to


def test_bps_file_with_unknown_names_is_rejected_then_matched_by_geometry(empty_db, tmp_path):
    bps_file(MEDAN / "kota_medan_desa_kel.geojson", tmp_path / "medan_bps.gpkg", "1275")
    frame = pyogrio.read_dataframe(tmp_path / "medan_bps.gpkg")
    frame.loc[4, "NAMOBJ"] = "Nama Baru Sekali"
    pyogrio.write_dataframe(frame, tmp_path / "renamed.gpkg")
    rejected = kotaku(["import", "regions", str(tmp_path / "renamed.gpkg"), "--json"], empty_db, tmp_path)
    assert rejected.returncode == 2
    report = json.loads(rejected.stdout)
    assert [u["feature"] for u in report["summary"]["crosswalk"]["unmatched"]] == [5]
    assert any(e["feature"] == 5 and "Nama Baru Sekali" in e["reason"] for e in report["errors"])
    assert regions(empty_db) == []
    # with the Kemendagri boundaries loaded, the renamed kelurahan is matched by its outline
    assert kotaku(["import", "regions", str(MEDAN / "kota_medan_desa_kel.geojson")], empty_db, tmp_path).returncode == 0
    again = kotaku(["import", "regions", str(tmp_path / "renamed.gpkg"), "--json"], empty_db, tmp_path)
    assert again.returncode == 0, again.stdout
    crosswalk = json.loads(again.stdout)["summary"]["crosswalk"]
    assert crosswalk["matched_by_geometry"] == 1 and crosswalk["matched"] == 151
