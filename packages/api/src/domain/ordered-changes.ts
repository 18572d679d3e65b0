// Every stored change other than those of the message store's group-committed paths (new messages,
// read pointers, reactions: MessageWriter, ReadWriter, ReactionWriter) goes through commitInOrder():
// one transaction under the lock that orders the event log, then its events are published for
// every instance's hub.
import type { LoggedEvent, OrderedTransaction } from "@parley/db";
import type { Services } from "../context.js";
import { entriesOf } from "../live/feed-log.js";

/**
 * Runs `work` in one ordered transaction (it appends its events with `append`), then publishes
 * them, each linked to the event before it. Returns what `work` returned. A publish that fails
 * loses nothing: the change is stored, and hubs read it from the log.
 */
export async function commitInOrder<T>(services: Services, work: (t: OrderedTransaction) => Promise<T>): Promise<T> {
  const { result, events, prevId } = await services.db.events.inEventOrder(work);
  const committedAt = Date.now();
  services.metrics.eventsCommitted(events.length);
  if (events.length > 0) await publishLogged(services, events, prevId, committedAt);
  return result;
}

/** Publishes logged events as entries with their recipients (the members at each event); `committedAt`: when their transaction committed (ms since the epoch). */
export async function publishLogged(services: Services, events: readonly LoggedEvent[], prevId: bigint, committedAt: number): Promise<void> {
  const { bus, onPublishError } = services;
  let previous = prevId;
  try {
    const entries = await entriesOf(services.db, events);
    const byId = new Map(entries.map((e) => [e.entry.id, e]));
    const published: Promise<void>[] = [];
    for (const event of events) {
      const found = byId.get(event.id.toString());
      // An event with nothing left to deliver (its conversation already gone) is not published; the
      // next one then names an id no hub receives, and hubs read the gap from the log.
      if (found) published.push(bus.publish({ type: "entry", entry: found.entry, recipientIds: found.recipientIds, prevId: previous.toString(), committedAt }).catch(onPublishError));
      previous = event.id;
    }
    await Promise.all(published);
  } catch (error) {
    onPublishError(error);
  }
}
