import type { Conversation, Message } from "../src/types";

let nextId = 1;

/** A stored message; ids grow like the server's unless given. */
export function message(overrides: Partial<Message> = {}): Message {
  const id = overrides.id ?? String(nextId++);
  return {
    id,
    conversationId: "c1",
    senderId: "alice",
    content: `message ${id}`,
    clientMessageId: `cm-${id}`,
    createdAt: "2025-03-10T12:00:00.000Z",
    mentions: [],
    editedAt: null,
    deletedAt: null,
    threadId: null,
    replyCount: 0,
    lastReplyAt: null,
    reactions: [],
    attachments: [],
    ...overrides,
  };
}

/** A group conversation of "me" and alice, nothing read and nothing unread unless given. */
export function conversation(overrides: Partial<Conversation> = {}): Conversation {
  return {
    id: "c1",
    title: "team",
    isDirect: false,
    members: [
      { id: "me", username: "me", fullName: "", role: "owner", lastReadMessageId: null },
      { id: "alice", username: "alice", fullName: "", role: "member", lastReadMessageId: null },
    ],
    createdAt: "2025-03-10T12:00:00.000Z",
    memberCount: 2,
    lastMessage: null,
    lastReadMessageId: null,
    unreadCount: 0,
    mentionCount: 0,
    notify: "all",
    ...overrides,
  };
}

/** A JWT with the given claims (the signature is not checked by the client). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}
