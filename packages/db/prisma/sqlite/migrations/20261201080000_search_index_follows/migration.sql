-- SQLite's search index follows the messages instead of being written in each message's own
-- transaction (src/search-indexer.ts). FTS5 writes a new segment of its index at every commit that
-- touches it: written with each send, the index cost about 60 us of CPU per message (a third to a
-- half of a small transaction's work); written a few hundred messages at a time, 2-4 us. Written by
-- hand, like the index itself (20261130185541_message_search).
--
-- "MessageSearchState" holds the id through which messages have been indexed: every message at or
-- below it that is not deleted is in the index, and none above it is. The indexer moves it forward
-- in the transaction that indexes the messages up to it; a search first indexes what is pending,
-- so every search sees every message stored before it.
CREATE TABLE "MessageSearchState" (
  "id" INTEGER NOT NULL PRIMARY KEY CHECK ("id" = 1),
  "indexedThroughId" INTEGER NOT NULL
);
INSERT INTO "MessageSearchState" ("id", "indexedThroughId") SELECT 1, coalesce(max("id"), 0) FROM "Message";

-- New messages are indexed by the indexer, not here.
DROP TRIGGER "Message_search_insert";

-- A change to a message already indexed changes the index in the same transaction, as before; a
-- message not indexed yet is indexed as it is when the indexer comes to it.
DROP TRIGGER "Message_search_update";
CREATE TRIGGER "Message_search_update" AFTER UPDATE OF "content", "deletedAt", "conversationId", "senderId" ON "Message"
WHEN OLD."id" <= (SELECT "indexedThroughId" FROM "MessageSearchState" WHERE "id" = 1) BEGIN
  INSERT INTO "MessageSearch" ("MessageSearch", "rowid", "content", "conversationId", "senderId") SELECT 'delete', OLD."id", OLD."content", OLD."conversationId", OLD."senderId" WHERE OLD."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("MessageSearchCjk", "rowid", "content") SELECT 'delete', OLD."id", OLD."content" WHERE OLD."deletedAt" IS NULL AND OLD."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
  INSERT INTO "MessageSearch" ("rowid", "content", "conversationId", "senderId") SELECT NEW."id", NEW."content", NEW."conversationId", NEW."senderId" WHERE NEW."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("rowid", "content") SELECT NEW."id", NEW."content" WHERE NEW."deletedAt" IS NULL AND NEW."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
END;

DROP TRIGGER "Message_search_delete";
CREATE TRIGGER "Message_search_delete" AFTER DELETE ON "Message"
WHEN OLD."id" <= (SELECT "indexedThroughId" FROM "MessageSearchState" WHERE "id" = 1) BEGIN
  INSERT INTO "MessageSearch" ("MessageSearch", "rowid", "content", "conversationId", "senderId") SELECT 'delete', OLD."id", OLD."content", OLD."conversationId", OLD."senderId" WHERE OLD."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("MessageSearchCjk", "rowid", "content") SELECT 'delete', OLD."id", OLD."content" WHERE OLD."deletedAt" IS NULL AND OLD."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
END;
