-- Marginalia client store, migration 8: a record's history and undo.
--
-- What syncs changed here, for `margin history`: one row per record a pull (`pulled`) or
-- the server's answer to a push (`merged`: this device's change merged with others')
-- created, updated or deleted in this store, with the fields it changed (the same JSON as
-- `changes.fields`: {"field": {"old": …, "new": …}}), the device that wrote it as the
-- server names it (pulls of protocol 5; null otherwise), and when it was written and
-- received. Records that arrive with a whole library (a first sync, or a reset) get no row.
CREATE TABLE pulled_changes (
    id          INTEGER PRIMARY KEY,
    origin      TEXT    NOT NULL CHECK (origin IN ('pulled', 'merged')),
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
