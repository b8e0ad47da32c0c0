-- Is line b a continuation of line a (collaboration, KOTAKU brief section 7)? Yes when an end of a and an end of b
-- are within `noise` of each other and, there, b carries on along the way a was going instead of turning back
-- alongside it: the direction in which a leaves through its end and the direction in which b starts from its end
-- are less than 120 degrees apart. So end to end (straight or round a corner) is a continuation; two parallel
-- alleys a few metres apart whose ends happen to be close are not (their directions are 180 degrees apart); a
-- T-junction (an end of one on the middle of the other) and a crossing are not (no two ends meet). Directions are
-- taken between the end and the point 2 x noise inside the line (at most half of it). In metres (projected input).
CREATE OR REPLACE FUNCTION kotaku_continues(a geometry, b geometry, noise float8) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    la geometry;
    lb geometry;
    ea geometry;
    eb geometry;
    ia geometry;
    ib geometry;
    fa float8;
    fb float8;
    ux float8;
    uy float8;
    vx float8;
    vy float8;
BEGIN
    FOR la IN SELECT (ST_Dump(ST_LineMerge(a))).geom LOOP
        fa := least(0.5, 2 * noise / nullif(ST_Length(la), 0));
        CONTINUE WHEN fa IS NULL;
        FOR lb IN SELECT (ST_Dump(ST_LineMerge(b))).geom LOOP
            fb := least(0.5, 2 * noise / nullif(ST_Length(lb), 0));
            CONTINUE WHEN fb IS NULL;
            FOR i IN 0..1 LOOP
                ea := CASE WHEN i = 0 THEN ST_StartPoint(la) ELSE ST_EndPoint(la) END;
                ia := ST_LineInterpolatePoint(la, CASE WHEN i = 0 THEN fa ELSE 1 - fa END);
                FOR j IN 0..1 LOOP
                    eb := CASE WHEN j = 0 THEN ST_StartPoint(lb) ELSE ST_EndPoint(lb) END;
                    CONTINUE WHEN ST_Distance(ea, eb) > noise;
                    ib := ST_LineInterpolatePoint(lb, CASE WHEN j = 0 THEN fb ELSE 1 - fb END);
                    ux := ST_X(ea) - ST_X(ia);
                    uy := ST_Y(ea) - ST_Y(ia);
                    vx := ST_X(ib) - ST_X(eb);
                    vy := ST_Y(ib) - ST_Y(eb);
                    IF (ux * vx + uy * vy) / nullif(sqrt(ux * ux + uy * uy) * sqrt(vx * vx + vy * vy), 0) > -0.5 THEN
                        RETURN true;
                    END IF;
                END LOOP;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN false;
END $$;

-- How two activity geometries relate, measured in metres in the UTM zone of the first (KOTAKU brief section 7):
-- lines: shared length (closer than `noise` to each other: 1 cm less, so alleys exactly `noise` apart share
--   nothing) and its share of each line; a conflict when the shared length is beyond the digitising noise at both
--   ends (2 x noise) and above `line_share` of the shorter line; a continuation (kotaku_continues: end to end, a
--   shared length of at most 2 x noise) is collaboration, not a conflict; parallel, crossing or T: neither;
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
        inter := ST_Intersection(pa, ST_Buffer(pb, noise - 0.01));
        shared_a := ST_Length(inter);
        shared_b := ST_Length(ST_Intersection(pb, ST_Buffer(pa, noise - 0.01)));
        amount := least(shared_a, shared_b);
        share_a := least(1.0, shared_a / nullif(la, 0));
        share_b := least(1.0, shared_b / nullif(lb, 0));
        IF amount > 2 * noise AND amount / nullif(least(la, lb), 0) > line_share THEN
            relation := 'konflik';
        ELSIF amount <= 2 * noise AND kotaku_continues(pa, pb, noise) THEN
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
