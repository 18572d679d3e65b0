import { useEffect, useRef, useState } from "react";
import { useChat } from "../app/context";
import { conversationTitle, displayName } from "../lib/conversations";
import type { Conversation, User } from "../lib/types";

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
  const context = useRef({ conversations, me, activeId });
  useEffect(() => {
    context.current = { conversations, me, activeId };
  });

  useEffect(() => {
    if (!incoming) return;
    const { conversations, me, activeId } = context.current;
    const conversation = conversations.find((c) => c.id === incoming.conversationId);
    const sender = conversation?.members.find((m) => m.id === incoming.senderId);
    const name = sender ? displayName(sender) : "Someone";
    if (incoming.conversationId === activeId) setText(`${name}: ${incoming.content.slice(0, 300)}`);
    else setText(conversation ? `New message from ${name} in ${conversationTitle(conversation, me.id)}` : `New message from ${name}`);
  }, [incoming]);

  return (
    <div className="sr-only" aria-live="polite" aria-atomic="true">
      {text}
    </div>
  );
}
