-- CreateTable
CREATE TABLE "Event" (
    "id" BIGINT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "messageId" BIGINT,
    "userId" TEXT,
    "data" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "PastMembership" (
    "userId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "fromEventId" BIGINT NOT NULL,
    "toEventId" BIGINT NOT NULL,

    PRIMARY KEY ("userId", "conversationId", "toEventId")
);

-- CreateTable
CREATE TABLE "EventLogFloor" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "prunedThroughId" BIGINT NOT NULL DEFAULT 0
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_ConversationMember" (
    "conversationId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "joinedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "role" TEXT NOT NULL DEFAULT 'member',
    "joinedEventId" BIGINT NOT NULL DEFAULT 0,
    "lastReadMessageId" BIGINT,
    "unreadCount" INTEGER NOT NULL DEFAULT 0,
    "mentionCount" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("conversationId", "userId"),
    CONSTRAINT "ConversationMember_conversationId_fkey" FOREIGN KEY ("conversationId") REFERENCES "Conversation" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ConversationMember_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_ConversationMember" ("conversationId", "joinedAt", "userId") SELECT "conversationId", "joinedAt", "userId" FROM "ConversationMember";
DROP TABLE "ConversationMember";
ALTER TABLE "new_ConversationMember" RENAME TO "ConversationMember";
CREATE INDEX "ConversationMember_userId_idx" ON "ConversationMember"("userId");
CREATE INDEX "ConversationMember_conversationId_joinedAt_userId_idx" ON "ConversationMember"("conversationId", "joinedAt", "userId");
CREATE TABLE "new_Message" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "conversationId" TEXT NOT NULL,
    "senderId" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "clientMessageId" TEXT NOT NULL,
    "mentions" TEXT NOT NULL DEFAULT '[]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Message_conversationId_fkey" FOREIGN KEY ("conversationId") REFERENCES "Conversation" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Message_senderId_fkey" FOREIGN KEY ("senderId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Message" ("clientMessageId", "content", "conversationId", "createdAt", "id", "senderId") SELECT "clientMessageId", "content", "conversationId", "createdAt", "id", "senderId" FROM "Message";
DROP TABLE "Message";
ALTER TABLE "new_Message" RENAME TO "Message";
CREATE INDEX "Message_conversationId_id_idx" ON "Message"("conversationId", "id");
CREATE UNIQUE INDEX "Message_senderId_clientMessageId_key" ON "Message"("senderId", "clientMessageId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Event_conversationId_id_idx" ON "Event"("conversationId", "id");

-- CreateIndex
CREATE INDEX "Event_createdAt_idx" ON "Event"("createdAt");

-- CreateIndex
CREATE INDEX "PastMembership_toEventId_idx" ON "PastMembership"("toEventId");

-- Data: the log starts with the messages already stored (a message's id is its event's id), so a
-- client resuming from an older position gets them; everything stored before is read (no unread
-- counts appear on upgrade); each group's owner is the sender of its first message, else its first
-- member (the creator was not recorded before roles existed).
INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "createdAt")
SELECT "id", 'message.created', "conversationId", "id", "createdAt" FROM "Message";

UPDATE "ConversationMember" SET "lastReadMessageId" = (
  SELECT MAX(m."id") FROM "Message" m WHERE m."conversationId" = "ConversationMember"."conversationId"
);

UPDATE "ConversationMember" SET "role" = 'owner'
WHERE "userId" = COALESCE(
  (SELECT m."senderId" FROM "Message" m WHERE m."conversationId" = "ConversationMember"."conversationId" ORDER BY m."id" LIMIT 1),
  (SELECT cm."userId" FROM "ConversationMember" cm WHERE cm."conversationId" = "ConversationMember"."conversationId" ORDER BY cm."joinedAt", cm."userId" LIMIT 1)
) AND "conversationId" IN (SELECT c."id" FROM "Conversation" c WHERE c."isDirect" = false);

INSERT INTO "EventLogFloor" ("id", "prunedThroughId") VALUES (1, 0);
