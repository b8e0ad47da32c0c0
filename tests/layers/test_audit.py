"""The audit trail: hash-chained, append-only for the app's role, tampering found by `kotaku audit verify`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from data import data_path
from layers.accounts import audit
from layers.accounts.access import Principal
from layers.db.connection import APP_ROLE, connect
from layers.db.schema import migrate
from layers.imports.regions import import_regions
from layers.imports.slum_areas import import_slum_areas

KOTAKU = str(Path(sys.executable).with_name("kotaku"))
POKJA = Principal(role="pokja", username="pokja.medan", tenant="12.71", area_code="12.71")


def kotaku(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([KOTAKU, *args], capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url},
                          timeout=120)


def append(url: str, n: int, action: str = "test.write") -> None:
    with connect(url) as conn:
        for i in range(n):
            with conn.transaction():
                audit.record(conn, POKJA, action, "thing", i, {"value": i}, {"value": i + 1, "ratio": 1 / 3,
                                                                            "big": 1e16, "text": "Jalan Lingkungan 02"})


def tamper(url: str, statement: str) -> None:
    """What an intruder with the owner's password could do: switch the guard off, change, switch it on."""
    with psycopg.connect(url) as conn:
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        conn.execute(statement)
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def verify(url: str, head: str | None = None) -> audit.Verification:
    with connect(url) as conn:
        return audit.verify(conn, expected_head=head)


def test_entries_chain_and_verify(empty_db):
    append(empty_db, 5)
    result = verify(empty_db)
    assert result.ok and result.entries == 5 and result.head_id == 5
    with psycopg.connect(empty_db) as conn:
        rows = conn.execute("SELECT id, prev_hash, hash, actor, actor_role, tenant, before, after FROM audit_log "
                            "ORDER BY id").fetchall()
    assert rows[0][1] == audit.GENESIS
    assert all(rows[i][1] == rows[i - 1][2] for i in range(1, 5))  # each links to the one before
    assert rows[0][3:6] == ("pokja.medan", "pokja", "12.71")
    assert rows[2][6] == {"value": 2} and rows[2][7]["text"] == "Jalan Lingkungan 02"
    assert result.head_hash == rows[-1][2]


def test_a_rolled_back_write_leaves_no_entry_and_no_gap_in_the_chain(empty_db):
    append(empty_db, 1)
    with connect(empty_db) as conn, pytest.raises(RuntimeError), conn.transaction():
        audit.record(conn, POKJA, "test.write", "thing", 99, None, {"x": 1})
        raise RuntimeError("the write failed after its entry was appended")
    append(empty_db, 1)
    result = verify(empty_db)
    assert result.ok and result.entries == 2  # the sequence skipped an id; the chain does not care


@pytest.mark.parametrize(
    ("statement", "broken", "says"),
    [
        ("UPDATE audit_log SET actor = 'someone.else' WHERE id = 3", 3, "was changed"),
        ("UPDATE audit_log SET after = jsonb_set(after, '{value}', '100') WHERE id = 2", 2, "was changed"),
        ("UPDATE audit_log SET at = at - interval '1 day' WHERE id = 4", 4, "was changed"),
        ("DELETE FROM audit_log WHERE id = 3", 4, "does not follow entry 2"),
        ("DELETE FROM audit_log WHERE id = 1", 2, "does not follow the first entry"),
        # reordered: entries 2 and 3 swap places (ids exchanged)
        ("UPDATE audit_log SET id = -2 WHERE id = 2; UPDATE audit_log SET id = 2 WHERE id = 3; "
         "UPDATE audit_log SET id = 3 WHERE id = -2", 2, "entry 2 does not follow entry 1"),
    ],
    ids=["actor", "after", "time", "deleted", "deleted-first", "reordered"],
)
def test_tampering_is_found_and_the_first_broken_entry_named(empty_db, statement, broken, says):
    append(empty_db, 5)
    tamper(empty_db, statement)
    result = verify(empty_db)
    assert not result.ok and result.broken_id == broken and says in result.problem


