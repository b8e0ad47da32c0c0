"""Scoring at city scale: survey import, unit scores, slum-area status, time series and priorities.

    .venv/bin/python bench/scoring.py [--copies 25]

Uses its own database (kotaku_bench_scoring on the dev cluster under var/): the Kota Medan demo, each of its 192
survey units cloned `--copies` times inside the same slum areas, five rounds 2019-2023 per unit (seeded random
volumes). Prints the time of each operation and, as a peer, the ratio of the vectorised scoring
(`indicators.scoring.score_units`) to scoring the same rows one by one in Python, as a spreadsheet macro would.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from indicators.schemes import load_scheme
from indicators.scoring import score_units
from layers.db.cluster import Cluster
from layers.db.frames import run
from layers.db.schema import migrate
from layers.imports.demo import load_demo
from layers.imports.surveys import import_surveys
from layers.scoring.priority import priorities_op
from layers.scoring.progress import kumuh_akhir_op, time_series_op
from layers.scoring.scores import SYSTEM, unit_scores_op
from layers.scoring.status import refresh_status

DATABASE = "kotaku_bench_scoring"
TENANT = "12.71"
S14 = load_scheme("permen14_2018")


def timed(label: str, action, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:58} {best * 1000:9.1f} ms")
    return result, best


def row_by_row(frame: pd.DataFrame) -> list[tuple[int, str]]:
    """The peer: one row at a time, criterion by criterion, as a spreadsheet macro scores."""
    out = []
    bands = [(b.lower or 0.0, b.upper, b.value) for b in S14.score_bands]
    for _, row in frame.iterrows():
        total = 0
        for c in S14.criteria:
            pct = row[c.volume_column] / row[c.denominator] * 100
            total += next(v for lo, hi, v in bands if pct >= lo and (hi is None or pct < hi)) if pct >= 0 else 0
        out.append((total, next(lv.code for lv in S14.levels if lv.min_total <= total <= lv.max_total)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="Keep the database (to profile)")
    args = parser.parse_args()
    cluster = Cluster(database=DATABASE)
    cluster.up()
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DATABASE}"')
    url = cluster.url()
    migrate(url)
    try:
        with psycopg.connect(url) as conn:
            load_demo(conn)
            conn.execute(
                """
                INSERT INTO survey_units (tenant, slum_area_id, kelurahan_code, label, area_ha, buildings, population,
                    households, road_length_m, drainage_length_m, synthetic, geom)
                SELECT u.tenant, u.slum_area_id, u.kelurahan_code, u.label || ' salinan ' || k, u.area_ha, u.buildings,
                       u.population, u.households, u.road_length_m, u.drainage_length_m, true, u.geom
                FROM survey_units u CROSS JOIN generate_series(1, %s) k
                """,
                [args.copies],
            )
            conn.commit()
            units = pd.DataFrame(conn.execute(
                "SELECT kelurahan_code, label, area_ha, buildings, population, households, road_length_m, "
                "drainage_length_m FROM survey_units WHERE tenant = %s", [TENANT]).fetchall(),
                columns=["kelurahan_code", "label", "area_ha", "buildings", "population", "households",
                         "road_length_m", "drainage_length_m"])
            rng = np.random.default_rng(2016)
            rows = []
            for year in range(2019, 2024):
                frame = units.copy()
                frame["round"] = str(year)
                severity = rng.uniform(0.05, 0.9, len(frame)) * (1 - (year - 2019) * 0.12)
                for c in S14.criteria:
                    frame[c.volume_column] = np.round(frame[c.denominator].astype(float) * np.clip(
                        severity + rng.normal(0, 0.15, len(frame)), 0, 1), 3)
                rows.append(frame)
            table = pd.concat(rows, ignore_index=True)
            path = f"/tmp/{DATABASE}_surveys.csv"
            table.to_csv(path, index=False)
            print(f"kotaku-gis scoring benchmark: {len(units)} survey units x 5 rounds = {len(table)} surveys "
                  f"(Kota Medan demo, units cloned {args.copies}x)")
            start = time.perf_counter()
            report = import_surveys(conn, path, tenant=TENANT)
            conn.commit()
            print(f"  {'import surveys (CSV, match, check, write, refresh status)':58} "
                  f"{(time.perf_counter() - start) * 1000:9.1f} ms  ({report.features_written} surveys)")
            timed("unit scores of the tenant (all rounds)", lambda: run(conn, unit_scores_op(TENANT, SYSTEM)))
            timed("refresh slum-area status (scores + priorities)", lambda: refresh_status(conn, TENANT))
            timed("time series: slum areas, kelurahan, kecamatan, kota", lambda: run(conn, time_series_op(
                TENANT, SYSTEM)))
            timed("kumuh akhir from completed activities", lambda: run(conn, kumuh_akhir_op(TENANT, SYSTEM)))
            timed("ranked priorities of 60 slum areas", lambda: run(conn, priorities_op(TENANT, SYSTEM)))
            conn.commit()

            sample = table.astype({c: float for c in ("area_ha", "buildings", "population", "households",
                                                      "road_length_m", "drainage_length_m")})
            fast, t_fast = timed(f"score_units, vectorised ({len(sample)} rows)", lambda: score_units(sample, S14))
            small = sample.head(2000)
            slow, t_slow = timed("the same, row by row in Python (2,000 rows)", lambda: row_by_row(small), repeat=1)
            assert [t for t, _ in slow] == fast["total"].head(2000).astype(int).tolist()
            per_row_fast, per_row_slow = t_fast / len(sample), t_slow / len(small)
            print(f"  vectorised scoring is {per_row_slow / per_row_fast:,.0f}x faster per row than row by row "
                  f"({len(sample) / t_fast:,.0f} vs {len(small) / t_slow:,.0f} rows/s); totals identical")
    finally:
        Path(f"/tmp/{DATABASE}_surveys.csv").unlink(missing_ok=True)
        if not args.keep:
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
