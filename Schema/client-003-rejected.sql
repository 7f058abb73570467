-- Marginalia client store, migration 3: changes the server refused, and what survives a
-- server restored from a backup.

-- Changes the server refused for good (they break a rule of the rulebook, or cannot
-- apply), parked with the reason so that they never hold back the rest: listed by
-- `margin log --rejected` until a later change to the record is accepted in their place
-- or the user discards them. `open_fields` lists, for a refused update, the fields that
-- no accepted change has covered yet (JSON array); NULL for a create or a delete.
CREATE TABLE rejected_changes (
    seq          INTEGER PRIMARY KEY,
    reason       TEXT    NOT NULL,
    rejected_at  INTEGER NOT NULL,
    open_fields  TEXT
);
-- An earlier margin recorded such refusals as outcomes and went on as if nothing happened:
-- they are parked now, so that they can be seen, fixed or discarded.
INSERT INTO rejected_changes (seq, reason, rejected_at, open_fields)
    SELECT o.seq, coalesce(o.reason, 'refused by the server'), c.hlc >> 16,
           CASE WHEN c.op = 'update' THEN (SELECT json_group_array(key) FROM json_each(c.fields)) END
    FROM sync_outcomes o JOIN changes c ON c.seq = o.seq
    WHERE o.outcome = 'rejected';

-- The history the pull cursor belongs to, as the server named it (sent back with the next
-- pull, so that a server restored from a backup is noticed). After such a restore:
-- `resume_after`, the last of this device's changes the server still had (sent with
-- pushes until one is applied), and during the pass that follows, `restore_since`: records
-- held at a higher version came from history the server lost, and are sent again.
ALTER TABLE sync_state ADD COLUMN history       TEXT;
ALTER TABLE sync_state ADD COLUMN resume_after  INTEGER;
ALTER TABLE sync_state ADD COLUMN restore_since INTEGER;

-- Records this device has seen deleted, by itself or through the server, with the server
-- version of the delete (the record's last version until the server acknowledges a delete
-- made here). After a restore, a record the server holds again whose delete came from the
-- history it lost is deleted again. Kept for good: one short row per deleted record.
CREATE TABLE tombstones (
    id          TEXT    PRIMARY KEY,
    entity      TEXT    NOT NULL,
    version     INTEGER NOT NULL
) WITHOUT ROWID;
