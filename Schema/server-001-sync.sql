-- margin-server's SQLite store, migration 1: users, device tokens and their libraries.
-- Times are integer milliseconds since 1970 (UTC).

-- A user owns exactly one library. `last_seq` is the library's commit sequence: every
-- record write takes the next number, so a pull cursor is a number, never a clock.
-- Tombstones older than the retention window are purged; `horizon` is the highest
-- version purged, and a cursor below it gets a reset answer.
CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    horizon     INTEGER NOT NULL DEFAULT 0
);

-- Device tokens: only the SHA-256 of a token is stored. A token is bound to the first
-- device id it is used with; the same token from another device is refused.
CREATE TABLE tokens (
    hash        TEXT    PRIMARY KEY CHECK (length(hash) = 64),
    user_id     INTEGER NOT NULL REFERENCES users(id),
    device_id   TEXT,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_user ON tokens(user_id);

-- Exactly-once push: the last change sequence applied per device, written in the same
-- transaction as the changes.
CREATE TABLE devices (
    user_id          INTEGER NOT NULL REFERENCES users(id),
    device_id        TEXT    NOT NULL,
    last_applied_seq INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;

-- Current state of every record (article, annotation, conflict), tombstones included.
-- `fields` is a JSON object of field values; `meta` gives per field the version, clock
-- and device of its last write ({"note": [12, 1234567, "device"]}), leaving out the
-- fields the record's last write wrote (`version`, `hlc`, `device`). `updated_at` is the
-- wall-clock part of the last writer's clock. `article_id` and `content_hash` are copies of those fields,
-- for lookups.
CREATE TABLE records (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    id           TEXT    NOT NULL,
    entity       TEXT    NOT NULL CHECK (entity IN ('article', 'annotation', 'conflict')),
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
CREATE UNIQUE INDEX records_version ON records(user_id, version);
CREATE INDEX records_article ON records(user_id, article_id) WHERE article_id IS NOT NULL AND deleted = 0;
CREATE INDEX records_hash ON records(user_id, content_hash) WHERE content_hash IS NOT NULL AND deleted = 0;
CREATE INDEX records_tombstones ON records(user_id, deleted_at) WHERE deleted = 1;

-- Article ids that were merged into another article with the same body (two devices
-- imported the same file): changes naming the alias apply to `id`.
CREATE TABLE aliases (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    alias       TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    PRIMARY KEY (user_id, alias)
) WITHOUT ROWID;

-- Article bodies, content-addressed per library.
CREATE TABLE bodies (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    hash        TEXT    NOT NULL CHECK (length(hash) = 64),
    text        TEXT    NOT NULL,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;
