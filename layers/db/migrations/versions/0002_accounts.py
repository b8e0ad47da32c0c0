"""Accounts, roles, tokens and the append-only audit trail (issue: accounts)

The app works as a restricted role (`kotaku_app`, or the KOTAKU_APP_ROLE setting, handed over by
layers.db.schema): a NOLOGIN role that the owner's connections switch to (layers/db/connection.py). It may read
and write the data tables but never UPDATE, DELETE or TRUNCATE audit_log; a trigger refuses UPDATE and DELETE
there as a second guard. Migrations, the reference seeds and the tests' cleanup run as the owner. Tables made by
later migrations get the app's grants by default privileges, so 0003 and after need do nothing.

Revision ID: 0002
Revises: 0001
"""

from alembic import context, op

from geo.errors import ServiceUnavailable
from layers.db.connection import APP_ROLE
from layers.db.sql import load_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Roles are cluster-wide: several databases (a test run's, a second checkout's) share one. Creating it races
# when two migrate at once, hence the exception handlers. Without the right to create or grant roles (an
# external DATABASE_URL), the migration stops with what to ask a DBA for.
ROLE = r"""
DO $$
DECLARE
    app_role text := '{role}';
    me text := current_user;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
        IF NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = me) THEN
            RAISE EXCEPTION 'kotaku needs the database role "%" for its normal work, and "%" may not create roles',
                app_role, me
                USING HINT = format('Ask the database administrator to run: CREATE ROLE %I NOLOGIN; GRANT %I TO %I; '
                                    'then run "kotaku db migrate" again (or set KOTAKU_APP_ROLE to an existing '
                                    'role that %I is a member of).', app_role, app_role, me, me);
        END IF;
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', app_role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created at the same moment by another migration
        END;
    END IF;
    IF NOT pg_has_role(me, app_role, 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT %I TO %I', app_role, me);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'kotaku needs "%" to be a member of the database role "%"', me, app_role
                    USING HINT = format('Ask the database administrator to run: GRANT %I TO %I;', app_role, me);
        END;
    END IF;
END $$;
"""

# (layers/db/accounts_repair.py applies SCHEMA too: the trigger function is part of it.)
SCHEMA = load_sql("audit_log_append_only") + r"""
ALTER TABLE users
    ADD COLUMN agency text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT users_username_check CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    ADD CONSTRAINT users_role_not_public CHECK (role <> 'publik');

-- The kab/kota a konsultan is assigned to (its Principal.tenants).
CREATE TABLE user_tenants (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tenant tenant_code NOT NULL,
    PRIMARY KEY (user_id, tenant)
);

-- Bearer tokens and browser sessions: only an argon2 hash of the secret is kept.
CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('token', 'session')),
    secret_hash text NOT NULL,
    label text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id) WHERE revoked_at IS NULL;

ALTER TABLE audit_log
    ADD COLUMN actor_role text,
    ALTER COLUMN hash SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL;
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant, at);

-- (audit_log_append_only(), the trigger function, is at the start: layers/db/sql/audit_log_append_only.sql)
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""

GRANTS = r"""
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role};
-- Append-only: the app inserts and reads audit entries, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role};
-- Users are disabled, never deleted (their name stays meaningful in the audit trail).
REVOKE DELETE ON users FROM {role};
-- Owner-managed: the schema version, PostGIS's catalogue and the reference tables seeded from data/reference.
REVOKE INSERT, UPDATE, DELETE ON alembic_version, roles, programs, funding_sources, activity_kinds FROM {role};
DO $$ BEGIN
    IF to_regclass('public.spatial_ref_sys') IS NOT NULL THEN
        REVOKE INSERT, UPDATE, DELETE ON public.spatial_ref_sys FROM {role};
    END IF;
END $$;
"""

REVOKES = r"""
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role};
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role};
REVOKE USAGE ON SCHEMA public FROM {role};
"""


def _app_role() -> str:
    """The role the app works as: given by layers.db.schema (the settings), else the default."""
    return context.config.attributes.get("app_role") or APP_ROLE


def _quoted(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


def _create_role() -> None:
    """The role block; its refusal becomes a plain message with the DBA's commands (not a traceback of SQL)."""
    from sqlalchemy.exc import DBAPIError

    try:
        op.execute(ROLE.replace("{role}", _app_role().replace("'", "''")))
    except DBAPIError as error:
        diag = getattr(error.orig, "diag", None)
        primary = getattr(diag, "message_primary", None) or ""
        if not primary.startswith("kotaku needs"):
            raise
        raise ServiceUnavailable(f"{primary}. {diag.message_hint or ''}".strip()) from None


def upgrade() -> None:
    _create_role()
    op.execute(SCHEMA)
    op.execute(GRANTS.replace("{role}", _quoted(_app_role())))


def downgrade() -> None:
    # The role itself stays: it is cluster-wide and other databases on the server may use it.
    op.execute(REVOKES.replace("{role}", _quoted(_app_role())))
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.execute("DROP INDEX IF EXISTS audit_log_entity_idx")
    op.execute("DROP INDEX IF EXISTS audit_log_tenant_idx")
    op.execute("ALTER TABLE audit_log DROP COLUMN IF EXISTS actor_role, ALTER COLUMN hash DROP NOT NULL, "
               "ALTER COLUMN prev_hash DROP NOT NULL")
    op.execute("DROP TABLE IF EXISTS api_tokens, user_tenants")
    op.execute("ALTER TABLE users DROP CONSTRAINT IF EXISTS users_username_check, "
               "DROP CONSTRAINT IF EXISTS users_role_not_public, DROP COLUMN IF EXISTS agency, "
               "DROP COLUMN IF EXISTS updated_at")
