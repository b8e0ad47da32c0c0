-- Statement trigger: every tally of the layer (the argument) must be recomputed ('*'): after TRUNCATE, a decree's
-- scheme change or a change of the scoring cache.
CREATE OR REPLACE FUNCTION note_all_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tally_dirty (layer, kelurahan_code) VALUES (TG_ARGV[0], '*');
    RETURN NULL;
END $$;
