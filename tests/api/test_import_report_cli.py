"""The printed import report of `kotaku import` shows nothing of Python: an empty value reads '-', never None."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def test_a_report_without_a_crs_or_a_replaced_decree_prints_no_none(empty_db, tmp_path):
    path = tmp_path / "kumuh.shp"
    gpd.GeoDataFrame({"Kawasan": ["Uji"]}, geometry=[box(98.68, 3.58, 98.681, 3.581)], crs="EPSG:4326").to_file(path)
    (tmp_path / "kumuh.prj").unlink()  # no CRS: source_crs is None
    run = subprocess.run([KOTAKU, "--lang", "id", "import", "slum-areas", str(path), "--tenant", "12.71"],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "DATABASE_URL": empty_db})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "crs -" in run.stdout and "mode: -" in run.stdout and "replaced: -" in run.stdout
    assert "None" not in run.stdout
