-- Message search (src/message-search.ts). Written by hand: Prisma's schema cannot describe it.
--
-- A GIN index over each message's search vector, only for messages that are not deleted (a
-- tombstone's row leaves the index in its delete's transaction; old row versions are VACUUM's, as
-- for the content itself). The vector holds:
--   - the words: anything that is not a letter or digit separates them; case folded and accents
--     removed (unaccent), never stemmed (the "simple" dictionary: every language alike);
--   - each Chinese, Japanese or Korean character as a word of its own, so that a substring of any
--     length is found as a phrase of characters;
--   - "c:<conversationId>" and "u:<senderId>", which no word can be (":" separates words): the
--     conversations a caller may search, and from:, are matched inside the index.
-- Kept in step by PostgreSQL itself, in the transaction of every write. New entries wait in GIN's
-- pending list (cheap for sends, which hold the event order lock) until it reaches 256 kB and is
-- merged; every search reads the list through, so it is kept small (with the default 4 MB, a rare
-- word took 38 ms instead of 2.5 ms with 8,000 messages pending; updating the index row by row
-- instead made a batch of 500 sends about three times slower).
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION "parley_search" (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION "parley_search" ALTER MAPPING FOR word, hword, hword_part WITH unaccent, simple;

CREATE FUNCTION "parley_search_vector"(content text, conversation text, sender text) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN to_tsvector('parley_search'::regconfig,
           regexp_replace(
             regexp_replace(content, '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\xbf\xd7\xf7\u2000-\u206f\u2e00-\u2e7f\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+', ' ', 'g'),
             '([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f])', ' \1 ', 'g'))
         || array_to_tsvector(ARRAY['c:' || conversation, 'u:' || sender]);

CREATE INDEX "Message_search_idx" ON "Message" USING GIN ("parley_search_vector"("content", "conversationId", "senderId")) WITH (gin_pending_list_limit = 256) WHERE "deletedAt" IS NULL;
