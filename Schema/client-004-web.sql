-- Marginalia client store, migration 4: articles from the web.

-- A web article's canonical address (its identity: importing the address again finds it),
-- author, site and language, as the page gives them; NULL for files that do not say.
ALTER TABLE articles ADD COLUMN url       TEXT;
ALTER TABLE articles ADD COLUMN author    TEXT;
ALTER TABLE articles ADD COLUMN site_name TEXT;
ALTER TABLE articles ADD COLUMN language  TEXT;
CREATE INDEX articles_url ON articles(url) WHERE url IS NOT NULL;
