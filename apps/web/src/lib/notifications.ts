// Which messages make a browser notification, and what it says. The levels are the reader's per
// conversation (conversation.setNotify): "all" - direct messages and mentions of the reader;
// "mentions" - only mentions, in a direct conversation too; "none" - nothing. (Every message of a
// busy group would be noise; the unread badge and the tab title count those.)
import { conversationTitle, displayName } from "./conversations";
import { plainTextWithFiles } from "./attachments";
import { markdownToPlainText } from "./markdown";
import type { Conversation, Message } from "@parley/client";

export function shouldNotify(message: Message, conversation: Conversation, myId: string): boolean {
  if (message.senderId === myId || message.deletedAt) return false;
  const mentioned = message.mentions.includes(myId);
  switch (conversation.notify) {
    case "none":
      return false;
    case "mentions":
      return mentioned;
    case "all":
      return conversation.isDirect || mentioned;
  }
}

/** Most characters of the message shown in the notification. */
const BODY_MAX = 140;

export function notificationContent(message: Message, conversation: Conversation, myId: string): { title: string; body: string } {
  const sender = conversation.members.find((m) => m.id === message.senderId);
  const name = sender ? displayName(sender) : "Someone";
  const text = plainTextWithFiles(markdownToPlainText(message.content), message.attachments);
  const body = text.length > BODY_MAX ? `${text.slice(0, BODY_MAX - 1)}…` : text;
  const title = conversation.isDirect ? name : `${name} in ${conversationTitle(conversation, myId)}`;
  return { title, body };
}
