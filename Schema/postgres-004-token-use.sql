-- margin-server's PostgreSQL store, migration 4: when each token was first and last used;
-- see server-004-token-use.sql.
ALTER TABLE tokens ADD COLUMN first_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
CREATE INDEX tokens_device ON tokens(device_id) WHERE device_id IS NOT NULL;
