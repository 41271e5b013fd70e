-- collect updates a visit's row on every event. Indexing last_seen made each
-- of those updates touch every index and left the table bloated; with the
-- visitor index on immutable columns only, PostgreSQL can update visits in
-- place (HOT), given free room on each page (fillfactor) and frequent vacuums.
DROP INDEX sessions_site_visitor_last;
--bun:split
CREATE INDEX sessions_site_visitor ON sessions (site_id, visitor_id);
{{if eq .Dialect "postgres"}}
--bun:split
ALTER TABLE sessions SET (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05);
{{end}}
