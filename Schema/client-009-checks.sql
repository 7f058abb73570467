-- Marginalia client store, migration 9: CHECK constraints that cost nothing per row.
--
-- SQLite evaluates `x IN ('a', 'b', 'c')` — three values or more — by building a temporary
-- index of the list each time a statement runs, so a CHECK written that way made every
-- insert of an annotation or a change several microseconds slower (about half a second
-- over a first sync of 100,000 annotations). The same rules are written with OR below.
-- SQLite cannot alter a CHECK constraint, so these tables are rebuilt with their rows
-- (row ids kept: the search index and the change numbers refer to them).

CREATE TABLE annotations_new (
    local_id     INTEGER PRIMARY KEY,            -- stable rowid for the search index
    id           TEXT    NOT NULL UNIQUE,
    article_id   TEXT    NOT NULL REFERENCES articles(id),
    start        INTEGER NOT NULL CHECK (start >= 0),
    "end"        INTEGER NOT NULL CHECK ("end" > start),
    exact        TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    suffix       TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    color        TEXT    NOT NULL DEFAULT 'yellow',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0,
    -- Where the annotation is shown in the current body, derived locally by anchoring
    -- and never synchronized; NULL marks an orphan.
    anchor_start INTEGER,
    anchor_end   INTEGER,
    anchor_state TEXT    NOT NULL DEFAULT 'anchored' CHECK (
        anchor_state = 'anchored' OR anchor_state = 'moved' OR anchor_state = 'changed' OR anchor_state = 'orphaned'),
    basis        TEXT    CHECK (basis IS NULL OR length(basis) = 64),
    handle       TEXT
);
INSERT INTO annotations_new (
    local_id, id, article_id, start, "end", exact, prefix, suffix, note, color, created_at, updated_at, version,
    anchor_start, anchor_end, anchor_state, basis, handle)
SELECT local_id, id, article_id, start, "end", exact, prefix, suffix, note, color, created_at, updated_at, version,
    anchor_start, anchor_end, anchor_state, basis, handle
FROM annotations;
DROP TABLE annotations;
ALTER TABLE annotations_new RENAME TO annotations;
CREATE INDEX annotations_article ON annotations(article_id, anchor_start);
CREATE INDEX annotations_orphans ON annotations(article_id) WHERE anchor_start IS NULL;
CREATE INDEX annotations_changed ON annotations(article_id) WHERE anchor_state IN ('moved', 'changed');
CREATE INDEX annotations_handle ON annotations(handle);

CREATE TABLE changes_new (
    seq          INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL CHECK (entity = 'article' OR entity = 'annotation' OR entity = 'conflict'),
    entity_id    TEXT    NOT NULL,
    op           TEXT    NOT NULL CHECK (op = 'create' OR op = 'update' OR op = 'delete'),
    fields       TEXT    NOT NULL,              -- JSON {"field": {"old": …, "new": …}}
    base_version INTEGER NOT NULL,
    hlc          INTEGER NOT NULL,
    undo_of      INTEGER                        -- the change a `margin undo` takes back
);
INSERT INTO changes_new (seq, entity, entity_id, op, fields, base_version, hlc, undo_of)
SELECT seq, entity, entity_id, op, fields, base_version, hlc, undo_of FROM changes;
DROP TABLE changes;
ALTER TABLE changes_new RENAME TO changes;
CREATE INDEX changes_entity ON changes(entity_id, seq);
CREATE INDEX changes_undo_of ON changes(undo_of) WHERE undo_of IS NOT NULL;

CREATE TABLE pulled_changes_new (
    id          INTEGER PRIMARY KEY,
    origin      TEXT    NOT NULL CHECK (origin IN ('pulled', 'merged')),
    entity      TEXT    NOT NULL CHECK (entity IN ('article', 'annotation')),
    entity_id   TEXT    NOT NULL,
    op          TEXT    NOT NULL CHECK (op = 'create' OR op = 'update' OR op = 'delete'),
    fields      TEXT    NOT NULL,
    device      TEXT,
    version     INTEGER NOT NULL,
    written_at  INTEGER NOT NULL,
    pulled_at   INTEGER NOT NULL
);
INSERT INTO pulled_changes_new (id, origin, entity, entity_id, op, fields, device, version, written_at, pulled_at)
SELECT id, origin, entity, entity_id, op, fields, device, version, written_at, pulled_at FROM pulled_changes;
DROP TABLE pulled_changes;
ALTER TABLE pulled_changes_new RENAME TO pulled_changes;
CREATE INDEX pulled_changes_entity ON pulled_changes(entity_id, id);