def test_a_rewritten_hash_is_caught_at_the_next_entry(empty_db):
    append(empty_db, 4)
    with psycopg.connect(empty_db) as conn:
        row = conn.execute(f"SELECT {', '.join(audit.FIELDS)}, prev_hash FROM audit_log WHERE id = 2").fetchone()
    entry = dict(zip(audit.FIELDS, row[:-1], strict=True))
    entry["actor"] = "intruder"
    forged = audit.entry_hash(row[-1], entry)  # a consistent forgery of entry 2 alone
    tamper(empty_db, f"UPDATE audit_log SET actor = 'intruder', hash = '{forged}' WHERE id = 2")
    result = verify(empty_db)
    assert result.broken_id == 3 and "does not follow entry 2" in result.problem


def test_deleted_newest_entries_are_found_against_a_kept_head(empty_db):
    append(empty_db, 4)
    head = verify(empty_db).head_hash
    append(empty_db, 1)
    assert verify(empty_db, head).ok  # the kept head is still in the (longer) chain
    tamper(empty_db, "DELETE FROM audit_log WHERE id >= 4")
    assert verify(empty_db).ok  # a shorter chain is intact in itself...
    result = verify(empty_db, head)
    assert not result.ok and result.head_found is False and "not in the chain" in result.problem  # ...but not this


def test_the_app_role_cannot_change_or_delete_entries(empty_db):
    append(empty_db, 2)
    with connect(empty_db) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == APP_ROLE
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)
            conn.rollback()
        conn.execute("INSERT INTO audit_log (action, entity, prev_hash, hash) VALUES ('x', 'y', 'a', 'b')")
        conn.rollback()  # inserting is allowed (and a bad hash would be caught by verify)


def test_the_trigger_refuses_changes_even_to_the_owner(empty_db):
    append(empty_db, 1)
    with psycopg.connect(empty_db) as conn:
        for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()


