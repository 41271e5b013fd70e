DROP TABLE IF EXISTS insight_deliveries;
--bun:split
DROP TABLE IF EXISTS job_runs;
--bun:split
DROP TABLE IF EXISTS recommendations;
--bun:split
DROP TABLE IF EXISTS insight_runs;
