-- Statement trigger on a tallied layer: notes which kelurahan changed (tally_dirty), from the transition tables;
-- layers/serving/tallies.py recomputes those tallies before the next aggregate tile. The argument names the layer.
CREATE OR REPLACE FUNCTION note_dirty_kelurahan() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO tally_dirty (layer, kelurahan_code)
        SELECT DISTINCT TG_ARGV[0], kelurahan_code FROM new_rows WHERE kelurahan_code IS NOT NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        INSERT INTO tally_dirty (layer, kelurahan_code)
        SELECT DISTINCT TG_ARGV[0], kelurahan_code FROM old_rows WHERE kelurahan_code IS NOT NULL;
    END IF;
    RETURN NULL;
END $$;
