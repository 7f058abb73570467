-- margin-server's SQLite store, migration 2: the history of each library, so that a
-- server restored from a backup knows it.

-- One row per push that wrote something: the commit sequences it handed out and a name
-- for that stretch of history, `<milliseconds>-<random hex>`, that no other push shares.
-- Pull pages name the history of their cursor; a device sends the name back, and a
-- server that does not have it (restored from a backup, its sequences handed out again)
-- answers where the histories part. Rows below the library's horizon are purged with it.
CREATE TABLE commits (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    history      TEXT    NOT NULL,
    committed_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, last_seq)
) WITHOUT ROWID;
