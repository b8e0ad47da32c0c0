"""Seeded generator of the synthetic layers of the demo: Kota Medan (12.71) and Kota Jakarta Pusat (31.71).

    python -m data.demo.generate [OUTPUT_DIR]        (default: this folder)

Writes, for each city, inside its REAL kelurahan boundaries (`boundaries/kota_medan_desa_kel.geojson`,
`jakarta_pusat/kota_jakarta_pusat_desa_kel.geojson`), files named `medan_*` and `jakarta_pusat/jakpus_*`:
- *_slum_areas.geojson: slum areas in the national `Delineasi_Kumuh_AR` attribute schema;
- *_survey_units.geojson: survey units (Medan's lingkungan, Jakarta's RW) subdividing those areas;
- *_surveys.csv: two survey rounds (baseline 2019, 2023) of Permen PUPR 14/2018 volumes per unit;
- *_activities.geojson: proposals and funded works of every programme and funding source in data/reference.
Jakarta Pusat has a real OpenStreetMap basemap (jakarta_pusat_osm.gpkg), so there its slum areas avoid large
buildings and hold some minor roads, and its line activities (roads, drains) follow real minor roads.

Everything is synthetic and labelled so (`synthetic: true`, SUMBR_DATA). The same seed gives the same bytes:
randomness comes from one `random.Random(SEED)`, geometry is built in a fixed local metric frame (a linear
transform of longitude/latitude, no PROJ pipeline), coordinates are rounded to 6 decimals (about 0.1 m) and
areas/lengths are geodesic (GeographicLib through pyproj) on the rounded coordinates.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import Geod
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping, shape
from shapely.ops import substring

SEED = 2016
HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent / "reference"
SYNTHETIC_SOURCE = "DATA SINTETIS - dibuat generator kotaku-gis, bukan data resmi"
CRITERIA = ("1a", "1b", "1c", "2a", "2b", "3a", "3b", "4a", "4b", "4c", "5a", "5b", "6a", "6b", "7a", "7b")
YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026)
INSIDE_SHARE = 0.8
_A, _F = 6378137.0, 1 / 298.257223563
_E2 = _F * (2 - _F)
GEOD = Geod(ellps="WGS84")

# Medan's kawasan plan: (kecamatan code, typology, number of slum areas). 16 kawasan, 60 areas.
MEDAN_PLAN = (
    ("08", "pesisir", 5), ("08", "pesisir", 4), ("12", "pesisir", 4), ("13", "pesisir", 4),
    ("13", "tepi sungai", 3), ("06", "tepi sungai", 4), ("15", "tepi sungai", 5), ("01", "tepi sungai", 4),
    ("20", "tepi sungai", 4), ("05", "pusat kota", 4), ("19", "pusat kota", 3), ("18", "pusat kota", 3),
    ("04", "dataran rendah", 4), ("14", "dataran rendah", 4), ("03", "dataran rendah", 3), ("09", "dataran rendah", 2),
)
# Jakarta Pusat's: 5 kawasan, 20 areas, where its real kampung kumuh are (Johar Baru, Kemayoran, Tanah Abang,
# Sawah Besar, Senen).
JAKPUS_PLAN = (
    ("08", "pusat kota", 5), ("03", "tepi sungai", 4), ("07", "tepi sungai", 4), ("02", "pusat kota", 4),
    ("04", "dataran rendah", 3),
)
KAWASAN_PREFIX = {
    "pesisir": "Pesisir ", "tepi sungai": "Tepi Sungai ", "pusat kota": "Pusat Kota ", "dataran rendah": "",
}
ILLEGAL_SHARE = {"pesisir": 0.3, "tepi sungai": 0.3, "pusat kota": 0.05, "dataran rendah": 0.05}
DENSITY = {"pesisir": (220, 420), "tepi sungai": (300, 550), "pusat kota": (350, 650), "dataran rendah": (180, 340)}
# How bad each criterion tends to be relative to an area's overall severity.
CRITERION_BIAS = {
    "1a": 0.0, "1b": -0.1, "1c": 0.0, "2a": -0.2, "2b": 0.0, "3a": -0.15, "3b": -0.2, "4a": 0.05, "4b": -0.05,
    "4c": 0.05, "5a": 0.1, "5b": 0.1, "6a": 0.05, "6b": 0.05, "7a": 0.2, "7b": 0.2,
}

KIND_WEIGHTS = {
    "jalan_paving": 45, "jalan_rabat_beton": 40, "drainase": 60, "sambungan_air": 25, "hidran_umum": 15,
    "septik_komunal": 20, "ipal_komunal": 8, "mck": 15, "tps3r": 6, "gerobak_sampah": 18, "hidran_kebakaran": 12,
    "apar": 20, "rehab_rtlh": 35, "penataan_kawasan": 12, "jalan_aspal": 10, "jembatan": 4, "talud": 8,
    "box_culvert": 5, "sumur_resapan": 6, "sumur_bor": 5, "tandon_air": 5, "tempat_sampah": 8, "rth": 4,
}
_INFRA = {"NSUP": 4, "NUSP2": 1.5, "PISEW": 1, "REGULER": 5, "LAINNYA": 0.5}
PROGRAMS_BY_KIND = {
    "jalan_paving": _INFRA, "jalan_rabat_beton": _INFRA, "drainase": _INFRA,
    "sambungan_air": {"PAMSIMAS": 3, "NSUP": 2, "REGULER": 2, "LAINNYA": 1},
    "hidran_umum": {"PAMSIMAS": 3, "NSUP": 2, "REGULER": 1, "LAINNYA": 1},
    "septik_komunal": {"SANIMAS": 4, "NSUP": 2, "NUSP2": 1, "REGULER": 1, "LAINNYA": 0.5},
    "ipal_komunal": {"SANIMAS": 4, "NSUP": 2, "NUSP2": 1, "REGULER": 1},
    "mck": {"SANIMAS": 3, "PAMSIMAS": 1, "NSUP": 2, "REGULER": 1, "LAINNYA": 0.5},
    "tps3r": {"NSUP": 2, "REGULER": 3, "LAINNYA": 1},
    "gerobak_sampah": {"NSUP": 2, "REGULER": 3, "LAINNYA": 2},
    "hidran_kebakaran": {"NSUP": 2, "REGULER": 2, "LAINNYA": 1},
    "apar": {"NSUP": 2, "REGULER": 2, "LAINNYA": 2},
    "rehab_rtlh": {"BSPS": 5, "REGULER": 2, "LAINNYA": 1, "NSUP": 1},
    "penataan_kawasan": {"NSUP": 3, "NUSP2": 2, "REGULER": 2},
    "jalan_aspal": {"REGULER": 4, "NSUP": 1}, "jembatan": _INFRA, "talud": _INFRA, "box_culvert": _INFRA,
    "sumur_resapan": {"NSUP": 2, "REGULER": 2, "LAINNYA": 1},
    "sumur_bor": {"PAMSIMAS": 3, "REGULER": 1, "LAINNYA": 1},
    "tandon_air": {"PAMSIMAS": 3, "NSUP": 1, "LAINNYA": 1},
    "tempat_sampah": {"REGULER": 2, "LAINNYA": 2, "NSUP": 1},
    "rth": {"NSUP": 2, "REGULER": 2},
}
FUNDING_BY_PROGRAM = {
    "NSUP": {"NSUP_WB_AIIB": 5, "NSUP_ISDB": 2, "BPM_BDI": 4, "SWADAYA": 1},
    "NUSP2": {"NUSP2_ADB": 4, "BPM_BDI": 2, "SWADAYA": 1},
    "PISEW": {"APBN": 1},
    "SANIMAS": {"APBN": 2, "DAK": 3, "SWADAYA": 1},
    "PAMSIMAS": {"APBN": 2, "DAK": 1, "APBD_KABKOTA": 1, "SWADAYA": 1},
    "BSPS": {"APBN": 3, "SWADAYA": 1},
    "REGULER": {"APBD_KABKOTA": 6, "APBD_PROV": 2, "DANA_DESA": 3, "DAK": 2},
    "LAINNYA": {"CSR": 3, "HIBAH": 2, "SWADAYA": 1, "LAINNYA": 1},
}
WATER_UTILITY = "PDAM"  # named per city (City.water_utility)
AGENCY_BY_KIND = {
    "jalan_paving": "Dinas PU", "jalan_rabat_beton": "Dinas PU", "drainase": "Dinas PU",
    "sambungan_air": WATER_UTILITY, "hidran_umum": WATER_UTILITY, "septik_komunal": "Dinas Perkim",
    "ipal_komunal": "Dinas Perkim", "mck": "Dinas Perkim", "tps3r": "DLH", "gerobak_sampah": "DLH",
    "hidran_kebakaran": "Dinas Pemadam Kebakaran", "apar": "Dinas Pemadam Kebakaran", "rehab_rtlh": "Dinas Perkim",
    "penataan_kawasan": "Dinas Perkim", "jalan_aspal": "Dinas PU", "jembatan": "Dinas PU", "talud": "Dinas PU",
    "box_culvert": "Dinas PU", "sumur_resapan": "Dinas Perkim", "sumur_bor": WATER_UTILITY,
    "tandon_air": WATER_UTILITY, "tempat_sampah": "DLH", "rth": "Dinas Perkim",
}
POINT_VOLUME = {
    "sambungan_air": (10, 80), "hidran_umum": (1, 3), "septik_komunal": (1, 2), "ipal_komunal": (1, 1),
    "mck": (1, 1), "tps3r": (1, 1), "gerobak_sampah": (1, 5), "hidran_kebakaran": (1, 3), "apar": (5, 30),
    "rehab_rtlh": (1, 15), "box_culvert": (1, 3), "sumur_resapan": (2, 20), "sumur_bor": (1, 2),
    "tandon_air": (1, 3), "tempat_sampah": (2, 10),
}
TITLES = {
    "jalan_paving": "Paving block {street}, {lk} Kel. {kel}",
    "jalan_rabat_beton": "Rabat beton {street}, {lk} Kel. {kel}",
    "drainase": "Pembangunan saluran drainase {street}, {lk} Kel. {kel}",
    "sambungan_air": "Sambungan rumah air minum {v} SR, {lk} Kel. {kel}",
    "hidran_umum": "Hidran umum {lk}, Kel. {kel}",
    "septik_komunal": "Tangki septik komunal {lk}, Kel. {kel}",
    "ipal_komunal": "IPAL komunal {lk}, Kel. {kel}",
    "mck": "MCK umum {lk}, Kel. {kel}",
    "tps3r": "TPS3R Kel. {kel} ({lk})",
    "gerobak_sampah": "Pengadaan {v} gerobak/motor sampah, {lk} Kel. {kel}",
    "hidran_kebakaran": "Hidran kebakaran {lk}, Kel. {kel}",
    "apar": "Pengadaan {v} APAR, {lk} Kel. {kel}",
    "rehab_rtlh": "Rehabilitasi {v} rumah tidak layak huni, {lk} Kel. {kel}",
    "penataan_kawasan": "Penataan ruang terbuka publik {lk}, Kel. {kel}",
    "jalan_aspal": "Pengaspalan {street}, {lk} Kel. {kel}",
    "jembatan": "Jembatan lingkungan {street}, {lk} Kel. {kel}",
    "talud": "Talud saluran {street}, {lk} Kel. {kel}",
    "box_culvert": "Pembangunan {v} box culvert, {lk} Kel. {kel}",
    "sumur_resapan": "Pembuatan {v} sumur resapan, {lk} Kel. {kel}",
    "sumur_bor": "Sumur bor komunal {lk}, Kel. {kel}",
    "tandon_air": "Tandon air komunal {lk}, Kel. {kel}",
    "tempat_sampah": "Pengadaan {v} bak sampah komunal, {lk} Kel. {kel}",
    "rth": "Taman lingkungan (RTH) {lk}, Kel. {kel}",
}
STREETS = (
    "Gg. Mawar", "Gg. Melati", "Gg. Kenanga", "Gg. Dahlia", "Gg. Sepakat", "Gg. Damai", "Gg. Rukun", "Gg. Amal",
    "Gg. Bersama", "Gg. Keluarga", "Gg. Musholla", "Gg. Pinang", "Gg. Kelapa", "Gg. Nelayan", "Gg. Tambak",
    "Jl. Lorong I", "Jl. Lorong II", "Jl. Lorong III", "Jl. Pasar II", "Jl. Pasar III", "Jl. Bunga Tanjung",
    "Jl. Karya Bakti", "Jl. Swadaya", "Jl. Pelita", "Jl. Merdeka Lama",
)
REJECTION_NOTES = (
    "Ditolak: lahan berstatus sengketa / bukan aset pemerintah",
    "Ditolak: tidak sesuai prioritas RKPD",
    "Ditolak: pagu anggaran tidak tersedia",
    "Ditolak: lokasi di luar kewenangan kota",
)
LIVE_STATUSES = ("aktif", "dikembalikan", "selesai")
# OpenStreetMap road classes a KOTAKU road or drain may follow: the kampung's lanes, not the city's arteries.
MINOR_ROADS = ("residential", "living_street", "service", "unclassified", "footway", "road")
LARGE_BUILDING_M2 = 2000.0  # slum areas keep clear of mapped buildings this large (offices, malls, mosques)


@dataclass(frozen=True)
class City:
    """What differs between the demo's kab/kota: place, boundaries, plan and names."""

    tenant: str
    name: str
    province: str
    folder: str  # of its boundaries and its files, under data/demo ("" for Medan: boundaries/ and the top)
    boundaries: str  # the boundary files' prefix ("kota_medan": kota_medan_kab_kota.geojson ...)
    stem: str  # of its files ("medan": medan_slum_areas.geojson ...)
    decree: str
    origin: tuple[float, float]  # of its metric frame (lon, lat)
    plan: tuple[tuple[str, str, int], ...]
    straddling: int
    activity_count: int
    unit_word: str  # the RT-level unit of its survey units: "Lingkungan 03" or "RW 03"
    unit_short: str  # the same in KODE_RT_RW ("LK03", "RW03")
    water_utility: str
    basemap: str | None = None  # an OSM GeoPackage (layers roads, buildings) beside its boundaries, if any
    # kelurahan where no synthetic slum area or activity goes: stadiums, palaces, parks, embassies
    excluded: tuple[str, ...] = ()

    def path(self, suffix: str) -> str:
        """The file of one layer, relative to data/demo: "medan_activities.geojson" ..."""
        name = f"{self.stem}_{suffix}"
        return f"{self.folder}/{name}" if self.folder else name

    @property
    def boundary_folder(self) -> Path:
        return HERE / (self.folder or "boundaries")


