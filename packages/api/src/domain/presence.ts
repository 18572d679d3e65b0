import type { Services } from "../context.js";
import { DomainError } from "../errors.js";
import type { PresenceStatus } from "../live/ephemeral.js";

/**
 * presence.set: the caller says they are active or away. Only a change counts against the caller's
 * limit (it costs a bus message and a lookup on every instance); repeating the current status, or
 * saying anything while no instance holds a connection of theirs, changes nothing and costs nothing.
 */
export async function setPresence(services: Services, userId: string, status: "active" | "away"): Promise<void> {
  const { presence, presenceChangesByUser } = services;
  if (!presence.wouldChange(userId, status)) return;
  const wait = await presenceChangesByUser.take(userId);
  if (wait > 0) throw new DomainError("rate_limited", `Too many presence changes. Try again in ${wait} seconds.`, wait);
  presence.say(userId, status);
}

/** user.presence: each named user's status, once each, in the order first named (an unknown id is offline). */
export function presenceOf(services: Services, userIds: readonly string[]): { userId: string; status: PresenceStatus }[] {
  return [...new Set(userIds)].map((userId) => ({ userId, status: services.presence.statusOf(userId) }));
}
