"""Test fixtures: a real PostGIS for the whole test session, never a mock.

Without KOTAKU_TEST_DATABASE_URL the suite uses the app's own cluster manager on a separate folder
(var/test-cluster, fsync off) and a database of its own per pytest process, so parallel runs do not meet.
The cluster is stopped at the end by the last session still using it (a shared file lock counts them).

Modules that read the Medan demo get a database of their own from `fresh_demo()`: a copy
(`CREATE DATABASE ... TEMPLATE`, a file copy) of a template migrated and loaded with the demo once per session.
Where the server does not let us create databases (an external KOTAKU_TEST_DATABASE_URL without CREATEDB), it
falls back to emptying the test database and loading the demo into it, as every such module once did.

Tests that need no database, cluster or server are marked `fast` here (`make test-fast`).
"""

from __future__ import annotations

import fcntl
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from layers.db.cluster import Cluster, project_root
from layers.db.schema import migrate

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DATA_TABLES = (
    "audit_log", "users", "activities", "plans", "surveys", "survey_units", "slum_area_regions", "slum_areas",
    "decrees", "regions", "basemap_features",
)


# What puts a test in the database tier: a fixture that reaches the test database (every one depending on
# `database_url` has it in item.fixturenames), or one that starts a cluster or a server of its own.
DATABASE_FIXTURES = frozenset({"database_url", "cluster"})
SERVER_FOLDERS = ("e2e",)  # tests/e2e: whole flows through real processes


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """`-m fast` does not even import the server tests (none of them is fast)."""
    if config.getoption("markexpr", "") == "fast" and collection_path.name in SERVER_FOLDERS:
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `fast` every test that needs no database, no cluster and no server (`make test-fast`)."""
    fast = pytest.mark.fast
    for item in items:
        folder = Path(str(item.path)).relative_to(ROOT / "tests").parts[0]
        if folder in SERVER_FOLDERS or DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            continue
        if item.get_closest_marker("slow"):
            continue
        item.add_marker(fast)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present (developers and CI); skipped on a user's machine without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


# database URL -> a copy of it taken right after migrating, before any test wrote to it (when allowed)
MIGRATED_SNAPSHOTS: dict[str, str] = {}


def snapshot_migrated(url: str) -> Callable[[], None]:
    """Copy the freshly migrated database (nobody is connected yet); returns what drops the copy again."""
    name = f"kotaku_tpl_{os.getpid()}_migrated"
    admin_url = database_named(url, "postgres")
    try:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{urlsplit(url).path.lstrip("/")}" STRATEGY FILE_COPY')
    except psycopg.Error:
        return lambda: None
    MIGRATED_SNAPSHOTS[url] = name

    def drop() -> None:
        MIGRATED_SNAPSHOTS.pop(url, None)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return drop


@pytest.fixture(scope="session")
def database_url() -> str:
    external = os.environ.get("KOTAKU_TEST_DATABASE_URL")
    if external:
        migrate(external)
        drop_snapshot = snapshot_migrated(external)
        try:
            yield external
        finally:
            drop_snapshot()
        return
    cluster = Cluster(var_dir=project_root() / "var" / "test-cluster", database=f"kotaku_test_{os.getpid()}",
                      fast=True)
    cluster.var_dir.mkdir(parents=True, exist_ok=True)
    users = open(cluster.var_dir / "sessions.lock", "w")  # noqa: SIM115 (held for the whole session)
    fcntl.flock(users, fcntl.LOCK_SH)
    cluster.up()
    url = cluster.url()
    migrate(url)
    drop_snapshot = snapshot_migrated(url)
    try:
        yield url
    finally:
        drop_snapshot()
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{cluster.database}" WITH (FORCE)')
        fcntl.flock(users, fcntl.LOCK_UN)
        try:
            fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            cluster.down()  # no other test session is using it
        except BlockingIOError:
            pass
        users.close()


def database_named(url: str, name: str) -> str:
    """`url` with its database replaced by `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class DemoCopies:
    """Fresh copies of a session template holding the migrated schema and the Medan demo."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.prefix = f"kotaku_tpl_{os.getpid()}"
        self.template: str | None = None
        self.created: list[str] = []
        self.counter = itertools.count(1)
        self.unavailable: str | None = None

    def _admin(self) -> psycopg.Connection:
        """A connection to the maintenance database of the same server (a template may have no other users)."""
        return psycopg.connect(database_named(self.database_url, "postgres"), autocommit=True)

    def _create(self, name: str, template: str) -> None:
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        self.created.append(name)

    def _build_template(self) -> None:
        from layers.imports.demo import load_demo

        name = self.prefix
        try:
            snapshot = MIGRATED_SNAPSHOTS.get(self.database_url)
            if snapshot:  # the session database as migrated, before any test wrote to it
                self._create(name, snapshot)
            else:
                with self._admin() as admin:
                    admin.execute(f'CREATE DATABASE "{name}"')
                self.created.append(name)
                migrate(database_named(self.database_url, name))
        except psycopg.Error as error:  # no CREATEDB, or no maintenance database to connect to
            self.unavailable = f"{type(error).__name__}: {error}".strip()
            return
        with psycopg.connect(database_named(self.database_url, name)) as conn:
            load_demo(conn)
            conn.commit()
        self.template = name

    def __call__(self) -> str:
        """The URL of a database of its own holding the demo (or the test database with the demo reloaded)."""
        if self.template is None and self.unavailable is None:
            self._build_template()
        if self.template is None:
            return self._reload_in_place()
        name = f"{self.prefix}_{next(self.counter)}"
        self._create(name, self.template)
        return database_named(self.database_url, name)

    def _reload_in_place(self) -> str:
        from layers.imports.demo import load_demo

        with psycopg.connect(self.database_url) as conn:
            conn.execute(f"TRUNCATE {', '.join(DATA_TABLES + COPY_ONLY_TABLES)} RESTART IDENTITY CASCADE")
            conn.commit()
            load_demo(conn)
            conn.commit()
        return self.database_url

    def copies(self) -> bool:
        """Whether this server lets us copy the template (built on first ask); else the demo is reloaded in place."""
        if self.template is None and self.unavailable is None:
            self._build_template()
        return self.template is not None

    def drop(self, url: str) -> None:
        """Drop one copy made by `__call__` (nothing to do for the test database reloaded in place)."""
        name = urlsplit(url).path.lstrip("/")
        if name not in self.created:
            return
        with self._admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def drop_all(self) -> None:
        if not self.created:
            return
        with self._admin() as admin:
            for name in reversed(self.created):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Emptied too when the demo is reloaded in place (a fresh copy has none of their rows).
COPY_ONLY_TABLES = ("activity_links", "activity_events", "strategic_zones", "priority_matrices", "scoring_state")


@pytest.fixture(scope="session")
def fresh_demo(database_url: str) -> Iterator[DemoCopies]:
    """fresh_demo() -> URL of a migrated database with the Medan demo, for one module (or test) alone.

    Created from a per-session template; dropped at the end of the session."""
    copies = DemoCopies(database_url)
    try:
        yield copies
    finally:
        copies.drop_all()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "writes_demo: the test changes the demo, so `demo_url` gives it a copy of "
                                       "its own instead of the one its module shares (tests/conftest.py)")


@pytest.fixture(scope="module")
def module_demo(fresh_demo: DemoCopies) -> str | None:
    """One copy of the demo for the tests of a module that only read it (None where copies cannot be made)."""
    return fresh_demo() if fresh_demo.copies() else None


@pytest.fixture
def demo_url(request: pytest.FixtureRequest, fresh_demo: DemoCopies) -> Iterator[str]:
    """URL of a database holding the Medan demo as loaded, for one test.

    A test that only reads gets its module's shared copy; a test marked `writes_demo` gets a copy of its own,
    dropped after it. Where the server lets us create no database, the demo is reloaded into the test database
    for every test, as before the template existed."""
    if not request.node.get_closest_marker("writes_demo"):
        shared = request.getfixturevalue("module_demo")
        if shared is not None:
            yield shared
            return
    url = fresh_demo()
    try:
        yield url
    finally:
        fresh_demo.drop(url)


@pytest.fixture
def demo_conn(demo_url: str) -> Iterator[psycopg.Connection]:
    """A connection to `demo_url` (committed when the test ends without error, like `conn`)."""
    with psycopg.connect(demo_url) as connection:
        yield connection


@pytest.fixture
def empty_db(database_url: str) -> str:
    """The test database with every data table emptied (reference tables kept)."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
    return database_url


@pytest.fixture
def conn(empty_db: str):
    with psycopg.connect(empty_db) as connection:
        yield connection
