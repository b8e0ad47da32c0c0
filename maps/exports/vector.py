"""GIS files: a multi-layer GeoPackage with QGIS layer styles, a zipped set of Shapefiles with short field names,
a codebook and styles, and one GeoJSON FeatureCollection."""

from __future__ import annotations

import csv
import json
import tempfile
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from layers.values.progress import Progress, no_progress
from maps.exports.bundle import ACTIVITY_GEOMETRY_TYPES, Bundle
from maps.exports.codebook import DBF_NAME_LIMIT, field_of
from maps.exports.qgis_styles import qml, sld

GPKG_VERSION = "1.2"  # readable without warnings by the GDAL of older QGIS and Debian releases
LAYER_TITLES = {
    "kawasan_kumuh": "Kawasan kumuh: tingkat, proyeksi dan keterpaduan program",
    "kegiatan_titik": "Kegiatan (titik) semua program dan sumber dana",
    "kegiatan_garis": "Kegiatan (garis: jalan, drainase) semua program dan sumber dana",
    "kegiatan_poligon": "Kegiatan (area) semua program dan sumber dana",
    "ringkasan_kelurahan": "Ringkasan keterpaduan per kelurahan/desa",
    "ringkasan_kecamatan": "Ringkasan keterpaduan per kecamatan",
    "ringkasan_kabkota": "Ringkasan keterpaduan kab/kota",
    "memorandum": "Memorandum keterpaduan: program x lokasi x tahun x sumber dana x volume x biaya",
    "aset": "Aset hasil kegiatan: penerima, berita acara, nilai, kondisi dan umur layanan",
}


def geometry_type(name: str) -> str:
    return ACTIVITY_GEOMETRY_TYPES.get(name, "MultiPolygon")


def _programs(bundle: Bundle) -> list[str]:
    return list(bundle.programs)


