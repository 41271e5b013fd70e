-- Insight runs: every real run keeps the exact payload that left (or would
-- have left) the process, the prompt, the answer and what it cost. The payload
-- is TEXT, not JSON, so that it stays byte-for-byte what was sent.
CREATE TABLE insight_runs (
    id {{.PK}},
    -- "manual", "schedule", "cli" or "demo"
    trigger TEXT NOT NULL,
    -- "running", "succeeded", "failed" or "blocked" (the privacy guard refused the payload)
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL DEFAULT '',
    response TEXT NOT NULL DEFAULT '',
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost {{.Decimal}},
    cost_currency TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    recommendation_ids {{.JSON}} NOT NULL DEFAULT '[]',
    started_at {{.Time}} NOT NULL,
    finished_at {{.Time}}
);
--bun:split
CREATE INDEX insight_runs_started ON insight_runs (started_at);
--bun:split
-- Recommendations are merged across runs by fingerprint, so a problem seen
-- every week is one row with times_seen > 1, not a new row each Monday.
CREATE TABLE recommendations (
    id {{.PK}},
    fingerprint TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    impact_amount {{.Decimal}},
    impact_currency TEXT NOT NULL DEFAULT '',
    confidence {{if eq .Dialect "postgres"}}DOUBLE PRECISION{{else}}REAL{{end}} NOT NULL DEFAULT 0,
    actions {{.JSON}} NOT NULL DEFAULT '[]',
    evidence {{.JSON}} NOT NULL DEFAULT '[]',
    -- numbers and evidence keys that do not appear in the run's payload
    unverified {{.JSON}} NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT '',
    -- "open", "done" or "dismissed"
    status TEXT NOT NULL DEFAULT 'open',
    times_seen INTEGER NOT NULL DEFAULT 1,
    first_run_id BIGINT NOT NULL,
    last_run_id BIGINT NOT NULL,
    first_seen_at {{.Time}} NOT NULL,
    last_seen_at {{.Time}} NOT NULL,
    updated_at {{.Time}} NOT NULL
);
--bun:split
CREATE INDEX recommendations_last_run ON recommendations (last_run_id);
--bun:split
-- Scheduled job runs. The unique (job, tick) row is what makes a tick run
-- once across replicas; the advisory lock keeps a job from overlapping itself.
CREATE TABLE job_runs (
    id {{.PK}},
    job TEXT NOT NULL,
    tick {{.Time}} NOT NULL,
    instance TEXT NOT NULL DEFAULT '',
    -- "running", "succeeded" or "failed"
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    started_at {{.Time}} NOT NULL,
    finished_at {{.Time}},
    UNIQUE (job, tick)
);
--bun:split
CREATE INDEX job_runs_started ON job_runs (started_at);
--bun:split
-- Digest deliveries (Slack, webhook): failures are kept and retried later.
CREATE TABLE insight_deliveries (
    id {{.PK}},
    run_id BIGINT NOT NULL,
    notifier TEXT NOT NULL,
    -- "pending", "delivered" or "failed" (gave up)
    status TEXT NOT NULL,
    digest TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    next_attempt_at {{.Time}},
    created_at {{.Time}} NOT NULL,
    delivered_at {{.Time}},
    UNIQUE (run_id, notifier)
);
