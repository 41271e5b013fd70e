CREATE TABLE sites (
    id {{.PK}},
    domain TEXT NOT NULL UNIQUE,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    -- per-site collection rules, JSON arrays of strings
    allowed_hostnames {{.JSON}} NOT NULL DEFAULT '[]',
    excluded_ips {{.JSON}} NOT NULL DEFAULT '[]',
    excluded_paths {{.JSON}} NOT NULL DEFAULT '[]',
    honor_dnt BOOLEAN NOT NULL DEFAULT FALSE,
    retention_days INTEGER NOT NULL DEFAULT 0,
    created_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL
);
--bun:split
CREATE TABLE api_tokens (
    id {{.PK}},
    name TEXT NOT NULL,
    -- SHA-256 of the secret, hex; the secret itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    -- the first characters of the secret, to tell tokens apart in lists
    prefix TEXT NOT NULL,
    -- "admin", "read" or "write"
    scope TEXT NOT NULL,
    site_id BIGINT REFERENCES sites(id) ON DELETE CASCADE,
    created_at {{.Time}} NOT NULL,
    last_used_at {{.Time}},
    revoked_at {{.Time}}
);
