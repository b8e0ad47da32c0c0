"""The national batch join on a Dask cluster: each worker reads its own spatial piece from PostGIS, joins it and
writes its rows back with COPY; the client sends a few codes and a box per piece and gets counts back.

Why so: sending the inputs from the client (pickled GeoDataFrames, 65 MB at the scale of bench/national.py) made
Dask slower than one process. Here the client reads only the desa's bounding boxes and cuts them into `pieces`
spatially compact groups (a k-d split of their centres: halves of equal desa count across the longer side, so a
piece is a compact block of neighbouring desa, and small where desa are small, i.e. where people and slum areas
are). A piece's task (`piece_task`, on a worker) reads its desa by code and only the slum areas and activities
whose box meets the box of its desa (the GiST indexes answer), projects them, joins them with its own desa
(batch_join.overlaps_of / regions_of_points) and COPYs the rows into the run's two tables. Every desa is in one
piece, so every (slum area, desa) pair is found exactly once; an activity whose point lies on the border of two
pieces' desa is found twice and `apply_rows` keeps the smaller code, as the one-process path does.

The run's tables (`RunTables`) are UNLOGGED tables made for one run by the owner (the app role may not create
tables) and granted to the app role, which the workers log in as; the client applies them in one transaction
(batch_join.apply_rows) and drops them, also when the run fails: a failed run changes no row of the kotaku tables.

Workers need kotaku installed (the task is this module's function) and must reach PostgreSQL at the URL the client
uses (a private cluster on 127.0.0.1 is reachable only from a LocalCluster on the same machine). The URL with the
app's password travels to the workers in the task: keep the Dask cluster on a private network (or use Dask's TLS).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from geo.errors import InvalidInput
from layers.keterpaduan.batch_join import (
    OVERLAP_COLUMNS,
    POINT_COLUMNS,
    BatchResult,
    Source,
    copy_rows,
    overlaps_of,
    prepare,
    read_frame,
    regions_of_points,
)

SCHEDULER_TIMEOUT_S = 10


@dataclass(frozen=True)
class Login:
    """How a worker connects: a conninfo and psycopg keyword arguments (layers/db/connection.AppLogin's)."""
    url: str
    kwargs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Piece:
    codes: tuple[str, ...]
    box: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax of its desa (EPSG:4326)


@dataclass(frozen=True)
class RunTables:
    """The two UNLOGGED tables one run's workers write into."""
    prefix: str

    @property
    def overlaps(self) -> sql.Identifier:
        return sql.Identifier(f"{self.prefix}_overlaps")

    @property
    def points(self) -> sql.Identifier:
        return sql.Identifier(f"{self.prefix}_points")

    @classmethod
    def create(cls, owner: psycopg.Connection, app_role: str | None) -> RunTables:
        """Made by the owner, writable by `app_role` (None: the owner's connections write them too)."""
        tables = cls(f"kotaku_batch_{secrets.token_hex(4)}")
        with owner.transaction():
            owner.execute(sql.SQL("CREATE UNLOGGED TABLE {} (slum_area_id bigint NOT NULL, region_code text NOT NULL, "
                                  "overlap_ha float8 NOT NULL, share float8 NOT NULL)").format(tables.overlaps))
            owner.execute(sql.SQL("CREATE UNLOGGED TABLE {} (activity_id bigint NOT NULL, region_code text NOT NULL)"
                                  ).format(tables.points))
            if app_role:
                owner.execute(sql.SQL("GRANT SELECT, INSERT ON {}, {} TO {}").format(
                    tables.overlaps, tables.points, sql.Identifier(app_role)))
        return tables

    def drop(self, owner: psycopg.Connection) -> None:
        with owner.transaction():
            owner.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(self.overlaps, self.points))

    def read(self, conn: psycopg.Connection) -> BatchResult:
        """The run's result as the one-process path gives it (one desa per activity: the smaller code), sorted."""
        import pandas as pd

        overlaps = pd.DataFrame(conn.execute(sql.SQL(
            "SELECT slum_area_id, region_code, overlap_ha, share FROM {} ORDER BY slum_area_id, region_code").format(
            self.overlaps)).fetchall(), columns=list(OVERLAP_COLUMNS))
        points = pd.DataFrame(conn.execute(sql.SQL(
            "SELECT DISTINCT ON (activity_id) activity_id, region_code FROM {} ORDER BY activity_id, region_code"
        ).format(self.points)).fetchall(), columns=list(POINT_COLUMNS))
        return BatchResult(overlaps.astype(OVERLAP_COLUMNS), points.astype(POINT_COLUMNS))


