-- Analytics rollups: per site, per local day (in the site's time zone) and
-- per dimension value. `day` is the number of days since 1970-01-01 of the
-- local calendar date, so ranges are integer comparisons on both dialects.
-- dim '' with value '' is the site total.
--
-- Event rollups count events by their timestamp and keep a mergeable
-- visitor sketch (an exact set of visitor hashes up to 10,000, then a
-- HyperLogLog++ sketch of precision 16).
CREATE TABLE analytics_event_rollups (
    site_id BIGINT NOT NULL,
    dim TEXT NOT NULL,
    day INTEGER NOT NULL,
    value TEXT NOT NULL,
    pageviews BIGINT NOT NULL DEFAULT 0,
    events BIGINT NOT NULL DEFAULT 0,
    visitors {{.Blob}} NOT NULL,
    PRIMARY KEY (site_id, dim, day, value)
);
--bun:split
-- Session rollups count visits by the day they started. They are additive:
-- the writer subtracts a visit's previous state and adds its new one.
CREATE TABLE analytics_session_rollups (
    site_id BIGINT NOT NULL,
    dim TEXT NOT NULL,
    day INTEGER NOT NULL,
    value TEXT NOT NULL,
    visits BIGINT NOT NULL DEFAULT 0,
    bounces BIGINT NOT NULL DEFAULT 0,
    duration BIGINT NOT NULL DEFAULT 0,
    pageviews BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, dim, day, value)
);
--bun:split
CREATE TABLE analytics_goals (
    id {{.PK}},
    site_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    -- 'pageview': page_path is a pattern where * matches any characters;
    -- 'event': event_name is a custom event name
    kind TEXT NOT NULL,
    page_path TEXT NOT NULL DEFAULT '',
    event_name TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
--bun:split
CREATE UNIQUE INDEX analytics_goals_site_name ON analytics_goals (site_id, name);
--bun:split
-- Filtered stats read a range's events of one page; the extra columns make
-- that an index-only read (no visit to the wide event rows).
{{if eq .Dialect "postgres"}}
CREATE INDEX analytics_events_path_ts ON events (site_id, pathname, ts) INCLUDE (name, visitor_id, session_id);
{{else}}
CREATE INDEX analytics_events_path_ts ON events (site_id, pathname, ts, name, visitor_id, session_id);
{{end}}
--bun:split
CREATE INDEX analytics_events_session ON events (site_id, session_id);
--bun:split
-- Filtered stats join a range's events to their visits; a visit with an
-- event in [from, to) has last_seen >= from, which this index finds without
-- reading every visit of the site.
CREATE INDEX analytics_sessions_last_seen ON sessions (site_id, last_seen);
{{if eq .Dialect "postgres"}}
--bun:split
-- Per-site page frequencies: without them the planner guesses a page's
-- share of one site from all sites' rows and picks joins that read every
-- visit of the site.
CREATE STATISTICS analytics_events_site_path (mcv, dependencies) ON site_id, pathname FROM events;
{{end}}
