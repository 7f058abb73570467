-- Marginalia client store, migration 1: the local library and its change log.
-- Times are integer milliseconds since 1970 (UTC). `version` columns hold the server
-- version a record was last synchronized at (0: never synchronized).

-- This device: its id, the next change-log sequence number, the hybrid logical clock.
CREATE TABLE sync_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT    NOT NULL,
    next_seq    INTEGER NOT NULL CHECK (next_seq >= 1),
    last_hlc    INTEGER NOT NULL
);

-- Article bodies, content-addressed by the SHA-256 of their NFC text.
CREATE TABLE bodies (
    hash        TEXT PRIMARY KEY CHECK (length(hash) = 64),
    text        TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE articles (
    local_id    INTEGER PRIMARY KEY,             -- stable rowid for the search index
    id          TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    published   TEXT,                            -- YYYY-MM-DD
    source      TEXT,
    body_hash   TEXT    NOT NULL UNIQUE REFERENCES bodies(hash),
    captions    TEXT    NOT NULL DEFAULT '[]',   -- JSON array of strings
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX articles_published ON articles(published DESC, created_at DESC);

CREATE TABLE article_tags (
    article_id  TEXT NOT NULL REFERENCES articles(id),
    tag         TEXT NOT NULL,
    PRIMARY KEY (article_id, tag)
) WITHOUT ROWID;
CREATE INDEX article_tags_tag ON article_tags(tag, article_id);

CREATE TABLE annotations (
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
    anchor_end   INTEGER
);
CREATE INDEX annotations_article ON annotations(article_id, anchor_start);
CREATE INDEX annotations_orphans ON annotations(article_id) WHERE anchor_start IS NULL;

CREATE TABLE annotation_tags (
    annotation_id TEXT NOT NULL REFERENCES annotations(id),
    tag           TEXT NOT NULL,
    PRIMARY KEY (annotation_id, tag)
) WITHOUT ROWID;
CREATE INDEX annotation_tags_tag ON annotation_tags(tag, annotation_id);

-- Full-text search, diacritic-insensitive. Rows are keyed by local_id; the indexed text
-- has đ/Đ folded to d/D, which the tokenizer cannot fold by itself.
CREATE VIRTUAL TABLE article_search USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE annotation_search USING fts5(
    note, tags, tokenize = 'unicode61 remove_diacritics 2'
);

-- The change log: every create, update and delete, written in the same transaction as
-- the change itself, numbered by this device without gaps.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL CHECK (entity IN ('article', 'annotation')),
    entity_id    TEXT    NOT NULL,
    op           TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    fields       TEXT    NOT NULL,              -- JSON {"field": {"old": …, "new": …}}
    base_version INTEGER NOT NULL,
    hlc          INTEGER NOT NULL,
    pushed_at    INTEGER                        -- NULL while pending
);
CREATE INDEX changes_pending ON changes(seq) WHERE pushed_at IS NULL;
CREATE INDEX changes_entity ON changes(entity_id, seq);
