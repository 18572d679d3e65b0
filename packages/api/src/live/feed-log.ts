// Reading the event log back as feed entries: for a hub catching up (with each event's recipients,
// the members at that event) and for one user's stream resuming after an event id.
import { messageSelect, type Database, type LoggedEvent, type MembershipSpan } from "@parley/db";
import { sharedConversations } from "../domain/conversation-views.js";
import { toMessageDto } from "../domain/selects.js";
import type { MessageDto } from "../schemas.js";
import { entryOf, type FeedEntry, type Referents } from "./feed.js";
import type { FeedLog } from "./live-hub.js";

/** Loads the rows the events name, in bulk. */
async function referentsOf(db: Database, events: readonly LoggedEvent[]): Promise<Referents> {
  const messageIds = [...new Set(events.flatMap((e) => (e.messageId === null ? [] : [e.messageId])))];
  const conversationIds = [...new Set(events.filter((e) => e.kind === "conversation.updated").map((e) => e.conversationId))];
  const [messages, conversations] = await Promise.all([
    messageIds.length === 0 ? [] : db.prisma.message.findMany({ where: { id: { in: messageIds } }, select: messageSelect }),
    sharedConversations(db, conversationIds),
  ]);
  return { messages: new Map<string, MessageDto>(messages.map((m) => [m.id.toString(), toMessageDto(m)])), conversations };
}

/** Whether a span covers an event: from the event that made them a member to the one that ended it. */
const covers = (span: MembershipSpan, eventId: bigint) => span.fromEventId <= eventId && (span.toEventId === null || eventId <= span.toEventId);

/** The entries of logged events with their recipients; events with nothing left to tell are left out. */
export async function entriesOf(db: Database, events: readonly LoggedEvent[]): Promise<{ entry: FeedEntry; recipientIds: string[] }[]> {
  if (events.length === 0) return [];
  const first = events[0] as LoggedEvent;
  const [referents, spans] = await Promise.all([referentsOf(db, events), db.events.spans([...new Set(events.map((e) => e.conversationId))], first.id - 1n)]);
  const spansOf = new Map<string, MembershipSpan[]>();
  for (const span of spans) {
    let list = spansOf.get(span.conversationId);
    if (!list) spansOf.set(span.conversationId, (list = []));
    list.push(span);
  }
  const result = [];
  for (const event of events) {
    const entry = entryOf(event, referents);
    if (!entry) continue;
    let recipientIds = [...new Set((spansOf.get(event.conversationId) ?? []).filter((s) => covers(s, event.id)).map((s) => s.userId))];
    // Events for a few of the members (their own counts or settings) are routed to those only.
    if (entry.kind === "read.recounted") recipientIds = recipientIds.filter((id) => Object.hasOwn(entry.reads, id));
    if (entry.kind === "conversation.updated" && entry.to) {
      const to = new Set(entry.to);
      recipientIds = recipientIds.filter((id) => to.has(id));
    }
    result.push({ entry, recipientIds });
  }
  return result;
}

/** The log as a hub reads it. */
export function feedLogOf(db: Database): FeedLog {
  return {
    latestId: () => db.messages.latestId(),
    async after(afterId, limit) {
      const events = await db.events.after(afterId, limit);
      // An event the bus did not bring is delivered late: its lag counts from its row's time.
      const committedAt = new Map(events.map((event) => [event.id.toString(), event.createdAt.getTime()]));
      const entries = (await entriesOf(db, events)).map((found) => ({ ...found, committedAt: committedAt.get(found.entry.id) }));
      return { entries, lastId: events.at(-1)?.id ?? afterId, rows: events.length };
    },
  };
}

/** One page of the events a user may receive after `afterId` (their memberships at each event). */
export async function eventsForUser(db: Database, userId: string, afterId: bigint, limit: number): Promise<{ entries: FeedEntry[]; lastId: bigint; rows: number }> {
  const events = await db.events.forUser(userId, afterId, limit);
  const referents = await referentsOf(db, events);
  const entries = events.flatMap((event) => entryOf(event, referents) ?? []);
  return { entries, lastId: events.at(-1)?.id ?? afterId, rows: events.length };
}
