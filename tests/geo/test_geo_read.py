"""read_vector on every upload format, and the message a user reads when a file is wrong."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.errors import InvalidInput, TooLarge, UnsupportedFormat
from geo.read import read_vector
from geo.validate import validate_geometries

SINJAI = shapely.box(120.25, -5.13, 120.26, -5.12)
UTM_51S = shapely.box(250_000, 9_433_000, 251_000, 9_434_000)  # the same place in metres (EPSG:32751)
NAME = "Kelurahan Pasar Baru – Élan"  # en dash: a cp1252-only byte (0x96)


# --- shapefiles, CRS and text encodings -------------------------------------------------------------------


def test_shapefile_in_utm_comes_back_in_wgs84(write_frame: Callable[..., Path]) -> None:
    path = write_frame("rt.shp", [UTM_51S], crs=32751, kode=["73.07.05.1003"])
    data = read_vector(path)
    assert (data.source_crs, data.driver, data.layer, data.warnings) == ("EPSG:32751", "ESRI Shapefile", "rt", [])
    assert data.frame.crs.to_epsg() == 4326 and list(data.frame.columns) == ["kode", "geometry"]
    x0, y0, x1, y1 = data.frame.total_bounds
    assert 120.7 < x0 < x1 < 120.8 and -5.2 < y0 < y1 < -5.1


@pytest.mark.parametrize(
    ("epsg", "lon", "lat"),
    [
        (9488, 106.8, -6.2),  # SRGI2013 / UTM 48S, Jakarta
        (9477, 98.67, 3.59),  # SRGI2013 / UTM 47N, Medan
        (23867, 98.67, 3.59),  # DGN95 / UTM 47N
        (23834, 106.8, -6.2),  # DGN95 / Indonesia TM-3 zone 48.2
        (23839, 120.25, -5.12),  # DGN95 / Indonesia TM-3 zone 51.1, Sinjai
        (4755, 120.25, -5.12),  # DGN95 geographic
    ],
)
def test_indonesian_crs_are_reprojected(write_frame: Callable[..., Path], epsg: int, lon: float, lat: float) -> None:
    place = shapely.box(lon, lat, lon + 0.01, lat + 0.01)
    to_file_crs = Transformer.from_crs(4326, epsg, always_xy=True)
    projected = shapely.transform(place, lambda xy: np.c_[to_file_crs.transform(xy[:, 0], xy[:, 1])])
    data = read_vector(write_frame("area.gpkg", [projected], crs=epsg))
    assert data.source_crs == f"EPSG:{epsg}"
    assert np.allclose(data.frame.total_bounds, place.bounds, atol=1e-6)


def test_utm_coordinates_in_a_file_declaring_wgs84(write_frame: Callable[..., Path]) -> None:
    path = write_frame("wrong.geojson", [UTM_51S], crs=4326)
    message = r"coordinates look projected \(metres, e.g. UTM\) but the file declares EPSG:4326"
    with pytest.raises(InvalidInput, match=message):
        read_vector(path)


def test_no_crs_and_projected_coordinates(write_frame: Callable[..., Path]) -> None:
    path = write_frame("noprj.shp", [UTM_51S], crs=None)
    message = (
        "the file has no coordinate reference system (.prj missing?) and its coordinates are not longitude/latitude"
    )
    with pytest.raises(InvalidInput) as caught:
        read_vector(path)
    assert caught.value.message.startswith(message)
    assert read_vector(path, crs="EPSG:32751").frame.total_bounds[0] == pytest.approx(120.7, abs=0.1)  # declared


def test_no_crs_and_lonlat_coordinates_assumes_wgs84_with_a_warning(write_frame: Callable[..., Path]) -> None:
    data = read_vector(write_frame("noprj.shp", [SINJAI], crs=None))
    assert data.source_crs is None and data.frame.crs.to_epsg() == 4326
    (warning,) = data.warnings
    assert warning.severity == "warning" and "EPSG:4326 (WGS 84) is assumed" in warning.reason


def _shapefile(tmp_path: Path, encoding: str, *, cpg: str | None) -> Path:
    path = tmp_path / "kel.shp"
    frame = gpd.GeoDataFrame({"nama": [NAME, "Balangnipa"]}, geometry=[SINJAI, SINJAI], crs=4326)
    frame.to_file(path, engine="pyogrio", encoding=encoding)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if cpg:
        path.with_suffix(".cpg").write_text(cpg)
    return path


@pytest.mark.parametrize("encoding", ["cp1252", "UTF-8"])
def test_dbf_without_cpg_is_decoded_correctly(tmp_path: Path, encoding: str) -> None:
    frame = read_vector(_shapefile(tmp_path, encoding, cpg=None)).frame
    assert frame["nama"].tolist() == [NAME, "Balangnipa"]


def test_dbf_whose_cpg_lies_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_vector(_shapefile(tmp_path, "cp1252", cpg="UTF-8"))
    assert caught.value.details[0]["field"] == "nama" and caught.value.details[0]["feature"] == 1
    assert "text in field nama is not valid UTF-8" in caught.value.message


def test_dbf_that_no_encoding_decodes_names_the_field(tmp_path: Path) -> None:
    path = _shapefile(tmp_path, "cp1252", cpg=None)
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes().replace("–".encode("cp1252"), b"\x81"))  # undefined in cp1252 and UTF-8
    with pytest.raises(InvalidInput, match="text in field nama is neither UTF-8 nor cp1252") as caught:
        read_vector(path)
    assert caught.value.details[0]["feature"] == 1


# --- zip archives -----------------------------------------------------------------------------------------


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zipped_shapefile(tmp_path: Path, write_frame: Callable[..., Path]) -> None:
    shp = write_frame("rt.shp", [UTM_51S], crs=32751, kode=["73.07.05.1003"])
    entries = {f"SHP Kumuh/{p.name}": p.read_bytes() for p in tmp_path.iterdir() if p.stem == "rt"}
    entries["__MACOSX/SHP Kumuh/._rt.shp"] = b"junk"
    data = read_vector(_zip(tmp_path / "upload.zip", entries))
    assert data.frame["kode"].tolist() == ["73.07.05.1003"] and data.source_crs == "EPSG:32751"
    assert shp.exists()


def test_zip_with_path_traversal_is_rejected_before_extraction(tmp_path: Path) -> None:
    upload = tmp_path / "upload" / "evil.zip"
    upload.parent.mkdir()
    _zip(upload, {"ok/a.shp": b"x", "../evil.shp": b"pwned"})
    with pytest.raises(InvalidInput, match=r"unsafe entry '\.\./evil\.shp'"):
        read_vector(upload)
    assert not any(tmp_path.rglob("evil.shp"))
    assert not any(Path(tempfile.gettempdir()).glob("evil.shp"))
    with pytest.raises(InvalidInput, match="unsafe entry '/etc/evil.shp'"):
        read_vector(_zip(tmp_path / "abs.zip", {"/etc/evil.shp": b"x"}))


def test_zip_bomb_is_too_large(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"big.shp": bytes(50 * 1024 * 1024)})
    assert bomb.stat().st_size < 1024 * 1024
    with pytest.raises(TooLarge, match="unpacks to more than 10,485,760 bytes"):
        read_vector(bomb, max_bytes=10 * 1024 * 1024)


def test_plain_file_over_the_limit(write_frame: Callable[..., Path]) -> None:
    with pytest.raises(TooLarge, match="more than the upload limit of 100 bytes"):
        read_vector(write_frame("big.gpkg", [SINJAI]), max_bytes=100)


# --- KML, KMZ ---------------------------------------------------------------------------------------------

KML_EXTENDED = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Usulan</name>
<Folder><name>Jalan</name><Placemark><name>Jalan A</name>
 <ExtendedData><Data name="kode"><value>73.07.05.1003</value></Data><Data name="panjang_m"><value>170</value></Data>
 </ExtendedData><LineString><coordinates>120.25,-5.12,10 120.26,-5.13,12</coordinates></LineString></Placemark>
</Folder>
<Folder><name>Drainase</name><Placemark><name>Drain B</name>
 <ExtendedData><Data name="kode"><value>73.07.05.1004</value></Data></ExtendedData>
 <LineString><coordinates>120.27,-5.12,0 120.28,-5.13,0</coordinates></LineString></Placemark>
</Folder></Document></kml>"""

