DROP TABLE cost_resource_monthly;
--bun:split
DROP TABLE cost_tag_daily;
