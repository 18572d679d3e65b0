// Browser notifications, with the person's permission, for what lib/notifications.ts says deserves
// one (by the conversation's level), only while this tab is hidden. A notification is withdrawn as
// soon as the conversation is read past its message - here, in another tab or on another device
// (the reader's own read.updated reaches the store through the feed).
import { useEffect } from "react";
import { compareIds } from "@parley/client";
import { notificationContent, shouldNotify } from "../lib/notifications";
import { routeHash } from "../lib/route";
import { useRuntime } from "./context";

export function notificationsSupported(): boolean {
  return typeof Notification !== "undefined";
}

export function useBrowserNotifications(): void {
  const { chat, userId } = useRuntime();
  useEffect(() => {
    if (!notificationsSupported()) return;
    // One notification per conversation (its tag replaces the previous one), and the message it shows.
    const shown = new Map<string, { messageId: string; notification: Notification }>();
    let { lastIncoming, conversations } = chat.getState();

    const unsubscribe = chat.subscribe(() => {
      const state = chat.getState();
      if (state.lastIncoming !== lastIncoming) {
        lastIncoming = state.lastIncoming;
        const message = lastIncoming;
        const conversation = message && state.conversations.get(message.conversationId);
        const unread = conversation && (conversation.lastReadMessageId === null || compareIds(message.id, conversation.lastReadMessageId) > 0);
        if (message && conversation && unread && document.visibilityState === "hidden" && Notification.permission === "granted" && shouldNotify(message, conversation, userId)) {
          const { title, body } = notificationContent(message, conversation, userId);
          const notification = new Notification(title, { body, tag: `parley:${message.conversationId}` });
          notification.onclick = () => {
            window.focus();
            window.location.hash = routeHash({ view: "conversation", conversationId: message.conversationId });
            notification.close();
          };
          shown.get(message.conversationId)?.notification.close();
          shown.set(message.conversationId, { messageId: message.id, notification });
        }
      }
      if (state.conversations !== conversations) {
        conversations = state.conversations;
        for (const [conversationId, entry] of shown) {
          const pointer = conversations.get(conversationId)?.lastReadMessageId ?? null;
          const gone = !conversations.has(conversationId);
          if (gone || (pointer !== null && compareIds(pointer, entry.messageId) >= 0)) {
            entry.notification.close();
            shown.delete(conversationId);
          }
        }
      }
    });
    return () => {
      unsubscribe();
      for (const entry of shown.values()) entry.notification.close();
    };
  }, [chat, userId]);
}
