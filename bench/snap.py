"""What snapping a drawing to the ground and reading a phone's track cost (issue 13 item 3).

    .venv/bin/python bench/snap.py [--n 200]

On a private cluster of its own under a temporary folder (initdb, destroyed at the end) holding Jakarta Pusat's
boundaries and real OpenStreetMap roads (the demo basemap, data/demo/jakarta_pusat), one `kotaku serve`. Prints,
from one run, p50 and p99 of:
- `POST /drawing/snap` of a 2-vertex line drawn 12 m beside each of 40 roads (what a planner's click gives), and of
  a 1,000-vertex line (a long phone track), through HTTP, against the bare PostGIS query that only moves each vertex
  to its nearest road (KNN + ST_ClosestPoint, no activities, no courses followed, no HTTP), and their ratio;
- `POST /drawing/track` of a GPX of 3,600 fixes (an hour at one a second, a winding 800 m walk with GPS noise),
  simplified to <= 1,000 vertices.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.accounts.access import cli_principal  # noqa: E402
from layers.db.cluster import Cluster  # noqa: E402
from layers.db.schema import migrate  # noqa: E402
from layers.imports.demo_basemap import load_demo_basemap  # noqa: E402
from tests.api.test_drawing_http import BESIDE_A_ROAD  # noqa: E402
from tests.e2e.servers import running_server  # noqa: E402

BARE = """
SELECT ST_AsText(ST_MakeLine(coalesce(c.p, d.geom) ORDER BY d.path))
FROM ST_DumpPoints(ST_GeomFromText(%(wkt)s, 4326)) d LEFT JOIN LATERAL (
    SELECT ST_ClosestPoint(f.geom, d.geom) AS p FROM basemap_features f
    WHERE f.layer = 'roads' AND f.geom && ST_Expand(d.geom, %(degrees)s)
      AND ST_DWithin(f.geom::geography, d.geom::geography, %(metres)s)
    ORDER BY f.geom <-> d.geom LIMIT 1) c ON true
"""


def timed(fn, n: int) -> tuple[float, float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


def gpx(points: list[tuple[float, float]]) -> bytes:
    fixes = "".join(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>5</ele></trkpt>' for lon, lat in points)
    return (f'<?xml version="1.0"?><gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><trkseg>{fixes}</trkseg></trk></gpx>").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="requests per figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kotaku-bench-snap-") as folder:
        cluster = Cluster(var_dir=Path(folder) / "var", database="kotaku_bench", fast=True)
        cluster.up()
        try:
            url = cluster.url()
            migrate(url)
            with psycopg.connect(url) as conn:
                load_demo_basemap(conn, principal=cli_principal())
                conn.commit()
                rows = conn.execute(BESIDE_A_ROAD.replace("LIMIT 1", "LIMIT 40"), [12]).fetchall()
            lines = [shapely.LineString([shapely.from_wkt(a).coords[0], shapely.from_wkt(b).coords[0]])
                     for _, a, b in rows]
            long_line = shapely.segmentize(lines[0], lines[0].length / 999)
            print(f"{len(lines)} roads with a line drawn 12 m beside; a {len(long_line.coords)}-vertex line")
            with running_server(url, "--no-access-log") as base, httpx.Client(base_url=base, timeout=60) as client, \
                    psycopg.connect(url) as conn:
                def snap(line):
                    def call(i: int) -> None:
                        drawn = line(i)
                        answer = client.post("/drawing/snap", json={"geometry": shapely.geometry.mapping(drawn),
                                                                    "tolerance_m": 24, "tenant": "31.71"})
                        assert answer.status_code == 200, answer.text
                    return call

                def bare(line):
                    return lambda i: conn.execute(BARE, {"wkt": line(i).wkt, "metres": 24,
                                                         "degrees": 24 / 110_000}).fetchone()

                for label, line, n in (("2-vertex line", lambda i: lines[i % len(lines)], args.n),
                                       ("1,000-vertex line", lambda i: long_line, max(10, args.n // 10))):
                    timed(snap(line), 5)
                    app = timed(snap(line), n)
                    raw = timed(bare(line), n)
                    print(f"snap {label}: POST /drawing/snap p50 {app[0]:.1f} ms p99 {app[1]:.1f} ms; "
                          f"bare nearest-road query p50 {raw[0]:.1f} ms p99 {raw[1]:.1f} ms; "
                          f"ratio p50 {app[0] / raw[0]:.1f}x")
                token = _token(url)
                walk = [(106.8200 + i * 2e-6, -6.1800 + 1.5e-4 * math.sin(i / 60) + (i % 3) * 2e-6)  # winding, noisy
                        for i in range(3600)]
                body = gpx(walk)

                def track(i: int) -> None:
                    answer = client.post("/drawing/track", files={"file": ("jejak.gpx", body)},
                                         headers={"Authorization": f"Bearer {token}"})
                    assert answer.status_code == 200, answer.text

                read = timed(track, max(10, args.n // 10))
                kept = json.loads(client.post("/drawing/track", files={"file": ("jejak.gpx", body)},
                                              headers={"Authorization": f"Bearer {token}"}).text)["properties"]
                print(f"track: POST /drawing/track of {len(body) / 1024:.0f} KB GPX, 3,600 fixes -> "
                      f"{kept['vertices']} vertices (tolerance {kept['simplified_m']} m): p50 {read[0]:.1f} ms "
                      f"p99 {read[1]:.1f} ms")
        finally:
            cluster.destroy()


def _token(url: str) -> str:
    import asyncio

    from layers.accounts.users import add_user, issue_token

    async def go() -> str:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await add_user(conn, cli_principal(), "bench", "pokja", "31.71", password="kata-sandi-bench-1")
            return (await issue_token(conn, cli_principal(), "bench"))[1]

    return asyncio.run(go())


if __name__ == "__main__":
    main()
