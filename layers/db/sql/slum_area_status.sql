-- One row per slum area: its current (latest scored) round, level and priority, for maps to style.
CREATE OR REPLACE VIEW slum_area_status AS
SELECT s.id AS slum_area_id,
       s.tenant,
       sc.round,
       sc.total_score,
       sc.level,
       sc.scheme,
       sc.source AS score_source,
       p.priority_class,
       p.priority_rank,
       p.handling,
       p.kewenangan,
       coalesce(st.changes > st.refreshed_changes, false) AS stale,
       sc.computed_at
FROM slum_areas s
LEFT JOIN slum_area_scores sc ON sc.slum_area_id = s.id AND sc.is_current
LEFT JOIN slum_area_priorities p ON p.slum_area_id = s.id
LEFT JOIN scoring_state st ON st.tenant = s.tenant;
