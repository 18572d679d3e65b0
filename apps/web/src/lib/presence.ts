// Presence in words, for the dot's text alternative and the direct conversation's subtitle.
import type { PresenceStatus } from "@parley/client";

const LABELS: Record<PresenceStatus, string> = { online: "Online", away: "Away", offline: "Offline" };

/** "Online", "Away" or "Offline"; null while the status is not known yet. */
export function presenceLabel(status: PresenceStatus | undefined): string | null {
  return status ? LABELS[status] : null;
}
