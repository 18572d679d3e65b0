// Typing and presence: live state that is never stored and never replayed. What a client receives
// (in the sync.events stream, without an event id) and what instances tell each other on the bus.
// It imports only the wire schemas, so the bus and both services can share it without a cycle.
import type { z } from "zod";
import type { presenceEventSchema, presenceStatusSchema, typingEventSchema } from "../schemas.js";

/** `{ type: "typing", conversationId, userId }`: clients show it for at most 6 s unless it comes again. */
export type TypingEvent = z.infer<typeof typingEventSchema>;
/** "online" | "away" | "offline" */
export type PresenceStatus = z.infer<typeof presenceStatusSchema>;
/** `{ type: "presence", userId, status }`: a user who shares a conversation with the receiver changed status (sent only on changes). */
export type PresenceEvent = z.infer<typeof presenceEventSchema>;
export type EphemeralEvent = TypingEvent | PresenceEvent;
/** Hands an ephemeral event to the live streams of these users on this instance (never stored). */
export type DeliverEphemeral = (userIds: Iterable<string>, event: EphemeralEvent) => void;

/** On the bus: a typing event passed the sender's throttle; every instance delivers it to `recipientIds`. */
export type TypingBusEvent = TypingEvent & {
  /** The other members when it was published (the typer is not among them). */
  recipientIds: string[];
  /** When it was sent (ms, the sender's clock): receivers throttle by it, so the network's jitter cannot drop one sent 2 s after the last. */
  at: number;
};

/**
 * The user said they are away (or active again). `at` orders statements: the sender's clock, or one
 * past the last statement it knew of the user if that is later, so a later statement always wins.
 */
export type PresenceStatement = { userId: string; away: boolean; at: number };

/** What one instance says on the bus about presence (live/presence.ts). */
export type PresenceChange =
  /** It started holding the user (an open WebSocket there), or stopped (the grace period after the last one closed has passed). */
  | { kind: "user"; userId: string; present: boolean }
  | ({ kind: "said" } & PresenceStatement)
  /** Every user it holds, and the statements it knows of them: its heartbeat, which replaces what the others knew of it. */
  | { kind: "snapshot"; users: string[]; statements: PresenceStatement[] }
  /** It is shutting down: its users expire after the grace period instead of when its heartbeat lapses. */
  | { kind: "stopped" };

/** On the bus: each instance keeps which instances hold each user, and the user's last statement. */
export type PresenceBusEvent = { type: "presence"; instanceId: string } & PresenceChange;
