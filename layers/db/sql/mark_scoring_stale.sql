-- Statement trigger on the scoring inputs: marks the tenants of the changed rows stale in scoring_state
-- (inputs changed since the last refresh <=> changes > refreshed_changes).
CREATE OR REPLACE FUNCTION mark_scoring_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO scoring_state AS s (tenant, changes)
        SELECT DISTINCT tenant, 1 FROM new_rows WHERE tenant IS NOT NULL
        ON CONFLICT (tenant) DO UPDATE SET changes = s.changes + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO scoring_state AS s (tenant, changes)
        SELECT DISTINCT tenant, 1 FROM old_rows WHERE tenant IS NOT NULL
        ON CONFLICT (tenant) DO UPDATE SET changes = s.changes + 1;
    END IF;
    RETURN NULL;
END $$;
