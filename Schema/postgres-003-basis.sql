-- margin-server's PostgreSQL store, migration 3 (protocol 4): annotations name the text
-- they were made on (`basis`); see server-003-basis.sql.
UPDATE records n SET fields = (n.fields::jsonb || jsonb_build_object('basis', a.content_hash))::text
    FROM records a
    WHERE n.entity = 'annotation' AND a.user_id = n.user_id AND a.id = n.article_id AND a.content_hash IS NOT NULL
    AND (n.fields::jsonb -> 'basis') IS NULL;
