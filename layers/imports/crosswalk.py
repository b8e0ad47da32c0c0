"""BPS codes to Kemendagri codes: boundaries that carry only BPS codes (the national statistics layers).

The two systems number kab/kota, kecamatan and desa differently (Kota Medan is BPS 1275, Kemendagri 12.71), so a
BPS code is never converted digit by digit. Each feature is matched by its normalised name (`name_key`) among the
Kemendagri regions of its parent, using the national code list (`data/reference/wilayah/kemendagri_codes.csv.gz`,
format: CSV `code,name,level,parent`, dotted Kemendagri codes, levels provinsi|kabkota|kecamatan|desa_kelurahan):

1. province: BPS and Kemendagri province codes coincide (12 = Sumatera Utara in both);
2. the Kemendagri parent of every BPS kab/kota (4 digits) and kecamatan (7 digits) prefix: the file's own row at
   that level, matched by name, else a vote: the candidate whose children's names cover most of the names under the
   prefix in the file (a tie or no name in common leaves the parent unknown: its features are unmatched);
3. the feature: its name among the children of its parent. One candidate: matched; several: ambiguous; none:
   unmatched. When the database already holds Kemendagri regions of that level, an unmatched or ambiguous feature
   is matched by geometry instead when one region (among the candidates, if any) covers at least half of it.

The result says for each feature how it was matched, and lists the ambiguous (with candidates) and unmatched ones.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
import shapely
from psycopg import sql

from data import data_path
from layers.values.names import name_key

CODE_LIST = ("reference", "wilayah", "kemendagri_codes.csv.gz")
LEVEL_BY_DIGITS = {2: "provinsi", 4: "kabkota", 7: "kecamatan", 10: "desa_kelurahan"}
PARENT_DIGITS = {"kabkota": 2, "kecamatan": 4, "desa_kelurahan": 7}
MIN_OVERLAP_SHARE = 0.5
KEMENDAGRI_COLUMN = "kode_kemendagri (crosswalk)"


class _Failed:
    def __repr__(self) -> str:
        return "no Kemendagri code"


CROSSWALK_FAILED: Any = _Failed()  # the code of a feature the crosswalk could not match (it reported why)
_KABKOTA_WORDS = frozenset({"kota", "kabupaten", "kab", "adm", "administrasi"})


def region_key(name: object, level: str) -> str:
    """name_key, and for a kab/kota also without 'Kota'/'Kab.' ('KOTA MEDAN' == 'Medan')."""
    if level == "kabkota":
        words = str(name or "").replace(".", " ").split()
        while len(words) > 1 and words[0].lower() in _KABKOTA_WORDS:
            words = words[1:]
        name = " ".join(words)
    words = str(name or "").split()
    if len(words) > 2 and all(len(w) == 1 for w in words):  # 'J a t i' (letter-spaced, as some lists write)
        name = "".join(words)
    return name_key(name)


def first_of_series(key: str) -> str:
    """'sudirejo1' <-> 'sudirejo': the first of a numbered series is often written without its number."""
    if key.endswith("1") and not key[-2:-1].isdigit():
        return key[:-1]
    return key + "1"


def one_edit(a: str, b: str) -> bool:
    """True when a and b differ by exactly one letter inserted, deleted or changed."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