MEDAN = City("12.71", "Kota Medan", "Sumatera Utara", "", "kota_medan", "medan", "SK Wali Kota Medan (contoh sintetis)",
             (98.67, 3.6), MEDAN_PLAN, 4, 340, "Lingkungan", "LK", "PDAM Tirtanadi")
JAKARTA_PUSAT = City("31.71", "Kota Jakarta Pusat", "DKI Jakarta", "jakarta_pusat", "kota_jakarta_pusat", "jakpus",
                     "SK Gubernur DKI Jakarta (contoh sintetis)", (106.84, -6.18), JAKPUS_PLAN, 1, 80, "RW", "RW",
                     "PAM Jaya", basemap="jakarta_pusat_osm.gpkg",
                     # Gelora (Gelora Bung Karno), Gambir (Monas, the palace), Menteng and Gondangdia (villas, offices)
                     excluded=("31.71.07.1001", "31.71.01.1001", "31.71.06.1001", "31.71.06.1004"))
CITIES = (MEDAN, JAKARTA_PUSAT)
TENANT = MEDAN.tenant
SLUM_FILE, UNITS_FILE = MEDAN.path("slum_areas.geojson"), MEDAN.path("survey_units.geojson")
SURVEYS_FILE, ACTIVITIES_FILE = MEDAN.path("surveys.csv"), MEDAN.path("activities.geojson")
LAYER_FILES = ("slum_areas.geojson", "survey_units.geojson", "surveys.csv", "activities.geojson")


