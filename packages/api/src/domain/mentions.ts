// `@username` mentions. The names are read here; which of them are members (and so mentioned) is
// decided where the message is stored, in the same transaction as the membership it depends on.
import { USERNAME_LENGTH } from "../limits.js";

// An @ that does not continue a word or an address (so "me@example.com" mentions no one), then a
// username's characters.
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]+)/gu;

/**
 * The lower-case usernames written as `@name`, in the order first written. A name followed by
 * sentence punctuation ("@bob.", "@bob-") is also tried without it, so both a user named "bob." and
 * one named "bob" can be meant; only members' names count.
 */
export function mentionedNames(content: string): string[] {
  const names = new Set<string>();
  for (const match of content.matchAll(MENTION)) {
    const written = (match[1] ?? "").toLowerCase();
    for (const name of [written, written.replace(/[.-]+$/, "")]) {
      if (name.length >= USERNAME_LENGTH.min && name.length <= USERNAME_LENGTH.max) names.add(name);
    }
  }
  return [...names];
}
