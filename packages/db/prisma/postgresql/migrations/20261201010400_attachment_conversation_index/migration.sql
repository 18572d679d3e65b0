-- CreateIndex
CREATE INDEX "Attachment_conversationId_messageId_idx" ON "Attachment"("conversationId", "messageId");
