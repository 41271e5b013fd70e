{{if eq .Dialect "postgres"}}
-- Back to the function of 000412.
CREATE OR REPLACE FUNCTION cost_resource_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE cost_resource_index_days;
--bun:split
DROP TABLE cost_resource_index;
--bun:split
DROP TABLE cost_resource_versions;
--bun:split
DROP TABLE cost_resource_keys;
{{else}}
SELECT 1;
{{end}}
