{{if eq .Dialect "postgres"}}
-- A page-filtered dashboard needs the visits of the page's events: at 10 M
-- events, 94,000 visits for one page over 30 days. Looked up one by one in
-- the primary key they cost about 4 µs each (an index descent and a heap
-- page per visit); this index holds the columns the shared scan reads first
-- (the visit metrics and the dashboard's visit dimensions), so the same
-- visits come from one index-only range read of the period's visits. It
-- replaces analytics_sessions_last_seen (same key): last_seen changes with
-- every event, so visit updates already wrote a new entry into that index,
-- and the extra columns make each entry wider, not more numerous.
CREATE INDEX analytics_sessions_cover ON sessions (site_id, last_seen)
    INCLUDE (session_id, started_at, pageviews, duration, is_bounce, entry_page, source, country, browser, device);
--bun:split
DROP INDEX analytics_sessions_last_seen;
{{else}}
-- SQLite reads a page's visits by key (fast enough at its scale, and an
-- index there cannot INCLUDE columns without making them part of the key).
SELECT 1;
{{end}}
