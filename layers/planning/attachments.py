"""Photos and videos of an activity: evidence in the KPK spirit.

Files are stored outside the database (layers/planning/storage.py: under var/attachments or the KOTAKU_ATTACHMENTS
setting, or in an S3-compatible bucket with KOTAKU_STORAGE=s3; named by their SHA-256) with their checksum in
activity_attachments. The type is read from the file's own bytes, never from its name or the client's header.
A JPEG's EXIF position and time are read; a photo taken farther than the KOTAKU_PHOTO_MAX_DISTANCE_M setting
(default 200 m) from the activity, or with no position at all, is flagged (kept, but shown as doubtful).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from PIL import Image, UnidentifiedImageError

from geo.errors import InvalidInput, NotFound, TooLarge, UnsupportedFormat
from layers.db.rows import one
from layers.planning.storage import file_key, file_store, read_file
from layers.settings import Settings

MAX_FILES = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VIDEO_BYTES = 50 * 1024 * 1024
SIGNATURES = {  # leading bytes -> (media type, extension)
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME_ORIGINAL = 36867


def sniff(content: bytes) -> tuple[str, str]:
    """(media type, extension) from the bytes: JPEG, PNG or MP4/MOV video; anything else is refused."""
    for signature, kind in SIGNATURES.items():
        if content.startswith(signature):
            return kind
    if content[4:8] == b"ftyp":
        return ("video/mp4", "mp4")
    raise UnsupportedFormat("only JPEG or PNG photos and MP4 videos are accepted")


@dataclass
class PhotoPosition:
    lon: float | None = None
    lat: float | None = None
    taken_at: datetime | None = None


def read_exif(content: bytes) -> PhotoPosition:
    """EXIF GPS position (decimal degrees) and DateTimeOriginal of a photo; empty for anything without them."""
    try:
        exif = Image.open(io.BytesIO(content)).getexif()
    except (UnidentifiedImageError, OSError):
        return PhotoPosition()
    position = PhotoPosition()
    gps = exif.get_ifd(GPS_IFD)
    if gps and 2 in gps and 4 in gps:
        position.lat = _degrees(gps[2]) * (-1 if gps.get(1) in ("S", b"S") else 1)
        position.lon = _degrees(gps[4]) * (-1 if gps.get(3) in ("W", b"W") else 1)
    taken = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
    if taken:
        with contextlib.suppress(ValueError):  # an unreadable date is simply not known
            position.taken_at = datetime.strptime(str(taken).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    return position


def _degrees(value) -> float:
    degrees, minutes, seconds = (float(part) for part in value)
    return degrees + minutes / 60 + seconds / 3600


@dataclass
class Capture:
    """Where and when the page says the file was captured (browser geolocation with its accuracy), sent with the
    upload: the other source of position and time when a photo carries no EXIF (issue 12 item 3). Kept beside EXIF."""

    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    at: datetime | None = None
    progress_step: int | None = None  # the progress step (0, 50, 100) the file is evidence of


def attach(conn: psycopg.Connection, activity_id: int, file_name: str, content: bytes, *, settings: Settings,
           uploaded_by: str | None = None, capture: Capture | None = None) -> dict:
    """Store one file for an activity and record it; returns the record with its evidence check.

    Where files go and how far from the activity a photo may be come from `settings` (attachments_dir,
    photo_max_distance_m)."""
    media_type, extension = sniff(content)
    limit = MAX_VIDEO_BYTES if media_type.startswith("video/") else MAX_PHOTO_BYTES
    if len(content) > limit:
        raise TooLarge(f"{file_name}: {len(content) / 1e6:.1f} MB is over the {limit // 2**20} MB limit")
    if not content:
        raise InvalidInput(f"{file_name} is empty")
    count = one(conn.execute("SELECT count(*) FROM activity_attachments WHERE activity_id = %s",
                             [activity_id]).fetchone(), "SELECT count(*)")[0]
    if count >= MAX_FILES:
        raise InvalidInput(f"activity {activity_id} already has {MAX_FILES} photos or videos (the most allowed)")
    digest = hashlib.sha256(content).hexdigest()
    position = read_exif(content) if media_type.startswith("image/") else PhotoPosition()
    capture = capture or Capture()
    checked = position  # EXIF first; the page's capture position when the file has none (a video never has)
    if position.lon is None and capture.lon is not None and capture.lat is not None:
        checked = PhotoPosition(lon=capture.lon, lat=capture.lat)
    distance, flagged, reason = _evidence(conn, activity_id, checked, settings.photo_max_distance_m)
    if checked is not position and not flagged and (capture.accuracy_m or 0) > settings.photo_max_distance_m:
        flagged, reason = True, (f"akurasi lokasi perangkat {capture.accuracy_m:.0f} m melebihi batas "
                                 f"{settings.photo_max_distance_m:.0f} m")
    location = file_store(settings).put(file_key(digest, extension), content, media_type)  # KOTAKU_STORAGE
    row = conn.execute(
        """
        INSERT INTO activity_attachments (activity_id, file_name, stored_path, media_type, size_bytes, sha256,
            taken_at, lon, lat, distance_m, flagged, flag_reason, uploaded_by, progress_step, capture_lon,
            capture_lat, capture_accuracy_m, captured_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
        """,
        [activity_id, Path(file_name).name[:200], location, media_type, len(content), digest, position.taken_at,
         position.lon, position.lat, distance, flagged, reason, uploaded_by, capture.progress_step, capture.lon,
         capture.lat, capture.accuracy_m, capture.at],
    ).fetchone()
    row = one(row, "INSERT INTO activity_attachments ... RETURNING id")
    return {"id": row[0], "activity_id": activity_id, "media_type": media_type, "size_bytes": len(content),
            "sha256": digest, "lon": position.lon, "lat": position.lat,
            "taken_at": position.taken_at.isoformat() if position.taken_at else None,
            "distance_m": distance, "flagged": flagged, "flag_reason": reason,
            "position_source": "exif" if checked is position and position.lon is not None else (
                "perangkat" if checked is not position else None),
            "progress_step": capture.progress_step, "capture_lon": capture.lon, "capture_lat": capture.lat,
            "capture_accuracy_m": capture.accuracy_m, "captured_at": capture.at.isoformat() if capture.at else None}


def attachment_file(conn: psycopg.Connection, activity_id: int, attachment_id: int, *, settings: Settings
                    ) -> tuple[str, bytes]:
    """(media type, bytes) of one stored file of an activity, from wherever it was stored (any host can serve it)."""
    row = conn.execute("SELECT media_type, stored_path FROM activity_attachments WHERE id = %s AND activity_id = %s",
                       [attachment_id, activity_id]).fetchone()
    if row is None:
        raise NotFound(f"activity {activity_id} has no attachment {attachment_id}")
    return row[0], read_file(row[1], settings)


def _evidence(conn: psycopg.Connection, activity_id: int, position: PhotoPosition, max_distance_m: float):
    if position.lon is None or position.lat is None:
        return None, True, "foto tanpa posisi GPS (EXIF): lokasi pengambilan tidak dapat diperiksa"
    distance = conn.execute(
        "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
        "FROM activities WHERE id = %s", [position.lon, position.lat, activity_id]).fetchone()
    if distance is None:
        raise InvalidInput(f"activity {activity_id} does not exist")
    meters = round(float(distance[0]), 1)
    if meters > max_distance_m:
        return meters, True, f"foto diambil {meters:.0f} m dari lokasi kegiatan (batas {max_distance_m:.0f} m)"
    return meters, False, None
