"""Kumuh akhir: what a unit's score becomes once completed activities are subtracted.

For each criterion, remaining volume = max(0, baseline volume - completed volume tagged to that
criterion); the unit is then rescored with the same scheme. Kontribusi penanganan = (average before -
average after) / average before, where the average is the unit's overall average (rata-rata
kekumuhan). Units whose level becomes TK are the hectares no longer counted as slum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.errors import InvalidInput
from geo.problems import Problem
from indicators.schemes import Scheme, as_scheme
from indicators.scoring import score_units

NOT_SLUM = "TK"


def completed_volumes(completed: pd.DataFrame, scheme: Scheme | str, *, unit: str = "unit") -> pd.DataFrame:
    """Long table of completed activities (columns `unit`, criterion, volume) -> one row per unit and
    one v_<id> column per criterion with the summed volume. Criteria unknown to the scheme (e.g. 4d
    of the older regulation in a 14/2018 baseline) and negative or missing volumes are refused, with
    the offending rows, rather than silently dropped."""
    scheme = as_scheme(scheme)
    missing = {unit, "criterion", "volume"} - set(completed.columns)
    if missing:
        raise InvalidInput(f"completed activities lack columns: {', '.join(sorted(missing))}")
    vol = pd.to_numeric(completed["volume"], errors="coerce").astype(float)
    crit = completed["criterion"].astype("string").str.strip().str.lower()
    unknown = ~crit.isin(scheme.criterion_ids).fillna(False)
    bad_volume = vol.isna() | (vol < 0)
    problems = [
        Problem(reason=f"criterion {c!r} is not in scheme {scheme.name}", feature=int(i) + 1, field="criterion")
        for i, c in zip(np.flatnonzero(unknown.to_numpy()), crit[unknown], strict=True)
    ] + [
        Problem(reason="volume missing, not a number or negative", feature=int(i) + 1, field="volume")
        for i in np.flatnonzero(bad_volume.to_numpy())
    ]
    if problems:
        raise InvalidInput(
            f"{len(problems)} completed-activity rows cannot be applied", details=[p.as_dict() for p in problems]
        )
    table = pd.DataFrame({unit: completed[unit], "criterion": crit, "volume": vol})
    wide = table.pivot_table(index=unit, columns="criterion", values="volume", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=list(scheme.criterion_ids), fill_value=0.0)
    wide.columns = [f"v_{cid}" for cid in wide.columns]
    return wide


def remaining_volumes(
    baseline: pd.DataFrame, completed: pd.DataFrame, scheme: Scheme | str, *, unit: str = "unit"
) -> pd.DataFrame:
    """Copy of `baseline` (one row per unit, key column `unit`) with v_<id> replaced by
    max(0, baseline - completed). Completed work in a unit absent from the baseline is an error."""
    scheme = as_scheme(scheme)
    if unit not in baseline.columns:
        raise InvalidInput(f"baseline lacks the unit key column {unit!r}")
    if baseline[unit].duplicated().any():
        dups = baseline.loc[baseline[unit].duplicated(), unit].tolist()
        raise InvalidInput(f"baseline has more than one row for units {dups[:10]}: pass one survey round")
    done = completed_volumes(completed, scheme, unit=unit)
    strangers = sorted(set(done.index) - set(baseline[unit]), key=str)
    if strangers:
        raise InvalidInput(f"completed activities name units not in the baseline: {strangers[:10]}")
    cols = [c.volume_column for c in scheme.criteria]
    done = done.reindex(baseline[unit].to_numpy(), fill_value=0.0)
    before = baseline[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    after = baseline.copy()
    after[cols] = np.maximum(0.0, before - done[cols].to_numpy(dtype=float))
    return after


def kontribusi_penanganan(avg_before: pd.Series, avg_after: pd.Series) -> pd.Series:
    """(before - after) / before as a fraction; NaN where the average before is 0 or missing."""
    before = avg_before.astype(float)
    return ((before - avg_after.astype(float)) / before.where(before > 0)).rename("kontribusi")


def kumuh_akhir(
    baseline: pd.DataFrame, completed: pd.DataFrame, scheme: Scheme | str, *, unit: str = "unit"
) -> pd.DataFrame:
    """Per unit (indexed like `baseline`): total, level and average before and after the completed
    work, kontribusi penanganan, whether the unit left the slum list (level before not TK, after TK)
    and the hectares that thereby stop being slum."""
    scheme = as_scheme(scheme)
    before = score_units(baseline, scheme)
    after = score_units(remaining_volumes(baseline, completed, scheme, unit=unit), scheme)
    out = pd.DataFrame({unit: baseline[unit]}, index=baseline.index)
    for name, scored in (("before", before), ("after", after)):
        out[f"total_{name}"] = scored["total"]
        out[f"level_{name}"] = scored["level"]
        out[f"avg_{name}"] = scored["avg_overall"]
    out["kontribusi"] = kontribusi_penanganan(out["avg_before"], out["avg_after"])
    left = (out["level_before"] != NOT_SLUM) & (out["level_after"] == NOT_SLUM)
    out["left_slum"] = left.fillna(False).astype(bool)
    area = pd.to_numeric(baseline["area_ha"], errors="coerce")
    out["area_left_slum_ha"] = area.where(out["left_slum"], 0.0)
    out["scheme"] = scheme.name
    return out


def slum_reduction_ha(progress: pd.DataFrame) -> float:
    """Hectares no longer slum in a `kumuh_akhir` table."""
    return float(progress["area_left_slum_ha"].sum())
