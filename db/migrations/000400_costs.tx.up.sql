-- Costs in the FinOps FOCUS model (columns of FOCUS 1.0 to 1.2, snake_case).
-- Money is {{.Decimal}}: NUMERIC in PostgreSQL, exact TEXT in SQLite (Go does
-- the arithmetic). Times are Unix seconds (UTC), like the event tables, so
-- that day bucketing is integer arithmetic on both dialects.

-- Every file import and every provider sync, with its outcome.
CREATE TABLE cost_imports (
    id {{.PK}},
    -- 0 for file imports, else cost_sources.id
    source_id BIGINT NOT NULL DEFAULT 0,
    -- "file" or "sync"
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    -- "running", "ok" or "failed"
    status TEXT NOT NULL,
    rows_imported BIGINT NOT NULL DEFAULT 0,
    rows_skipped BIGINT NOT NULL DEFAULT 0,
    rows_replaced BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    window_start BIGINT,
    window_end BIGINT,
    started_at {{.Time}} NOT NULL,
    finished_at {{.Time}}
);
--bun:split
CREATE INDEX cost_imports_source ON cost_imports (source_id, id);
--bun:split
-- One row per FOCUS charge row. No surrogate key: rows are written in bulk
-- (COPY) and replaced by import, never updated one by one. Indexes are few
-- because each one slows imports: the sync window delete uses the charge
-- start index (a window is a few days), and replacing an export finds the
-- earlier imports in cost_daily, then their rows by import.
CREATE TABLE cost_rows (
    source_id BIGINT NOT NULL DEFAULT 0,
    import_id BIGINT NOT NULL,
    charge_period_start BIGINT NOT NULL,
    charge_period_end BIGINT NOT NULL,
    billing_period_start BIGINT NOT NULL,
    billing_period_end BIGINT NOT NULL,
    billing_currency TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}},
    list_cost {{.Decimal}},
    contracted_cost {{.Decimal}},
    list_unit_price {{.Decimal}},
    contracted_unit_price {{.Decimal}},
    pricing_quantity {{.Decimal}},
    consumed_quantity {{.Decimal}},
    commitment_discount_quantity {{.Decimal}},
    pricing_currency_effective_cost {{.Decimal}},
    pricing_currency_list_unit_price {{.Decimal}},
    pricing_currency_contracted_unit_price {{.Decimal}},
    provider_name TEXT NOT NULL DEFAULT '',
    publisher_name TEXT NOT NULL DEFAULT '',
    invoice_issuer_name TEXT NOT NULL DEFAULT '',
    invoice_id TEXT NOT NULL DEFAULT '',
    billing_account_id TEXT NOT NULL DEFAULT '',
    billing_account_name TEXT NOT NULL DEFAULT '',
    billing_account_type TEXT NOT NULL DEFAULT '',
    sub_account_id TEXT NOT NULL DEFAULT '',
    sub_account_name TEXT NOT NULL DEFAULT '',
    sub_account_type TEXT NOT NULL DEFAULT '',
    service_name TEXT NOT NULL DEFAULT '',
    service_category TEXT NOT NULL DEFAULT '',
    service_subcategory TEXT NOT NULL DEFAULT '',
    region_id TEXT NOT NULL DEFAULT '',
    region_name TEXT NOT NULL DEFAULT '',
    availability_zone TEXT NOT NULL DEFAULT '',
    resource_id TEXT NOT NULL DEFAULT '',
    resource_name TEXT NOT NULL DEFAULT '',
    resource_type TEXT NOT NULL DEFAULT '',
    sku_id TEXT NOT NULL DEFAULT '',
    sku_price_id TEXT NOT NULL DEFAULT '',
    sku_meter TEXT NOT NULL DEFAULT '',
    sku_price_details TEXT NOT NULL DEFAULT '',
    charge_category TEXT NOT NULL DEFAULT '',
    charge_class TEXT NOT NULL DEFAULT '',
    charge_description TEXT NOT NULL DEFAULT '',
    charge_frequency TEXT NOT NULL DEFAULT '',
    pricing_category TEXT NOT NULL DEFAULT '',
    pricing_unit TEXT NOT NULL DEFAULT '',
    pricing_currency TEXT NOT NULL DEFAULT '',
    consumed_unit TEXT NOT NULL DEFAULT '',
    commitment_discount_id TEXT NOT NULL DEFAULT '',
    commitment_discount_name TEXT NOT NULL DEFAULT '',
    commitment_discount_category TEXT NOT NULL DEFAULT '',
    commitment_discount_type TEXT NOT NULL DEFAULT '',
    commitment_discount_status TEXT NOT NULL DEFAULT '',
    commitment_discount_unit TEXT NOT NULL DEFAULT '',
    capacity_reservation_id TEXT NOT NULL DEFAULT '',
    capacity_reservation_status TEXT NOT NULL DEFAULT '',
    -- JSON object of tag key to value
    tags {{.JSON}} NOT NULL DEFAULT '{}'
);
--bun:split
CREATE INDEX cost_rows_import ON cost_rows (import_id);
--bun:split
CREATE INDEX cost_rows_charge_start ON cost_rows (charge_period_start);
--bun:split
-- Daily rollup written by the importer itself (sums done exactly in Go), so
-- that totals, breakdowns and time series over the usual dimensions read a
-- few thousand rows instead of millions. Rows carry the import and export
-- identity so that replacing an import replaces its rollup too.
CREATE TABLE cost_daily (
    source_id BIGINT NOT NULL DEFAULT 0,
    import_id BIGINT NOT NULL,
    billing_period_start BIGINT NOT NULL,
    day BIGINT NOT NULL,
    provider_name TEXT NOT NULL,
    billing_account_id TEXT NOT NULL,
    sub_account_id TEXT NOT NULL,
    service_name TEXT NOT NULL,
    service_category TEXT NOT NULL,
    region_id TEXT NOT NULL,
    charge_category TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}} NOT NULL,
    list_cost {{.Decimal}} NOT NULL,
    row_count BIGINT NOT NULL
);
--bun:split
CREATE INDEX cost_daily_day ON cost_daily (day);
--bun:split
CREATE INDEX cost_daily_import ON cost_daily (import_id);
--bun:split
-- The identity of an export: a newer one replaces the rows of the older.
CREATE INDEX cost_daily_export ON cost_daily (provider_name, billing_account_id, billing_period_start);
--bun:split
CREATE INDEX cost_daily_source ON cost_daily (source_id, day);
--bun:split
-- Second-level rollup: per day, one row per value of each dimension (dim is
-- PROVIDER, SERVICE, SERVICE_CATEGORY, BILLING_ACCOUNT, SUB_ACCOUNT, REGION
-- or CHARGE_CATEGORY). Totals, time series, anomalies and unfiltered
-- breakdowns read these few rows; recomputed from cost_daily for the days
-- each import touches.
CREATE TABLE cost_dim_daily (
    day BIGINT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    billing_currency TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}} NOT NULL,
    list_cost {{.Decimal}} NOT NULL,
    row_count BIGINT NOT NULL
);
--bun:split
CREATE INDEX cost_dim_daily_dim_day ON cost_dim_daily (dim, day);
--bun:split
-- Configured provider connections. credentials is secret: the API never
-- returns it and nothing logs it.
CREATE TABLE cost_sources (
    id {{.PK}},
    name TEXT NOT NULL UNIQUE,
    -- "aws", "openai", "anthropic" or "opencost"
    kind TEXT NOT NULL,
    base_url TEXT NOT NULL DEFAULT '',
    -- non-secret settings, JSON object of strings
    settings {{.JSON}} NOT NULL DEFAULT '{}',
    credentials TEXT NOT NULL DEFAULT '',
    lookback_days INTEGER NOT NULL DEFAULT 7,
    created_at {{.Time}} NOT NULL
);
--bun:split
CREATE TABLE cost_budgets (
    id {{.PK}},
    name TEXT NOT NULL,
    amount {{.Decimal}} NOT NULL,
    currency TEXT NOT NULL,
    -- "MONTH", "QUARTER" or "YEAR"
    period TEXT NOT NULL DEFAULT 'MONTH',
    -- JSON array of {dimension, value, tagKey} filters
    filters {{.JSON}} NOT NULL DEFAULT '[]',
    -- JSON array of percentages, such as [50, 80, 100]
    thresholds {{.JSON}} NOT NULL DEFAULT '[50,80,100]',
    created_at {{.Time}} NOT NULL
);
