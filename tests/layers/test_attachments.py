"""Photos as evidence: EXIF position and time, distance from the activity, limits on size and type."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import shapely
from PIL import Image

from data import data_path
from geo.errors import InvalidInput, TooLarge, UnsupportedFormat
from layers.imports.regions import import_regions
from layers.planning.activities import Catalogue, create_activity, parse_activity
from layers.planning.attachments import attach, read_exif
from layers.settings import Settings


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))


def photo(lon: float | None = None, lat: float | None = None, taken: str = "2025:08:17 09:30:00") -> bytes:
    image = Image.new("RGB", (32, 24), (120, 90, 60))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = taken
    if lon is not None:
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)), 3: "E", 4: _dms(lon)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(attachments=tmp_path / "files")


@pytest.fixture
def road(conn) -> int:
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_desa_kel.geojson"))
    parsed, _ = parse_activity({"tenant": "12.71", "title": "Paving", "kind": "jalan_paving", "year_start": 2025},
                               shapely.LineString([(98.6850, 3.5832), (98.6868, 3.5832)]), Catalogue.load(conn))
    return create_activity(conn, parsed).id


def test_exif_position_and_time_are_read():
    position = read_exif(photo(98.6855, 3.5833))
    assert position.lon == pytest.approx(98.6855, abs=1e-5) and position.lat == pytest.approx(3.5833, abs=1e-5)
    assert position.taken_at.isoformat() == "2025-08-17T09:30:00"


def test_a_photo_at_the_site_is_accepted_and_stored_by_checksum(conn, road, settings, tmp_path):
    content = photo(98.6855, 3.58325)
    record = attach(conn, road, "jalan.jpg", content, settings=settings, uploaded_by="opd1")
    assert not record["flagged"] and record["distance_m"] < 10
    stored = Path(conn.execute("SELECT stored_path FROM activity_attachments").fetchone()[0])
    assert stored.is_relative_to(tmp_path / "files") and stored.read_bytes() == content
    assert record["sha256"] == hashlib.sha256(content).hexdigest()


def test_a_photo_taken_far_away_or_without_position_is_flagged(conn, road, settings):
    far = attach(conn, road, "jauh.jpg", photo(98.6950, 3.5832), settings=settings)  # ~1 km east
    assert far["flagged"] and "m dari lokasi kegiatan" in far["flag_reason"] and far["distance_m"] > 900
    blind = attach(conn, road, "tanpa_gps.jpg", photo(), settings=settings)
    assert blind["flagged"] and "tanpa posisi GPS" in blind["flag_reason"]


def test_type_size_and_count_limits(conn, road, settings):
    with pytest.raises(UnsupportedFormat):
        attach(conn, road, "foto.jpg", b"<html><script>alert(1)</script></html>", settings=settings)  # the name lies
    with pytest.raises(TooLarge):
        attach(conn, road, "besar.jpg", b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024), settings=settings)
    for number in range(5):
        attach(conn, road, f"{number}.jpg", photo(98.6855, 3.5833, taken=f"2025:08:1{number} 09:30:00"),
               settings=settings)
    with pytest.raises(InvalidInput, match="already has 5"):
        attach(conn, road, "6.jpg", photo(98.6855, 3.5833), settings=settings)
