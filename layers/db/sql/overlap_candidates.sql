-- What a new or changed activity is checked against (issue 12), one row per thing on the ground or planned, with the
-- fiscal years it covers (cover_start..cover_end), among those whose box meets `box` (the new geometry's box grown
-- by its kind's tolerance):
-- - a live proposal (not rejected or cancelled, before pelaksanaan): its years and the year before and after, so
--   two proposals in adjacent years on the same segment conflict;
-- - a funded or completed work (pelaksanaan, selesai, or serah_terima without an asset row yet): its years and the
--   service life of its kind after them (activity_kinds.service_life_years, at least its own years);
-- - an asset of the register: its handover year and the service life recorded at handover.
-- A function of the box rather than a view: `geom && box` stands inside each branch of the UNION ALL, so each
-- branch is a GiST index scan for any caller (one geometry, or every row of an import joined laterally). As a
-- view joined on `b.geom && ST_Expand(n.geom, ...)` the planner could not push that join condition into the
-- branches and scanned every activity: 327 ms p50 at 2x10^5 activities + 10^5 assets, against 0.37 ms now.
-- LANGUAGE sql and STABLE, so PostgreSQL inlines it into the calling query.
CREATE OR REPLACE FUNCTION overlap_candidates(box geometry)
RETURNS TABLE (source text, id bigint, activity_id bigint, title text, tenant text, kind text, criteria text[],
               program text, funding_source text, year_start int, year_end int, stage text, status text,
               geom geometry, handover_date date, cover_start int, cover_end int)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT 'kegiatan'::text, a.id, a.id, a.title, a.tenant::text, a.kind, a.criteria, a.program,
       a.funding_source, a.year_start, a.year_end, a.stage, a.status, a.geom, NULL::date,
       CASE WHEN a.stage IN ('pelaksanaan', 'selesai', 'serah_terima') THEN a.year_start
            ELSE a.year_start - 1 END,
       CASE WHEN a.stage IN ('pelaksanaan', 'selesai', 'serah_terima')
            THEN a.year_end + greatest(coalesce(k.service_life_years, 1), 1) - 1
            ELSE a.year_end + 1 END
FROM activities a
LEFT JOIN activity_kinds k ON k.code = a.kind
WHERE a.geom && box
  AND a.status NOT IN ('ditolak', 'dibatalkan')
  AND (a.stage <> 'serah_terima' OR NOT EXISTS (SELECT 1 FROM assets s WHERE s.activity_id = a.id))
UNION ALL
SELECT 'aset'::text, s.id, s.activity_id, s.title, s.tenant::text, s.kind, s.criteria, s.program, s.funding_source,
       extract(year FROM s.handover_date)::int, extract(year FROM s.handover_date)::int, 'serah_terima'::text,
       s.condition, s.geom, s.handover_date,
       extract(year FROM s.handover_date)::int,
       extract(year FROM s.handover_date)::int + s.service_life_years - 1
FROM assets s
WHERE s.geom && box
$$;
