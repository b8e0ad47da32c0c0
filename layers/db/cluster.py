"""The app-managed private PostgreSQL/PostGIS cluster under `var/`.

Used when no DATABASE_URL is set. The cluster listens on 127.0.0.1 only, on a port chosen free at `initdb`
time (moved if another program has taken it since), with its socket in the cluster folder and
scram-sha-256 passwords (never `trust`: other local users must not walk in). As root, the server binaries
run as the `postgres` user, which must own the data folder.

Every state change holds a file lock, so two `kotaku serve` started at once in one checkout never run
initdb twice or start two servers on one data folder; a running cluster is reused, never restarted.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from geo.errors import ServiceUnavailable
from layers.db.passwords import app_password
from layers.settings import Settings, project_root

SERVICE_USER = "postgres"  # who runs the server binaries when we are root
DB_USER = "kotaku"  # the owner: superuser of the private cluster, runs the migrations
APP_ROLE = Settings.model_fields["app_role"].default  # the app's own login (made by `kotaku db migrate`)
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_buffers": "'512MB'",
    "work_mem": "'32MB'",
    "maintenance_work_mem": "'256MB'",
    # JIT compiles heavy tile queries for hundreds of ms; our queries are short (DESIGN.md pitfalls).
    "jit": "off",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}
FAST_TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


__all__ = ["Cluster", "ClusterStatus", "find_pg_bindir", "project_root"]


def default_var_dir() -> Path:
    """`<checkout>/var`; the KOTAKU_VAR setting moves it (Settings.var_dir)."""
    return project_root() / "var"


def _is_root() -> bool:
    return os.geteuid() == 0


def find_pg_bindir(pg_bin: Path | None = None) -> Path:
    """Where initdb/pg_ctl/postgres live: `pg_bin` (KOTAKU_PG_BIN), Debian's newest /usr/lib/postgresql/N/bin, or
    PATH."""
    candidates = []
    if pg_bin:
        candidates.append(Path(pg_bin))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    candidates += debian
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    raise ServiceUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian packages "
        "'postgresql' and 'postgresql-15-postgis-3' (make run / make test do it), or set DATABASE_URL."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@dataclass
class ClusterStatus:
    initialised: bool
    running: bool
    port: int | None
    data_dir: Path
    url: str | None

    def as_dict(self) -> dict:
        return {
            "initialised": self.initialised,
            "running": self.running,
            "port": self.port,
            "data_dir": str(self.data_dir),
            "url": self.url,
        }


class Cluster:
    """A private cluster rooted at `var_dir` (default `<checkout>/var`).

    `database` is the database the app uses inside it; tests use their own `var_dir` and database.
    """

    def __init__(self, var_dir: Path | None = None, database: str = "kotaku", fast: bool = False,
                 pg_bin: Path | None = None, app_role: str = APP_ROLE):
        self.var_dir = Path(var_dir or default_var_dir()).resolve()
        self.app_role = app_role
        self.database = database
        self.fast = fast
        self.pg_bin = pg_bin
        self.state_file = self.var_dir / "cluster.json"
        self.lock_file = self.var_dir / "cluster.lock"

    @classmethod
    def from_settings(cls, settings: Settings) -> Cluster:
        """The app's cluster: under KOTAKU_VAR (default <checkout>/var), binaries from KOTAKU_PG_BIN."""
        return cls(settings.var_dir, pg_bin=settings.pg_bin, app_role=settings.app_role)

    # -- paths and state -------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        state = self._state()
        return Path(state["data_dir"]) if state.get("data_dir") else self.var_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir.parent / "run"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}

    def _save_state(self, state: dict) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        os.chmod(tmp, 0o600)  # holds the database password
        tmp.replace(self.state_file)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_file, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def url(self, database: str | None = None) -> str:
        state = self._state()
        if not state:
            raise ServiceUnavailable("the local database cluster is not initialised: run 'kotaku db up'")
        port = self._running_port() or state["port"]
        return f"postgresql://{DB_USER}:{state['password']}@127.0.0.1:{port}/{database or self.database}"

    def app_url(self, database: str | None = None) -> str:
        """The URL of the app's own login (role `app_role`, its password beside the owner's in cluster.json)."""
        state = self._state()
        if not state:
            raise ServiceUnavailable("the local database cluster is not initialised: run 'kotaku db up'")
        port = self._running_port() or state["port"]
        password = app_password(state["password"], self.app_role)
        return f"postgresql://{self.app_role}:{password}@127.0.0.1:{port}/{database or self.database}"

    def _note_app_login(self) -> None:
        """Keep the app login's user and password in cluster.json (mode 600) beside the owner's, for psql users."""
        state = self._state()
        password = app_password(state["password"], self.app_role)
        if state.get("app_user") != self.app_role or state.get("app_password") != password:
            self._save_state({**state, "app_user": self.app_role, "app_password": password})

    # -- running the server binaries -------------------------------------------------------------
    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if _is_root():
            args = ["runuser", "-u", SERVICE_USER, "--", *args]
        result = subprocess.run(args, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise ServiceUnavailable(
                f"{Path(args[0 if not _is_root() else 4]).name} failed (exit {result.returncode})",
                details={"command": args, "stderr": result.stderr[-2000:], "log": str(self.log_file)},
            )
        return result

    def _choose_data_root(self) -> Path:
        """`var/` itself, unless (as root) the postgres user cannot reach it, e.g. a checkout in /root.

        Then the data lives in /var/tmp/kotaku-gis/<id> and var/cluster.json points there.
        """
        root = self.var_dir
        if not _is_root():
            return root
        probe = subprocess.run(["runuser", "-u", SERVICE_USER, "--", "test", "-x", str(root)], capture_output=True)
        if probe.returncode == 0:
            return root
        fallback = Path("/var/tmp/kotaku-gis") / secrets.token_hex(6)
        fallback.mkdir(parents=True, exist_ok=True)
        os.chmod(fallback.parent, 0o755)
        return fallback

    def _initdb(self) -> None:
        bindir = find_pg_bindir(self.pg_bin)
        data_root = self._choose_data_root()
        data_dir = data_root / "pgdata"
        run_dir = data_root / "run"
        data_dir.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        with tempfile.NamedTemporaryFile("w", delete=False, dir=data_root, prefix="pw") as pwfile:
            pwfile.write(password + "\n")
        try:
            if _is_root():
                shutil.chown(data_dir, SERVICE_USER, SERVICE_USER)
                shutil.chown(run_dir, SERVICE_USER, SERVICE_USER)
                shutil.chown(pwfile.name, SERVICE_USER, SERVICE_USER)
            os.chmod(data_dir, 0o700)
            self._run([
                str(bindir / "initdb"), "-D", str(data_dir), "-U", DB_USER, f"--pwfile={pwfile.name}",
                "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
            ])
        finally:
            os.unlink(pwfile.name)
        settings = dict(SERVER_SETTINGS, unix_socket_directories=f"'{run_dir}'")
        if self.fast:
            settings.update(FAST_TEST_SETTINGS)
        conf = "\n# kotaku-gis\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
        with open(data_dir / "postgresql.conf", "a") as handle:  # root keeps the file's owner
            handle.write(conf)
        self._save_state({"data_dir": str(data_dir), "password": password, "port": _free_port()})

    def _running_port(self) -> int | None:
        """The port of a live server on our data folder, from postmaster.pid, or None."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            lines = pid_file.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (FileNotFoundError, PermissionError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by the postgres user
        return port

    # -- public operations ----------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        state = self._state()
        initialised = bool(state) and (self.data_dir / "PG_VERSION").exists()
        port = self._running_port() if initialised else None
        return ClusterStatus(
            initialised=initialised,
            running=port is not None,
            port=port or state.get("port"),
            data_dir=self.data_dir,
            url=self.url() if initialised else None,
        )

    def up(self) -> ClusterStatus:
        """Initialise if needed and start if not running. Safe to call from several processes at once."""
        with self._locked():
            if not (self._state() and (self.data_dir / "PG_VERSION").exists()):
                self._initdb()
            if self._running_port() is None:
                self._start()
            self._ensure_database()
            self._note_app_login()
        return self.status()

    def _start(self) -> None:
        bindir = find_pg_bindir(self.pg_bin)
        state = self._state()
        if _port_taken(state["port"]):
            state["port"] = _free_port()
            self._save_state(state)
        if _is_root():
            self.log_file.touch()
            shutil.chown(self.log_file, SERVICE_USER, SERVICE_USER)
        self._run([
            str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
            "-o", f"-p {state['port']}", "start",
        ])

    def down(self) -> bool:
        """Stop the server if it runs; True when it was running."""
        with self._locked():
            if self._running_port() is None:
                return False
            pg_ctl = find_pg_bindir(self.pg_bin) / "pg_ctl"
            self._run([str(pg_ctl), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"])
            return True

    def destroy(self) -> None:
        """Stop and delete the cluster's files (used by tests and `make clean`)."""
        self.down()
        data_root = self.data_dir.parent
        for replica in data_root.glob("*-pgdata"):  # streaming replicas (start_replica)
            self.stop_replica(replica.name.removesuffix("-pgdata"), mode="immediate")
            shutil.rmtree(replica, ignore_errors=True)
        shutil.rmtree(data_root / "pgdata", ignore_errors=True)
        shutil.rmtree(data_root / "run", ignore_errors=True)
        self.log_file.unlink(missing_ok=True)
        if data_root != self.var_dir:  # the /var/tmp fallback folder
            shutil.rmtree(data_root, ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))

    # -- streaming replicas (tests and bench/scale.py: reads on a replica, docs/scaling.md) -------------------------
    def replica_dir(self, name: str = "replica") -> Path:
        return self.data_dir.parent / f"{name}-pgdata"

    def replica_port(self, name: str = "replica") -> int | None:
        """The port of the running replica `name`, or None."""
        return _live_port(self.replica_dir(name))

    def start_replica(self, name: str = "replica") -> str:
        """A hot standby of this (running) cluster, streaming from it: made once by `pg_basebackup -R` (the owner
        replicates: the initdb pg_hba allows replication from 127.0.0.1, wal_level is `replica` by default), started
        on a loopback port if not running (the one of its last start while free). Returns its URL (the owner's
        login, this cluster's database)."""
        bindir = find_pg_bindir(self.pg_bin)
        with self._locked():
            state = self._state()
            primary_port = self._running_port()
            if primary_port is None:
                raise ServiceUnavailable("the primary is not running: start it before its replica")
            target = self.replica_dir(name)
            if not (target / "PG_VERSION").exists():
                shutil.rmtree(target, ignore_errors=True)
                target.mkdir(parents=True)
                if _is_root():
                    shutil.chown(target, SERVICE_USER, SERVICE_USER)
                os.chmod(target, 0o700)
                source = (f"host=127.0.0.1 port={primary_port} user={DB_USER} password={state['password']} "
                          f"application_name={name}")
                self._run([str(bindir / "pg_basebackup"), "-D", str(target), "-d", source, "-R", "-X", "stream",
                           "-c", "fast"])
            port = _live_port(target)
            if port is None:
                remembered = target.parent / f"{name}.port"  # the same port on every start, while it is free
                port = int(remembered.read_text()) if remembered.exists() else 0
                if not port or _port_taken(port):
                    port = _free_port()
                    remembered.write_text(str(port))
                log = target.parent / f"{name}.log"
                if _is_root():
                    log.touch()
                    shutil.chown(log, SERVICE_USER, SERVICE_USER)
                self._run([str(bindir / "pg_ctl"), "-D", str(target), "-l", str(log), "-w", "-t", "60",
                           "-o", f"-p {port}", "start"])
        return f"postgresql://{DB_USER}:{state['password']}@127.0.0.1:{port}/{self.database}"

    def stop_replica(self, name: str = "replica", mode: str = "fast") -> bool:
        """Stop the replica `name` (mode fast or immediate); True when it was running."""
        if _live_port(self.replica_dir(name)) is None:
            return False
        pg_ctl = find_pg_bindir(self.pg_bin) / "pg_ctl"
        self._run([str(pg_ctl), "-D", str(self.replica_dir(name)), "-w", "-m", mode, "stop"])
        return True

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the primary on its port (bench/scale.py: a restart in the middle of a load)."""
        with self._locked():
            port = self._running_port()
            bindir = find_pg_bindir(self.pg_bin)
            if port is not None:
                self._run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", mode, "stop"])
            self._run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
                       "-o", f"-p {port or self._state()['port']}", "start"])


def _live_port(data_dir: Path) -> int | None:
    """The port of a live server on `data_dir` (from its postmaster.pid), or None."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (FileNotFoundError, PermissionError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return port
