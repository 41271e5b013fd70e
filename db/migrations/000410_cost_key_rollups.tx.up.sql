-- Rollups for the two dimensions cost_daily cannot hold because they are
-- unbounded: tags (a JSON object per row) and resources. Both carry the
-- import and export identity, like cost_daily, so that replacing an import
-- replaces its share of them exactly. Filled by the importer; rows that
-- existed before this migration are rolled up by the Go migration that
-- follows it.
--
-- One row per day, tag key, non-empty tag value and currency. Spend without
-- the tag is the day's total (cost_dim_daily) minus these rows.
CREATE TABLE cost_tag_daily (
    source_id BIGINT NOT NULL DEFAULT 0,
    import_id BIGINT NOT NULL,
    billing_period_start BIGINT NOT NULL,
    provider_name TEXT NOT NULL,
    billing_account_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}} NOT NULL,
    list_cost {{.Decimal}} NOT NULL,
    row_count BIGINT NOT NULL
);
--bun:split
CREATE INDEX cost_tag_daily_key_day ON cost_tag_daily (tag_key, day);
--bun:split
CREATE INDEX cost_tag_daily_import ON cost_tag_daily (import_id);
--bun:split
CREATE INDEX cost_tag_daily_source ON cost_tag_daily (source_id, day);
--bun:split
-- One row per calendar month (UTC, first second), resource and currency: a
-- resource is billed every hour or day, so a month folds its many rows into
-- one. Ranges that cover part of a month add or subtract the raw rows of
-- the uncovered days.
CREATE TABLE cost_resource_monthly (
    source_id BIGINT NOT NULL DEFAULT 0,
    import_id BIGINT NOT NULL,
    billing_period_start BIGINT NOT NULL,
    provider_name TEXT NOT NULL,
    billing_account_id TEXT NOT NULL,
    month BIGINT NOT NULL,
    resource_id TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}} NOT NULL,
    list_cost {{.Decimal}} NOT NULL,
    row_count BIGINT NOT NULL
);
--bun:split
-- Ordered like a month's breakdown groups, and covering on PostgreSQL, so
-- that a month is summed in one ordered pass without a hash table.
CREATE INDEX cost_resource_monthly_month ON cost_resource_monthly (month, billing_currency, resource_id){{if eq .Dialect "postgres"}} INCLUDE (billed_cost, effective_cost, list_cost, row_count){{end}};
--bun:split
CREATE INDEX cost_resource_monthly_import ON cost_resource_monthly (import_id);
--bun:split
CREATE INDEX cost_resource_monthly_source ON cost_resource_monthly (source_id, month);
