"""Boundaries that carry only BPS codes get Kemendagri codes from the shipped national code list.

The BPS files are built here from the shipped Medan boundaries (data/demo/boundaries) and, when present, from
../shared/data/boundaries/kemendagri: Kemendagri codes replaced by BPS-style codes (Kota Medan is BPS 1275,
kecamatan 010, 020 ..., desa 001 ...), names perturbed as other tools write them.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest

from data import data_path
from layers.imports.crosswalk import bps_digits, crosswalk, load_code_list, region_key

ROOT = Path(__file__).resolve().parents[2]
MEDAN = data_path("demo", "boundaries", "kota_medan_desa_kel.geojson")
SHARED = ROOT.parent / "shared" / "data" / "boundaries" / "kemendagri"


def perturb(name: str, number: int) -> str:
    """'Sei Sikambing B' -> 'Kel. Sei Sikambing B' / 'SEI SIKAMBING B' / 'Belawan 2' / 'Sungai ...', by turn."""
    words = name.split()
    romans = {"I": "1", "Ii": "2", "II": "2", "Iii": "3", "III": "3", "IV": "4"}
    match number % 5:
        case 0:
            return "Kel. " + name
        case 1:
            return name.upper()
        case 2:
            return " ".join(romans.get(w, w) for w in words)
        case 3:
            return "Kelurahan " + " ".join("Sungai" if w == "Sei" else w for w in words)
        case _:
            return name.lower()


def bps_file(source: Path, target: Path, bps_kab: str | None = None) -> dict:
    """Writes a BPS-coded copy of a Kemendagri desa file; returns {bps code: kemendagri code}."""
    frame = pyogrio.read_dataframe(source)
    kecs = sorted({code[:8] for code in frame["kode"]})
    answer, bps_codes, names = {}, [], []
    for number, (code, name) in enumerate(zip(frame["kode"], frame["nama"], strict=True)):
        kab = bps_kab or code[:2] + str(int(code[3:5]) + 4).zfill(2)  # BPS numbers kab/kota differently
        kec = str((kecs.index(code[:8]) + 1) * 10).zfill(3)
        bps = kab + kec + str(int(code[-3:])).zfill(3)
        answer[bps] = code
        bps_codes.append(bps)
        names.append(perturb(name, number))
    out = frame[["geometry"]].copy()
    out["KDEBPS"] = bps_codes
    out["NAMOBJ"] = names
    pyogrio.write_dataframe(out, target)
    return answer


def test_bps_digits_reads_codes_as_files_write_them():
    assert bps_digits("1275010001") == "1275010001"
    assert bps_digits(1275010001.0) == "1275010001"
    assert bps_digits("1275010001.0") == "1275010001"
    assert bps_digits("12.75.010.001") == "1275010001"
    assert bps_digits("127501") is None
    assert bps_digits(None) is None


def test_code_list_is_national():
    codes = load_code_list()
    levels = list(codes.levels.values())
    assert levels.count("provinsi") >= 34
    assert levels.count("kabkota") >= 514
    assert levels.count("desa_kelurahan") > 80_000
    assert codes.names["12.71"] == "KOTA MEDAN"
    assert region_key("KOTA MEDAN", "kabkota") == region_key("Medan", "kabkota")


def crosswalk_file(path: Path):
    frame = pyogrio.read_dataframe(path)
    numbers = list(range(1, len(frame) + 1))
    return crosswalk(numbers, [bps_digits(v) or "" for v in frame["KDEBPS"]], list(frame["NAMOBJ"]))


def test_medan_bps_file_gets_every_kemendagri_code(tmp_path):
    answer = bps_file(MEDAN, tmp_path / "medan_bps.gpkg", "1275")
    result = crosswalk_file(tmp_path / "medan_bps.gpkg")
    found = {m.bps_code: m.code for m in result.matches}
    summary = result.summary()
    assert summary["matched"] == len(answer) == 151, summary
    assert found == answer
    assert summary["ambiguous"] == [] and summary["unmatched"] == []


def test_wrong_name_is_unmatched_and_twins_are_ambiguous(tmp_path):
    bps_file(MEDAN, tmp_path / "medan_bps.gpkg", "1275")
    frame = pyogrio.read_dataframe(tmp_path / "medan_bps.gpkg")
    frame.loc[0, "NAMOBJ"] = "Kampung Tidak Ada"
    frame.loc[1, "NAMOBJ"] = frame.loc[2, "NAMOBJ"]  # two features named like one kelurahan
    pyogrio.write_dataframe(frame, tmp_path / "bad.gpkg")
    summary = crosswalk_file(tmp_path / "bad.gpkg").summary()
    assert [u["feature"] for u in summary["unmatched"]] == [1]
    assert "Kampung Tidak Ada" in summary["unmatched"][0]["reason"]
    assert sorted(a["feature"] for a in summary["ambiguous"]) == [2, 3]
    twins = {m.number: m.params["others"] for m in crosswalk_file(tmp_path / "bad.gpkg").matches
             if m.how == "ambiguous"}
    assert twins == {2: "3", 3: "2"}  # each names the other (the second one named none)
    assert summary["matched"] == 148


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/boundaries/kemendagri")
@pytest.mark.parametrize("city", ["kab_serang", "kota_bandung", "kab_sinjai", "kota_semarang", "dki_jakarta"])
def test_other_cities_bps_files(tmp_path, city):
    answer = bps_file(SHARED / f"{city}_desa_kel.geojson", tmp_path / "bps.gpkg")
    result = crosswalk_file(tmp_path / "bps.gpkg")
    right = sum(1 for m in result.matches if m.code == answer[m.bps_code])
    wrong = [m for m in result.matches if m.code and m.code != answer[m.bps_code]]
    assert wrong == []
    assert right / len(answer) > 0.9, result.summary()
