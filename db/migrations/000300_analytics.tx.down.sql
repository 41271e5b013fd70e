{{if eq .Dialect "postgres"}}
DROP STATISTICS IF EXISTS analytics_events_site_path;
--bun:split
{{end}}
DROP INDEX IF EXISTS analytics_sessions_last_seen;
--bun:split
DROP INDEX IF EXISTS analytics_events_session;
--bun:split
DROP INDEX IF EXISTS analytics_events_path_ts;
--bun:split
DROP TABLE IF EXISTS analytics_goals;
--bun:split
DROP TABLE IF EXISTS analytics_session_rollups;
--bun:split
DROP TABLE IF EXISTS analytics_event_rollups;
