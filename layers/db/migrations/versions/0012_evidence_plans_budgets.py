"""Evidence per progress step, plans and budgets (issue 12 items 3 and 4).

- activity_attachments: the step a file is evidence of, and the position/time the page recorded at capture
  (browser geolocation with its accuracy), kept beside the EXIF ones.
- progress_steps: each reported step (0, 50, 100 %) with its photo, the checks it failed and, when it failed one,
  the verification (perlu_verifikasi -> dikonfirmasi / ditolak, by whom and why).
- plans (RPLP/RKM per kelurahan, RP2KP-KP/SIAP per kab/kota, RKPD per year) and plan_items; activities.plan_item_id.
- budget_lines: DPA / kode rekening, allocated and realised per year and funding source, for an activity.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SCHEMA = r"""
ALTER TABLE activity_attachments
    ADD COLUMN progress_step integer CONSTRAINT activity_attachments_progress_step_check
        CHECK (progress_step IN (0, 50, 100)),
    ADD COLUMN capture_lon double precision,
    ADD COLUMN capture_lat double precision,
    ADD COLUMN capture_accuracy_m double precision
        CONSTRAINT activity_attachments_capture_accuracy_m_check CHECK (capture_accuracy_m >= 0),
    ADD COLUMN captured_at timestamptz;

CREATE TABLE progress_steps (
    id bigserial PRIMARY KEY,
    activity_id bigint NOT NULL
        CONSTRAINT progress_steps_activity_id_fkey REFERENCES activities (id) ON DELETE CASCADE,
    step integer NOT NULL CONSTRAINT progress_steps_step_check CHECK (step IN (0, 50, 100)),
    attachment_id bigint NOT NULL
        CONSTRAINT progress_steps_attachment_id_fkey REFERENCES activity_attachments (id),
    state text NOT NULL CONSTRAINT progress_steps_state_check
        CHECK (state IN ('terverifikasi', 'perlu_verifikasi', 'dikonfirmasi', 'ditolak')),
    problems jsonb NOT NULL DEFAULT '[]'::jsonb,
    taken_at timestamptz,
    distance_m double precision,
    position_source text,
    reported_by text,
    reported_at timestamptz NOT NULL DEFAULT now(),
    decided_by text,
    decided_role text,
    decided_at timestamptz,
    decision_reason text
);
CREATE INDEX progress_steps_activity_idx ON progress_steps (activity_id, step);
CREATE UNIQUE INDEX progress_steps_live_key ON progress_steps (activity_id, step) WHERE state <> 'ditolak';

CREATE TABLE plans (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    kind text NOT NULL CONSTRAINT plans_kind_check CHECK (kind IN ('rplp', 'rkm', 'rp2kpkp', 'siap', 'rkpd')),
    title text NOT NULL,
    kelurahan_code kemendagri_code,
    year_start integer NOT NULL CONSTRAINT plans_year_start_check CHECK (year_start BETWEEN 2000 AND 2100),
    year_end integer NOT NULL,
    document_number text,
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plans_check CHECK (year_end >= year_start),
    CONSTRAINT plans_kelurahan_check CHECK ((kind IN ('rplp', 'rkm')) = (kelurahan_code IS NOT NULL))
);
CREATE INDEX plans_tenant_idx ON plans (tenant, kind);

CREATE TABLE plan_items (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL CONSTRAINT plan_items_plan_id_fkey REFERENCES plans (id) ON DELETE CASCADE,
    code text,
    title text NOT NULL,
    kind text CONSTRAINT plan_items_kind_fkey REFERENCES activity_kinds (code),
    kelurahan_code kemendagri_code,
    year integer,
    volume numeric,
    unit text,
    cost_estimate numeric CONSTRAINT plan_items_cost_estimate_check CHECK (cost_estimate >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_items_plan_idx ON plan_items (plan_id);

ALTER TABLE activities ADD COLUMN plan_item_id bigint
    CONSTRAINT activities_plan_item_id_fkey REFERENCES plan_items (id) ON DELETE SET NULL;

CREATE TABLE budget_lines (
    id bigserial PRIMARY KEY,
    tenant tenant_code NOT NULL,
    activity_id bigint NOT NULL
        CONSTRAINT budget_lines_activity_id_fkey REFERENCES activities (id) ON DELETE CASCADE,
    plan_item_id bigint CONSTRAINT budget_lines_plan_item_id_fkey REFERENCES plan_items (id) ON DELETE SET NULL,
    year integer NOT NULL CONSTRAINT budget_lines_year_check CHECK (year BETWEEN 2000 AND 2100),
    funding_source text NOT NULL CONSTRAINT budget_lines_funding_source_fkey REFERENCES funding_sources (code),
    dpa_number text,
    account_code text NOT NULL,
    allocated numeric NOT NULL CONSTRAINT budget_lines_allocated_check CHECK (allocated >= 0),
    realised numeric NOT NULL DEFAULT 0 CONSTRAINT budget_lines_realised_check CHECK (realised >= 0),
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT budget_lines_key UNIQUE (activity_id, year, funding_source, account_code)
);
CREATE INDEX budget_lines_tenant_idx ON budget_lines (tenant, year);
"""


def upgrade() -> None:
    op.execute(SCHEMA)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS budget_lines")
    op.execute("ALTER TABLE activities DROP COLUMN IF EXISTS plan_item_id")
    op.execute("DROP TABLE IF EXISTS plan_items, plans, progress_steps")
    op.execute("ALTER TABLE activity_attachments DROP COLUMN IF EXISTS progress_step, DROP COLUMN IF EXISTS "
               "capture_lon, DROP COLUMN IF EXISTS capture_lat, DROP COLUMN IF EXISTS capture_accuracy_m, "
               "DROP COLUMN IF EXISTS captured_at")