ARCGIS_DESCRIPTION = (
    '<html xmlns:fo="http://www.w3.org/1999/XSL/Format"><body><table><tr style="text-align:center">'
    "<td>Delineasi_Kumuh_AR</td></tr><tr><td><table><tr><td>KELURAHAN</td><td>Balangnipa</td></tr>"
    '<tr bgcolor="#D4E4F3"><td>LUAS_KUMUH</td><td>0.989</td></tr><tr><td>SK_KUMUH</td><td>&lt;Null&gt;</td></tr>'
    "</table></td></tr></table></body></html>"
)
KML_DESCRIPTION = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Delineasi</name>
<Placemark><name>RT01</name><description><![CDATA[{ARCGIS_DESCRIPTION}]]></description>
<Polygon><outerBoundaryIs><LinearRing><coordinates>120.25,-5.13,0 120.26,-5.13,0 120.26,-5.12,0 120.25,-5.12,0
120.25,-5.13,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>"""


def test_kml_extended_data_becomes_columns_and_folders_are_joined(tmp_path: Path) -> None:
    path = tmp_path / "usulan.kml"
    path.write_text(KML_EXTENDED)
    frame = read_vector(path).frame
    assert frame["kode"].tolist() == ["73.07.05.1003", "73.07.05.1004"]
    assert frame["kml_folder"].tolist() == ["Jalan", "Drainase"] and frame["Name"].tolist() == ["Jalan A", "Drain B"]
    assert not frame.geometry.has_z.any() and "tessellate" not in frame.columns
    assert validate_geometries(frame, kind="line").ok
    assert read_vector(path, layer="Drainase").frame["Name"].tolist() == ["Drain B"]


def test_kml_description_table_becomes_columns(tmp_path: Path) -> None:
    path = tmp_path / "delineasi.kml"
    path.write_text(KML_DESCRIPTION)
    row = read_vector(path).frame.iloc[0]
    assert (row["KELURAHAN"], row["LUAS_KUMUH"], row["SK_KUMUH"]) == ("Balangnipa", "0.989", None)
    assert row.geometry.equals(SINJAI) and not row.geometry.has_z


def test_kmz(tmp_path: Path) -> None:
    kmz = _zip(tmp_path / "usulan.kmz", {"doc.kml": KML_DESCRIPTION.encode(), "files/foto.jpg": b"\xff\xd8"})
    data = read_vector(kmz)
    assert data.frame["KELURAHAN"].tolist() == ["Balangnipa"] and data.source_crs == "EPSG:4326"


# --- CSV --------------------------------------------------------------------------------------------------


def test_csv_with_wkt(tmp_path: Path) -> None:
    path = tmp_path / "kumuh.csv"
    path.write_text(f'Kode_Kab,Kawasan,WKT\n07,Benteng,"{SINJAI.wkt}"\n07,Lappa,"POINT Z (120.3 -5.1 8)"\n')
    frame = read_vector(path).frame
    assert list(frame.columns) == ["Kode_Kab", "Kawasan", "geometry"] and frame["Kode_Kab"].tolist() == ["07", "07"]
    assert frame.geometry.iloc[0].equals(SINJAI) and not frame.geometry.has_z.any()


def test_csv_with_unreadable_wkt_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "kumuh.csv"
    path.write_text(f'id;the_geom\n1;"{SINJAI.wkt}"\n2;"POLYGON ((120.25 -5.NA13, 120"\n')
    with pytest.raises(InvalidInput, match="cannot read the WKT text") as caught:
        read_vector(path)
    assert caught.value.details[0]["feature"] == 2 and caught.value.details[0]["field"] == "the_geom"


def test_csv_with_lintang_bujur_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "arsinum.csv"
    path.write_bytes("Desa;Lintang;Bujur\nBalangnipa;-5,1234;120,2567\nLappa;;\n".encode("cp1252"))
    frame = read_vector(path).frame
    assert frame.geometry.iloc[0].equals(shapely.Point(120.2567, -5.1234)) and frame.geometry.iloc[1] is None
    assert validate_geometries(frame, kind="point").errors[0].reason == "geometry is empty"


def test_csv_with_swapped_lon_lat_is_caught_by_validation(tmp_path: Path) -> None:
    path = tmp_path / "titik.csv"
    path.write_text("nama,LON,LAT\nSPAM,-5.1234,120.2567\n")
    frame = read_vector(path).frame
    (error,) = validate_geometries(frame, kind="point").errors
    assert error.feature == 1 and error.reason.endswith("latitude and longitude look swapped")


def test_csv_with_bad_number_and_without_geometry(tmp_path: Path) -> None:
    path = tmp_path / "titik.csv"
    path.write_text("nama,x,y\nA,120.1,-5.1\nB,abc,-5.1\n")
    with pytest.raises(InvalidInput, match="'abc' is not a number") as caught:
        read_vector(path)
    problem = {"reason": "'abc' is not a number", "feature": 2, "field": "x", "severity": "error"}
    assert caught.value.details == [problem]
    path.write_text("nama,alamat\nA,Jl. Persatuan\n")
    with pytest.raises(InvalidInput, match="has no geometry column: expected a WKT column"):
        read_vector(path)


def test_csv_crs_parameter_declares_utm(tmp_path: Path) -> None:
    path = tmp_path / "utm.csv"
    path.write_text("nama,X,Y\nA,250000,9433000\n")
    with pytest.raises(InvalidInput, match="coordinates look projected"):
        read_vector(path)
    data = read_vector(path, crs=32751)
    assert data.source_crs == "EPSG:32751" and data.frame.geometry.iloc[0].x == pytest.approx(120.75, abs=0.05)


# --- GeoPackage, GeoJSON, other formats -------------------------------------------------------------------


def test_geopackage_with_two_layers(tmp_path: Path) -> None:
    path = tmp_path / "kumuh.gpkg"
    gpd.GeoDataFrame({"n": [1]}, geometry=[SINJAI], crs=4326).to_file(path, layer="kawasan")
    gpd.GeoDataFrame({"n": [2]}, geometry=[SINJAI.centroid], crs=4326).to_file(path, layer="titik", mode="a")
    with pytest.raises(InvalidInput, match="several layers with geometry: kawasan, titik; choose one"):
        read_vector(path)
    data = read_vector(path, layer="titik")
    assert (data.layer, data.driver, data.frame["n"].tolist()) == ("titik", "GPKG", [2])
    with pytest.raises(InvalidInput, match="has no layer 'rt'; its layers are: kawasan, titik"):
        read_vector(path, layer="rt")


def test_3d_geojson_is_forced_to_2d(tmp_path: Path) -> None:
    path = tmp_path / "z.geojson"
    feature = {"type": "Feature", "properties": {"kode": "31.71"}, "geometry": shapely.geometry.mapping(
        shapely.force_3d(SINJAI, 25.0))}  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    frame = read_vector(path).frame
    assert not frame.geometry.has_z.any() and frame.geometry.iloc[0].equals(SINJAI)
    assert isinstance(frame.index, __import__("pandas").RangeIndex)


def test_unknown_and_refused_formats(tmp_path: Path) -> None:
    junk = tmp_path / "peta.xyz"
    junk.write_bytes(b"\x00\x01 not a map")
    with pytest.raises(UnsupportedFormat, match="accepted formats: GeoJSON, GeoPackage, Shapefile"):
        read_vector(junk)
    vrt = tmp_path / "sneaky.vrt"  # a VRT can make GDAL read any file on the server
    vrt.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd</SrcDataSource>'
                   "</OGRVRTLayer></OGRVRTDataSource>")  # fmt: skip
    with pytest.raises(UnsupportedFormat, match="refers GDAL to other data"):
        read_vector(vrt)
    with pytest.raises(InvalidInput, match="file not found"):
        read_vector(tmp_path / "missing.gpkg")
