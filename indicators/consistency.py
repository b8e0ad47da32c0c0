"""Is a stored score table internally consistent? Catches rows that were column-shifted or
half-recalculated in a spreadsheet before we trust (or import) them.

The check uses only the stored values (p_<id>, s_<id>, total, level and, when present, the
avg_<aspect> and avg_overall columns; percentages in percent): every stored score must follow from
its stored percentage, the total from the scores, the level from the total, each aspect average
from its percentages and the overall average from the aspect averages. It does not use volumes or
header counts, so it says whether a row agrees with itself; recomputing from volumes is a separate
comparison (see `scoring.score_units`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import InvalidInput
from indicators.schemes import Scheme, as_scheme
from indicators.scoring import aspect_averages, level, scores

CHECKS = ("scores_ok", "total_ok", "level_ok", "aspects_ok", "overall_ok")


def _close(a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame, atol: float) -> np.ndarray:
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    return np.isclose(x, y, rtol=1e-9, atol=atol) | (np.isnan(x) & np.isnan(y))


def _numeric(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols].apply(pd.to_numeric, errors="coerce").astype(float)


def find_inconsistent_rows(stored: pd.DataFrame, scheme: Scheme | str, *, atol: float = 1e-6) -> pd.DataFrame:
    """One row per input row: a boolean per check (scores_ok, total_ok, level_ok, aspects_ok,
    overall_ok; aspect checks are True when those columns are absent), `consistent` (all of them)
    and `problems` naming the stored columns that disagree, e.g. "s_1a total level".
    A non-numeric cell (such as a spreadsheet '#NUM!') where a number is expected disagrees."""
    scheme = as_scheme(scheme)
    p_cols = [c.pct_column for c in scheme.criteria]
    s_cols = [c.score_column for c in scheme.criteria]
    missing = sorted(set(p_cols + s_cols + ["total", "level"]) - set(stored.columns))
    if missing:
        raise InvalidInput(f"stored score table lacks columns: {', '.join(missing)}")
    pct = _numeric(stored, p_cols)
    st_scores = _numeric(stored, s_cols)
    st_total = pd.to_numeric(stored["total"], errors="coerce").astype(float)

    bad = pd.DataFrame(index=stored.index)
    expected_scores = scores(pct, scheme).astype("Float64").astype(float)
    for col in s_cols:
        bad[col] = ~_close(expected_scores[col], st_scores[col], 0.0)
    bad["total"] = ~_close(st_scores.sum(axis=1, skipna=False), st_total, 0.0)
    expected_level = level(st_total, scheme)
    bad["level"] = ~(expected_level.fillna("") == stored["level"].astype("string").fillna("")).to_numpy()

    avg_cols = [a.average_column for a in scheme.aspects]
    if set(avg_cols) <= set(stored.columns):
        st_avgs = _numeric(stored, avg_cols)
        exp_avgs = aspect_averages(pct, scheme)
        for col in avg_cols:
            bad[col] = ~_close(exp_avgs[col], st_avgs[col], atol)
        if "avg_overall" in stored.columns:
            st_overall = pd.to_numeric(stored["avg_overall"], errors="coerce")
            bad["avg_overall"] = ~_close(st_avgs.mean(axis=1, skipna=False), st_overall, atol)

    out = pd.DataFrame(index=stored.index)
    out["scores_ok"] = ~bad[s_cols].any(axis=1)
    out["total_ok"] = ~bad["total"]
    out["level_ok"] = ~bad["level"]
    out["aspects_ok"] = ~bad.reindex(columns=avg_cols, fill_value=False).any(axis=1)
    out["overall_ok"] = ~bad.get("avg_overall", pd.Series(False, index=bad.index))
    out["consistent"] = out[list(CHECKS)].all(axis=1)
    names = pd.Series([f"{c} " for c in bad.columns], index=bad.columns, dtype=object)
    out["problems"] = bad.astype(object).dot(names).str.strip().astype("string")
    return out
