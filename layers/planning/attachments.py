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
import math
import warnings
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
# Most pixels a photo may claim: above 108-megapixel phone cameras, far below a decompression bomb.
MAX_PHOTO_PIXELS = 120_000_000
SIGNATURES = {  # leading bytes -> (media type, extension)
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
}
GPS_IFD, EXIF_IFD = 0x8825, 0x8769
DATETIME_ORIGINAL = 36867


def sniff(content: bytes) -> tuple[str, str]:
    """(media type, extension) from the (first) bytes: JPEG, PNG or MP4/MOV video; anything else is refused. (A
    whole file that starts like an MP4 must also be built like one: check_mp4, run by attach.)"""
    for signature, kind in SIGNATURES.items():
        if content.startswith(signature):
            return kind
    if content[4:8] == b"ftyp":
        return ("video/mp4", "mp4")
    raise UnsupportedFormat("only JPEG or PNG photos and MP4 videos are accepted")


def check_mp4(content: bytes) -> None:
    """UnsupportedFormat unless the bytes are an ISO base media file (MP4/MOV): top-level boxes, each a 32-bit
    size (or 1 and a 64-bit size, or 0 for 'to the end') and a four-letter type, that add up to the file exactly,
    the first `ftyp`, with a `moov` box (the movie's header, without which no player opens it)."""
    position, types = 0, []
    while position < len(content):
        if len(content) - position < 8:
            raise UnsupportedFormat(f"not an MP4 video: {len(content) - position} stray bytes at byte {position}")
        size = int.from_bytes(content[position:position + 4], "big")
        kind = content[position + 4:position + 8]
        header = 8
        if size == 1:
            if len(content) - position < 16:
                raise UnsupportedFormat(f"not an MP4 video: a box at byte {position} is cut off")
            size, header = int.from_bytes(content[position + 8:position + 16], "big"), 16
        elif size == 0:
            size = len(content) - position
        if not all(32 <= b < 127 for b in kind):
            raise UnsupportedFormat(f"not an MP4 video: no box type at byte {position}")
        if size < header or position + size > len(content):
            raise UnsupportedFormat(f"not an MP4 video: the '{kind.decode('ascii')}' box at byte {position} claims "
                                    f"{size} bytes, the file has {len(content) - position} from there")
        types.append(kind)
        position += size
    if not types or types[0] != b"ftyp" or b"moov" not in types:
        raise UnsupportedFormat("not an MP4 video: it has no 'moov' box (the movie header)")


@dataclass
class PhotoPosition:
    lon: float | None = None
    lat: float | None = None
    taken_at: datetime | None = None


def check_pixels(content: bytes, file_name: str = "photo") -> None:
    """TooLarge when a photo's header claims more than MAX_PHOTO_PIXELS (a decompression bomb: a few kilobytes
    that would unpack to gigabytes); only the header is read."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content)) as image:
                width, height = image.size
        except Image.DecompressionBombError as error:
            raise TooLarge(f"{file_name}: the image claims too many pixels ({error}); at most "
                           f"{MAX_PHOTO_PIXELS:,} pixels are accepted") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return  # not readable as an image: kept as a photo without position (read_exif), as before
    if width * height > MAX_PHOTO_PIXELS:
        raise TooLarge(f"{file_name}: {width} x {height} = {width * height:,} pixels is over the limit of "
                       f"{MAX_PHOTO_PIXELS:,} pixels")


def read_exif(content: bytes) -> PhotoPosition:
    """EXIF GPS position (decimal degrees) and DateTimeOriginal of a photo; empty for anything without them.
    EXIF is written by every kind of camera and app: a part that is missing, of the wrong type, a rational with a
    zero denominator or a position off the globe gives no position (the photo is then flagged), never an error."""
    position = PhotoPosition()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = Image.open(io.BytesIO(content)).getexif()
            gps = exif.get_ifd(GPS_IFD)
            taken = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL)
    except Exception:  # noqa: BLE001 - Pillow raises many kinds on malformed EXIF; none may fail an upload
        return position
    lat = _coordinate(gps.get(2), gps.get(1), ("S", b"S"), 90)
    lon = _coordinate(gps.get(4), gps.get(3), ("W", b"W"), 180)
    if lat is not None and lon is not None:
        position.lat, position.lon = lat, lon
    if taken:
        with contextlib.suppress(ValueError, TypeError):  # an unreadable date is simply not known
            position.taken_at = datetime.strptime(str(taken).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    return position


def _coordinate(value, reference, negative: tuple, limit: float) -> float | None:
    """Degrees, minutes, seconds (three EXIF rationals) as signed decimal degrees; None when anything is off."""
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    number = degrees + minutes / 60 + seconds / 3600
    if not math.isfinite(number) or not 0 <= number <= limit:
        return None
    return -number if reference in negative else number


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
    if media_type.startswith("image/"):
        check_pixels(content, file_name)
    else:
        check_mp4(content)
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
        [activity_id, stored_name(file_name), location, media_type, len(content), digest, position.taken_at,
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


def stored_name(file_name: str) -> str:
    """The client's file name as kept: its last part, printable characters only (never a NUL, which PostgreSQL
    cannot store), at most 200 characters."""
    name = "".join(c for c in Path(file_name.replace("\\", "/")).name if c.isprintable())[:200].strip()
    return name or "foto"


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
