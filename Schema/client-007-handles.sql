-- Marginalia client store, migration 7: short handles. Each article and annotation gets
-- its handle (derived from its id: `Handle.of`), which listings show the shortest unique
-- prefix of and users may type instead of the id. margin fills in the handles of existing
-- records in the same transaction, after these statements.
ALTER TABLE articles ADD COLUMN handle TEXT;
ALTER TABLE annotations ADD COLUMN handle TEXT;
CREATE INDEX articles_handle ON articles(handle);
CREATE INDEX annotations_handle ON annotations(handle);
