"""The scoring commands as a user runs them: import surveys (exit 2 naming rows), scores, priorities, progress,
raster statistics."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from tests.layers.scoring_helpers import write_csv

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def run(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


@pytest.mark.writes_demo  # `priorities` refreshes the status
def test_scores_priorities_and_progress_commands(demo_conn, demo_url, tmp_path):
    scores = run(["scores", "--tenant", "1271", "--round", "2023", "--format", "json"], demo_url)
    assert scores.returncode == 0, scores.stderr
    rows = json.loads(scores.stdout)
    assert len(rows) == 192 and {"v_7b", "p_7b", "s_7b", "total", "level"} <= set(rows[0])

    out = tmp_path / "prioritas.csv"
    ranked = run(["priorities", "--tenant", "12.71", "-o", str(out)], demo_url)
    assert ranked.returncode == 0, ranked.stderr
    table = pd.read_csv(out)
    assert len(table) == 60 and table["position"].tolist() == list(range(1, 61))
    # the command also refreshed what the map shows
    assert demo_conn.execute("SELECT count(level) FROM slum_area_status").fetchone()[0] == 60

    series = run(["progress", "--tenant", "12.71"], demo_url)
    assert series.returncode == 0, series.stderr
    frame = pd.read_csv(io.StringIO(series.stdout))
    assert set(frame["scope"]) == {"kabkota", "kecamatan", "kelurahan", "slum_area"}
    akhir = run(["progress", "--tenant", "12.71", "--table", "kumuh-akhir", "--format", "json"], demo_url)
    assert akhir.returncode == 0, akhir.stderr
    assert json.loads(akhir.stdout)["summary"]["units"] == 192


def test_import_surveys_rejects_a_bad_file_with_exit_2(demo_url, tmp_path):
    path = write_csv(tmp_path / "survei.csv", [{"kelurahan_code": "12.71.01.1007", "label": "Lingkungan 99",
                                                "round": "2024", "v_1a": 1}])
    result = run(["import", "surveys", str(path), "--tenant", "12.71", "--json"], demo_url)
    assert result.returncode == 2
    report = json.loads(result.stdout)
    assert not report["ok"] and report["features_written"] == 0
    assert any(e["field"] == "v_1b" for e in report["errors"])  # every criterion's volume is needed


@pytest.mark.writes_demo  # stores raster statistics
def test_raster_flood_command(demo_url, tmp_path):
    path = tmp_path / "banjir.tif"
    with rasterio.open(path, "w", driver="GTiff", height=600, width=600, count=1, dtype="float32",
                       crs="EPSG:32647", transform=Affine(100, 0, 440000, 0, -100, 440000)) as dst:
        dst.write(np.full((600, 600), 0.8, dtype="float32"), 1)  # all of Medan under 0.8 m
    result = run(["raster", "flood", str(path), "--tenant", "12.71", "--depth", "0.5", "--json"], demo_url)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["source_crs"] == "EPSG:32647"
    assert report["summary"]["areas_flooded_over_half"] == 60
