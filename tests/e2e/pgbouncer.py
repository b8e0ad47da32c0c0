"""A real PgBouncer (Debian `pgbouncer`, installed by `make test`) on loopback in transaction mode in front of a
test database, from deploy/pgbouncer/pgbouncer.ini; for tests and bench/ scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from layers.db.connection import APP_ROLE, app_password
from tests.e2e.servers import free_port

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "pgbouncer" / "pgbouncer.ini"
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"


def available() -> bool:
    return Path(PGBOUNCER).exists()


@contextmanager
def pgbouncer(database_url: str, **overrides: str) -> Iterator[str]:
    """PgBouncer in front of `database_url`'s server; yields the same URL pointing at PgBouncer. The userlist holds
    the owner's password and the app role's (derived from it, as the app derives it). Its folder is a fresh one
    under /tmp (as root PgBouncer runs as `postgres`, which cannot enter pytest's private folders)."""
    params = conninfo_to_dict(database_url)
    owner, password = str(params["user"]), str(params["password"])
    workdir = Path(tempfile.mkdtemp(prefix="kotaku-pgbouncer-"))
    port = free_port()
    text = TEMPLATE.read_text()
    for key, value in {"pg_host": params.get("host") or "127.0.0.1", "pg_port": params.get("port") or 5432,
                       "listen_port": port, "workdir": workdir}.items():
        text = text.replace("{" + key + "}", str(value))
    for key, value in overrides.items():  # e.g. default_pool_size="2"
        text = "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line for line in text.splitlines())
    ini = workdir / "pgbouncer.ini"
    ini.write_text(text)
    userlist = workdir / "userlist.txt"
    userlist.write_text(f'"{owner}" "{password}"\n"{APP_ROLE}" "{app_password(password, APP_ROLE)}"\n')
    userlist.chmod(0o600)
    command = [PGBOUNCER, str(ini)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(workdir, "postgres")
        for path in (ini, userlist):
            shutil.chown(path, "postgres")
        command = [PGBOUNCER, "-u", "postgres", str(ini)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = make_conninfo(database_url, host="127.0.0.1", port=str(port))
    try:
        _wait(url, process, workdir)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait(url: str, process: subprocess.Popen, workdir: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = workdir / "pgbouncer.log"
            raise RuntimeError(f"pgbouncer exited: {process.stdout.read() if process.stdout else ''} "
                               f"{log.read_text()[-2000:] if log.exists() else ''}")
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError as exc:
            last = exc
            time.sleep(0.2)
    raise RuntimeError(f"pgbouncer did not accept connections: {last}")
