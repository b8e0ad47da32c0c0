-- What a new or changed activity is checked against (issue 12), one row per thing on the ground or planned, with the
-- fiscal years it covers (cover_start..cover_end):
-- - a live proposal (not rejected or cancelled, before pelaksanaan): its years and the year before and after, so
--   two proposals in adjacent years on the same segment conflict;
-- - a funded or completed work (pelaksanaan, selesai, or serah_terima without an asset row yet): its years and the
--   service life of its kind after them (activity_kinds.service_life_years, at least its own years);
-- - an asset of the register: its handover year and the service life recorded at handover.
-- A UNION ALL of plain scans: the planner pushes the caller's `geom &&` box into each branch (GiST index each).
CREATE OR REPLACE VIEW overlap_candidates AS
SELECT 'kegiatan'::text AS source, a.id, a.id AS activity_id, a.title, a.tenant, a.kind, a.criteria, a.program,
       a.funding_source, a.year_start, a.year_end, a.stage, a.status, a.geom, NULL::date AS handover_date,
       CASE WHEN a.stage IN ('pelaksanaan', 'selesai', 'serah_terima') THEN a.year_start
            ELSE a.year_start - 1 END AS cover_start,
       CASE WHEN a.stage IN ('pelaksanaan', 'selesai', 'serah_terima')
            THEN a.year_end + greatest(coalesce((SELECT k.service_life_years FROM activity_kinds k
                                                  WHERE k.code = a.kind), 1), 1) - 1
            ELSE a.year_end + 1 END AS cover_end
FROM activities a
WHERE a.status NOT IN ('ditolak', 'dibatalkan')
  AND (a.stage <> 'serah_terima' OR NOT EXISTS (SELECT 1 FROM assets s WHERE s.activity_id = a.id))
UNION ALL
SELECT 'aset'::text, s.id, s.activity_id, s.title, s.tenant, s.kind, s.criteria, s.program, s.funding_source,
       extract(year FROM s.handover_date)::int, extract(year FROM s.handover_date)::int, 'serah_terima'::text,
       s.condition, s.geom, s.handover_date,
       extract(year FROM s.handover_date)::int,
       extract(year FROM s.handover_date)::int + s.service_life_years - 1
FROM assets s;
