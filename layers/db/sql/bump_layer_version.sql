-- Data version per layer (layer_versions), bumped by statement triggers on every write: ETags of tiles and items
-- are tied to it. The trigger's argument names the layer.
CREATE OR REPLACE FUNCTION bump_layer_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO layer_versions (layer) VALUES (TG_ARGV[0])
    ON CONFLICT (layer) DO UPDATE SET version = layer_versions.version + 1, updated_at = now();
    RETURN NULL;
END $$;