# -- geometry helpers -------------------------------------------------------------------------------------------------
class Frame:
    """A local metric frame: metres east/north of (lon0, lat0) by the WGS 84 radii of curvature there. Over a city
    (about 0.3 degree of latitude) its scale error is below 0.05 %, plenty for placing synthetic features."""

    def __init__(self, lon0: float, lat0: float):
        sin = math.sin(math.radians(lat0))
        self.lon0, self.lat0 = lon0, lat0
        self.kx = math.radians(1) * _A * math.cos(math.radians(lat0)) / math.sqrt(1 - _E2 * sin * sin)
        self.ky = math.radians(1) * _A * (1 - _E2) / (1 - _E2 * sin * sin) ** 1.5

    def to_m(self, geom):
        return shapely.transform(geom, lambda c: np.column_stack(((c[:, 0] - self.lon0) * self.kx,
                                                                  (c[:, 1] - self.lat0) * self.ky)))

    def to_deg(self, geom):
        """Metres -> longitude/latitude rounded to 6 decimals, polygons counter-clockwise (RFC 7946)."""
        out = shapely.transform(geom, lambda c: np.round(np.column_stack((c[:, 0] / self.kx + self.lon0,
                                                                          c[:, 1] / self.ky + self.lat0)), 6))
        out = shapely.remove_repeated_points(out, 0.0)
        return shapely.orient_polygons(out) if out.geom_type in ("Polygon", "MultiPolygon") else out

    def place(self, geom_m) -> Placed:
        """The final geometry: rounded longitude/latitude, and the same back in metres."""
        deg = self.to_deg(geom_m)
        return Placed(deg, self.to_m(deg))


def area_ha(deg) -> float:
    return abs(GEOD.geometry_area_perimeter(deg)[0]) / 10_000.0


def length_m(deg) -> float:
    return GEOD.geometry_length(deg)


@dataclass
class Placed:
    """A final geometry: rounded longitude/latitude and the same in the metric frame."""

    deg: object
    m: object


def random_point(rng: random.Random, region, tries: int = 2000) -> Point | None:
    minx, miny, maxx, maxy = region.bounds
    for _ in range(tries):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if region.contains(p):
            return p
    return None


def blob(rng: random.Random, cx: float, cy: float, area_m2: float, roughness: float = 0.28) -> Polygon:
    """An irregular star-shaped polygon (always simple) of the given area around (cx, cy)."""
    n = rng.randint(9, 15)
    base = rng.uniform(0, 2 * math.pi)
    angles = sorted(base + 2 * math.pi * (i + rng.uniform(-0.3, 0.3)) / n for i in range(n))
    radii = [1 + rng.uniform(-roughness, roughness) for _ in range(n)]
    radii = [(radii[i - 1] + 2 * radii[i] + radii[(i + 1) % n]) / 4 for i in range(n)]
    stretch, turn = rng.uniform(1.0, 1.7), rng.uniform(0, math.pi)
    points = []
    for a, r in zip(angles, radii, strict=True):
        x, y = r * math.cos(a) * stretch, r * math.sin(a) / stretch
        points.append((x * math.cos(turn) - y * math.sin(turn), x * math.sin(turn) + y * math.cos(turn)))
    poly = Polygon(points)
    k = math.sqrt(area_m2 / poly.area)
    return affinity.affine_transform(poly, [k, 0, 0, k, cx, cy])


def polyline(rng: random.Random, start: Point, length: float) -> LineString:
    segments = rng.choice((1, 2, 2, 3))
    heading = rng.uniform(0, 2 * math.pi)
    x, y = start.x, start.y
    coords = [(x, y)]
    for _ in range(segments):
        step = length / segments
        x, y = x + step * math.cos(heading), y + step * math.sin(heading)
        coords.append((x, y))
        heading += rng.choice((-1, 1)) * rng.uniform(math.radians(20), math.radians(90))
    return LineString(coords)


def weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