def plan(conn: psycopg.Connection, source: Source, pieces: int) -> list[Piece]:
    """The desa cut into at most `pieces` compact groups of about equal count (k-d split of their box centres)."""
    rows = conn.execute(sql.SQL(
        "SELECT code, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT code, geom::box2d AS b "
        "FROM ({}) d WHERE geom IS NOT NULL) x ORDER BY code").format(sql.SQL(source.desa))
    ).fetchall()
    if not rows:
        return []
    codes = np.array([row[0] for row in rows], dtype=object)
    boxes = np.array([row[1:] for row in rows], dtype=float)
    centres = np.c_[(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2]

    def split(members: np.ndarray, count: int) -> list[np.ndarray]:
        if count <= 1 or len(members) <= 1:
            return [members]
        spans = np.ptp(centres[members], axis=0)
        ordered = members[np.argsort(centres[members, int(spans[1] > spans[0])], kind="stable")]
        left = count // 2
        cut = max(1, min(len(ordered) - 1, round(len(ordered) * left / count)))
        return split(ordered[:cut], left) + split(ordered[cut:], count - left)

    out = []
    for group in split(np.arange(len(codes)), max(1, pieces)):
        box = boxes[group]
        out.append(Piece(tuple(codes[group]), (float(box[:, 0].min()), float(box[:, 1].min()),
                                               float(box[:, 2].max()), float(box[:, 3].max()))))
    return out


def piece_task(login: Login, source: Source, tables: RunTables, piece: Piece) -> dict[str, float]:
    """On a worker: read one piece from PostGIS, join it, COPY its rows into the run's tables (one transaction)."""
    started = time.perf_counter()

    def inside(inner: str, key: str) -> sql.Composed:
        return sql.SQL("SELECT {key}, ST_AsBinary(geom) FROM ({inner}) x "
                       "WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)").format(
            key=sql.Identifier(key), inner=sql.SQL(inner))

    with psycopg.connect(make_conninfo(login.url, **login.kwargs)) as conn:
        desa = read_frame(conn, sql.SQL("SELECT code, ST_AsBinary(geom) FROM ({}) d WHERE code = ANY(%s)").format(
            sql.SQL(source.desa)), [list(piece.codes)], key="code")
        areas = read_frame(conn, inside(source.areas, "id"), piece.box)
        activities = read_frame(conn, inside(source.activities, "id"), piece.box)
        read_s = time.perf_counter() - started
        areas, points, desa = prepare(areas, activities, desa)
        overlaps = overlaps_of(areas, desa)
        regions = regions_of_points(points, desa)
        with conn.transaction():
            copy_rows(conn, sql.SQL("COPY {} FROM STDIN").format(tables.overlaps), overlaps[list(OVERLAP_COLUMNS)])
            copy_rows(conn, sql.SQL("COPY {} FROM STDIN").format(tables.points), regions[list(POINT_COLUMNS)])
    return {"desa": len(desa), "areas_read": len(areas), "activities_read": len(points), "overlaps": len(overlaps),
            "activity_desa": len(regions), "read_s": read_s, "seconds": time.perf_counter() - started}


def run_dask(client, login: Login, tables: RunTables, pieces: list[Piece],
             source: Source | None = None) -> dict[str, float]:
    """Run every piece on the cluster of `client` (a distributed.Client); totals of the pieces' counts."""
    source = source or Source()
    started = time.perf_counter()
    futures = [client.submit(piece_task, login, source, tables, piece, pure=False) for piece in pieces]
    done = client.gather(futures)
    totals = {key: float(sum(part[key] for part in done)) for key in (done[0] if done else {})}
    totals["compute"] = time.perf_counter() - started
    return totals


def dask_client(scheduler: str | None, workers: int = 2):
    """A distributed.Client: of the cluster at `scheduler` (tcp://host:8786; not reached in SCHEDULER_TIMEOUT_S, or
    not an address: InvalidInput), else of a LocalCluster of `workers` processes (one thread each) on loopback.
    Close it (and its cluster) with `close_client`."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{SCHEDULER_TIMEOUT_S}s")
        except (OSError, ValueError) as exc:  # refused, timed out, not an address
            raise InvalidInput.of("batch.scheduler", details=[{"scheduler": scheduler, "reason": str(exc)}],
                                  scheduler=scheduler, seconds=SCHEDULER_TIMEOUT_S) from exc
    # no statistical profiler in the workers: it samples every thread's stack every 10 ms, CPU the join wants
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                               processes=True)
    return Client(cluster)


def close_client(client) -> None:
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def worker_count(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
