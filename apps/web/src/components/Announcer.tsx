import { useEffect, useRef, useState } from "react";
import { useChat } from "../app/context";
import { plainTextWithFiles } from "../lib/attachments";
import { conversationTitle, nameWithUsername } from "../lib/conversations";
import { trpc } from "../trpc";
import type { Conversation, User } from "@parley/client";

interface AnnouncerProps {
  conversations: Conversation[];
  me: User;
  activeId: string | null;
}

/** Reads new messages from others to screen reader users, without moving their focus. */
export function Announcer({ conversations, me, activeId }: AnnouncerProps) {
  const incoming = useChat((s) => s.lastIncoming);
  const [text, setText] = useState("");
  // Read when a message arrives, not watched: only a new message is news.
  const utils = trpc.useUtils();
  const context = useRef({ conversations, me, activeId, utils });
  useEffect(() => {
    context.current = { conversations, me, activeId, utils };
  });

  useEffect(() => {
    if (!incoming) return;
    const { conversations, me, activeId, utils } = context.current;
    // The whole member list when it was loaded (the open conversation); a listed group has only its first members.
    const conversation = utils.conversation.get.getData({ conversationId: incoming.conversationId }) ?? conversations.find((c) => c.id === incoming.conversationId);
    const sender = conversation?.members.find((m) => m.id === incoming.senderId);
    const name = sender ? nameWithUsername(sender) : "Someone";
    if (incoming.conversationId === activeId) setText(`${name}: ${plainTextWithFiles(incoming.content, incoming.attachments).slice(0, 300)}`);
    else setText(conversation ? `New message from ${name} in ${conversationTitle(conversation, me.id)}` : `New message from ${name}`);
  }, [incoming]);

  return (
    <div className="sr-only" aria-live="polite" aria-atomic="true">
      {text}
    </div>
  );
}
