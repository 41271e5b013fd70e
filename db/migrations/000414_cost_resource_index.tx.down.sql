{{if eq .Dialect "postgres"}}
DROP TRIGGER cost_resource_versions_insert ON cost_resource_monthly;
--bun:split
DROP TRIGGER cost_resource_versions_delete ON cost_resource_monthly;
--bun:split
DROP TRIGGER cost_resource_versions_update ON cost_resource_monthly;
--bun:split
DROP FUNCTION cost_resource_versions_bump();
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
