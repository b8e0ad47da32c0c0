"""Read, validate/repair and measure a large vector file in geo/ (no database): the seconds each step takes.

    .venv/bin/python bench/geo_read.py [FILE] [--repeat N]

Default FILE: ../shared/data/bench/desa_kel_jawa_timur.gpkg (8,492 desa, 0.83 M vertices). Prints the median of
N runs of each step against the budget a user waiting for an import expects (read < 1 s, validate < 1 s,
geodesic areas < 2 s); the figures used to be asserted in tests/geo/test_geo_shared_data.py.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.measure import geodesic_area_ha  # noqa: E402
from geo.read import read_vector  # noqa: E402
from geo.validate import validate_geometries  # noqa: E402

DEFAULT_FILE = ROOT.parent / "shared" / "data" / "bench" / "desa_kel_jawa_timur.gpkg"
BUDGET_S = {"read": 1.0, "validate": 1.0, "measure": 2.0}


def one_run(path: Path) -> dict[str, float]:
    start = time.perf_counter()
    data = read_vector(path)
    read_at = time.perf_counter()
    result = validate_geometries(data.frame)
    validated_at = time.perf_counter()
    geodesic_area_ha(result.frame.geometry)
    done = time.perf_counter()
    return {"read": read_at - start, "validate": validated_at - read_at, "measure": done - validated_at}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.file.exists():
        sys.exit(f"{args.file} is not present (../shared/data is for developers and CI)")
    runs = [one_run(args.file) for _ in range(args.repeat)]
    print(f"{args.file.name}, median of {args.repeat} runs")
    for step, budget in BUDGET_S.items():
        median = statistics.median(run[step] for run in runs)
        verdict = "within" if median < budget else "OVER"
        print(f"  {step:9} {median:6.2f} s  ({verdict} the {budget:.1f} s budget)")


if __name__ == "__main__":
    main()
