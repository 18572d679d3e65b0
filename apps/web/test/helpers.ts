import type { Message } from "@parley/client";

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
    ...overrides,
  };
}
