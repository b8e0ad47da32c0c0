-- How two activity geometries relate, measured in metres in the UTM zone of the first (KOTAKU brief section 7):
-- lines: shared length (within `noise` of each other) and its share of each line; a conflict when the shared
--   length is beyond the digitising noise at both ends (2 x noise) and above `line_share` of the shorter line;
--   touching end to end (endpoints within `noise`) is a continuation: collaboration, not a conflict;
-- polygons: shared area and its share of each; a conflict above `poly_share` of the smaller one;
-- a point against anything: the distance; a conflict within `radius` (a point inside a polygon is at 0 m);
-- a line against a polygon: the length of the line inside the polygon, judged like two lines.
-- relation is 'konflik', 'kolaborasi' or NULL; overlap is the shared part (EPSG:4326) for a conflict.
CREATE OR REPLACE FUNCTION kotaku_overlap(
    a geometry, b geometry, noise float8, line_share float8, poly_share float8, radius float8,
    OUT relation text, OUT measure text, OUT amount float8, OUT share_a float8, OUT share_b float8,
    OUT overlap geometry
) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    srid integer := kotaku_utm_srid(a);
    pa geometry := ST_Transform(a, srid);
    pb geometry := ST_Transform(b, srid);
    da integer := ST_Dimension(pa);
    db integer := ST_Dimension(pb);
    la float8;
    lb float8;
    shared_a float8;
    shared_b float8;
    line geometry;
    area geometry;
    inter geometry;
BEGIN
    IF da = 1 AND db = 1 THEN
        measure := 'shared_length_m';
        la := ST_Length(pa);
        lb := ST_Length(pb);
        inter := ST_Intersection(pa, ST_Buffer(pb, noise));
        shared_a := ST_Length(inter);
        shared_b := ST_Length(ST_Intersection(pb, ST_Buffer(pa, noise)));
        amount := least(shared_a, shared_b);
        share_a := least(1.0, shared_a / nullif(la, 0));
        share_b := least(1.0, shared_b / nullif(lb, 0));
        IF amount > 2 * noise AND amount / nullif(least(la, lb), 0) > line_share THEN
            relation := 'konflik';
        ELSIF ST_DWithin(ST_Boundary(pa), ST_Boundary(pb), noise) THEN
            relation := 'kolaborasi';
        END IF;
    ELSIF da = 2 AND db = 2 THEN
        measure := 'shared_area_m2';
        inter := ST_Intersection(pa, pb);
        amount := ST_Area(inter);
        share_a := amount / nullif(ST_Area(pa), 0);
        share_b := amount / nullif(ST_Area(pb), 0);
        IF amount / nullif(least(ST_Area(pa), ST_Area(pb)), 0) > poly_share THEN
            relation := 'konflik';
        ELSIF ST_DWithin(pa, pb, noise) THEN
            relation := 'kolaborasi';
        END IF;
    ELSIF da = 0 OR db = 0 THEN
        measure := 'distance_m';
        amount := ST_Distance(pa, pb);
        IF amount <= radius THEN
            relation := 'konflik';
            inter := CASE WHEN amount = 0 THEN ST_Intersection(pa, pb) ELSE ST_ShortestLine(pa, pb) END;
        END IF;
    ELSE
        measure := 'shared_length_m';
        line := CASE WHEN da = 1 THEN pa ELSE pb END;
        area := CASE WHEN da = 2 THEN pa ELSE pb END;
        inter := ST_Intersection(line, area);
        amount := ST_Length(inter);
        share_a := CASE WHEN da = 1 THEN least(1.0, amount / nullif(ST_Length(line), 0)) END;
        share_b := CASE WHEN db = 1 THEN least(1.0, amount / nullif(ST_Length(line), 0)) END;
        IF amount > 2 * noise AND amount / nullif(ST_Length(line), 0) > line_share THEN
            relation := 'konflik';
        END IF;
    END IF;
    IF relation = 'konflik' AND inter IS NOT NULL AND NOT ST_IsEmpty(inter) THEN
        overlap := ST_Transform(inter, 4326);
    END IF;
END $$;
