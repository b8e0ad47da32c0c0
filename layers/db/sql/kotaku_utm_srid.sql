-- The local UTM zone of a geometry: overlap measures are taken in metres there.
CREATE OR REPLACE FUNCTION kotaku_utm_srid(g geometry) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN ST_Y(c) >= 0 THEN 32600 ELSE 32700 END + (floor((ST_X(c) + 180) / 6)::int % 60) + 1
    FROM (SELECT ST_Centroid(ST_Envelope(g)) AS c) p
$$;