def test_concurrent_writers_never_fork_the_chain(empty_db):
    threads = [threading.Thread(target=append, args=(empty_db, 15, f"writer.{n}")) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = verify(empty_db)
    assert result.ok and result.entries == 90
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(DISTINCT prev_hash) FROM audit_log").fetchone()[0] == 90


def test_imports_and_the_demo_write_entries(conn):
    import_regions(conn, data_path("demo", "boundaries", "kota_medan_kab_kota.geojson"))
    import_slum_areas(conn, data_path("demo", "medan_slum_areas.geojson"), tenant="12.71", decree="SK 1")
    rows = conn.execute("SELECT action, entity, entity_id, actor, actor_role, tenant, before, after "
                        "FROM audit_log ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["regions.import", "slum_areas.import"]
    regions, slums = rows
    assert regions[3].startswith("cli:") and regions[4] == "admin"
    assert regions[7]["codes"] == ["12.71"] and regions[7]["file"]["name"] == "kota_medan_kab_kota.geojson"
    assert len(regions[7]["file"]["sha256"]) == 64
    assert slums[1:3] == ("decree", "1") and slums[5] == "12.71" and slums[7]["areas"] == 60


def test_a_failed_import_writes_no_entry(conn, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"kode": "x"}, '
                   '"geometry": null}]}')
    with pytest.raises(Exception, match="nothing imported"):
        import_regions(conn, bad)
    assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_cli_audit_verify_exit_codes(empty_db):
    append(empty_db, 3)
    ok = kotaku(["audit", "verify"], empty_db)
    assert ok.returncode == 0 and "intact: 3 entries" in ok.stdout
    tamper(empty_db, "UPDATE audit_log SET entity_id = '7' WHERE id = 2")
    broken = kotaku(["audit", "verify"], empty_db)
    assert broken.returncode == 1 and "first broken entry: 2" in broken.stderr
    as_json = kotaku(["audit", "verify", "--json"], empty_db)
    assert as_json.returncode == 1 and '"broken_id": 2' in as_json.stdout


def test_a_migration_without_the_right_to_create_roles_says_what_to_ask_for(database_url):
    """An external DATABASE_URL whose user may not create roles: 0002 stops with the DBA's commands."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            pytest.skip("needs a superuser to set the scene")
        suffix = os.getpid()
        owner, database, app_role = f"kotaku_plain_{suffix}", f"kotaku_plain_{suffix}", f"kotaku_app_probe_{suffix}"
        admin.execute(f"CREATE ROLE {owner} LOGIN PASSWORD 'plain-password'")
        admin.execute(f"CREATE DATABASE {database} OWNER {owner}")
    conninfo = psycopg.conninfo.conninfo_to_dict(database_url)
    try:
        with psycopg.connect(**{**conninfo, "dbname": database}, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis; CREATE EXTENSION btree_gist")  # what a DBA sets up
        url = f"postgresql://{owner}:plain-password@{conninfo['host']}:{conninfo['port']}/{database}"
        result = subprocess.run([KOTAKU, "db", "migrate"], capture_output=True, text=True, timeout=120,
                                env={**os.environ, "DATABASE_URL": url, "KOTAKU_APP_ROLE": app_role})
        env = {**os.environ, "DATABASE_URL": url, "KOTAKU_APP_ROLE": app_role}
        assert result.returncode == 6 and result.stderr.startswith("Error: kotaku needs the database role")
        assert f"CREATE ROLE {app_role} NOLOGIN; GRANT {app_role} TO {owner};" in result.stderr
        with psycopg.connect(database_url, autocommit=True) as admin:  # the DBA does as asked
            admin.execute(f"CREATE ROLE {app_role} NOLOGIN; GRANT {app_role} TO {owner}")
        migrated = subprocess.run([KOTAKU, "db", "migrate"], capture_output=True, text=True, timeout=120, env=env)
        assert migrated.returncode == 0, migrated.stderr
        added = subprocess.run([KOTAKU, "user", "add", "pokja.x", "--role", "pokja", "--area", "73.07"],
                               capture_output=True, text=True, timeout=120, env=env)
        assert added.returncode == 0, added.stderr
        with psycopg.connect(url, options=f"-c role={app_role}") as conn:  # as the app connects
            assert conn.execute("SELECT current_user").fetchone()[0] == app_role
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM audit_log")
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {app_role}")
            admin.execute(f"DROP ROLE IF EXISTS {owner}")


def test_a_database_that_skipped_0002_is_repaired_by_migrate(database_url):
    """Databases upgraded while 0002 was an empty placeholder get its schema and grants on the next migrate."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            pytest.skip("needs a superuser to make a database")
        database = f"kotaku_skipped_{os.getpid()}"
        admin.execute(f"CREATE DATABASE {database}")
    conninfo = psycopg.conninfo.conninfo_to_dict(database_url)
    url = f"postgresql://{conninfo['user']}:{conninfo['password']}@{conninfo['host']}:{conninfo['port']}/{database}"
    try:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:  # what the placeholder left: no accounts schema
            conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}; "
                         f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}; "
                         "DROP TRIGGER audit_log_append_only ON audit_log; DROP FUNCTION audit_log_append_only(); "
                         "DROP TABLE api_tokens, user_tenants; ALTER TABLE audit_log DROP COLUMN actor_role; "
                         "DROP INDEX audit_log_entity_idx, audit_log_tenant_idx; "
                         "ALTER TABLE users DROP CONSTRAINT users_username_check, "
                         "DROP CONSTRAINT users_role_not_public, DROP COLUMN agency, DROP COLUMN updated_at")
        migrate(url)
        append(url, 2)
        assert verify(url).ok
        with connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 0
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("UPDATE audit_log SET actor = 'x'")
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
