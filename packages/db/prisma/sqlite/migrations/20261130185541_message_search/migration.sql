-- Message search (src/message-search.ts). Written by hand: Prisma's schema cannot describe it.
--
-- "MessageSearch" holds the words of every message that is not deleted (unicode61: split on
-- anything that is not a letter or digit, case folded, Latin diacritics removed), with the
-- message's conversation and sender as tokens of their own columns, so that the conversations a
-- caller may search and a from: filter are matched inside the index, which also gives the rows
-- newest first (rowid = Message.id). "MessageSearchCjk" holds, as trigrams, the messages with
-- Chinese, Japanese or Korean characters, which are not written with spaces between words and so
-- are searched as substrings (of 3 characters or more).
--
-- Both read no text of their own (external content: "Message" holds it, and search reads only
-- rowids) and run with secure-delete: removing a row removes its tokens from the index's pages
-- rather than adding a delete marker, so a deleted or edited message's words do not stay in the
-- file. (A contentless table could not: it does not know a removed row's tokens.) The triggers
-- keep them in step with Message in the transaction of every write, whatever writes it; a row is
-- removed with the values it was indexed with, under the same conditions it was added.
CREATE VIRTUAL TABLE "MessageSearch" USING fts5("content", "conversationId", "senderId", tokenize = 'unicode61 remove_diacritics 2', content = 'Message', content_rowid = 'id');
INSERT INTO "MessageSearch" ("MessageSearch", "rank") VALUES ('secure-delete', 1);

CREATE VIRTUAL TABLE "MessageSearchCjk" USING fts5("content", tokenize = 'trigram case_sensitive 0 remove_diacritics 1', content = 'Message', content_rowid = 'id');
INSERT INTO "MessageSearchCjk" ("MessageSearchCjk", "rank") VALUES ('secure-delete', 1);

CREATE TRIGGER "Message_search_insert" AFTER INSERT ON "Message" WHEN NEW."deletedAt" IS NULL BEGIN
  INSERT INTO "MessageSearch" ("rowid", "content", "conversationId", "senderId") VALUES (NEW."id", NEW."content", NEW."conversationId", NEW."senderId");
  INSERT INTO "MessageSearchCjk" ("rowid", "content") SELECT NEW."id", NEW."content" WHERE NEW."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
END;

CREATE TRIGGER "Message_search_update" AFTER UPDATE OF "content", "deletedAt", "conversationId", "senderId" ON "Message" BEGIN
  INSERT INTO "MessageSearch" ("MessageSearch", "rowid", "content", "conversationId", "senderId") SELECT 'delete', OLD."id", OLD."content", OLD."conversationId", OLD."senderId" WHERE OLD."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("MessageSearchCjk", "rowid", "content") SELECT 'delete', OLD."id", OLD."content" WHERE OLD."deletedAt" IS NULL AND OLD."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
  INSERT INTO "MessageSearch" ("rowid", "content", "conversationId", "senderId") SELECT NEW."id", NEW."content", NEW."conversationId", NEW."senderId" WHERE NEW."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("rowid", "content") SELECT NEW."id", NEW."content" WHERE NEW."deletedAt" IS NULL AND NEW."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
END;

CREATE TRIGGER "Message_search_delete" AFTER DELETE ON "Message" BEGIN
  INSERT INTO "MessageSearch" ("MessageSearch", "rowid", "content", "conversationId", "senderId") SELECT 'delete', OLD."id", OLD."content", OLD."conversationId", OLD."senderId" WHERE OLD."deletedAt" IS NULL;
  INSERT INTO "MessageSearchCjk" ("MessageSearchCjk", "rowid", "content") SELECT 'delete', OLD."id", OLD."content" WHERE OLD."deletedAt" IS NULL AND OLD."content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
END;

-- The messages stored before this migration.
INSERT INTO "MessageSearch" ("rowid", "content", "conversationId", "senderId") SELECT "id", "content", "conversationId", "senderId" FROM "Message" WHERE "deletedAt" IS NULL;
INSERT INTO "MessageSearchCjk" ("rowid", "content") SELECT "id", "content" FROM "Message" WHERE "deletedAt" IS NULL AND "content" GLOB '*[぀-ヿ㐀-䶿一-鿿가-힯豈-﫿ｦ-ﾟ]*';
