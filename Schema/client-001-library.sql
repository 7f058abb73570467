-- Marginalia client store, migration 1: the local library and its change log.
-- Times are integer milliseconds since 1970 (UTC). `version` columns hold the server
-- version a record was last synchronized at (0: never synchronized).

-- This device: its id, the next change-log sequence number, the last one a server has
-- acknowledged (changes are pushed in order, so those after it are pending), and the
-- hybrid logical clock.
CREATE TABLE sync_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    device_id   TEXT    NOT NULL,
    next_seq    INTEGER NOT NULL CHECK (next_seq >= 1),
    pushed_seq  INTEGER NOT NULL DEFAULT 0 CHECK (pushed_seq < next_seq),
    last_hlc    INTEGER NOT NULL
);

-- How many articles and annotations there are, so that `status` does not count rows.
-- Kept by margin's insert and delete statements with `UPDATE … WHERE id = 1`, not by
-- triggers: a trigger, or an UPDATE that might touch several rows, opens a statement
-- savepoint, at which FTS5 flushes its pending terms; that made bulk imports two to three
-- times slower.
CREATE TABLE library_counts (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    articles    INTEGER NOT NULL DEFAULT 0,
    annotations INTEGER NOT NULL DEFAULT 0
);
INSERT INTO library_counts (id) VALUES (1);

-- Article bodies, content-addressed by the SHA-256 of their NFC text.
CREATE TABLE bodies (
    local_id    INTEGER PRIMARY KEY,
    hash        TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    text        TEXT    NOT NULL
);

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

-- Full-text search, diacritic-insensitive. Rows are keyed by local_id. The text indexed
-- is folded by margin (SearchText.searchable: lowercase, no diacritics, đ → d, words
-- separated by single spaces), so the plain `ascii` tokenizer suffices. The tables are
-- contentless: they keep no second copy of the text, and a row is deleted by giving the
-- exact folded text it was indexed with.
CREATE VIRTUAL TABLE article_search USING fts5(
    title, body, content = '', tokenize = 'ascii'
);
CREATE VIRTUAL TABLE annotation_search USING fts5(
    note, tags, content = '', tokenize = 'ascii'
);
-- Bulk imports write less when index segments are merged eight at a time rather than
-- four and when up to 4 MB of new terms are gathered before a segment is written.
INSERT INTO article_search (article_search, rank) VALUES ('automerge', 8);
INSERT INTO article_search (article_search, rank) VALUES ('hashsize', 4194304);

-- The change log: every create, update and delete, written in the same transaction as
-- the change itself, numbered by this device without gaps.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY,
    entity       TEXT    NOT NULL CHECK (entity IN ('article', 'annotation')),
    entity_id    TEXT    NOT NULL,
    op           TEXT    NOT NULL CHECK (op IN ('create', 'update', 'delete')),
    fields       TEXT    NOT NULL,              -- JSON {"field": {"old": …, "new": …}}
    base_version INTEGER NOT NULL,
    hlc          INTEGER NOT NULL
);
CREATE INDEX changes_entity ON changes(entity_id, seq);
