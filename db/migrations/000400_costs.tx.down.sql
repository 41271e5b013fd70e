DROP TABLE cost_budgets;
--bun:split
DROP TABLE cost_sources;
--bun:split
DROP TABLE cost_dim_daily;
--bun:split
DROP TABLE cost_daily;
--bun:split
DROP TABLE cost_rows;
--bun:split
DROP TABLE cost_imports;
