"""The real files in ../shared/data (skipped where that folder is absent)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from geo.bounds import Bounds
from geo.measure import geodesic_area_ha, geodesic_length_m
from geo.read import read_vector
from geo.validate import validate_geometries

pytestmark = pytest.mark.shared

SINJAI_SHP = "slum/sinjai/delineasi_shp/Delineasi_Kumuh_AR.shp"
# kab_sinjai_kab_kota.geojson's bbox (kemendagri SOURCE.txt), as a Bounds with a hair of margin
KAB_SINJAI = Bounds("Kab. Sinjai", 119.92869, -5.35587, 120.4268, -5.03861, margin=0.001)


def test_sinjai_delineation_area_matches_the_geodesic_reference(shared_data: Path) -> None:
    data = read_vector(shared_data / SINJAI_SHP)
    assert len(data.frame) == 50 and data.source_crs == "EPSG:4326"
    assert data.frame.columns[:3].tolist() == ["Provinsi", "Kode_Prov", "Kab_Kota"]
    result = validate_geometries(data.frame)
    assert result.ok and result.repairs == []
    area = geodesic_area_ha(result.frame.geometry)
    assert area.sum() == pytest.approx(132.049, abs=0.05)  # SOURCE.txt: WGS84 geodesic sum = 132.049 ha
    assert abs(area - data.frame["LUAS_KUMUH"].astype(float)).max() < 0.04  # official per-RT areas


def test_sinjai_delineation_zipped_as_users_upload_it(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / SINJAI_SHP
    upload = tmp_path / "SHP Verifikasi Kumuh_Kab_Sinjai.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for part in source.parent.iterdir():
            if part.name.startswith(source.stem + "."):
                archive.write(part, f"SHP Verifikasi Kumuh/{part.name}")
    assert len(read_vector(upload).frame) == 50


def test_sinjai_roads_in_utm_51s_come_back_in_wgs84(shared_data: Path) -> None:
    data = read_vector(shared_data / "slum/sinjai/program_integrasi/PSU/jaringan jalan.shp")
    assert data.source_crs == "EPSG:32751" and data.frame.crs.to_epsg() == 4326 and len(data.frame) == 9
    assert KAB_SINJAI.contains_extents(data.frame.geometry.bounds.to_numpy()).all()
    result = validate_geometries(data.frame, kind="line")
    assert result.ok and (geodesic_length_m(result.frame.geometry) > 0).all()


def test_madiun_has_exactly_one_invalid_desa_which_is_repaired(shared_data: Path) -> None:
    data = read_vector(shared_data / "boundaries/kemendagri/kab_madiun_desa_kel.geojson")
    result = validate_geometries(data.frame)
    assert result.ok
    (repair,) = result.repairs
    assert data.frame["kode"].iloc[repair.feature - 1] == "35.19.13.2012"
    assert repair.reason.startswith("invalid geometry repaired: Ring Self-intersection[111.66")
    assert result.frame.geometry.is_valid.all() and (result.frame.geom_type == "MultiPolygon").all()


def test_shapefile_without_cpg_or_prj_still_reads(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / SINJAI_SHP
    for suffix in (".shp", ".shx", ".dbf"):
        shutil.copy(source.with_suffix(suffix), tmp_path / f"rt{suffix}")
    data = read_vector(tmp_path / "rt.shp")
    assert data.source_crs is None and len(data.warnings) == 1
    assert set(data.frame["Kab_Kota"]) == {"Sinjai"}


def test_jawa_timur_desa_read_validate_and_measure(shared_data: Path) -> None:
    """8,492 polygons, 0.83 M vertices through the whole import path. How long it takes is measured by
    bench/geo_read.py (wall-clock limits do not belong in the suite)."""
    data = read_vector(shared_data / "bench/desa_kel_jawa_timur.gpkg")
    result = validate_geometries(data.frame)
    area = geodesic_area_ha(result.frame.geometry)
    assert len(data.frame) == 8492 and len(result.repairs) == 6 and result.ok
    assert area.sum() == pytest.approx(4_803_205, rel=1e-4)  # Jawa Timur is about 48,000 km2