# -- inputs ---------------------------------------------------------------------------------------------------------
@dataclass
class Kelurahan:
    code: str
    name: str
    kec_code: str
    kec_name: str
    geom: object  # metric frame
    core: object = None  # the part no other kelurahan overlaps, inside the kab/kota, with a margin
    next_lingkungan: int = 1

    @property
    def short(self) -> str:
        return self.code.split(".")[3]


def read_features(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["features"]


def read_csv(name: str) -> list[dict]:
    with open(REFERENCE / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_boundaries(city: City, frame: Frame) -> tuple[list[Kelurahan], object]:
    folder, prefix = city.boundary_folder, city.boundaries
    kab = frame.to_m(shape(read_features(folder / f"{prefix}_kab_kota.geojson")[0]["geometry"]))
    kecamatan = {f["properties"]["kode"]: f["properties"]["nama"]
                 for f in read_features(folder / f"{prefix}_kecamatan.geojson")}
    kels = []
    for f in sorted(read_features(folder / f"{prefix}_desa_kel.geojson"), key=lambda f: f["properties"]["kode"]):
        p = f["properties"]
        kec = p["kode"].rsplit(".", 1)[0]
        kels.append(Kelurahan(p["kode"], p["nama"], kec, kecamatan[kec], frame.to_m(shape(f["geometry"]))))
    tree = shapely.STRtree([k.geom for k in kels])
    for i, kel in enumerate(kels):
        others = [kels[j].geom for j in sorted(tree.query(kel.geom, predicate="intersects")) if j != i]
        core = kel.geom.difference(shapely.union_all(others)) if others else kel.geom
        kel.core = core.intersection(kab).buffer(-8)
    return kels, kab


# -- slum areas, survey units, surveys -------------------------------------------------------------------------------
@dataclass
class Unit:
    label: str
    kelurahan: Kelurahan
    shape: Placed
    area_ha: float
    rounds: list[dict] = field(default_factory=list)


@dataclass
class SlumArea:
    kawasan: str
    typology: str
    legality: str
    shape: Placed
    kelurahan: Kelurahan
    shares: dict[str, float]
    severity: float
    units: list[Unit] = field(default_factory=list)
    score: int = 0


def street_name(name: str) -> str | None:
    """An OSM road name as a title says it: "Kramat 2" -> "Jl. Kramat 2" (a gang's "Gg. ..." stays)."""
    if not name:
        return None
    return name if name.lower().startswith(("jl", "jalan", "gg", "gang")) else f"Jl. {name}"


class Basemap:
    """A city's real OpenStreetMap roads and buildings (metric frame), for placing synthetic features plausibly."""

    def __init__(self, path: Path, frame: Frame):
        roads = pyogrio.read_dataframe(path, layer="roads")
        names = roads["name"].fillna("").astype(str).str.strip()
        roads = roads[roads["highway"].isin(MINOR_ROADS) & ~names.str.contains("busway", case=False)]
        self.roads = [frame.to_m(g) for g in roads.geometry]
        self.names = [street_name(n) for n in names[roads.index]]
        self.road_tree = shapely.STRtree(self.roads)
        buildings = [frame.to_m(g) for g in pyogrio.read_dataframe(path, layer="buildings").geometry]
        self.large = shapely.STRtree([b for b in buildings if b.area >= LARGE_BUILDING_M2])

    def road_length(self, poly) -> float:
        return sum(self.roads[j].intersection(poly).length for j in self.road_tree.query(poly, predicate="intersects"))

    def suits_slum_area(self, poly) -> bool:
        """Clear of large buildings, with at least 100 m of minor roads (the kampung's lanes) inside."""
        return not len(self.large.query(poly, predicate="intersects")) and self.road_length(poly) >= 100

    def road_pieces(self, container, shortest: float) -> list[LineString]:
        """The parts of minor roads inside `container` at least `shortest` metres long, in file order."""
        pieces = []
        for j in sorted(self.road_tree.query(container, predicate="intersects")):
            inside = self.roads[j].intersection(container)
            pieces += [p for p in getattr(inside, "geoms", [inside]) if p.geom_type == "LineString"
                       and p.length >= shortest]
        return pieces

    def street(self, line) -> str | None:
        """The name of the road a line follows, if the map has one."""
        probe = line.interpolate(0.5, normalized=True)
        near = [j for j in sorted(self.road_tree.query(probe.buffer(1.0), predicate="intersects")) if self.names[j]]
        return self.names[near[0]] if near else None


class World:
    def __init__(self, rng: random.Random, city: City = MEDAN):
        self.rng, self.city = rng, city
        self.frame = Frame(*city.origin)
        self.kels, self.kab = load_boundaries(city, self.frame)
        self.hosts = [k for k in self.kels if k.code not in city.excluded]  # of slum areas and activities
        self.basemap = Basemap(city.boundary_folder / city.basemap, self.frame) if city.basemap else None
        self.by_code = {k.code: k for k in self.kels}
        self.tree = shapely.STRtree([k.geom for k in self.kels])
        self.kab_inner = self.kab.buffer(-8)
        self.areas: list[SlumArea] = []

    def plausible(self, poly) -> bool:
        """Where a slum area may lie on the city's basemap (anywhere without one)."""
        return self.basemap is None or self.basemap.suits_slum_area(poly)

    def shares(self, geom) -> dict[str, float]:
        out = {}
        for j in sorted(self.tree.query(geom, predicate="intersects")):
            share = self.kels[j].geom.intersection(geom).area / geom.area
            if share > 0.0005:
                out[self.kels[j].code] = share
        return out

    def clear_of_areas(self, geom, margin: float) -> bool:
        return all(geom.distance(a.shape.m) >= margin for a in self.areas)

    def neighbours(self, kel: Kelurahan) -> list[Kelurahan]:
        near = sorted(self.tree.query(kel.geom.buffer(30), predicate="intersects"))
        return [self.kels[j] for j in near if self.kels[j] is not kel and self.kels[j].core.area >= 150_000
                and self.kels[j].code not in self.city.excluded]

    # areas
    def place_inside(self, kel: Kelurahan, target_ha: float) -> Placed | None:
        rng = self.rng
        for attempt in range(400):
            if attempt and attempt % 60 == 0:
                target_ha = max(1.0, target_ha * 0.8)
            centre = random_point(rng, kel.core)
            if centre is None:
                return None
            poly = blob(rng, centre.x, centre.y, target_ha * 10_000)
            if kel.core.contains(poly) and self.clear_of_areas(poly, 25) and self.plausible(poly):
                placed = self.frame.place(poly)
                if placed.deg.is_valid and 1.0 <= area_ha(placed.deg) <= 15.0:
                    return placed
        return None

    def place_straddling(self, a: Kelurahan, b: Kelurahan, target_ha: float) -> Placed | None:
        rng = self.rng
        ring = max(getattr(a.geom, "geoms", [a.geom]), key=lambda g: g.area).exterior
        for _ in range(600):
            centre = ring.interpolate(rng.uniform(0, ring.length))
            if centre.distance(b.geom) > 20:
                continue
            poly = blob(rng, centre.x, centre.y, target_ha * 10_000)
            if not self.kab_inner.contains(poly) or not self.clear_of_areas(poly, 25) or not self.plausible(poly):
                continue
            placed = self.frame.place(poly)
            shares = self.shares(placed.m)
            if set(shares) != {a.code, b.code} or min(shares.values()) < 0.2:
                continue
            if abs(sum(shares.values()) - 1) > 0.005 or not placed.deg.is_valid:
                continue
            return placed
        return None

    def build_areas(self) -> None:
        rng = self.rng
        used: set[str] = set()
        plans = []
        for kec, typology, count in self.city.plan:
            candidates = [k for k in self.hosts if k.kec_code.endswith("." + kec) and k.code not in used]
            big = [k for k in candidates if k.core.area >= 250_000] or [k for k in candidates if k.core.area >= 150_000]
            main = rng.choice(big)
            used.add(main.code)
            nbs = self.neighbours(main)
            nbs = rng.sample(nbs, min(2, len(nbs)))
            name = f"Kawasan {KAWASAN_PREFIX[typology]}{main.name}"
            plans.append((name, typology, count, main, nbs))
        straddle = set(rng.sample([i for i, p in enumerate(plans) if p[4]], self.city.straddling))
        for i, (name, typology, count, main, nbs) in enumerate(plans):
            for n in range(count):
                legality = "ilegal" if rng.random() < ILLEGAL_SHARE[typology] else "legal"
                target = math.exp(rng.uniform(math.log(1.3), math.log(13.5)))
                placed = None
                if i in straddle and n == 0:
                    for nb in nbs:
                        placed = self.place_straddling(main, nb, min(target, 6.0))
                        if placed:
                            break
                    if placed is None:
                        raise RuntimeError(f"could not place a straddling area in {name}")
                else:
                    kel = main if (not nbs or rng.random() < 0.6) else rng.choice(nbs)
                    for host in [kel] + [k for k in [main, *nbs] if k is not kel]:
                        placed = self.place_inside(host, min(target, 0.2 * host.core.area / 10_000))
                        if placed:
                            break
                    else:
                        raise RuntimeError(f"could not place an area in {name}")
                shares = self.shares(placed.m)
                best = max(sorted(shares), key=lambda c: shares[c])
                self.areas.append(SlumArea(name, typology, legality, placed, self.by_code[best], shares,
                                           severity=rng.uniform(0.35, 0.8)))

    # survey units
    def split(self, area: SlumArea) -> list[Placed]:
        rng = self.rng
        ha = area_ha(area.shape.deg)
        n = 2 if ha < 2.5 else 3 if ha < 6 else 4 if ha < 10 else 5
        n = max(2, min(5, n + rng.choice((-1, 0, 0, 1))))
        poly = area.shape.m
        spacing = math.sqrt(poly.area / n) * 0.6
        for _ in range(300):
            seeds: list[Point] = []
            for _ in range(200):
                p = random_point(rng, poly)
                if all(p.distance(q) >= spacing for q in seeds):
                    seeds.append(p)
                if len(seeds) == n:
                    break
            if len(seeds) < n:
                continue
            cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=poly.buffer(100), ordered=True)
            pieces = [cell.intersection(poly) for cell in cells.geoms]
            if not all(p.geom_type == "Polygon" and p.area >= 0.35 * poly.area / n for p in pieces):
                continue
            placed = [self.frame.place(p) for p in pieces]
            if all(p.deg.is_valid and p.deg.geom_type == "Polygon" for p in placed):
                return placed
        raise RuntimeError("could not split a slum area into survey units")

    def build_units(self) -> None:
        for area in self.areas:
            for piece in self.split(area):
                shares = self.shares(piece.m)
                kel = self.by_code[max(sorted(shares), key=lambda c: shares[c])]
                label = f"{self.city.unit_word} {kel.next_lingkungan:02d}"
                kel.next_lingkungan += 1
                area.units.append(Unit(label, kel, piece, round(area_ha(piece.deg), 3)))

    def build_surveys(self) -> None:
        for area in self.areas:
            for _attempt in range(20):
                for unit in area.units:
                    unit.rounds = self.survey_rounds(area, unit)
                area.score = score_total(area.units)
                if area.score >= 16:
                    break
                area.severity = min(0.95, area.severity + 0.08)
            else:
                raise RuntimeError("a synthetic slum area stays below the kumuh threshold")

    def survey_rounds(self, area: SlumArea, unit: Unit) -> list[dict]:
        rng = self.rng
        low, high = DENSITY[area.typology]
        population = max(20, round(unit.area_ha * rng.uniform(low, high)))
        households = max(5, round(population / rng.uniform(3.6, 4.4)))
        buildings = max(4, round(households / rng.uniform(1.05, 1.3)))
        road = round(unit.area_ha * rng.uniform(180, 320), 1)
        drainage = round(road * rng.uniform(1.4, 2.0), 1)
        severity = min(0.95, max(0.1, area.severity + rng.gauss(0, 0.08)))
        baseline_pct = {c: min(1.0, max(0.0, severity + CRITERION_BIAS[c] + rng.gauss(0, 0.2))) for c in CRITERIA}
        headers = {"area_ha": unit.area_ha, "buildings": buildings, "population": population,
                   "households": households, "road_length_m": road, "drainage_length_m": drainage}
        later = dict(headers)
        later["population"] = round(population * rng.uniform(1.01, 1.06))
        later["households"] = max(households, round(later["population"] / (population / households)))
        later["buildings"] = buildings + rng.randint(0, max(1, buildings // 25))
        improved = {}
        for c, pct in baseline_pct.items():
            factor = rng.uniform(1.0, 1.15) if rng.random() < 0.08 else rng.uniform(0.25, 0.85)
            improved[c] = min(1.0, pct * factor)
        day = rng.randint(0, 90)
        return [
            {"round": "baseline", "year": 2019, "date": f"2019-{6 + day // 30:02d}-{1 + day % 28:02d}", **headers,
             "volumes": volumes(baseline_pct, headers)},
            {"round": "2023", "year": 2023, "date": f"2023-{6 + day // 30:02d}-{1 + day % 28:02d}", **later,
             "volumes": volumes(improved, later)},
        ]


DENOMINATOR = {
    "1a": "buildings", "1b": "area_ha", "1c": "buildings", "2a": "road_length_m", "2b": "road_length_m",
    "3a": "households", "3b": "households", "4a": "area_ha", "4b": "drainage_length_m", "4c": "drainage_length_m",
    "5a": "households", "5b": "households", "6a": "households", "6b": "households", "7a": "buildings",
    "7b": "buildings",
}


def volumes(pct: dict[str, float], headers: dict) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for c in CRITERIA:
        denominator = headers[DENOMINATOR[c]]
        if DENOMINATOR[c] == "area_ha":
            out[c] = round(pct[c] * denominator, 3)
        elif DENOMINATOR[c].endswith("_m"):
            out[c] = round(pct[c] * denominator, 1)
        else:
            out[c] = min(denominator, round(pct[c] * denominator))
    return out


def band(percent: float) -> int:
    """Permen PUPR 14/2018: under 25 % -> 0, under 51 % -> 1, under 76 % -> 3, else 5."""
    return 0 if percent < 25 else 1 if percent < 51 else 3 if percent < 76 else 5


def score_total(units: list[Unit]) -> int:
    """The area's baseline score: volumes and denominators summed over its units, then banded."""
    total = 0
    for c in CRITERIA:
        volume = sum(u.rounds[0]["volumes"][c] for u in units)
        denominator = sum(u.rounds[0][DENOMINATOR[c]] for u in units)
        total += band(100.0 * volume / denominator) if denominator else 0
    return total


# -- activities ------------------------------------------------------------------------------------------------------
@dataclass
class Activity:
    props: dict
    shape: Placed
    criteria: frozenset
    radius: float
    live: bool


class ActivityMaker:
    def __init__(self, world: World, rng: random.Random):
        self.world, self.rng = world, rng
        self.kinds = {row["code"]: row for row in read_csv("activity_kinds.csv")}
        self.programs = [row["code"] for row in read_csv("programs.csv")]
        self.fundings = [row["code"] for row in read_csv("funding_sources.csv")]
        missing = (set(self.kinds) - set(KIND_WEIGHTS)) | (set(self.programs) - set(FUNDING_BY_PROGRAM)) | (
            set(self.fundings) - {f for fs in FUNDING_BY_PROGRAM.values() for f in fs})
        if missing:
            raise RuntimeError(f"data/reference has codes the generator does not know: {sorted(missing)}")
        self.activities: list[Activity] = []
        areas = world.areas
        self.area_weights = [math.sqrt(area_ha(a.shape.deg)) for a in areas]
        slums = shapely.union_all([a.shape.m for a in areas]).buffer(30)
        self.free = [(k, k.core.buffer(-5).difference(slums)) for k in world.hosts]
        self.free = [(k, g) for k, g in self.free if g.area > 20_000]

    # plans
    def plans(self, count: int) -> list[tuple[str, str, str]]:
        """(kind, program, funding source): first one covering every programme and funding source, then random."""
        rng = self.rng
        plans = []
        for program in self.programs:
            kinds = {k: w for k, w in KIND_WEIGHTS.items() if program in PROGRAMS_BY_KIND[k]}
            for funding in FUNDING_BY_PROGRAM[program]:
                if not any(p[2] == funding for p in plans) or not any(p[1] == program for p in plans):
                    plans.append((weighted(rng, kinds), program, funding))
        while len(plans) < count:
            kind = weighted(rng, KIND_WEIGHTS)
            program = weighted(rng, PROGRAMS_BY_KIND[kind])
            plans.append((kind, program, weighted(rng, FUNDING_BY_PROGRAM[program])))
        return plans

    def timing(self) -> tuple[int, int, str, str, int, str | None]:
        """(year_start, year_end, stage, status, progress, note) with the stage consistent with the years."""
        rng = self.rng
        start = rng.choices(YEARS, weights=(4, 3, 5, 6, 7, 9, 22, 44))[0]
        end = min(2026, start + (1 if rng.random() < 0.15 else 0))
        r = rng.random()
        rejected_stage = rng.choice(("musrenbang_kelurahan", "musrenbang_kecamatan", "renja_opd"))
        if end <= 2024 or (end == 2025 and r < 0.5):
            if r < 0.06:
                return start, end, rejected_stage, "ditolak", 0, rng.choice(REJECTION_NOTES)
            return start, end, rng.choice(("selesai", "serah_terima", "serah_terima")), "selesai", 100, None
        if end == 2025 or start == 2025:
            if r > 0.96:
                return start, end, rejected_stage, "ditolak", 0, rng.choice(REJECTION_NOTES)
            return start, end, "pelaksanaan", "aktif", 50, None
        if r < 0.07:
            return start, end, rejected_stage, "ditolak", 0, rng.choice(REJECTION_NOTES)
        stage = rng.choice(("rembuk_warga", "musrenbang_kelurahan", "musrenbang_kecamatan", "renja_opd", "rkpd",
                            "pelaksanaan", "pelaksanaan", "pelaksanaan"))
        return start, end, stage, "aktif", 50 if stage == "pelaksanaan" else 0, None

    # geometry
    def conflicts(self, geom_m, criteria: frozenset, kind: str, radius: float, years: tuple[int, int],
                  point: bool) -> bool:
        """Would this live activity duplicate a live one (shared criteria or kind, overlapping years, close)?"""
        for other in self.activities:
            if not other.live:
                continue
            p = other.props
            if p["year_start"] > years[1] or p["year_end"] < years[0]:
                continue
            if not (criteria & other.criteria) and p["kind"] != kind:
                continue
            # a point near anything of the same criteria: its radius; lines and polygons: 12 m of clearance
            margin = max(radius, other.radius) + 5 if (point or other.shape.m.geom_type == "Point") else 12
            if geom_m.distance(other.shape.m) < margin:
                return True
        return False

    def make_geometry(self, kind: str, container, container_area_m2: float):
        rng = self.rng
        gtype = self.kinds[kind]["geometry_type"]
        if gtype == "point":
            return random_point(rng, container, tries=300)
        if gtype == "line" and self.world.basemap is not None:
            return self.along_road(container, 50, 400)
        start = random_point(rng, container, tries=300)
        if start is None:
            return None
        if gtype == "line":
            longest = min(400.0, 1.6 * math.sqrt(container_area_m2))
            if longest < 50:
                return None
            line = polyline(rng, start, rng.uniform(50, longest))
            return line if container.contains(line) else None
        size = rng.uniform(300, min(3000, 0.3 * container_area_m2))
        poly = blob(rng, start.x, start.y, size, roughness=0.2)
        return poly if container.contains(poly) else None

    def along_road(self, container, shortest: float, longest: float) -> LineString | None:
        """A stretch of a real minor road inside `container`, `shortest` to `longest` metres long."""
        rng = self.rng
        basemap = self.world.basemap
        assert basemap is not None
        pieces = basemap.road_pieces(container.buffer(-1), shortest)
        if not pieces:
            return None
        piece = rng.choice(pieces)
        length = rng.uniform(shortest, min(longest, piece.length))
        start = rng.uniform(0, piece.length - length)
        return substring(piece, start, start + length)

    def street(self, line_m) -> str | None:
        """The real name of the road a line activity follows (None without a basemap, for points and polygons)."""
        basemap = self.world.basemap
        return basemap.street(line_m) if basemap is not None and line_m.geom_type == "LineString" else None

    def agency(self, kind: str) -> str:
        agency = AGENCY_BY_KIND[kind]
        return self.world.city.water_utility if agency == WATER_UTILITY else agency

    def locate(self, inside: bool):
        """(container polygon in metres, its area, slum area or None, kelurahan or None)."""
        rng = self.rng
        if inside:
            area = rng.choices(self.world.areas, weights=self.area_weights)[0]
            return area.shape.m.buffer(-2), area.shape.m.area, area, None
        kel, region = rng.choices(self.free, weights=[g.area for _, g in self.free])[0]
        return region, 40_000.0, None, kel

    def where(self, geom_m, area: SlumArea | None, kel: Kelurahan | None) -> tuple[str, str]:
        """(proposer area label, kelurahan name) for a new activity."""
        probe = geom_m if geom_m.geom_type == "Point" else (
            geom_m.interpolate(0.5, normalized=True) if geom_m.geom_type == "LineString" else
            geom_m.point_on_surface())
        if area is not None:
            unit = min(area.units, key=lambda u: (u.shape.m.distance(probe), u.label))
            return unit.label, unit.kelurahan.name
        return f"{self.world.city.unit_word} {self.rng.randint(1, 18):02d}", kel.name

    def add(self, kind: str, program: str, funding: str, geom_m, timing, area, kel, *, title: str | None = None,
            volume: float | None = None) -> Activity:
        rng = self.rng
        row = self.kinds[kind]
        placed = self.world.frame.place(geom_m)
        start, end, stage, status, progress, note = timing
        gtype = row["geometry_type"]
        if gtype == "line":
            volume = round(length_m(placed.deg), 1)
        elif gtype == "polygon":
            volume = round(area_ha(placed.deg) * 10_000, 1)
        elif volume is None:
            volume = rng.randint(*POINT_VOLUME[kind])
        cost = round(volume * float(row["unit_price"]) * rng.uniform(0.85, 1.2), -3)
        lk, kel_name = self.where(placed.m, area, kel)
        if title is None:
            street = self.street(placed.m) or rng.choice(STREETS)
            title = TITLES[kind].format(street=street, lk=lk, kel=kel_name, v=volume)
        props = {
            "title": title, "kind": kind, "criteria": row["criteria"], "volume": volume, "unit": row["unit"],
            "cost": int(cost), "year_start": start, "year_end": end, "program": program, "funding_source": funding,
            "stage": stage, "status": status, "progress": progress, "proposer_area": lk,
            "target_agency": self.agency(kind),
        }
        if note:
            props["note"] = note
        props["synthetic"] = True
        activity = Activity(props, placed, frozenset(row["criteria"].split(";")), float(row["point_radius_m"]),
                            live=status in LIVE_STATUSES)
        self.activities.append(activity)
        return activity

    def try_place(self, kind: str, program: str, funding: str, inside: bool, timing) -> bool:
        row = self.kinds[kind]
        criteria = frozenset(row["criteria"].split(";"))
        radius = float(row["point_radius_m"])
        for _ in range(40):
            container, container_area, area, kel = self.locate(inside)
            for _ in range(15):
                geom = self.make_geometry(kind, container, container_area)
                if geom is None:
                    continue
                point = geom.geom_type == "Point"
                live = timing[3] in LIVE_STATUSES
                rounded = self.world.frame.place(geom).m
                if live and self.conflicts(rounded, criteria, kind, radius, timing[:2], point):
                    continue
                self.add(kind, program, funding, geom, timing, area, kel)
                return True
        return False

    def collaboration(self) -> None:
        """One road paved in two segments that touch end to end: APBD kota (via the LKM), then the Dana Kelurahan."""
        rng = self.rng
        areas = sorted(self.world.areas, key=lambda a: -a.shape.m.area)[:8]
        for _ in range(2000):
            area = rng.choice(areas)
            container = area.shape.m.buffer(-3)
            if self.world.basemap is None:
                start = random_point(rng, container)
                line = polyline(rng, start, rng.uniform(260, 330))
            else:
                line = self.along_road(container, 260, 330)
            if line is None or not container.contains(line):
                continue
            first, rest = substring(line, 0, 170), substring(line, 170, line.length)
            a, b = self.world.frame.place(first), self.world.frame.place(rest)
            if a.deg.coords[-1] != b.deg.coords[0]:
                continue
            street = self.street(a.m) or rng.choice(STREETS)
            lk, kel_name = self.where(a.m, area, None)
            lk_b, kel_name_b = self.where(b.m, area, None)
            timing_a = (2025, 2025, "serah_terima", "selesai", 100,
                        "Kolaborasi: ruas 1 dibiayai APBD Kota melalui LKM; ruas 2 dilanjutkan Dana Kelurahan "
                        "(bersambung di ujung, bukan tumpang tindih)")
            timing_b = (2025, 2026, "pelaksanaan", "aktif", 50,
                        "Kolaborasi: lanjutan ruas 1 (APBD Kota), menyambung di ujungnya")
            if self.conflicts(a.m, frozenset({"2a", "2b"}), "jalan_rabat_beton", 25, (2025, 2026), False):
                continue
            if self.conflicts(b.m, frozenset({"2a", "2b"}), "jalan_rabat_beton", 25, (2025, 2026), False):
                continue
            self.add("jalan_rabat_beton", "REGULER", "APBD_KABKOTA", first, timing_a, area, None,
                     title=f"Rabat beton {street} ruas 1, {lk} Kel. {kel_name}")
            self.add("jalan_rabat_beton", "REGULER", "DANA_DESA", rest, timing_b, area, None,
                     title=f"Rabat beton {street} ruas 2 (lanjutan), {lk_b} Kel. {kel_name_b}")
            return
        raise RuntimeError("could not place the collaboration road")

    def rejected_duplicates(self) -> None:
        """Three proposals rejected because they duplicate a live one: the overlap check's showcase."""
        rng = self.rng
        picked = []
        for gtype in ("LineString", "Point", "Polygon"):
            candidates = [a for a in self.activities if a.live and a.props["year_start"] == 2026
                          and a.props["stage"] in ("rembuk_warga", "musrenbang_kelurahan", "renja_opd", "rkpd")
                          and a.shape.m.geom_type == gtype and not a.props.get("note")]
            if candidates:
                picked.append(rng.choice(candidates))
        for original in picked:
            geom = affinity.translate(original.shape.m, 2.0, -1.5)
            if geom.geom_type == "LineString":
                geom = substring(geom, 0, 0.8 * geom.length)
            p = original.props
            area = next((a for a in self.world.areas if a.shape.m.intersects(geom)), None)
            kel = None if area else min(self.world.kels, key=lambda k: k.geom.distance(geom))
            funding = "CSR" if p["funding_source"] != "CSR" else "APBD_KABKOTA"
            program = "LAINNYA" if funding == "CSR" else "REGULER"
            volume = p["volume"] if p["unit"] == "unit" else None
            title = p["title"].replace(" Kel. ", " (usulan ulang) Kel. ", 1)
            timing = (2026, 2026, "musrenbang_kecamatan", "ditolak", 0,
                      f"Ditolak: tumpang tindih dengan usulan '{p['title']}' ({p['program']}/{p['funding_source']})")
            self.add(p["kind"], program, funding, geom, timing, area, kel, title=title, volume=volume)

    def build(self) -> list[Activity]:
        rng = self.rng
        self.collaboration()
        count = self.world.city.activity_count
        plans = self.plans(count)
        extra = 3  # the rejected duplicates come last
        todo = count - len(self.activities) - extra
        outside = round(count * (1 - INSIDE_SHARE))
        flags = [False] * outside + [True] * (todo - outside)
        rng.shuffle(flags)
        done = 0
        for kind, program, funding in plans:
            if done == todo:
                break
            if self.try_place(kind, program, funding, flags[done], self.timing()):
                done += 1
        if done < todo:
            raise RuntimeError(f"placed only {done} of {todo} activities")
        self.rejected_duplicates()
        return self.activities


# -- output -----------------------------------------------------------------------------------------------------------
def feature_collection(name: str, features: list[tuple[dict, object]]) -> str:
    lines = [json.dumps({"type": "Feature", "properties": props, "geometry": mapping(geom)},
                        ensure_ascii=False, separators=(",", ":")) for props, geom in features]
    return '{"type":"FeatureCollection","name":"' + name + '","features":[\n' + ",\n".join(lines) + "\n]}\n"


def slum_features(world: World) -> list[tuple[dict, object]]:
    rng, city = world.rng, world.city
    prov, kab = city.tenant.split(".")
    off = set(rng.sample(range(len(world.areas)), 2))
    out = []
    for i, area in enumerate(world.areas):
        kel = area.kelurahan
        ha = area_ha(area.shape.deg)
        stated = round(ha * (1.035 if i == min(off) else 0.972 if i == max(off) else 1.0), 3)
        by_kel: dict[str, list[str]] = {}
        for unit in area.units:
            short = unit.label.replace(f"{city.unit_word} ", city.unit_short)
            by_kel.setdefault(unit.kelurahan.short, []).append(short)
        order = [kel.short] + sorted(k for k in by_kel if k != kel.short)
        rt_rw = "; ".join(f"{k}-{'/'.join(by_kel[k])}" for k in order if k in by_kel)
        props = {
            "Provinsi": city.province, "Kode_Prov": prov, "Kab_Kota": city.name, "Kode_Kab": kab,
            "KECAMATAN": kel.kec_name, "Kode_Kec": kel.kec_code.split(".")[2], "KELURAHAN": kel.name,
            "Kode_Kel": kel.short, "KODE_RT_RW": rt_rw, "LUAS_KUMUH": stated, "skor_kumuh": area.score,
            "SUMBR_DATA": SYNTHETIC_SOURCE, "SK_KUMUH": city.decree, "Kawasan": area.kawasan,
            "Legalitas": area.legality, "Tipologi": area.typology, "synthetic": True,
        }
        out.append((props, area.shape.deg))
    return out


def unit_features(world: World) -> list[tuple[dict, object]]:
    out = []
    for area in world.areas:
        for unit in area.units:
            r = unit.rounds[0]
            props = {
                "label": unit.label, "kelurahan_code": unit.kelurahan.code, "kelurahan": unit.kelurahan.name,
                "kawasan": area.kawasan, "area_ha": unit.area_ha, "buildings": r["buildings"],
                "population": r["population"], "households": r["households"], "road_length_m": r["road_length_m"],
                "drainage_length_m": r["drainage_length_m"], "synthetic": True,
            }
            out.append((props, unit.shape.deg))
    return out


def survey_rows(world: World) -> list[dict]:
    rows = []
    for area in world.areas:
        for unit in area.units:
            for r in unit.rounds:
                row = {"kelurahan_code": unit.kelurahan.code, "label": unit.label, "round": r["round"],
                       "year": r["year"], "survey_date": r["date"], "scheme": "permen14_2018"}
                for key in ("area_ha", "buildings", "population", "households", "road_length_m", "drainage_length_m"):
                    row[key] = r[key]
                for c in CRITERIA:
                    row[f"v_{c}"] = r["volumes"][c]
                row["source"] = SYNTHETIC_SOURCE
                row["synthetic"] = "true"
                rows.append(row)
    return rows


def generate_city(city: City, output: Path = HERE, seed: int = SEED) -> dict[str, int]:
    """Write one city's four files under `output`; returns feature/row counts. Each city has its own random
    stream from the same seed, so adding a city changes no byte of another's files."""
    rng = random.Random(seed)
    world = World(rng, city)
    world.build_areas()
    world.build_units()
    world.build_surveys()
    activities = ActivityMaker(world, rng).build()

    slums = slum_features(world)
    units = unit_features(world)
    rows = survey_rows(world)
    slum_file, units_file, surveys_file, activities_file = (output / city.path(name) for name in LAYER_FILES)
    slum_file.parent.mkdir(parents=True, exist_ok=True)
    slum_file.write_text(feature_collection(f"{city.stem}_slum_areas", slums), encoding="utf-8")
    units_file.write_text(feature_collection(f"{city.stem}_survey_units", units), encoding="utf-8")
    activities_file.write_text(
        feature_collection(f"{city.stem}_activities", [(a.props, a.shape.deg) for a in activities]), encoding="utf-8")
    with open(surveys_file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return {"slum_areas": len(slums), "survey_units": len(units), "surveys": len(rows),
            "activities": len(activities)}


def generate(output: Path = HERE, seed: int = SEED) -> dict[str, dict[str, int]]:
    """Write every city's files into `output`; returns {tenant: counts}."""
    return {city.tenant: generate_city(city, output, seed) for city in CITIES}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the synthetic demo layers (Kota Medan, Jakarta Pusat).")
    parser.add_argument("output", nargs="?", type=Path, default=HERE, help="output folder (default: data/demo)")
    parser.add_argument("--seed", type=int, default=SEED,
                        help=f"random seed (default {SEED}; the shipped files use it)")
    args = parser.parse_args(argv)
    counts = generate(args.output, args.seed)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
