-- margin-server's SQLite store, migration 4: when each token was first and last used, for
-- `margin-server device list`. `first_used_at` is written when a token is bound to its
-- device; tokens bound before this migration keep NULL (not known). `last_used_at` is
-- written by an authenticated request at most once a minute per token.
ALTER TABLE tokens ADD COLUMN first_used_at INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
CREATE INDEX tokens_device ON tokens(device_id) WHERE device_id IS NOT NULL;
