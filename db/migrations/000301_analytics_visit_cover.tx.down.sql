{{if eq .Dialect "postgres"}}
CREATE INDEX analytics_sessions_last_seen ON sessions (site_id, last_seen);
--bun:split
DROP INDEX analytics_sessions_cover;
{{else}}
SELECT 1;
{{end}}