def _for_gdal(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL writes with their type: pandas nullable integers/booleans/strings are written as such (NA ->
    null) by pyogrio; object columns holding only booleans become bool."""
    out = frame.copy()
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object and len(out) and out[col].map(type).eq(bool).all():
            out[col] = out[col].astype(bool)
    return out


# -- GeoPackage -------------------------------------------------------------------------------------
def write_gpkg(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    steps = len(bundle.layers) + 2
    for i, (name, layer) in enumerate(bundle.layers.items()):
        progress(f"GeoPackage: {name}", i, steps)
        pyogrio.write_dataframe(_for_gdal(layer), path, layer=name, driver="GPKG", geometry_type=geometry_type(name),
                                promote_to_multi=False,
                                layer_options={"IDENTIFIER": name, "DESCRIPTION": LAYER_TITLES[name]},
                                dataset_options={"VERSION": GPKG_VERSION} if i == 0 else None)
    if bundle.assets is not None:  # mixed points, lines and polygons: a layer of generic geometry
        pyogrio.write_dataframe(_for_gdal(bundle.assets), path, layer="aset", driver="GPKG",
                                geometry_type="Unknown", promote_to_multi=False,
                                layer_options={"IDENTIFIER": "aset", "DESCRIPTION": LAYER_TITLES["aset"]})
    progress("GeoPackage: memorandum", steps - 2, steps)
    pyogrio.write_dataframe(_for_gdal(bundle.memorandum), path, layer="memorandum", driver="GPKG",
                            layer_options={"IDENTIFIER": "memorandum", "DESCRIPTION": LAYER_TITLES["memorandum"]})
    progress("GeoPackage: gaya QGIS", steps - 1, steps)
    now = datetime.now().replace(microsecond=0)
    styles = pd.DataFrame([{
        "f_table_catalog": "", "f_table_schema": "", "f_table_name": name, "f_geometry_column": "geom",
        "styleName": name, "styleQML": qml(name, _programs(bundle)), "styleSLD": sld(name, _programs(bundle)),
        "useAsDefault": True, "description": LAYER_TITLES[name], "owner": "kotaku-gis", "ui": None,
        "update_time": now,
    } for name in [*bundle.layers, *(["aset"] if bundle.assets is not None else [])]])
    # The table QGIS reads (and writes) when a layer is opened: its own column names, `id` as key.
    pyogrio.write_dataframe(styles, path, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"})
    progress("GeoPackage: selesai", steps, steps)


# -- Shapefile (zipped) -----------------------------------------------------------------------------
def _renamer(names: dict[str, str]) -> Callable[[str], str]:
    """A field's name in the written layer: its short name, or itself when it was not renamed."""
    return lambda column: names.get(column, column)


def short_names(columns: list[str], bundle: Bundle) -> dict[str, str]:
    """Full -> short (<= 10 characters, unique in the layer) field names, from the codebook."""
    out: dict[str, str] = {}
    for col in columns:
        if col == "geometry":
            continue
        short = field_of(col, bundle.extra_fields).short
        if len(short) > DBF_NAME_LIMIT or short in out.values():
            raise ValueError(f"codebook short name {short!r} of {col!r} is too long or not unique")
        out[col] = short
    return out


def codebook_rows(bundle: Bundle) -> list[dict[str, str]]:
    rows = []
    frames = {**bundle.layers, "memorandum": bundle.memorandum}
    for layer, frame in frames.items():
        for col in frame.columns:
            if col == "geometry":
                continue
            f = field_of(col, bundle.extra_fields)
            rows.append({"layer": layer, "short_name": f.short, "full_name": f.name, "label": f.label,
                         "meaning": f.meaning})
    return rows


def readme_text(bundle: Bundle, files: list[str]) -> str:
    lines = [
        f"Keterpaduan program {bundle.tenant_name or ''} ({bundle.tenant})".replace("  ", " "),
        f"SK kumuh: {bundle.decree or '-'}",
        f"Dibuat: {bundle.generated_at:%Y-%m-%d %H:%M %Z} oleh kotaku-gis",
        "Isi: " + ("hanya data publik (SK yang diumumkan, tanpa data pribadi)" if bundle.public_only
                   else "data kab/kota sesuai hak akses (tanpa data pribadi)"),
        "Sistem koordinat: WGS 84 (EPSG:4326)",
        "",
        "Berkas:",
        *[f"  {name}" for name in files],
        "",
        "Nama kolom Shapefile dibatasi 10 huruf: arti setiap kolom ada di KODEBUKU.csv",
        "(layer, short_name, full_name, label, meaning). Gaya QGIS: <layer>.qml (dimuat otomatis), SLD: <layer>.sld.",
        "",
        "Sumber:",
        *[f"  {line}" for line in bundle.sources],
    ]
    return "\n".join(lines) + "\n"


def write_shapefile_zip(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        _write_shapefiles(bundle, Path(folder), path, progress)


def _write_shapefiles(bundle: Bundle, work: Path, path: Path, progress: Progress) -> None:
    steps = len(bundle.layers) + 2
    programs = _programs(bundle)
    for i, (name, layer) in enumerate(bundle.layers.items()):
        progress(f"Shapefile: {name}", i, steps)
        names = short_names(list(layer.columns), bundle)
        frame = gpd.GeoDataFrame(_for_gdal(layer).rename(columns=names), geometry="geometry", crs=layer.crs)
        pyogrio.write_dataframe(frame, work / f"{name}.shp", driver="ESRI Shapefile",
                                geometry_type=geometry_type(name), promote_to_multi=False,
                                layer_options={"ENCODING": "UTF-8"})
        field = _renamer(names)
        (work / f"{name}.qml").write_text(qml(name, programs, field), encoding="utf-8")
        (work / f"{name}.sld").write_text(sld(name, programs, field), encoding="utf-8")
    progress("Shapefile: memorandum", steps - 2, steps)
    memo = _for_gdal(bundle.memorandum).rename(columns=short_names(list(bundle.memorandum.columns), bundle))
    pyogrio.write_dataframe(memo, work / "memorandum.dbf", driver="ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
    with open(work / "KODEBUKU.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["layer", "short_name", "full_name", "label", "meaning"])
        writer.writeheader()
        writer.writerows(codebook_rows(bundle))
    files = sorted(p.name for p in work.iterdir())
    (work / "BACA_SAYA.txt").write_text(readme_text(bundle, files), encoding="utf-8")
    progress("Shapefile: zip", steps - 1, steps)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(work.iterdir()):
            archive.write(file, arcname=file.name)
    progress("Shapefile: selesai", steps, steps)


# -- GeoJSON ----------------------------------------------------------------------------------------
def geojson_document(bundle: Bundle) -> dict:
    """One FeatureCollection: slum areas then activities, each feature with its `layer`; the kab/kota summary
    and the attribution as foreign members."""
    features = []
    for name in ("kawasan_kumuh", "kegiatan_titik", "kegiatan_garis", "kegiatan_poligon"):
        layer = bundle.layers[name]
        if layer.empty:
            continue
        doc = json.loads(_for_gdal(layer).to_json(na="null", drop_id=True))
        for feature in doc["features"]:
            feature["properties"] = {"layer": "kawasan_kumuh" if name == "kawasan_kumuh" else "kegiatan",
                                     **feature["properties"]}
        features += doc["features"]
    return {
        "type": "FeatureCollection",
        "name": "keterpaduan",
        "tenant": bundle.tenant,
        "decree": bundle.decree,
        "generated_at": bundle.generated_at.isoformat(timespec="seconds"),
        "public_only": bundle.public_only,
        "sources": bundle.sources,
        "kabkota": bundle.summary.get("kabkota"),
        "features": features,
    }


def write_geojson(bundle: Bundle, path: Path, progress: Progress = no_progress) -> None:
    progress("GeoJSON", 0, 1)
    text = json.dumps(geojson_document(bundle), ensure_ascii=False, default=str)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    progress("GeoJSON", 1, 1)
