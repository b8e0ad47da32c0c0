"""Least privilege: the app's connections (as create_app's pools make them) log in as the app role itself, which
may read and write its data and nothing more: not change the audit trail, not create or alter objects, not become
another role, not read the server's files (issue 15 item 3)."""

from __future__ import annotations

import logging

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import errors

from api.app import create_app
from layers.db.connection import APP_ROLE, owner_fallback
from layers.settings import Settings

DENIED = (errors.InsufficientPrivilege,)


@pytest.fixture
def app_conn(empty_db):
    """A connection logged in exactly as the app's async pool logs in (its conninfo and keyword arguments)."""
    app = create_app(empty_db)
    with TestClient(app):
        assert app.state.own_login is True
        pool = app.state.pool
        kwargs = {key: value for key, value in pool.kwargs.items() if key != "autocommit"}
        with psycopg.connect(pool.conninfo, autocommit=True, **kwargs) as conn:
            yield conn


def refused(conn: psycopg.Connection, statement: str) -> str:
    """The statement fails for want of privilege; returns the server's message."""
    with pytest.raises(DENIED) as caught:
        conn.execute(statement)
    return str(caught.value)


def test_the_app_logs_in_as_its_own_powerless_role(app_conn, empty_db):
    user, session_user, superuser = app_conn.execute(
        "SELECT current_user, session_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)").fetchone()
    assert (user, session_user, superuser) == (APP_ROLE, APP_ROLE, False)
    createrole, createdb, bypassrls = app_conn.execute(
        "SELECT rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user").fetchone()
    assert not (createrole or createdb or bypassrls)
    # a member of no role at all (so no pg_read_server_files, and no owner to SET ROLE to)
    assert app_conn.execute("SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
                            "WHERE r.rolname = current_user").fetchone()[0] == 0
    owned = app_conn.execute("SELECT count(*) FROM pg_class WHERE relowner = "
                             "(SELECT oid FROM pg_roles WHERE rolname = current_user)").fetchone()[0]
    assert owned == 0
    assert app_conn.execute("SELECT has_schema_privilege('public', 'CREATE'), "
                            "has_database_privilege(current_database(), 'CREATE')").fetchone() == (False, False)
    # ... and it does its work: reads and writes the data tables
    assert app_conn.execute("SELECT count(*) FROM slum_areas").fetchone()[0] == 0
    app_conn.execute("INSERT INTO decrees (tenant, number, published) VALUES ('12.71', 'SK uji', false)")


def test_the_audit_trail_cannot_be_changed_altered_or_dropped(app_conn):
    app_conn.execute("INSERT INTO audit_log (action, entity, prev_hash, hash) VALUES ('uji', 'thing', 'a', 'b')")
    assert app_conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1
    for statement in ("UPDATE audit_log SET action = 'diubah'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                      "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
                      "ALTER TABLE audit_log OWNER TO CURRENT_USER", "DROP TABLE audit_log",
                      "DROP TRIGGER audit_log_append_only ON audit_log"):
        assert "audit_log" in refused(app_conn, statement) or "permission denied" in refused(app_conn, statement)
    assert app_conn.execute("SELECT action FROM audit_log").fetchall() == [("uji",)]


def test_no_objects_can_be_created(app_conn):
    refused(app_conn, "CREATE FUNCTION public.tanya() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    refused(app_conn, "CREATE FUNCTION tanya() RETURNS int LANGUAGE sql AS 'SELECT 1'")
    refused(app_conn, "CREATE TABLE public.curian (x text)")
    refused(app_conn, "CREATE SCHEMA curian")
    refused(app_conn, "CREATE VIEW public.curian AS SELECT 1")


def test_no_role_to_switch_to(app_conn):
    for statement in ("SET ROLE kotaku", "SET SESSION AUTHORIZATION kotaku"):
        with pytest.raises(errors.InsufficientPrivilege):
            app_conn.execute(statement)
    for statement in ("RESET ROLE", "SET ROLE NONE", "RESET SESSION AUTHORIZATION"):
        app_conn.execute(statement)  # allowed, and gives nothing: the login is the app role itself
        assert app_conn.execute("SELECT current_user, session_user").fetchone() == (APP_ROLE, APP_ROLE)
        refused(app_conn, "DELETE FROM audit_log")


def test_no_server_files(app_conn):
    refused(app_conn, "SELECT pg_read_file('/etc/passwd')")
    refused(app_conn, "SELECT pg_ls_dir('.')")
    app_conn.execute("CREATE TEMP TABLE loot (line text)")  # temporary tables are the imports' staging
    refused(app_conn, "COPY loot FROM '/etc/passwd'")
    refused(app_conn, "COPY loot TO '/tmp/kotaku-loot'")
    refused(app_conn, "COPY loot FROM PROGRAM 'id'")
    refused(app_conn, "SELECT lo_import('/etc/passwd')")


def test_the_old_way_is_what_reset_role_undoes(empty_db):
    """Why: the owner switching role (the fallback, and the way before) gives the owner back to injected SQL with
    SET ROLE NONE (RESET ROLE returns to the start-up `-c role`, but the session user is the owner)."""
    fallback = owner_fallback(empty_db, APP_ROLE, "test")
    with psycopg.connect(fallback.url, autocommit=True, options=fallback.kwargs["options"]) as conn:
        assert conn.execute("SELECT current_user").fetchall() == [(APP_ROLE,)]
        conn.execute("SET ROLE NONE")
        [(user, session_user)] = conn.execute("SELECT current_user, session_user").fetchall()
        assert user == session_user != APP_ROLE  # the owner again (the test cluster's: a superuser)


def test_a_role_that_may_not_log_in_falls_back_with_a_warning(empty_db, caplog):
    """KOTAKU_APP_ROLE naming a NOLOGIN role the owner may not give a login to here: the app still works (the old
    way) and says so in the log."""
    role = "kotaku_test_nologin"
    with psycopg.connect(empty_db, autocommit=True) as owner:
        owner.execute(f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        owner.execute(f"ALTER ROLE {role} NOLOGIN")
        owner.execute(f"GRANT {role} TO CURRENT_USER")
        owner.execute(f"GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        app = create_app(empty_db, Settings(app_role=role))
        with caplog.at_level(logging.WARNING, logger="kotaku.db"), TestClient(app) as client:
            assert app.state.own_login is False
            assert client.get("/collections/slum-areas/items").status_code == 200
        assert any(role in r.getMessage() and "KOTAKU_APP_DATABASE_URL" in r.getMessage() for r in caplog.records)
    finally:
        with psycopg.connect(empty_db, autocommit=True) as owner:
            owner.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}; "
                          f"REVOKE USAGE ON SCHEMA public FROM {role}")


def test_an_app_database_url_is_the_login_used(empty_db):
    """KOTAKU_APP_DATABASE_URL: the pools log in with exactly that URL (here the app role's own, given as a URL)."""
    own = create_app(empty_db)
    with TestClient(own):
        login = own.state.pool.conninfo
    app = create_app("postgresql://nobody:wrong@127.0.0.1:9/nothing", Settings(app_database_url=login))
    with TestClient(app) as client:
        assert app.state.pool.conninfo == login and app.state.own_login is True
        assert client.get("/healthz").status_code == 200
