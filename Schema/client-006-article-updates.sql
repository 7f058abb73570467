-- Marginalia client store, migration 6: articles whose text changes.
--
-- An annotation names the text its selectors were made on (`basis`, a body hash); every
-- store anchors it from that text into the article's current one. Until now an article's
-- text never changed, so each annotation was made on its article's text, and its pending
-- create (not yet sent) is given the same basis. An article keeps the text it had before
-- its last update (`previous_hash`) for `margin show --previous`; bodies stay while an
-- article or annotation names them.
ALTER TABLE annotations ADD COLUMN basis TEXT CHECK (basis IS NULL OR length(basis) = 64);
UPDATE annotations SET basis = (SELECT body_hash FROM articles WHERE articles.id = annotations.article_id);
UPDATE changes SET fields = json_set(fields, '$.basis', json_object('old', NULL, 'new',
        (SELECT basis FROM annotations WHERE annotations.id = changes.entity_id)))
    WHERE entity = 'annotation' AND op = 'create' AND json_extract(fields, '$.basis') IS NULL
    AND seq > (SELECT pushed_seq FROM sync_state)
    AND EXISTS (SELECT 1 FROM annotations WHERE annotations.id = changes.entity_id);
ALTER TABLE articles ADD COLUMN previous_hash TEXT REFERENCES bodies(hash);
