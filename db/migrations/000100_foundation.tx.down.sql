DROP TABLE api_tokens;
--bun:split
DROP TABLE sites;
