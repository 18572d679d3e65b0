// Who is typing where. A `typing` event is shown for TYPING_SHOWN_MS after the last one from that
// user in that conversation (the server passes at most one per 2 s while they type), and ends
// early when that user's message arrives. Pure: times come from the caller's clock.

/** How long a `typing` event is shown unless another one comes (docs/contract-changes.md). */
export const TYPING_SHOWN_MS = 6_000;

/** Per conversation, per user typing there: when it stops being shown (the caller's clock). */
export type Typing = ReadonlyMap<string, ReadonlyMap<string, number>>;

export function startTyping(typing: Typing, conversationId: string, userId: string, now: number): Typing {
  const users = new Map(typing.get(conversationId) ?? []).set(userId, now + TYPING_SHOWN_MS);
  return new Map(typing).set(conversationId, users);
}

/** The user's message arrived: they are done typing it. */
export function stopTyping(typing: Typing, conversationId: string, userId: string): Typing {
  const users = typing.get(conversationId);
  if (!users?.has(userId)) return typing;
  return withUsers(typing, conversationId, new Map([...users].filter(([id]) => id !== userId)));
}

/** Drops what is no longer shown at `now`; the same map when nothing expired. */
export function expireTyping(typing: Typing, now: number): Typing {
  let next: Map<string, ReadonlyMap<string, number>> | null = null;
  for (const [conversationId, users] of typing) {
    const shown = [...users].filter(([, until]) => until > now);
    if (shown.length === users.size) continue;
    next ??= new Map(typing);
    if (shown.length === 0) next.delete(conversationId);
    else next.set(conversationId, new Map(shown));
  }
  return next ?? typing;
}

/** The earliest time something stops being shown, or null when nobody is typing. */
export function nextTypingExpiry(typing: Typing): number | null {
  let earliest: number | null = null;
  for (const users of typing.values()) for (const until of users.values()) if (earliest === null || until < earliest) earliest = until;
  return earliest;
}

/** The users shown typing in a conversation, in the order they started. */
export function typingIn(typing: Typing, conversationId: string): string[] {
  return [...(typing.get(conversationId)?.keys() ?? [])];
}

function withUsers(typing: Typing, conversationId: string, users: ReadonlyMap<string, number>): Typing {
  const next = new Map(typing);
  if (users.size === 0) next.delete(conversationId);
  else next.set(conversationId, users);
  return next;
}
