{{if eq .Dialect "postgres"}}
DROP TRIGGER cost_resource_totals_insert ON cost_resource_monthly;
--bun:split
DROP TRIGGER cost_resource_totals_delete ON cost_resource_monthly;
--bun:split
DROP TRIGGER cost_resource_totals_update ON cost_resource_monthly;
--bun:split
DROP FUNCTION cost_resource_totals_apply();
--bun:split
DROP TABLE cost_resource_totals;
{{else}}
SELECT 1;
{{end}}
