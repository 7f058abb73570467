-- Marginalia client store, migration 5: how each annotation is anchored in its article's
-- current text: 'anchored', 'moved' (its passage found elsewhere by its quote), 'changed'
-- (an approximate match, its passage edited) or 'orphaned' (anchor_start is NULL).
ALTER TABLE annotations ADD COLUMN anchor_state TEXT NOT NULL DEFAULT 'anchored'
    CHECK (anchor_state IN ('anchored', 'moved', 'changed', 'orphaned'));
UPDATE annotations SET anchor_state = 'orphaned' WHERE anchor_start IS NULL;
UPDATE annotations SET anchor_state = 'moved' WHERE anchor_start IS NOT NULL AND anchor_start <> start;
CREATE INDEX annotations_changed ON annotations(article_id) WHERE anchor_state IN ('moved', 'changed');
