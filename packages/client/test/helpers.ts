import type { Message } from "../src/types";

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
    ...overrides,
  };
}

/** A JWT with the given claims (the signature is not checked by the client). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}
