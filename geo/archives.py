"""Safe extraction of uploaded zip archives (zipped shapefiles, KMZ).

Every entry name is checked before a single byte is written (no absolute paths, no `..`), and the bytes actually
decompressed are counted against the caller's limit, so neither a path-traversal entry nor a zip bomb (whose
headers may understate the sizes) can escape the temporary directory or fill the disk.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from geo.errors import InvalidInput, TooLarge, UnsupportedFormat
from geo.problems import Problem

MAX_ENTRIES = 10_000
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def entry_parts(name: str) -> list[str]:
    """The path components of a zip entry name; InvalidInput when it could escape the extraction directory."""
    parts = [p for p in re.split(r"[\\/]", name) if p not in ("", ".")]
    if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts or "\x00" in name:
        reason = f"unsafe entry {name!r} in the zip archive (absolute path or '..'): the archive is rejected"
        raise InvalidInput(reason, details=[Problem(reason, field=name).as_dict()])
    return parts


def _too_large(name: str, max_bytes: int) -> TooLarge:
    reason = f"{name} unpacks to more than {max_bytes:,} bytes, the upload limit"
    return TooLarge(reason, details=[Problem(reason).as_dict()])


@contextmanager
def extracted_zip(path: Path, max_bytes: int) -> Iterator[Path]:
    """Extract the zip at `path` into a temporary directory that lives as long as the `with` block."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedFormat(f"{path.name} is not a readable zip archive ({exc})") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise InvalidInput(f"{path.name} holds {len(infos):,} entries; at most {MAX_ENTRIES:,} are accepted")
        entries = [(info, entry_parts(info.filename)) for info in infos]  # all checked before any write
        if sum(info.file_size for info in infos) > max_bytes:
            raise _too_large(path.name, max_bytes)
        with TemporaryDirectory(prefix="kotaku-zip-") as tmp:
            root = Path(tmp)
            written = 0
            for info, parts in entries:
                if info.is_dir() or not parts:
                    continue
                target = root.joinpath(*parts)
                if not target.resolve().is_relative_to(root.resolve()):  # belt and braces
                    raise InvalidInput(f"unsafe entry {info.filename!r} in the zip archive")
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with archive.open(info) as src, open(target, "wb") as dst:
                        while chunk := src.read(_CHUNK):
                            written += len(chunk)
                            if written > max_bytes:
                                raise _too_large(path.name, max_bytes)
                            dst.write(chunk)
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
                    raise InvalidInput(f"cannot unpack {info.filename!r} from {path.name}: {exc}") from exc
            yield root
