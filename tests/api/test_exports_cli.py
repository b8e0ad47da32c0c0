"""`kotaku export keterpaduan` as a user runs it: a file appears whole, bad input exits 2 and writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

KOTAKU = str(Path(sys.executable).with_name("kotaku"))


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run([KOTAKU, "export", "keterpaduan", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture
def medan(demo_url):
    return demo_url  # both tests only read (a failed export writes nothing)


def test_export_gpkg_and_report(medan, tmp_path):
    target = tmp_path / "medan.gpkg"
    result = kotaku(["--tenant", "1271", "--format", "gpkg", "-o", str(target), "--json"], medan)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["format"] == "gpkg" and info["features"]["kawasan_kumuh"] == 60 and not info["public_only"]
    layers = dict(pyogrio.list_layers(target)[:, :2].tolist())
    assert layers["kawasan_kumuh"] == "MultiPolygon" and "layer_styles" in layers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["medan.gpkg"]  # no temporary file left


def test_bad_format_or_tenant_exits_2_and_writes_nothing(medan, tmp_path):
    target = tmp_path / "out.xlsx"
    for args, message in ((["--tenant", "12.71", "--format", "docx"], "unknown export format"),
                          (["--tenant", "127", "--format", "xlsx"], "not a kab/kota code"),
                          (["--tenant", "12.72", "--format", "xlsx"], "12.72 is unknown")):
        result = kotaku([*args, "-o", str(target)], medan)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []
