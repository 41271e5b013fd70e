{{if eq .Dialect "postgres"}}
-- cost_resource_monthly keeps one row per import, export and resource-month,
-- so that a replaced import takes exactly its share with it; a month's top
-- resources must still group and sort every one of them (111,000 numeric
-- sums for one month of ten million rows). This table merges those rows per
-- month, currency and resource, and its second index is in breakdown order,
-- so that the top N of one month is the first N entries of an index.
--
-- It is kept by triggers on cost_resource_monthly rather than by the code
-- that writes there, so that every writer (imports, export replacement,
-- sync windows, removing a source, a rebuild) keeps it right. SQLite has no
-- exact arithmetic on its TEXT amounts and keeps reading the monthly rows.
CREATE TABLE cost_resource_totals (
    month BIGINT NOT NULL,
    billing_currency TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    billed_cost {{.Decimal}} NOT NULL,
    effective_cost {{.Decimal}} NOT NULL,
    list_cost {{.Decimal}} NOT NULL,
    row_count BIGINT NOT NULL,
    PRIMARY KEY (month, billing_currency, resource_id)
);
--bun:split
-- The order of a breakdown: effective, then billed cost descending, then the
-- value in byte order. Not covering: the top N fetch only N rows.
CREATE INDEX cost_resource_totals_rank ON cost_resource_totals
    (month, billing_currency, effective_cost DESC, billed_cost DESC, resource_id COLLATE "C");
--bun:split
-- One function for the three triggers: inserted rows are added, deleted rows
-- subtracted (and a total left without rows removed). They take the lock
-- that already serializes the dimension rollup of an import's last step:
-- concurrent imports would otherwise lock shared totals (the empty resource
-- id of every month, above all) in different orders and could deadlock.
CREATE FUNCTION cost_resource_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('tally-costs/dim-rollup'));
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO cost_resource_totals AS t
            (month, billing_currency, resource_id, billed_cost, effective_cost, list_cost, row_count)
        SELECT month, billing_currency, resource_id, SUM(billed_cost), SUM(effective_cost), SUM(list_cost), SUM(row_count)
        FROM added GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (month, billing_currency, resource_id) DO UPDATE SET
            billed_cost = t.billed_cost + EXCLUDED.billed_cost,
            effective_cost = t.effective_cost + EXCLUDED.effective_cost,
            list_cost = t.list_cost + EXCLUDED.list_cost,
            row_count = t.row_count + EXCLUDED.row_count;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        -- A total that loses all its rows is deleted rather than updated
        -- to zero first: re-importing an export removes and re-adds every
        -- one of its totals, and each extra row version slows the re-add.
        WITH r AS (
            SELECT month, billing_currency, resource_id, SUM(billed_cost) AS billed_cost, SUM(effective_cost) AS effective_cost,
                   SUM(list_cost) AS list_cost, SUM(row_count) AS row_count
            FROM removed GROUP BY 1, 2, 3
        ), gone AS (
            DELETE FROM cost_resource_totals AS t USING r
            WHERE t.month = r.month AND t.billing_currency = r.billing_currency AND t.resource_id = r.resource_id
                AND t.row_count <= r.row_count
        )
        UPDATE cost_resource_totals AS t SET
            billed_cost = t.billed_cost - r.billed_cost,
            effective_cost = t.effective_cost - r.effective_cost,
            list_cost = t.list_cost - r.list_cost,
            row_count = t.row_count - r.row_count
        FROM r
        WHERE t.month = r.month AND t.billing_currency = r.billing_currency AND t.resource_id = r.resource_id
            AND t.row_count > r.row_count;
    END IF;
    RETURN NULL;
END
$$;
--bun:split
CREATE TRIGGER cost_resource_totals_insert AFTER INSERT ON cost_resource_monthly
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION cost_resource_totals_apply();
--bun:split
CREATE TRIGGER cost_resource_totals_delete AFTER DELETE ON cost_resource_monthly
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION cost_resource_totals_apply();
--bun:split
CREATE TRIGGER cost_resource_totals_update AFTER UPDATE ON cost_resource_monthly
    REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION cost_resource_totals_apply();
--bun:split
INSERT INTO cost_resource_totals (month, billing_currency, resource_id, billed_cost, effective_cost, list_cost, row_count)
SELECT month, billing_currency, resource_id, SUM(billed_cost), SUM(effective_cost), SUM(list_cost), SUM(row_count)
FROM cost_resource_monthly GROUP BY 1, 2, 3;
--bun:split
ANALYZE cost_resource_totals;
{{else}}
SELECT 1;
{{end}}
