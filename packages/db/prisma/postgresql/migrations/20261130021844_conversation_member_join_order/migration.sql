-- CreateIndex
CREATE INDEX "ConversationMember_conversationId_joinedAt_userId_idx" ON "ConversationMember"("conversationId", "joinedAt", "userId");
