DROP TABLE salts;
--bun:split
DROP TABLE sessions;
--bun:split
DROP TABLE events;
