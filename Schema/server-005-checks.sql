-- margin-server's SQLite store, migration 5: a CHECK constraint that costs nothing per row.
--
-- SQLite evaluates `x IN ('a', 'b', 'c')` — three values or more — by building a temporary
-- index of the list each time a statement runs, so the CHECK on `records.entity` made
-- every record written by a push several microseconds slower. The same rule is written
-- with OR below. SQLite cannot alter a CHECK constraint, so the table is rebuilt with its
-- rows. (PostgreSQL has no such cost: its store is unchanged.)
CREATE TABLE records_new (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    id           TEXT    NOT NULL,
    entity       TEXT    NOT NULL CHECK (entity = 'article' OR entity = 'annotation' OR entity = 'conflict'),
    version      INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    fields       TEXT    NOT NULL,
    meta         TEXT    NOT NULL,
    device       TEXT    NOT NULL,
    hlc          INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted_at   INTEGER,                        -- server time of the delete
    article_id   TEXT,
    content_hash TEXT,
    PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
INSERT INTO records_new (
    user_id, id, entity, version, deleted, fields, meta, device, hlc, updated_at, deleted_at, article_id, content_hash)
SELECT user_id, id, entity, version, deleted, fields, meta, device, hlc, updated_at, deleted_at, article_id, content_hash
FROM records;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE UNIQUE INDEX records_version ON records(user_id, version);
CREATE INDEX records_article ON records(user_id, article_id) WHERE article_id IS NOT NULL AND deleted = 0;
CREATE INDEX records_hash ON records(user_id, content_hash) WHERE content_hash IS NOT NULL AND deleted = 0;
CREATE INDEX records_tombstones ON records(user_id, deleted_at) WHERE deleted = 1;
