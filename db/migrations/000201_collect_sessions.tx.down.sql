DROP INDEX sessions_site_visitor;
--bun:split
CREATE INDEX sessions_site_visitor_last ON sessions (site_id, visitor_id, last_seen);
{{if eq .Dialect "postgres"}}
--bun:split
ALTER TABLE sessions RESET (fillfactor, autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
{{end}}
