"""QGIS reads our MapLibre styles: PyQGIS (Debian python3-qgis, offscreen) converts every `/styles/{id}.json`
document with QgsMapBoxGlStyleConverter into a vector-tile renderer and labeling, one style per source layer, with
no expression it cannot translate (fonts missing on the machine and raster online layers aside)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from maps.style_json import online_basemaps, style_document, style_ids

SYSTEM_PYTHON = "/usr/bin/python3"  # python3-qgis is built for Debian's own interpreter, not the venv
CHECK = """
import json, sys
from qgis.core import QgsApplication, QgsMapBoxGlStyleConverter
app = QgsApplication([], False)
app.initQgis()
out = {}
for path in sys.argv[1:]:
    conv = QgsMapBoxGlStyleConverter()
    ok = conv.convert(json.load(open(path))) == QgsMapBoxGlStyleConverter.Success
    renderer, labeling = conv.renderer(), conv.labeling()
    out[path] = {"ok": ok, "error": conv.errorMessage(), "warnings": list(conv.warnings()),
                 "styles": [s.layerName() for s in renderer.styles()] if renderer else [],
                 "labels": [s.layerName() for s in labeling.styles()] if labeling else []}
print(json.dumps(out))
"""


def test_qgis_converts_every_style(tmp_path: Path):
    online = online_basemaps("osm=https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    paths = {}
    for style_id in style_ids():
        path = tmp_path / f"{style_id}.json"
        path.write_text(json.dumps(style_document(style_id, "http://127.0.0.1:8000", online=online)))
        paths[style_id] = str(path)
    script = tmp_path / "check.py"
    script.write_text(CHECK)
    result = subprocess.run([SYSTEM_PYTHON, str(script), *paths.values()], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for style_id, path in paths.items():
        converted = report[path]
        assert converted["ok"], (style_id, converted["error"])
        unexpected = [w for w in converted["warnings"] if "font" not in w and "raster" not in w]
        assert not unexpected, (style_id, unexpected)
    peta = report[paths["peta"]]
    assert {"roads", "buildings", "water", "landuse", "slum-areas", "regions", "activities"} <= set(peta["styles"])
    assert {"roads", "places"} <= set(peta["labels"])  # road names along lines, place and region names
    assert set(report[paths["aset"]]["styles"]) >= {"assets"}
