"""Least privilege: the app role logs in by itself and holds nothing but its data rights (issue 15 item 3)

Per database (this migration): nobody but the owner creates objects in the schema `public` or the database
(CREATE revoked from PUBLIC when the owner may, and from the app role always; the app role keeps CONNECT and
TEMPORARY, which the imports' staging tables need), objects owned by the app role go to the owner. Per server
(roles are cluster-wide): the app role is stripped of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS
and of the server-file roles (pg_read_server_files, pg_write_server_files, pg_execute_server_program) where the
owner may change that. Its LOGIN and password are set by
layers/db/app_login.py when migrating (the password is the settings', not the schema's).

Downgrade gives nothing back: these revokes only tighten. To undo by hand: GRANT CREATE ON SCHEMA public TO PUBLIC
(PostgreSQL 14 and older granted it by default).

Revision ID: 0006
Revises: 0005
"""

from alembic import context, op

from layers.db.connection import APP_ROLE

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

HARDEN = r"""
DO $$
DECLARE
    app_role text := '{role}';
    me text := current_user;
    may_alter boolean;
    server_role text;
BEGIN
    IF app_role = me OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
        RETURN;  -- the owner itself (nothing to take away from it here), or no app role to harden
    END IF;
    -- Nobody but the owner creates objects. PostgreSQL 15 no longer grants CREATE on public to PUBLIC; older
    -- servers did: revoke it there only when the owner keeps it by owning the schema (or is superuser).
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = me)
       OR (SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = me) FROM pg_namespace
           WHERE nspname = 'public') THEN
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    ELSIF has_schema_privilege('public', 'public', 'CREATE') THEN
        RAISE WARNING 'PUBLIC (so the app role "%") may CREATE in the schema public; the schema owner should run: '
                      'REVOKE CREATE ON SCHEMA public FROM PUBLIC', app_role;
    END IF;
    EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', app_role);
    BEGIN
        EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC, %I', current_database(), app_role);
        -- what it needs of the database, even where PUBLIC lost it: to connect, and TEMP (imports stage rows there)
        EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), app_role);
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE WARNING 'could not change the database privileges of "%"', app_role;
    END;
    -- Owner of nothing in this database (an app that owns a table may ALTER or DROP it).
    IF EXISTS (SELECT 1 FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = app_role))
       OR EXISTS (SELECT 1 FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = app_role)) THEN
        EXECUTE format('REASSIGN OWNED BY %I TO %I', app_role, me);
    END IF;
    -- Role attributes and memberships are server-wide: changed where the owner may.
    may_alter := (SELECT rolsuper FROM pg_roles WHERE rolname = me)
                 OR ((SELECT rolcreaterole FROM pg_roles WHERE rolname = me)
                     AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = app_role));
    IF may_alter THEN
        BEGIN
            EXECUTE format('ALTER ROLE %I NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', app_role);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'could not take the role attributes of "%"', app_role;
        END;
        FOREACH server_role IN ARRAY ARRAY['pg_read_server_files', 'pg_write_server_files',
                                           'pg_execute_server_program', 'pg_read_all_data', 'pg_write_all_data',
                                           'pg_signal_backend']
        LOOP
            IF pg_has_role(app_role, server_role, 'MEMBER') THEN
                BEGIN
                    EXECUTE format('REVOKE %I FROM %I', server_role, app_role);
                EXCEPTION WHEN insufficient_privilege THEN
                    RAISE WARNING 'could not revoke % from "%"', server_role, app_role;
                END;
            END IF;
        END LOOP;
    ELSIF (SELECT rolsuper FROM pg_roles WHERE rolname = app_role) THEN
        RAISE WARNING 'the app role "%" is a superuser: ask the database administrator to run ALTER ROLE % '
                      'NOSUPERUSER', app_role, app_role;
    END IF;
END $$;
"""


def _app_role() -> str:
    """The role the app works as: given by layers.db.schema (the settings), else the default."""
    return context.config.attributes.get("app_role") or APP_ROLE


def upgrade() -> None:
    op.execute(HARDEN.replace("{role}", _app_role().replace("'", "''")))


def downgrade() -> None:
    pass  # only revokes: nothing is lost by keeping them (see the module's note to undo by hand)
