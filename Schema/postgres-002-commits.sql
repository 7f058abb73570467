-- margin-server's PostgreSQL store, migration 2: the history of each library, so that a
-- server restored from a backup knows it (see server-002-commits.sql).
CREATE TABLE commits (
    user_id      BIGINT NOT NULL REFERENCES users(id),
    first_seq    BIGINT NOT NULL,
    last_seq     BIGINT NOT NULL,
    history      TEXT   NOT NULL,
    committed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, last_seq)
);
