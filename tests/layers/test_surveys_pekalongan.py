"""Kota Pekalongan 2019-2023 (../shared/data, municipal data, never copied): `kotaku import surveys` of the
KOTAKU workbook into real PostGIS, then `kotaku scores`: for every row of the workbook whose stored values agree
with each other, our percentages, scores, totals and levels equal the workbook's own; the column-shifted rows
are flagged, reported with their spreadsheet row, and have no score."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicators.consistency import find_inconsistent_rows
from indicators.schemes import load_scheme
from layers.scoring.surveys import normalise_name
from tests.layers.scoring_helpers import clean_scoring

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
S14 = load_scheme("permen14_2018")
pytestmark = pytest.mark.shared


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DATABASE_URL": url})


def workbook_rows(path: Path) -> pd.DataFrame:
    """kumuhRT with its RT label and kelurahan name, stored values in our convention (percent), and whether the
    row agrees with itself (read independently of the importer)."""
    sheets = pd.read_excel(path, sheet_name=["kumuhRT", "rtrw", "kawasan"], engine="openpyxl")
    k = sheets["kumuhRT"].merge(sheets["rtrw"][["id", "rtrw"]], left_on="rt", right_on="id", suffixes=("", "_rt"))
    k = k.merge(sheets["kawasan"][["id", "kawasan"]].rename(columns={"id": "kid", "kawasan": "kelurahan"}),
                left_on="kawasan", right_on="kid")
    stored = pd.DataFrame({"label": k["rtrw"], "kelurahan": k["kelurahan"], "round": k["tahun"].astype(str),
                           "sheet_row": k["id"] + 1})
    for c in S14.criteria:
        stored[c.pct_column] = pd.to_numeric(k[f"{c.id}p"], errors="coerce") * 100
        stored[c.score_column] = pd.to_numeric(k[f"{c.id}n"], errors="coerce")
    stored["total"] = pd.to_numeric(k["totalNilai"], errors="coerce")
    stored["level"] = k["tingkatKekumuhan"]
    check = find_inconsistent_rows(stored, S14)
    stored["agrees"] = (check["scores_ok"] & check["total_ok"] & check["level_ok"]).to_numpy()
    return stored


def test_pekalongan_workbook_scores_equal_the_workbook(shared_data, empty_db, tmp_path):
    import psycopg

    with psycopg.connect(empty_db) as conn:
        clean_scoring(conn)
    boundaries = shared_data / "boundaries" / "kemendagri"
    for level in ("kab_kota", "kecamatan", "desa_kel"):
        done = kotaku(["import", "regions", str(boundaries / f"kota_pekalongan_{level}.geojson"), "--json"], empty_db)
        assert done.returncode == 0, done.stdout + done.stderr
    book = shared_data / "slum" / "pekalongan" / "pekalongan_kumuh_2019_2023.xlsx"
    imported = kotaku(["import", "surveys", str(book), "--tenant", "3375", "--create-units", "--json"], empty_db)
    assert imported.returncode == 0, imported.stdout[-3000:] + imported.stderr[-3000:]
    report = json.loads(imported.stdout)
    expected = workbook_rows(book)
    shifted = expected[~expected["agrees"]]
    assert report["summary"]["units_created"] == 432 and report["summary"]["surveys_inserted"] == 2160
    flagged_rows = sorted(w["feature"] for w in report["warnings"] if "contradict" in w["reason"])
    assert flagged_rows == sorted(shifted["sheet_row"].tolist())  # every shifted row is reported, by its row
    assert report["summary"]["surveys_flagged"] == len(shifted) == 250

    scores = kotaku(["scores", "--tenant", "33.75", "--format", "csv"], empty_db)
    assert scores.returncode == 0, scores.stderr
    ours = pd.read_csv(io.StringIO(scores.stdout), dtype={"round": str})
    assert len(ours) == 2160
    # kelurahan names as the boundaries spell them ('Pasirkratonkramat' for the workbook's 'Pasir Kraton Kramat')
    expected["kel"], ours["kel"] = normalise_name(expected["kelurahan"]), normalise_name(ours["kelurahan"])
    merged = expected.merge(ours, on=["kel", "label", "round"], suffixes=("_wb", ""), validate="1:1")
    good = merged[merged["agrees"]]
    assert len(good) == 2160 - 250
    for c in S14.criteria:
        np.testing.assert_allclose(good[c.pct_column], good[f"{c.pct_column}_wb"], atol=1e-6, err_msg=c.id)
        assert (good[c.score_column] == good[f"{c.score_column}_wb"]).all(), c.id
    assert (good["total"] == good["total_wb"]).all()
    assert (good["level"] == good["level_wb"]).all()
    bad = merged[~merged["agrees"]]
    assert bad["total"].isna().all() and bad["flagged"].all()
    assert bad["note"].str.startswith("tidak dinilai").all()
    print(f"\nPekalongan: {len(good)} rows reproduced exactly, {len(bad)} column-shifted rows flagged; "
          f"levels {good['level'].value_counts().to_dict()}")
