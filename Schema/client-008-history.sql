-- Marginalia client store, migration 8: a record's history and undo.
--
-- What pulls changed here, for `margin history`: one row per record a pull created,
-- updated or deleted in this store, with the fields it changed (the same JSON as
-- `changes.fields`: {"field": {"old": …, "new": …}}), the device that wrote it as the
-- server names it (protocol 5; null from an older server), and when it was written.
-- Records that arrive with a whole library (a first sync, or a reset) get no row.
CREATE TABLE pulled_changes (
    id          INTEGER PRIMARY KEY,
    entity      TEXT    NOT NULL CHECK (entity IN ('article', 'annotation')),
    entity_id   TEXT    NOT NULL,
    op          TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    fields      TEXT    NOT NULL,
    device      TEXT,
    version     INTEGER NOT NULL,
    written_at  INTEGER NOT NULL,
    pulled_at   INTEGER NOT NULL
);
CREATE INDEX pulled_changes_entity ON pulled_changes(entity_id, id);

-- A change made by `margin undo` names the change it takes back.
ALTER TABLE changes ADD COLUMN undo_of INTEGER;
CREATE INDEX changes_undo_of ON changes(undo_of) WHERE undo_of IS NOT NULL;
