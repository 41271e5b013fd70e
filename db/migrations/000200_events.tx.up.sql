-- Raw events and visits. Tables are keyed by site first so that they can be
-- distributed by site_id. Times are Unix seconds (UTC) so that bucketing is
-- plain integer arithmetic on both dialects.
CREATE TABLE events (
    site_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    name TEXT NOT NULL,
    -- keyed hash of (daily salt, site, client address, user agent); it
    -- cannot be linked across days once the salt is deleted
    visitor_id BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    hostname TEXT NOT NULL DEFAULT '',
    pathname TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term TEXT NOT NULL DEFAULT '',
    utm_content TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    browser TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    -- JSON object of string to string
    props {{.JSON}} NOT NULL DEFAULT '{}',
    revenue_amount {{.Decimal}},
    revenue_currency TEXT NOT NULL DEFAULT '',
    interactive BOOLEAN NOT NULL DEFAULT TRUE
);
--bun:split
CREATE INDEX events_site_ts ON events (site_id, ts);
--bun:split
CREATE TABLE sessions (
    site_id BIGINT NOT NULL,
    session_id BIGINT NOT NULL,
    visitor_id BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    entry_page TEXT NOT NULL DEFAULT '',
    exit_page TEXT NOT NULL DEFAULT '',
    hostname TEXT NOT NULL DEFAULT '',
    referrer TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    utm_source TEXT NOT NULL DEFAULT '',
    utm_medium TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term TEXT NOT NULL DEFAULT '',
    utm_content TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    browser TEXT NOT NULL DEFAULT '',
    browser_version TEXT NOT NULL DEFAULT '',
    os TEXT NOT NULL DEFAULT '',
    os_version TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '',
    pageviews INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,
    -- seconds between the first and the last event
    duration INTEGER NOT NULL DEFAULT 0,
    -- one pageview and no interactive event
    is_bounce BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (site_id, session_id)
);
--bun:split
CREATE INDEX sessions_site_started ON sessions (site_id, started_at);
--bun:split
CREATE INDEX sessions_site_visitor_last ON sessions (site_id, visitor_id, last_seen);
--bun:split
-- Daily salts for the visitor hash, shared by every replica; rows older than
-- 48 hours are deleted, which makes old hashes unlinkable.
CREATE TABLE salts (
    day TEXT PRIMARY KEY,
    salt {{.Blob}} NOT NULL,
    created_at {{.Time}} NOT NULL
);
