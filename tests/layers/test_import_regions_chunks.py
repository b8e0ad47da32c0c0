"""Region imports check geometries chunk by chunk while writing: a bad feature far into a large file is still
named by its own number, every bad one is reported, and the rows already copied are rolled back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from layers.imports.regions import COPY_CHUNK, import_regions
from layers.imports.report import ImportFailed


def _square(x: float, y: float, d: float = 0.001) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}


def _file(path: Path, count: int, bad: dict[int, dict]) -> Path:
    features = []
    for number in range(1, count + 1):
        kec, desa = divmod(number - 1, 999)
        geometry = bad.get(number, _square(98.6 + (number % 100) * 0.002, 3.5 + (number // 100) * 0.002))
        features.append({"type": "Feature", "geometry": geometry,
                         "properties": {"kode": f"12.71.{kec + 1:02d}.{2001 + desa}", "nama": f"Desa {number}"}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _codes(conn) -> list[tuple]:
    return conn.execute("SELECT code, name, ST_AsText(geom) FROM regions ORDER BY code").fetchall()


def test_bad_features_late_in_a_large_file_are_named_and_nothing_changes(conn, tmp_path):
    count = COPY_CHUNK * 2 + 500
    import_regions(conn, _file(tmp_path / "before.geojson", 30, {}))
    conn.commit()
    before = _codes(conn)
    swapped = {"type": "Polygon", "coordinates": [[[3.5, 98.6], [3.6, 98.6], [3.6, 98.7], [3.5, 98.6]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[98.6, 3.5], [98.61, 3.51], [98.61, 3.5], [98.6, 3.51],
                                                  [98.6, 3.5]]]}
    path = _file(tmp_path / "big.geojson", count, {COPY_CHUNK + 7: swapped, count: swapped, 5: bowtie})
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, path)
    report = failed.value.report
    assert [p.feature for p in report.errors] == [COPY_CHUNK + 7, count]
    assert "latitude and longitude look swapped" in report.errors[0].reason
    assert [p.feature for p in report.repairs] == [5]
    conn.rollback()
    assert _codes(conn) == before  # the 30 rows of before, untouched; none of the big file's


def test_large_good_file_is_written_whole(conn, tmp_path):
    count = COPY_CHUNK * 2 + 500
    report = import_regions(conn, _file(tmp_path / "big.geojson", count, {}))
    assert report.ok and report.features_written == count
    assert conn.execute("SELECT count(*), min(area_ha) > 1 FROM regions").fetchone() == (count, True)


def test_bad_codes_and_bad_geometries_in_later_chunks_are_all_named(conn, tmp_path):
    """The chunks are checked while the codes are read: a file failing on its codes still names every bad
    geometry, in feature order, and writes nothing."""
    count = COPY_CHUNK * 2 + 500
    import_regions(conn, _file(tmp_path / "before.geojson", 30, {}))
    conn.commit()
    before = _codes(conn)
    empty = {"type": "Polygon", "coordinates": []}
    path = _file(tmp_path / "big.geojson", count, {COPY_CHUNK * 2 + 3: empty})
    data = json.loads(path.read_text())
    data["features"][COPY_CHUNK + 10]["properties"]["kode"] = "12.71.XX"
    data["features"][count - 1]["properties"]["kode"] = data["features"][0]["properties"]["kode"]
    path.write_text(json.dumps(data))
    with pytest.raises(ImportFailed) as failed:
        import_regions(conn, path)
    report = failed.value.report
    assert [p.feature for p in report.errors] == [COPY_CHUNK + 11, COPY_CHUNK * 2 + 3, count]
    assert "12.71.XX" in report.errors[0].reason
    assert report.errors[1].field == "geometry"
    conn.rollback()
    assert _codes(conn) == before
