-- Marginalia client store, migration 2: synchronization with a margin-server.

-- The remote and the pull cursor (the server's commit sequence this store has pulled
-- up to), the outcome of the last sync, and whether a reset pull is under way.
ALTER TABLE sync_state ADD COLUMN cursor        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN remote_url    TEXT;
ALTER TABLE sync_state ADD COLUMN token_file    TEXT;
ALTER TABLE sync_state ADD COLUMN insecure      INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN last_sync_at  INTEGER;
ALTER TABLE sync_state ADD COLUMN last_error    TEXT;
ALTER TABLE sync_state ADD COLUMN last_error_at INTEGER;
ALTER TABLE sync_state ADD COLUMN resetting     INTEGER NOT NULL DEFAULT 0;

-- The change log may now also delete (dismiss) conflict records. SQLite cannot alter a
-- CHECK constraint, so the table is rebuilt with its rows.
CREATE TABLE changes_new (
    seq          INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL CHECK (entity IN ('article', 'annotation', 'conflict')),
    entity_id    TEXT    NOT NULL,
    op           TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    fields       TEXT    NOT NULL,              -- JSON {"field": {"old": …, "new": …}}
    base_version INTEGER NOT NULL,
    hlc          INTEGER NOT NULL
);
INSERT INTO changes_new SELECT seq, entity, entity_id, op, fields, base_version, hlc FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
CREATE INDEX changes_entity ON changes(entity_id, seq);

-- What the server did with each pushed change (applied, merged, conflict, …).
CREATE TABLE sync_outcomes (
    seq         INTEGER PRIMARY KEY,
    outcome     TEXT    NOT NULL,
    version     INTEGER,
    reason      TEXT
);

-- Values that lost a conflict, and deletes that lost to an edit, as the server recorded
-- them; `margin conflicts` lists them and can restore one.
CREATE TABLE conflicts (
    id            TEXT    PRIMARY KEY,
    record_entity TEXT    NOT NULL,
    record_id     TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('value', 'delete')),
    field         TEXT,
    value         TEXT    NOT NULL,              -- JSON field value
    device        TEXT,
    hlc           INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX conflicts_record ON conflicts(record_id);

-- Annotations pulled before their article (it changed again after the pull's bound):
-- applied when the article arrives.
CREATE TABLE parked_records (
    id          TEXT    PRIMARY KEY,
    article_id  TEXT    NOT NULL,
    record      TEXT    NOT NULL                 -- JSON ServerRecord
) WITHOUT ROWID;
CREATE INDEX parked_records_article ON parked_records(article_id);

-- During a reset pull: the ids the server still has. Records missing from it, with no
-- pending local change, were deleted on the server and are removed when the pull ends.
CREATE TABLE reset_seen (
    id          TEXT    PRIMARY KEY
) WITHOUT ROWID;
