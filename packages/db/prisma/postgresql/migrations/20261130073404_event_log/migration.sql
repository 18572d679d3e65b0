-- AlterTable
ALTER TABLE "ConversationMember" ADD COLUMN     "joinedEventId" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "lastReadMessageId" BIGINT,
ADD COLUMN     "mentionCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "role" TEXT NOT NULL DEFAULT 'member',
ADD COLUMN     "unreadCount" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "mentions" TEXT NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "messageId" BIGINT,
    "userId" TEXT,
    "data" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PastMembership" (
    "userId" TEXT NOT NULL,
    "conversationId" TEXT NOT NULL,
    "fromEventId" BIGINT NOT NULL,
    "toEventId" BIGINT NOT NULL,

    CONSTRAINT "PastMembership_pkey" PRIMARY KEY ("userId","conversationId","toEventId")
);

-- CreateTable
CREATE TABLE "EventLogFloor" (
    "id" INTEGER NOT NULL,
    "prunedThroughId" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "EventLogFloor_pkey" PRIMARY KEY ("id")
);

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
