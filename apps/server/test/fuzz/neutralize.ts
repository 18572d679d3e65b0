// The fuzzer sends valid tokens too, so that validation behind authentication is reached. An input
// that is valid *and* authorized would legitimately store something, so before sending, each such
// input is turned into its nearest harmless twin: a signup gets a taken name, a send reuses a
// stored clientMessageId, a group gets a member that does not exist. Validation still runs on
// every other field, and the counts check afterwards catches whatever this misses.
import { LONE_SURROGATES, objectOf, type Json } from "./arbitraries.js";
import { PASSWORD, type Account, type FuzzWorld } from "./world.js";

const USERNAME = /^[a-zA-Z0-9_.-]{3,32}$/;

/** Lengths in the input schemas (docs/api.md) are in characters: Unicode code points, as zod counts them, not UTF-16 units. */
export function codePoints(text: string): number {
  return [...text].length;
}

/** Text the server stores: no NUL (PostgreSQL cannot hold it) and no unpaired UTF-16 surrogate. */
export function isStorable(text: string): boolean {
  return !text.includes("\u0000") && !new RegExp(LONE_SURROGATES.source).test(text);
}

function isPlainObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function withField(input: { [key: string]: Json }, key: string, value: Json): Json {
  return objectOf([...Object.entries(input).filter(([k]) => k !== key), [key, value]]);
}

function wouldCreateConversation(world: FuzzWorld, caller: Account, input: { [key: string]: Json }): boolean {
  const ids = input.memberIds;
  if (!Array.isArray(ids) || ids.length > 1000) return false;
  const strings = ids.filter((id): id is string => typeof id === "string" && codePoints(id) >= 1 && codePoints(id) <= 64);
  if (strings.length !== ids.length) return false;
  const others = [...new Set(strings)].filter((id) => id !== caller.id);
  const known = new Set(world.users.map((u) => u.id));
  if (others.length === 0 || !others.every((id) => known.has(id))) return false;
  // One other member and no title is a direct conversation, and every pair of seed users has one already.
  const title = input.title;
  return others.length >= 2 || (typeof title === "string" && title.trim() !== "");
}

/** The input of one call to `path`, made harmless for `caller` (null: the token does not authenticate). */
export function neutralize(world: FuzzWorld, path: unknown, input: Json | undefined, caller: Account | null): Json | undefined {
  if (!isPlainObject(input)) return input;
  switch (path) {
    case "auth.signup": {
      const name = input.username;
      if (typeof name === "string" && USERNAME.test(name) && !world.takenUsernames.has(name.toLowerCase())) return withField(input, "username", "ALICE");
      return input;
    }
    case "auth.login":
      return input.password === PASSWORD ? withField(input, "password", `${PASSWORD}!`) : input;
    case "conversation.create":
      return caller && wouldCreateConversation(world, caller, input) ? withField(input, "memberIds", [...(input.memberIds as Json[]), "no-such-user"]) : input;
    case "message.send": {
      if (!caller) return input;
      const conversation = world.conversations.find((c) => c.id === input.conversationId);
      const clientMessageId = input.clientMessageId;
      const used = world.usedClientMessageIds.get(caller.id);
      const validId = typeof clientMessageId === "string" && codePoints(clientMessageId) >= 1 && codePoints(clientMessageId) <= 64;
      if (conversation?.memberIds.includes(caller.id) && validId && used) {
        return withField(input, "clientMessageId", used);
      }
      return input;
    }
    // Membership changes that would succeed are turned into ones that cannot: the seed's members stay.
    case "conversation.addMembers":
      return Array.isArray(input.userIds) ? withField(input, "userIds", [...input.userIds, "no-such-user"]) : input;
    case "conversation.removeMember":
      return withField(input, "userId", "no-such-member");
    // Changes to the seed's messages would change what later checks read: a message that cannot exist.
    case "message.edit":
    case "message.delete":
    case "message.react":
      return caller ? withField(input, "messageId", "9000000000000000000") : input;
    case "conversation.leave": {
      const conversation = world.conversations.find((c) => c.id === input.conversationId);
      return conversation && caller && conversation.memberIds.includes(caller.id) ? withField(input, "conversationId", "no-such-conversation") : input;
    }
    // alice is the deployment's admin: changes to users, invites and the signup mode that would
    // succeed name nobody, or set what is already set.
    case "admin.setAdmin":
    case "admin.deactivate":
    case "admin.reactivate":
      return withField(input, "userId", "no-such-user");
    case "admin.revokeInvite":
      return withField(input, "inviteId", "no-such-invite");
    case "admin.setSignupMode":
      return withField(input, "mode", "open");
    default:
      return input;
  }
}

/** Batched inputs are keyed by call index ({"0": ..., "1": ...}, or an array). */
export function neutralizeBatch(world: FuzzWorld, paths: string[], input: Json | undefined, caller: Account | null): Json | undefined {
  if (Array.isArray(input)) {
    const fixed = input.map((value, i) => neutralize(world, paths[i], value, caller) ?? null);
    return fixed.every((value, i) => value === input[i]) ? input : fixed;
  }
  if (!isPlainObject(input)) return input;
  const entries = Object.entries(input);
  const fixed = entries.map(([key, value]): [string, Json] => [key, neutralize(world, paths[Number(key)], value, caller) ?? null]);
  // Unchanged, the very same object: a deep-nesting marker must keep its identity (see toJsonText).
  return fixed.every(([, value], i) => value === entries[i]?.[1]) ? input : objectOf(fixed);
}
