// The line that says who is typing in the open conversation.
import { displayName } from "./conversations";
import type { User } from "@parley/client";

/** From this many people on, the line names nobody. */
const SEVERAL = 3;

/**
 * "Lena is typing…", "Lena and Marco are typing…", "Several people are typing…", or null when
 * nobody is. `typists` are user ids in the order they started; the reader is never among them
 * (the store leaves them out). Someone not among the known members is "Someone".
 */
export function typingText(typists: readonly string[], members: ReadonlyMap<string, User>): string | null {
  if (typists.length === 0) return null;
  if (typists.length >= SEVERAL) return "Several people are typing…";
  const names = typists.map((id) => {
    const member = members.get(id);
    return member ? displayName(member) : "Someone";
  });
  return names.length === 1 ? `${names[0] as string} is typing…` : `${names[0] as string} and ${names[1] as string} are typing…`;
}
