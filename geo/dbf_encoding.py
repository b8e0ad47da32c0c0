"""Which text encoding a shapefile's .dbf really uses.

A .dbf says nothing reliable about its encoding: the .cpg sidecar is often lost, and the header's language-driver
byte is usually 0 ("unknown") or 0x57 ("ANSI"). GDAL then assumes ISO-8859-1, which turns UTF-8 names into
mojibake and cp1252 punctuation (the en dash, curly quotes) into control characters, and pyogrio's Arrow path
fails outright on such bytes. So, without a .cpg, we look at the bytes ourselves: UTF-8 if every text value
decodes as UTF-8, otherwise cp1252 (what ArcGIS and Excel write on Indonesian Windows), otherwise the file is
rejected naming the field and feature that cannot be decoded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geo.errors import InvalidInput
from geo.problems import Problem

CANDIDATES = ("UTF-8", "cp1252")
_GUESSABLE_LDID = (0x00, 0x57)  # "no code page" and "ANSI": GDAL would guess ISO-8859-1


def sidecar(shp: Path, suffix: str) -> Path | None:
    """The file next to `shp` with the given suffix, matched case-insensitively (.cpg, .CPG, .dbf, ...)."""
    for candidate in shp.parent.iterdir():
        if candidate.stem == shp.stem and candidate.suffix.lower() == suffix:
            return candidate
    return None


def _text_fields(dbf: Path) -> tuple[int, np.ndarray, list[tuple[str, int, int]]]:
    """(language driver id, live records as an (n, record_length) byte array, [(name, offset, length)])."""
    data = np.fromfile(dbf, dtype=np.uint8)
    if len(data) < 32:
        return 0, np.zeros((0, 1), np.uint8), []
    head = data[:32].tobytes()
    n_records = int.from_bytes(head[4:8], "little")
    header_len = int.from_bytes(head[8:10], "little")
    record_len = int.from_bytes(head[10:12], "little")
    fields, offset = [], 1  # byte 0 of a record is the deletion flag
    for start in range(32, header_len - 31, 32):
        desc = data[start : start + 32].tobytes()
        if desc[0] == 0x0D:
            break
        name = desc[:11].split(b"\x00")[0].decode("latin-1").strip()
        if desc[11:12] == b"C":
            fields.append((name, offset, desc[16]))
        offset += desc[16]
    n_records = min(n_records, max(0, len(data) - header_len) // max(record_len, 1))
    records = data[header_len : header_len + n_records * record_len].reshape(n_records, record_len)
    return head[29], records[records[:, 0] != 0x2A], fields  # 0x2A: deleted record


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        # A writer may cut a UTF-8 sequence at the field width: tolerate an incomplete last character.
        return exc.reason == "unexpected end of data" and exc.end == len(raw)
    return True


def first_undecodable(dbf: Path, encoding: str) -> Problem | None:
    """The first text value that `encoding` cannot decode, as a Problem naming field and feature; else None."""
    _, records, fields = _text_fields(dbf)
    for name, offset, length in fields:
        block = records[:, offset : offset + length]
        for row in np.flatnonzero((block >= 0x80).any(axis=1)):  # only rows with non-ASCII bytes
            raw = block[row].tobytes().rstrip(b" \x00")
            if not _decodes(raw, encoding):
                reason = (
                    f"text in field {name} is not valid {encoding} "
                    f"(bytes {raw[:40]!r}); save the file as UTF-8 or add a .cpg naming its encoding"
                )
                return Problem(reason, feature=int(row) + 1, field=name)
    return None


def detect_encoding(shp: Path) -> str | None:
    """Encoding to pass to pyogrio for this shapefile, or None to let GDAL follow the .cpg / language driver."""
    dbf = sidecar(shp, ".dbf")
    if dbf is None or sidecar(shp, ".cpg") is not None:
        return None
    ldid, _, _ = _text_fields(dbf)
    if ldid not in _GUESSABLE_LDID:
        return None
    problem = None
    for encoding in CANDIDATES:
        problem = first_undecodable(dbf, encoding)
        if problem is None:
            return encoding
    assert problem is not None
    reason = problem.reason.replace(f"not valid {CANDIDATES[-1]}", f"neither {' nor '.join(CANDIDATES)}")
    problem = Problem(reason, feature=problem.feature, field=problem.field)
    raise InvalidInput(str(problem), details=[problem.as_dict()])


def undecodable(path: Path, column: str | None, encoding: str | None) -> InvalidInput:
    """Name the text field that cannot be decoded, and for a shapefile the first feature where it fails."""
    dbf = sidecar(path, ".dbf") if path.suffix.lower() == ".shp" else None
    if dbf is not None:
        cpg = sidecar(path, ".cpg")
        declared = encoding or (cpg.read_text(errors="replace").strip() if cpg else "UTF-8")
        problem = first_undecodable(dbf, declared) if _known_codec(declared) else None
        if problem is not None:
            return InvalidInput(str(problem), details=[problem.as_dict()])
    reason = f"text in {f'field {column}' if column else path.name} is not valid {encoding or 'UTF-8'}"
    return InvalidInput(reason, details=[Problem(reason, field=column).as_dict()])


def _known_codec(name: str) -> bool:
    try:
        "".encode(name)
    except LookupError:
        return False
    return True