@dataclass
class CodeList:
    """The Kemendagri regions by code: name, level, parent, and children's name keys per parent."""

    names: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    children: dict[str, dict[str, list[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, code: str, name: str, level: str, parent: str) -> None:
        self.names[code] = name
        self.levels[code] = level
        self.children[parent][region_key(name, level)].append(code)

    _below: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)

    def descendant_keys(self, code: str, level: str) -> Counter[str]:
        """Name keys of the regions of `level` below `code` (counted; kept for the next call)."""
        if (code, level) in self._below:
            return self._below[code, level]
        keys: Counter[str] = Counter()
        self._below[code, level] = keys
        frontier = [code]
        while frontier:
            nxt = []
            for parent in frontier:
                for key, codes in self.children.get(parent, {}).items():
                    for child in codes:
                        if self.levels[child] == level:
                            keys[key] += 1
                        else:
                            nxt.append(child)
            frontier = nxt
        return keys


@lru_cache(maxsize=4)
def load_code_list(path: str | None = None) -> CodeList:
    """The national list shipped in data/reference/wilayah (or another file of the same format, .csv or .csv.gz)."""
    source = Path(path) if path else data_path(*CODE_LIST)
    raw = source.read_bytes()
    if source.suffix == ".gz":
        raw = gzip.decompress(raw)
    codes = CodeList()
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        codes.add(row["code"], row["name"], row["level"], row["parent"] or "")
    return codes


def bps_digits(value: object) -> str | None:
    """'1275010001', 1275010001.0, '12.75.010.001' -> '1275010001'; not 2/4/7/10 digits -> None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    text = text.replace(".", "").replace(" ", "")
    return text if text.isdigit() and len(text) in LEVEL_BY_DIGITS else None


@dataclass
class Match:
    number: int  # feature number, from 1
    bps_code: str
    name: str
    level: str
    code: str | None = None
    how: str = "unmatched"  # name | geometry | ambiguous | unmatched
    candidates: list[str] = field(default_factory=list)
    reason: str = ""
    key: str = ""  # the problem's catalogue message (geo/messages.py, id and en) when unmatched or ambiguous
    params: dict[str, Any] = field(default_factory=dict)

    def why(self, key: str, reason: str, **params: Any) -> None:
        self.key, self.reason, self.params = key, reason, params


@dataclass
class Crosswalk:
    matches: list[Match]

    def summary(self) -> dict[str, Any]:
        counts = Counter(m.how for m in self.matches)
        return {
            "matched": counts["name"] + counts["geometry"],
            "matched_by_name": counts["name"],
            "matched_by_geometry": counts["geometry"],
            "spelt_differently": [{"feature": m.number, "name": m.name, "code": m.code, "note": m.reason}
                                  for m in self.matches if m.how == "name" and m.reason],
            "ambiguous": [{"feature": m.number, "bps_code": m.bps_code, "name": m.name, "candidates": m.candidates}
                          for m in self.matches if m.how == "ambiguous"],
            "unmatched": [{"feature": m.number, "bps_code": m.bps_code, "name": m.name, "reason": m.reason}
                          for m in self.matches if m.how == "unmatched"],
        }


def crosswalk(
    numbers: list[int],
    bps_codes: list[str],
    names: list[str],
    geoms: Any = None,
    *,
    codes: CodeList | None = None,
    conn: psycopg.Connection | None = None,
) -> Crosswalk:
    """Kemendagri codes for features known by BPS code and name (see the module doc)."""
    codes = codes or load_code_list()
    matches = [Match(n, b, nm, LEVEL_BY_DIGITS[len(b)]) for n, b, nm in zip(numbers, bps_codes, names, strict=True)]
    by_bps = {m.bps_code: m for m in matches}
    parents: dict[str, str | None] = {}

    below: dict[tuple[str, str], Counter[str]] = {}
    for m in matches:  # the file's name keys under every BPS prefix, per level
        for digits in (2, 4, 7):
            if len(m.bps_code) > digits:
                below.setdefault((m.bps_code[:digits], m.level), Counter())[region_key(m.name, m.level)] += 1

    def keys_below(prefix: str, level: str) -> Counter[str]:
        return below.get((prefix, level), Counter())

    def resolve(prefix: str) -> str | None:
        """The Kemendagri code of a BPS prefix (2, 4 or 7 digits), or None when it cannot be told."""
        if prefix in parents:
            return parents[prefix]
        level = LEVEL_BY_DIGITS[len(prefix)]
        result: str | None
        if level == "provinsi":
            result = prefix if prefix in codes.levels else None
        else:
            parent = resolve(prefix[: PARENT_DIGITS[level]])
            own = by_bps.get(prefix)
            if parent is None:
                result = None
            elif own is not None:
                found = codes.children.get(parent, {}).get(region_key(own.name, level), [])
                result = found[0] if len(found) == 1 else None
            else:
                result = _vote(codes, parent, level, prefix, keys_below)
        parents[prefix] = result
        return result

    for m in matches:
        if m.level == "provinsi":
            m.code = m.bps_code if m.bps_code in codes.levels else None
            m.how = "name" if m.code else "unmatched"
            if not m.code:
                m.why("crosswalk.no_province", f"no province {m.bps_code} in the code list")
            continue
        parent = resolve(m.bps_code[: PARENT_DIGITS[m.level]])
        if parent is None:
            above = m.bps_code[: PARENT_DIGITS[m.level]]
            m.why("crosswalk.parent_unknown", f"the Kemendagri region of BPS {above} cannot be told", above=above)
            continue
        if m.level == "kabkota":
            kota = int(m.bps_code[2:4]) >= 71
            found = [c for c in codes.children.get(parent, {}).get(region_key(m.name, m.level), [])
                     if (int(c.split(".")[1]) >= 71) == kota]
        else:
            found = codes.children.get(parent, {}).get(region_key(m.name, m.level), [])
        if not found:  # 'Sudirejo 1' in the file, 'Sudirejo' in the list (or the other way round)
            found = codes.children.get(parent, {}).get(first_of_series(region_key(m.name, m.level)), [])
        close = False
        if not found:  # one letter apart ('Kemanisan' / 'Kamanisan', 'Husein' / 'Husen'): only a single candidate
            key = region_key(m.name, m.level)
            near = [c for k, cs in codes.children.get(parent, {}).items() if len(key) >= 6 and one_edit(key, k)
                    for c in cs]
            found, close = (near, True) if len(near) == 1 else ([], False)
        if len(found) == 1:
            m.code, m.how = found[0], "name"
            if close:
                m.reason = f"spelt '{codes.names[found[0]]}' in the code list"
        elif found:
            m.how, m.candidates = "ambiguous", sorted(found)
            m.why("crosswalk.ambiguous_name", f"{len(found)} regions named so in {parent}: {', '.join(sorted(found))}",
                  count=len(found), parent=parent, candidates=", ".join(sorted(found)))
        else:
            where = f"{parent} {codes.names.get(parent, '')}".rstrip()
            m.why("crosswalk.no_region", f"no region named '{m.name}' in {where}", parent=where)
            m.candidates = [parent]  # where the geometry may look
    if conn is not None and geoms is not None:
        _by_geometry(conn, matches, geoms)
    for m in matches:
        if m.how == "unmatched":
            m.candidates = []
    taken: dict[str, list[int]] = defaultdict(list)  # code -> the features matched to it, before any is cleared
    for m in matches:
        if m.code:
            taken[m.code].append(m.number)
    for m in matches:
        if m.code and len(taken[m.code]) > 1:
            others = [number for number in taken[m.code] if number != m.number]
            m.how, m.candidates, m.code = "ambiguous", [m.code], None
            m.why("crosswalk.duplicate", f"matches {m.candidates[0]} like feature(s) {', '.join(map(str, others))}",
                  code=m.candidates[0], others=", ".join(map(str, others)))
    return Crosswalk(matches)


def _vote(codes: CodeList, parent: str, level: str, prefix: str, keys_below) -> str | None:
    """The child of `parent` (at `level`) whose descendants' names cover most of the file's names under `prefix`."""
    kota = int(prefix[2:4]) >= 71 if level == "kabkota" else None
    best: list[tuple[int, str]] = []
    for child_codes in codes.children.get(parent, {}).values():
        for child in child_codes:
            if codes.levels[child] != level or (kota is not None and (int(child.split(".")[1]) >= 71) != kota):
                continue
            score = 0
            for below in ("kecamatan", "desa_kelurahan"):
                if below == level:
                    continue
                mine = keys_below(prefix, below)
                if mine:
                    theirs = codes.descendant_keys(child, below)
                    score += sum(min(n, theirs[k]) for k, n in mine.items())
            best.append((score, child))
    best.sort(reverse=True)
    if not best or best[0][0] == 0 or (len(best) > 1 and best[1][0] == best[0][0]):
        return None
    return best[0][1]


def _by_geometry(conn: psycopg.Connection, matches: list[Match], geoms: Any) -> None:
    """Unmatched/ambiguous features: the loaded Kemendagri region of their level covering at least half of them."""
    todo = [m for m in matches if m.how in ("unmatched", "ambiguous")]
    if not todo:
        return
    statement = sql.SQL(
        "SELECT code, ST_Area(ST_Intersection(geom, g)::geography) / NULLIF(ST_Area(g::geography), 0) "
        "FROM regions, (SELECT ST_GeomFromWKB(%s, 4326) AS g) q "
        "WHERE level = %s AND geom && g AND ST_Intersects(geom, g) AND code LIKE %s ORDER BY 2 DESC LIMIT 2"
    )
    with conn.cursor() as cur:
        for m in todo:
            scope = m.candidates[0] + "%" if m.how == "unmatched" and m.candidates else m.bps_code[:2] + "%"
            cur.execute(statement, [shapely.to_wkb(geoms[m.number - 1]), m.level, scope])
            rows = cur.fetchall()
            if not rows or rows[0][1] is None or rows[0][1] < MIN_OVERLAP_SHARE:
                continue
            if m.how == "ambiguous" and rows[0][0] not in m.candidates:
                continue
            m.code, m.how, m.reason = rows[0][0], "geometry", f"covers {rows[0][1]:.0%} of the feature"


def with_kemendagri_codes(conn: psycopg.Connection | None, frame: Any, fields: dict[str, str], report: Any,
                          *, code_list: str | None = None) -> Any:
    """The frame with a Kemendagri code column from the crosswalk of its BPS codes and names; fields["code"] names
    it. Ambiguous and unmatched features are errors of the report (feature, BPS code, name, candidates); the match
    report is report.summary["crosswalk"]."""
    from geo.problems import Problem

    raw_bps = frame[fields["bps_code"]].tolist()
    raw_names = frame[fields["name"]].tolist()
    numbers, bps, names = [], [], []
    for number, (value, name) in enumerate(zip(raw_bps, raw_names, strict=True), start=1):
        digits = bps_digits(value)
        if digits is None:
            report.errors.append(Problem.of("crosswalk.not_bps", feature=number, field=fields["bps_code"],
                                            value=value))
            continue
        numbers.append(number)
        bps.append(digits)
        names.append("" if name is None or name != name else str(name))
    result = crosswalk(numbers, bps, names, frame.geometry.values, codes=load_code_list(code_list), conn=conn)
    column: list[Any] = [CROSSWALK_FAILED] * len(frame)
    for m in result.matches:
        if m.code:
            column[m.number - 1] = m.code
        else:
            report.errors.append(
                Problem.of(m.key, feature=m.number, field=fields["name"], bps=m.bps_code, name=m.name, **m.params)
                if m.key else Problem(f"BPS {m.bps_code} '{m.name}' {m.how}: {m.reason}", feature=m.number,
                                      field=fields["name"]))
    frame = frame.copy()
    frame[KEMENDAGRI_COLUMN] = column
    fields["code"] = KEMENDAGRI_COLUMN
    report.summary["crosswalk"] = result.summary()
    return frame
