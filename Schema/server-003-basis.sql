-- margin-server's SQLite store, migration 3 (protocol 4): annotations name the text they
-- were made on (`basis`). Until now an article's text never changed, so each annotation
-- was made on its article's text. Versions do not change: devices fill in the same value
-- when they upgrade.
UPDATE records SET fields = json_set(fields, '$.basis',
        (SELECT a.content_hash FROM records a WHERE a.user_id = records.user_id AND a.id = records.article_id))
    WHERE entity = 'annotation' AND json_extract(fields, '$.basis') IS NULL
    AND EXISTS (SELECT 1 FROM records a WHERE a.user_id = records.user_id AND a.id = records.article_id
        AND a.content_hash IS NOT NULL);
