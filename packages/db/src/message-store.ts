// The queries that run about once per message or per delivery - storing a message (with its event
// and the read state it moves), reading a page of a conversation, moving read pointers and turning
// reactions on or off - written against the drivers directly, one implementation per provider.
// The three writes take batches (packages/api gathers them with group commit), each one
// transaction under the lock that orders the event log.
//
// Why not Prisma here: profiled under load (apps/bench, scenario 1) Prisma 6.19's per-query work
// (query compiler, argument mapping, re-preparing the statement on every call in the SQLite
// adapter) took about half of the server's CPU, most of it on these paths; read pointers and
// reactions, as many as deliveries when every receiver acts on every message (scenarios 8 and 9),
// followed for the same reason. Everything else stays on Prisma. Both implementations share the Prisma client's connection (SQLite) or pool
// (PostgreSQL), and are tested against the same expectations (test/message-store.test.ts).
import type BetterSqlite3 from "better-sqlite3";
import type pg from "pg";
import {
  fromPostgres,
  fromSqlite,
  NEW_MESSAGE_COLUMNS,
  POSTGRES_MESSAGE_COLUMNS,
  SQLITE_MESSAGE_COLUMNS,
  type NewMessageRow,
  type NewMessageValues,
  type PostgresMessageRow,
  type SqliteMessageRow,
  type StoredMessage,
} from "./message-columns.js";

/** A message to store: a sender's columns, and the names it mentions. */
export interface NewMessage extends NewMessageRow {
  /** Lower-case usernames written as `@name` in the content; those of members become `mentions`. */
  mentionNames?: readonly string[];
  /** Uploads to attach (Attachment ids), in the order shown; each must be the sender's, to the same conversation, not attached yet. */
  attachmentIds?: readonly string[];
}

/** An upload as the store reads it when a message names it. */
export interface StoredUpload {
  id: string;
  conversationId: string;
  uploaderId: string;
  messageId: bigint | null;
  name: string;
  size: number;
  contentType: string;
  width: number | null;
  height: number | null;
}

/** Why a message could not take one of its attachmentIds. */
export type AttachmentProblem = "not_found" | "not_yours" | "other_conversation" | "attached";

/** One entry of `Message.attachments` (JSON): what a client shows; width and height for images only. */
export interface StoredAttachment {
  id: string;
  name: string;
  size: number;
  contentType: string;
  width?: number;
  height?: number;
}

/** The JSON entry of an upload in its message's `attachments`. */
export function attachmentEntry(upload: Pick<StoredUpload, "id" | "name" | "size" | "contentType" | "width" | "height">): StoredAttachment {
  return {
    id: upload.id,
    name: upload.name,
    size: upload.size,
    contentType: upload.contentType,
    ...(upload.width !== null ? { width: upload.width } : {}),
    ...(upload.height !== null ? { height: upload.height } : {}),
  };
}

/** What became of one message of a batch. */
export type InsertOutcome =
  /** Stored now, with the conversation's members at that moment: the event's recipients. */
  | { status: "created"; message: StoredMessage; recipientIds: string[] }
  /** The sender's clientMessageId was stored already (a retry): the stored message. */
  | { status: "duplicate"; message: StoredMessage }
  /** The sender is not (or no longer) a member of the conversation: nothing was stored. */
  | { status: "not_member" }
  /** An attachment id names no upload, or one the message cannot take: nothing was stored. */
  | { status: "bad_attachment"; attachmentId: string; problem: AttachmentProblem };

export interface InsertResult {
  /** One entry per input, in input order. */
  results: InsertOutcome[];
  /** The newest event id in the database before this batch (0 when there is none). */
  prevId: bigint;
}

export interface MessageStore {
  /**
   * Stores the messages in one transaction, in order, under the lock that orders events (commit
   * order = id order). Each new message gets the next event id, its "message.created" event, and
   * moves read state: the sender's pointer to it, every other member's unread count (and mention
   * count when mentioned) up by one. Membership is checked inside the transaction, so a member
   * removed a moment ago can no longer write.
   */
  insert(messages: readonly NewMessage[]): Promise<InsertResult>;
  /**
   * Up to `limit` messages of a conversation's main list (not replies) with ids below `beforeId`
   * (all when null), newest first.
   */
  page(conversationId: string, beforeId: bigint | null, limit: number): Promise<StoredMessage[]>;
  /** Up to `limit` replies of the thread of root `threadId` with ids below `beforeId` (all when null), newest first. */
  threadPage(threadId: bigint, beforeId: bigint | null, limit: number): Promise<StoredMessage[]>;
  /** Up to `limit` messages of a conversation's main list with ids above `afterId`, oldest first: paging towards the newest. */
  pageAfter(conversationId: string, afterId: bigint, limit: number): Promise<StoredMessage[]>;
  /** Up to `limit` replies of the thread of root `threadId` with ids above `afterId`, oldest first. */
  threadPageAfter(threadId: bigint, afterId: bigint, limit: number): Promise<StoredMessage[]>;
  /** A member's read state as stored now, or null when they are not a member. */
  readState(conversationId: string, userId: string): Promise<StoredReadState | null>;
  /** The conversation a message belongs to (which never changes), or null when there is no such message. */
  conversationOf(messageId: bigint): Promise<string | null>;
  /** The newest event id, 0 when there is none. */
  latestId(): Promise<bigint>;
  /**
   * Moves read pointers forward, in one transaction under the order lock: each request whose
   * message is ahead of the member's pointer moves it there, counts what is left unread after it
   * (and what of that mentions them), and writes one "read.updated" event; one behind or at the
   * pointer changes nothing. Requests of the same member and conversation in one batch collapse into
   * the furthest.
   */
  markRead(requests: readonly ReadRequest[]): Promise<MarkReadResult>;
  /**
   * Turns reactions on or off, in one transaction under the order lock, each request in order as if
   * alone: the Reaction row (one per message, user and emoji) is written or removed, the message's
   * `reactions` aggregate rewritten, and each change gets the next event id and a "message.updated"
   * event with the actor as `userId`. A request that changes nothing (already on, already off)
   * writes nothing. Membership is checked inside the transaction. `maxEmoji` is how many different
   * emoji one message may have (packages/api's MAX_REACTIONS_PER_MESSAGE).
   */
  react(requests: readonly ReactRequest[], maxEmoji: number): Promise<ReactResult>;
}

export interface ReadRequest {
  conversationId: string;
  userId: string;
  messageId: bigint;
}

/** A member's read state as stored. */
export interface StoredReadState {
  lastReadMessageId: bigint | null;
  unreadCount: number;
  mentionCount: number;
}

export type ReadOutcome =
  /** The pointer moved: the event written (its id) and the members then, its recipients. */
  | { status: "moved"; state: StoredReadState; eventId: bigint; recipientIds: string[] }
  /** Already at or past the message: the state as it is. */
  | { status: "unchanged"; state: StoredReadState }
  /** Not (or no longer) a member. */
  | { status: "not_member" };

export interface MarkReadResult {
  /** One entry per request, in request order. */
  results: ReadOutcome[];
  /** The newest event id before this batch. */
  prevId: bigint;
}

/** The JSON a read.updated event keeps: the reader's state after it (ids as strings). */
export function readEventData(state: StoredReadState): string {
  return JSON.stringify({ lastReadMessageId: state.lastReadMessageId?.toString() ?? null, unreadCount: state.unreadCount, mentionCount: state.mentionCount });
}

/** The furthest request per member and conversation, in the order first asked. */
function furthestReads(requests: readonly ReadRequest[]): Map<string, ReadRequest> {
  const furthest = new Map<string, ReadRequest>();
  for (const r of requests) {
    const key = `${r.conversationId}\u0000${r.userId}`;
    const seen = furthest.get(key);
    if (!seen || seen.messageId < r.messageId) furthest.set(key, r);
  }
  return furthest;
}
const readKey = (r: { conversationId: string; userId: string }) => `${r.conversationId}\u0000${r.userId}`;

/** One person's reaction with one emoji to a message: `on` adds it, otherwise it is taken back. */
export interface ReactRequest {
  messageId: bigint;
  userId: string;
  emoji: string;
  on: boolean;
}

export type ReactOutcome =
  /** Changed now: the message as stored right after this change, its event, and the members then (its recipients). */
  | { status: "changed"; message: StoredMessage; eventId: bigint; recipientIds: string[] }
  /** Already on (or already off): the message as it is; nothing was written. */
  | { status: "unchanged"; message: StoredMessage }
  /** Not (or no longer) a member of the message's conversation. */
  | { status: "not_member" }
  | { status: "not_found" }
  /** The message is a tombstone: it takes no reactions. */
  | { status: "deleted" }
  /** The emoji is new to the message, which has `maxEmoji` different ones already. */
  | { status: "too_many" };

export interface ReactResult {
  /** One entry per request, in request order; changes have increasing event ids in that order. */
  results: ReactOutcome[];
  /** The newest event id before this batch. */
  prevId: bigint;
}

/** One emoji of `Message.reactions` (JSON): who reacted with it, in the order they did. */
export interface StoredReaction {
  emoji: string;
  count: number;
  userIds: string[];
}

/** A Reaction row's key. */
export interface ReactionKey {
  messageId: bigint;
  userId: string;
  emoji: string;
}

/** What planReactions needs to read; each is asked at most once per batch and key. */
export interface ReactionLookup {
  message(id: bigint): StoredMessage | undefined;
  memberIds(conversationId: string): readonly string[];
  /** Whether the Reaction row exists (as committed before the batch). */
  reacted(key: ReactionKey): boolean;
}

/** The writes of a batch of reactions; rows and messages as they are after the whole batch. */
export interface ReactionPlan {
  results: ReactOutcome[];
  /** Reaction rows to insert, and to delete: disjoint, so one statement can do both. */
  added: ReactionKey[];
  removed: ReactionKey[];
  /** The new `reactions` of each changed message. */
  messages: { id: bigint; reactions: string }[];
  /** The "message.updated" events, in id order. */
  events: { id: bigint; conversationId: string; messageId: bigint; userId: string }[];
}

/**
 * Decides a batch of reactions - the same for both providers, so only the statements differ. The
 * requests are applied one after another to the batch's own copy of each message and of each
 * Reaction row, so a later request sees the earlier ones (two people reacting to one message both
 * land; on then off ends off); only the difference each row and message ends with is written.
 */
export function planReactions(requests: readonly ReactRequest[], prevId: bigint, lookup: ReactionLookup, maxEmoji: number): ReactionPlan {
  let nextId = prevId;
  const messages = new Map<bigint, { stored: StoredMessage; reactions: StoredReaction[]; changed: boolean } | null>();
  const members = new Map<string, readonly string[]>();
  const rows = new Map<string, { key: ReactionKey; before: boolean; after: boolean }>();
  const events: ReactionPlan["events"] = [];
  const results = requests.map((r): ReactOutcome => {
    let message = messages.get(r.messageId);
    if (message === undefined) {
      const stored = lookup.message(r.messageId);
      message = stored ? { stored, reactions: JSON.parse(stored.reactions) as StoredReaction[], changed: false } : null;
      messages.set(r.messageId, message);
    }
    if (!message) return { status: "not_found" };
    const { conversationId } = message.stored;
    let memberIds = members.get(conversationId);
    if (!memberIds) members.set(conversationId, (memberIds = lookup.memberIds(conversationId)));
    if (!memberIds.includes(r.userId)) return { status: "not_member" };
    if (message.stored.deletedAt !== null) return { status: "deleted" };
    const rowKey = `${r.messageId}\u0000${r.userId}\u0000${r.emoji}`;
    let row = rows.get(rowKey);
    if (!row) {
      const key = { messageId: r.messageId, userId: r.userId, emoji: r.emoji };
      const exists = lookup.reacted(key);
      rows.set(rowKey, (row = { key, before: exists, after: exists }));
    }
    // Idempotent: on when on, off when off.
    if (row.after === r.on) return { status: "unchanged", message: message.stored };
    if (r.on) {
      const same = message.reactions.find((x) => x.emoji === r.emoji);
      if (!same && message.reactions.length >= maxEmoji) return { status: "too_many" };
      if (same) {
        same.userIds.push(r.userId);
        same.count = same.userIds.length;
      } else {
        message.reactions.push({ emoji: r.emoji, count: 1, userIds: [r.userId] });
      }
    } else {
      // An emoji nobody reacts with any more leaves the list.
      message.reactions = message.reactions
        .map((x) => (x.emoji === r.emoji ? { ...x, userIds: x.userIds.filter((u) => u !== r.userId) } : x))
        .map((x) => ({ ...x, count: x.userIds.length }))
        .filter((x) => x.count > 0);
    }
    row.after = r.on;
    // A new object per change: each outcome keeps the message as it was right after its own change.
    message.stored = { ...message.stored, reactions: JSON.stringify(message.reactions) };
    message.changed = true;
    nextId += 1n;
    events.push({ id: nextId, conversationId, messageId: r.messageId, userId: r.userId });
    return { status: "changed", message: message.stored, eventId: nextId, recipientIds: [...memberIds] };
  });
  const changedRows = [...rows.values()].filter((row) => row.before !== row.after);
  return {
    results,
    added: changedRows.filter((row) => row.after).map((row) => row.key),
    removed: changedRows.filter((row) => !row.after).map((row) => row.key),
    messages: [...messages.values()].flatMap((m) => (m?.changed ? [{ id: m.stored.id, reactions: m.stored.reactions }] : [])),
    events,
  };
}

/** What a new message's other columns hold: the database's defaults, which the INSERT leaves to it. */
export const NEW_MESSAGE_DEFAULTS = { editedAt: null, deletedAt: null, threadId: null, replyCount: 0, lastReplyAt: null, reactions: "[]", attachments: "[]" } as const satisfies Partial<StoredMessage>;

/** Key of the PostgreSQL advisory lock that orders events (and so messages) across instances. */
export const EVENT_ORDER_LOCK = 72_707_370;

interface Member {
  userId: string;
  username: string;
}

/**
 * Decides a batch: which messages are new, their ids (one after another from `prevId`), mentions
 * and recipients, and the read-state changes they make - the same for both providers, so only the
 * statements differ. `existing` holds messages already stored under a batch item's key.
 */
export function planBatch(
  messages: readonly NewMessage[],
  prevId: bigint,
  membersOf: (conversationId: string) => readonly Member[],
  existing: (senderId: string, clientMessageId: string) => StoredMessage | undefined,
  createdAt: Date,
  uploadOf: (id: string) => StoredUpload | undefined = () => undefined,
): { results: InsertOutcome[]; inserts: StoredMessage[]; reads: ReadChange[]; attached: AttachedUpload[] } {
  let nextId = prevId;
  const inserts: StoredMessage[] = [];
  const attached: AttachedUpload[] = [];
  // Claimed by an earlier message of this batch.
  const claimed = new Set<string>();
  const stored = new Map<string, StoredMessage>();
  const reads = new Map<string, ReadChange>();
  const readOf = (conversationId: string, userId: string): ReadChange => {
    const key = `${conversationId}\u0000${userId}`;
    let change = reads.get(key);
    if (!change) {
      change = { conversationId, userId, resetTo: null, unread: 0, mentions: 0 };
      reads.set(key, change);
    }
    return change;
  };
  const results = messages.map((m): InsertOutcome => {
    const key = `${m.senderId}\u0000${m.clientMessageId}`;
    const before = stored.get(key) ?? existing(m.senderId, m.clientMessageId);
    if (before) return { status: "duplicate", message: before };
    const members = membersOf(m.conversationId);
    if (!members.some((member) => member.userId === m.senderId)) return { status: "not_member" };
    const uploads: StoredUpload[] = [];
    for (const attachmentId of m.attachmentIds ?? []) {
      const upload = uploadOf(attachmentId);
      const problem = attachmentProblem(upload, m, claimed.has(attachmentId));
      if (problem !== null || !upload) return { status: "bad_attachment", attachmentId, problem: problem ?? "not_found" };
      uploads.push(upload);
    }
    const names = new Set(m.mentionNames ?? []);
    const mentions = names.size === 0 ? [] : members.filter((member) => names.has(member.username)).map((member) => member.userId);
    // In the order the names were written.
    if (mentions.length > 1) {
      const order = [...names];
      const nameOf = new Map(members.map((member) => [member.userId, member.username]));
      mentions.sort((a, b) => order.indexOf(nameOf.get(a) ?? "") - order.indexOf(nameOf.get(b) ?? ""));
    }
    nextId += 1n;
    const message: StoredMessage = {
      id: nextId,
      conversationId: m.conversationId,
      senderId: m.senderId,
      content: m.content,
      clientMessageId: m.clientMessageId,
      mentions: JSON.stringify(mentions),
      createdAt,
      ...NEW_MESSAGE_DEFAULTS,
      attachments: JSON.stringify(uploads.map(attachmentEntry)),
    };
    inserts.push(message);
    for (const upload of uploads) {
      claimed.add(upload.id);
      attached.push({ attachmentId: upload.id, messageId: message.id });
    }
    stored.set(key, message);
    for (const member of members) {
      const change = readOf(m.conversationId, member.userId);
      if (member.userId === m.senderId) {
        // Sending marks everything up to the sender's own message read.
        change.resetTo = message.id;
        change.unread = 0;
        change.mentions = 0;
      } else {
        change.unread += 1;
        if (mentions.includes(member.userId)) change.mentions += 1;
      }
    }
    return { status: "created", message, recipientIds: members.map((member) => member.userId) };
  });
  return { results, inserts, reads: [...reads.values()], attached };
}

/** An upload given to a new message of the batch. */
export interface AttachedUpload {
  attachmentId: string;
  messageId: bigint;
}

/** Whether a new message may take an upload: the sender's, to the same conversation, not attached (nor claimed earlier in the batch). */
export function attachmentProblem(upload: StoredUpload | undefined, message: Pick<NewMessage, "senderId" | "conversationId">, claimedInBatch: boolean): AttachmentProblem | null {
  if (!upload) return "not_found";
  if (upload.uploaderId !== message.senderId) return "not_yours";
  if (upload.conversationId !== message.conversationId) return "other_conversation";
  if (upload.messageId !== null || claimedInBatch) return "attached";
  return null;
}

/**
 * One member's read state after a batch: when `resetTo` is set the pointer moves there and the
 * counts become `unread`/`mentions`; otherwise the counts grow by them.
 */
export interface ReadChange {
  conversationId: string;
  userId: string;
  resetTo: bigint | null;
  unread: number;
  mentions: number;
}

const quoted = (name: string) => `"${name}"`;
/** The INSERT's columns: the event id, a sender's columns, mentions, attachments, then the time of storage. */
const INSERT_COLUMNS = ["id", ...NEW_MESSAGE_COLUMNS, "mentions", "attachments", "createdAt"].map(quoted).join(", ");

// ---------------------------------------------------------------------------------------------
// SQLite (better-sqlite3: synchronous, so a transaction here can never interleave with other work)

/** The upload columns planBatch reads. */
const UPLOAD_COLUMNS = ["id", "conversationId", "uploaderId", "messageId", "name", "size", "contentType", "width", "height"].map(quoted).join(", ");
/** An upload as better-sqlite3 returns it (safe integers: bigints). */
type SqliteUploadRow = Omit<StoredUpload, "messageId" | "size" | "width" | "height"> & { messageId: bigint | null; size: bigint; width: bigint | null; height: bigint | null };
const numberOrNull = (value: bigint | number | null) => (value === null ? null : Number(value));

/** How Prisma's SQLite adapter writes a DateTime (its default "iso8601" format); read back by both. */
const sqliteTimestamp = (date: Date) => date.toISOString().replace("Z", "+00:00");

/** How long an insert waits for a transaction Prisma has open on the shared connection to end. */
const SQLITE_TRANSACTION_WAIT_MS = 10_000;

export function sqliteMessageStore(client: BetterSqlite3.Database): MessageStore {
  // Prepared on first use: the database may not be migrated yet when it is opened.
  let prepared: ReturnType<typeof prepareSqlite> | null = null;
  const statements = () => (prepared ??= prepareSqlite(client));

  return {
    async insert(messages) {
      // A write now would join a transaction Prisma has open (and be rolled back with it).
      await waitForTransactionEnd(client);
      // IMMEDIATE: take the write lock at BEGIN, so the id read first is still the newest at the insert.
      return statements().insertAll.immediate(messages);
    },
    async page(conversationId, beforeId, limit) {
      const { pageFrom, pageBefore } = statements();
      const rows = beforeId === null ? pageFrom.all(conversationId, limit) : pageBefore.all(conversationId, beforeId, limit);
      return rows.map(fromSqlite);
    },
    async threadPage(threadId, beforeId, limit) {
      const { threadFrom, threadBefore } = statements();
      const rows = beforeId === null ? threadFrom.all(threadId, limit) : threadBefore.all(threadId, beforeId, limit);
      return rows.map(fromSqlite);
    },
    async pageAfter(conversationId, afterId, limit) {
      return statements().pageAfter.all(conversationId, afterId, limit).map(fromSqlite);
    },
    async threadPageAfter(threadId, afterId, limit) {
      return statements().threadAfter.all(threadId, afterId, limit).map(fromSqlite);
    },
    async conversationOf(messageId) {
      return statements().conversationOfMessage.get(messageId)?.conversationId ?? null;
    },
    async readState(conversationId, userId) {
      return statements().readStateNow(conversationId, userId);
    },
    async latestId() {
      return statements().latest();
    },
    async markRead(requests) {
      await waitForTransactionEnd(client);
      return statements().markAll.immediate(requests);
    },
    async react(requests, maxEmoji) {
      await waitForTransactionEnd(client);
      return statements().reactAll.immediate(requests, maxEmoji);
    },
  };
}

/** Prisma runs its own transactions on this connection with awaits between statements; a write now would join one. */
export async function waitForTransactionEnd(client: BetterSqlite3.Database): Promise<void> {
  const deadline = Date.now() + SQLITE_TRANSACTION_WAIT_MS;
  while (client.inTransaction) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a transaction on the SQLite connection");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function prepareSqlite(client: BetterSqlite3.Database) {
  const insertOne = client.prepare<[id: bigint, ...NewMessageValues, mentions: string, attachments: string, createdAt: string], SqliteMessageRow>(
    `INSERT INTO "Message" (${INSERT_COLUMNS}) VALUES (?, ${NEW_MESSAGE_COLUMNS.map(() => "?").join(", ")}, ?, ?, ?)`,
  );
  const uploadById = client.prepare<[string], SqliteUploadRow>(`SELECT ${UPLOAD_COLUMNS} FROM "Attachment" WHERE "id" = ?`);
  const attachUpload = client.prepare<[messageId: bigint, id: string]>(`UPDATE "Attachment" SET "messageId" = ? WHERE "id" = ?`);
  const insertEvent = client.prepare<[id: bigint, conversationId: string, messageId: bigint, createdAt: string]>(
    `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "createdAt") VALUES (?, 'message.created', ?, ?, ?)`,
  );
  const membersOf = client.prepare<[string], Member>(
    `SELECT cm."userId" AS "userId", u."username" AS "username" FROM "ConversationMember" cm JOIN "User" u ON u."id" = cm."userId" WHERE cm."conversationId" = ?`,
  );
  const readUpTo = client.prepare<[bigint, number, number, string, string]>(
    `UPDATE "ConversationMember" SET "lastReadMessageId" = ?, "unreadCount" = ?, "mentionCount" = ? WHERE "conversationId" = ? AND "userId" = ?`,
  );
  const addUnread = client.prepare<[number, number, string, string]>(
    `UPDATE "ConversationMember" SET "unreadCount" = "unreadCount" + ?, "mentionCount" = "mentionCount" + ? WHERE "conversationId" = ? AND "userId" = ?`,
  );
  const bySenderKey = client.prepare<[string, string], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "senderId" = ? AND "clientMessageId" = ?`);
  const newest = client.prepare<[], { id: bigint }>(`SELECT "id" FROM "Event" ORDER BY "id" DESC LIMIT 1`);
  const pageFrom = client.prepare<[string, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = ? AND "threadId" IS NULL ORDER BY "id" DESC LIMIT ?`,
  );
  const pageBefore = client.prepare<[string, bigint, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = ? AND "threadId" IS NULL AND "id" < ? ORDER BY "id" DESC LIMIT ?`,
  );
  const threadFrom = client.prepare<[bigint, number], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "threadId" = ? ORDER BY "id" DESC LIMIT ?`);
  const threadBefore = client.prepare<[bigint, bigint, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "threadId" = ? AND "id" < ? ORDER BY "id" DESC LIMIT ?`,
  );
  const pageAfter = client.prepare<[string, bigint, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = ? AND "threadId" IS NULL AND "id" > ? ORDER BY "id" ASC LIMIT ?`,
  );
  const threadAfter = client.prepare<[bigint, bigint, number], SqliteMessageRow>(
    `SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "threadId" = ? AND "id" > ? ORDER BY "id" ASC LIMIT ?`,
  );
  const latest = () => newest.get()?.id ?? 0n;
  const conversationOfMessage = client.prepare<[bigint], { conversationId: string }>(`SELECT "conversationId" FROM "Message" WHERE "id" = ?`);

  const insertAll = client.transaction((messages: readonly NewMessage[]): InsertResult => {
    const prevId = latest();
    const now = new Date();
    const createdAt = sqliteTimestamp(now);
    const members = new Map<string, Member[]>();
    const plan = planBatch(
      messages,
      prevId,
      (conversationId) => {
        let found = members.get(conversationId);
        if (!found) members.set(conversationId, (found = membersOf.all(conversationId)));
        return found;
      },
      (senderId, clientMessageId) => {
        const row = bySenderKey.get(senderId, clientMessageId);
        return row ? fromSqlite(row) : undefined;
      },
      now,
      (id) => {
        const row = uploadById.get(id);
        return row ? { ...row, messageId: row.messageId === null ? null : BigInt(row.messageId), size: Number(row.size), width: numberOrNull(row.width), height: numberOrNull(row.height) } : undefined;
      },
    );
    for (const m of plan.inserts) {
      insertOne.run(m.id, m.conversationId, m.senderId, m.content, m.clientMessageId, m.mentions, m.attachments, createdAt);
      insertEvent.run(m.id, m.conversationId, m.id, createdAt);
    }
    for (const a of plan.attached) attachUpload.run(a.messageId, a.attachmentId);
    for (const r of plan.reads) {
      if (r.resetTo !== null) readUpTo.run(r.resetTo, r.unread, r.mentions, r.conversationId, r.userId);
      else addUnread.run(r.unread, r.mentions, r.conversationId, r.userId);
    }
    return { results: plan.results, prevId };
  });

  const readStateOf = client.prepare<[string, string], { lastReadMessageId: bigint | null; unreadCount: bigint; mentionCount: bigint }>(
    `SELECT "lastReadMessageId", "unreadCount", "mentionCount" FROM "ConversationMember" WHERE "conversationId" = ? AND "userId" = ?`,
  );
  const leftAfter = client.prepare<[string, string, bigint, string], { unread: bigint; mentions: bigint | null }>(
    `SELECT COUNT(*) AS "unread", SUM(CASE WHEN "mentions" LIKE ? THEN 1 ELSE 0 END) AS "mentions" FROM "Message" WHERE "conversationId" = ? AND "id" > ? AND "senderId" <> ? AND "deletedAt" IS NULL`,
  );
  const insertReadEvent = client.prepare<[id: bigint, conversationId: string, messageId: bigint, userId: string, data: string, createdAt: string]>(
    `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "userId", "data", "createdAt") VALUES (?, 'read.updated', ?, ?, ?, ?, ?)`,
  );
  const stateOf = (row: { lastReadMessageId: bigint | null; unreadCount: bigint; mentionCount: bigint }): StoredReadState => ({
    lastReadMessageId: row.lastReadMessageId,
    unreadCount: Number(row.unreadCount),
    mentionCount: Number(row.mentionCount),
  });
  const markAll = client.transaction((requests: readonly ReadRequest[]): MarkReadResult => {
    const prevId = latest();
    let nextId = prevId;
    const createdAt = sqliteTimestamp(new Date());
    const decided = new Map<string, ReadOutcome>();
    for (const [key, r] of furthestReads(requests)) {
      const row = readStateOf.get(r.conversationId, r.userId);
      if (!row) {
        decided.set(key, { status: "not_member" });
        continue;
      }
      if (row.lastReadMessageId !== null && row.lastReadMessageId >= r.messageId) {
        decided.set(key, { status: "unchanged", state: stateOf(row) });
        continue;
      }
      const left = leftAfter.get(`%"${r.userId}"%`, r.conversationId, r.messageId, r.userId);
      const state: StoredReadState = { lastReadMessageId: r.messageId, unreadCount: Number(left?.unread ?? 0), mentionCount: Number(left?.mentions ?? 0) };
      readUpTo.run(r.messageId, state.unreadCount, state.mentionCount, r.conversationId, r.userId);
      nextId += 1n;
      insertReadEvent.run(nextId, r.conversationId, r.messageId, r.userId, readEventData(state), createdAt);
      decided.set(key, { status: "moved", state, eventId: nextId, recipientIds: membersOf.all(r.conversationId).map((m) => m.userId) });
    }
    return { results: requests.map((r) => decided.get(readKey(r)) ?? { status: "not_member" }), prevId };
  });

  const messageById = client.prepare<[bigint], SqliteMessageRow>(`SELECT ${SQLITE_MESSAGE_COLUMNS} FROM "Message" WHERE "id" = ?`);
  const memberIdsOf = client.prepare<[string], string>(`SELECT "userId" FROM "ConversationMember" WHERE "conversationId" = ?`).pluck();
  const reactionExists = client.prepare<[bigint, string, string], number>(`SELECT 1 FROM "Reaction" WHERE "messageId" = ? AND "userId" = ? AND "emoji" = ?`).pluck();
  const insertReaction = client.prepare<[messageId: bigint, userId: string, emoji: string, createdAt: string]>(
    `INSERT INTO "Reaction" ("messageId", "userId", "emoji", "createdAt") VALUES (?, ?, ?, ?)`,
  );
  const deleteReaction = client.prepare<[messageId: bigint, userId: string, emoji: string]>(`DELETE FROM "Reaction" WHERE "messageId" = ? AND "userId" = ? AND "emoji" = ?`);
  const setReactions = client.prepare<[reactions: string, id: bigint]>(`UPDATE "Message" SET "reactions" = ? WHERE "id" = ?`);
  const insertUpdatedEvent = client.prepare<[id: bigint, conversationId: string, messageId: bigint, userId: string, createdAt: string]>(
    `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "userId", "createdAt") VALUES (?, 'message.updated', ?, ?, ?, ?)`,
  );
  const reactAll = client.transaction((requests: readonly ReactRequest[], maxEmoji: number): ReactResult => {
    const prevId = latest();
    const createdAt = sqliteTimestamp(new Date());
    const plan = planReactions(
      requests,
      prevId,
      {
        message: (id) => {
          const row = messageById.get(id);
          return row ? fromSqlite(row) : undefined;
        },
        memberIds: (conversationId) => memberIdsOf.all(conversationId),
        reacted: (key) => reactionExists.get(key.messageId, key.userId, key.emoji) !== undefined,
      },
      maxEmoji,
    );
    for (const key of plan.added) insertReaction.run(key.messageId, key.userId, key.emoji, createdAt);
    for (const key of plan.removed) deleteReaction.run(key.messageId, key.userId, key.emoji);
    for (const m of plan.messages) setReactions.run(m.reactions, m.id);
    for (const e of plan.events) insertUpdatedEvent.run(e.id, e.conversationId, e.messageId, e.userId, createdAt);
    return { results: plan.results, prevId };
  });
  const readStateNow = (conversationId: string, userId: string): StoredReadState | null => {
    const row = readStateOf.get(conversationId, userId);
    return row ? stateOf(row) : null;
  };
  return { insertAll, markAll, reactAll, pageFrom, pageBefore, threadFrom, threadBefore, pageAfter, threadAfter, latest, conversationOfMessage, readStateNow };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (pg: named statements are prepared once per connection)

const POSTGRES_WRITE =
  // One statement, one round trip: the messages, their events, the read state they move and the uploads they take.
  `WITH "m" AS (INSERT INTO "Message" (${INSERT_COLUMNS}) ` +
  `SELECT "id", ${NEW_MESSAGE_COLUMNS.map(quoted).join(", ")}, "mentions", "attachments", $7::timestamp(3) ` +
  `FROM unnest($1::bigint[], ${NEW_MESSAGE_COLUMNS.map((_, i) => `$${i + 2}::text[]`).join(", ")}, $6::text[], $13::text[]) ` +
  `AS m("id", ${NEW_MESSAGE_COLUMNS.map(quoted).join(", ")}, "mentions", "attachments") RETURNING 1), ` +
  `"e" AS (INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "createdAt") ` +
  `SELECT "id", 'message.created', "conversationId", "id", $7::timestamp(3) FROM unnest($1::bigint[], $2::text[]) AS e("id", "conversationId") RETURNING 1), ` +
  `"r" AS (UPDATE "ConversationMember" AS cm SET ` +
  `"lastReadMessageId" = COALESCE(r."resetTo", cm."lastReadMessageId"), ` +
  `"unreadCount" = CASE WHEN r."resetTo" IS NULL THEN cm."unreadCount" + r."unread" ELSE r."unread" END, ` +
  `"mentionCount" = CASE WHEN r."resetTo" IS NULL THEN cm."mentionCount" + r."mentions" ELSE r."mentions" END ` +
  `FROM unnest($8::text[], $9::text[], $10::bigint[], $11::int[], $12::int[]) AS r("conversationId", "userId", "resetTo", "unread", "mentions") ` +
  `WHERE cm."conversationId" = r."conversationId" AND cm."userId" = r."userId" RETURNING 1), ` +
  // The message rows exist once "m" is done: a CTE's foreign keys are checked at the end of the statement.
  `"a" AS (UPDATE "Attachment" AS a SET "messageId" = x."messageId" FROM unnest($14::text[], $15::bigint[]) AS x("id", "messageId") WHERE a."id" = x."id" RETURNING 1) ` +
  `SELECT (SELECT count(*) FROM "m") AS "messages"`;

if (NEW_MESSAGE_COLUMNS.length !== 4) throw new Error("POSTGRES_WRITE binds four sender columns ($2-$5)");

const keyOf = (m: { senderId: string; clientMessageId: string }) => `${m.senderId}\u0000${m.clientMessageId}`;

/**
 * The uploads a batch names (none read when no message has attachments: the common case costs no
 * round trip). Locked FOR UPDATE, so the sweep of unattached uploads waits for this transaction and
 * then finds them attached.
 */
async function uploadsNamed(client: pg.PoolClient, messages: readonly NewMessage[]): Promise<Map<string, StoredUpload>> {
  const ids = [...new Set(messages.flatMap((m) => m.attachmentIds ?? []))];
  if (ids.length === 0) return new Map();
  const result = await client.query<Omit<StoredUpload, "messageId"> & { messageId: string | null }>({
    name: "parley-uploads-named",
    text: `SELECT ${UPLOAD_COLUMNS.replace('"messageId"', '"messageId"::text AS "messageId"')} FROM "Attachment" WHERE "id" = ANY($1::text[]) FOR UPDATE`,
    values: [ids],
  });
  return new Map(result.rows.map((row) => [row.id, { ...row, messageId: row.messageId === null ? null : BigInt(row.messageId) }]));
}

/**
 * Opens a transaction on `client` under the lock that orders events and returns the newest event id
 * then (0 when there is none): begin, lock and read in one round trip.
 */
async function beginInEventOrder(client: pg.PoolClient): Promise<bigint> {
  const opened = (await client.query(
    `BEGIN; SELECT pg_advisory_xact_lock(${EVENT_ORDER_LOCK}); SELECT "id"::text AS "id" FROM "Event" ORDER BY "Event"."id" DESC LIMIT 1`,
  )) as unknown as pg.QueryResult<{ id: string }>[];
  return BigInt(opened[2]?.rows[0]?.id ?? "0");
}

export function postgresMessageStore(pool: pg.Pool): MessageStore {
  return {
    async insert(messages) {
      const client = await pool.connect();
      let failed = true;
      try {
        const prevId = await beginInEventOrder(client);
        const conversationIds = [...new Set(messages.map((m) => m.conversationId))];
        const [existing, members] = [
          await client.query<PostgresMessageRow>({
            name: "parley-message-by-sender-keys",
            text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE ("senderId", "clientMessageId") IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
            values: [messages.map((m) => m.senderId), messages.map((m) => m.clientMessageId)],
          }),
          await client.query<Member & { conversationId: string }>({
            name: "parley-members-of",
            text: `SELECT cm."conversationId", cm."userId", u."username" FROM "ConversationMember" cm JOIN "User" u ON u."id" = cm."userId" WHERE cm."conversationId" = ANY($1::text[])`,
            values: [conversationIds],
          }),
        ];
        const stored = new Map(existing.rows.map((row) => [keyOf(row), fromPostgres(row)]));
        const membersOf = new Map<string, Member[]>(conversationIds.map((id) => [id, []]));
        for (const { conversationId, userId, username } of members.rows) membersOf.get(conversationId)?.push({ userId, username });
        const uploads = await uploadsNamed(client, messages);
        const createdAt = new Date();
        const plan = planBatch(
          messages,
          prevId,
          (id) => membersOf.get(id) ?? [],
          (senderId, clientMessageId) => stored.get(keyOf({ senderId, clientMessageId })),
          createdAt,
          (id) => uploads.get(id),
        );
        if (plan.inserts.length > 0) {
          const column = <K extends keyof StoredMessage>(name: K) => plan.inserts.map((m) => m[name]);
          await client.query({
            name: "parley-message-write",
            text: POSTGRES_WRITE,
            values: [
              column("id").map(String),
              ...NEW_MESSAGE_COLUMNS.map((name) => column(name)),
              column("mentions"),
              createdAt.toISOString(),
              plan.reads.map((r) => r.conversationId),
              plan.reads.map((r) => r.userId),
              plan.reads.map((r) => (r.resetTo === null ? null : String(r.resetTo))),
              plan.reads.map((r) => r.unread),
              plan.reads.map((r) => r.mentions),
              column("attachments"),
              plan.attached.map((a) => a.attachmentId),
              plan.attached.map((a) => String(a.messageId)),
            ],
          });
        }
        await client.query("COMMIT");
        failed = false;
        return { results: plan.results, prevId };
      } finally {
        if (failed) await client.query("ROLLBACK").catch(() => undefined);
        // A connection that failed mid-transaction is not handed out again.
        client.release(failed);
      }
    },
    async page(conversationId, beforeId, limit) {
      const result =
        beforeId === null
          ? await pool.query<PostgresMessageRow>({
              name: "parley-message-page",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = $1 AND "threadId" IS NULL ORDER BY "Message"."id" DESC LIMIT $2`,
              values: [conversationId, limit],
            })
          : await pool.query<PostgresMessageRow>({
              name: "parley-message-page-before",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = $1 AND "threadId" IS NULL AND "Message"."id" < $2 ORDER BY "Message"."id" DESC LIMIT $3`,
              values: [conversationId, beforeId.toString(), limit],
            });
      return result.rows.map(fromPostgres);
    },
    async threadPage(threadId, beforeId, limit) {
      const result =
        beforeId === null
          ? await pool.query<PostgresMessageRow>({
              name: "parley-thread-page",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "Message"."threadId" = $1 ORDER BY "Message"."id" DESC LIMIT $2`,
              values: [threadId.toString(), limit],
            })
          : await pool.query<PostgresMessageRow>({
              name: "parley-thread-page-before",
              text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "Message"."threadId" = $1 AND "Message"."id" < $2 ORDER BY "Message"."id" DESC LIMIT $3`,
              values: [threadId.toString(), beforeId.toString(), limit],
            });
      return result.rows.map(fromPostgres);
    },
    async pageAfter(conversationId, afterId, limit) {
      const result = await pool.query<PostgresMessageRow>({
        name: "parley-message-page-after",
        text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "conversationId" = $1 AND "threadId" IS NULL AND "Message"."id" > $2 ORDER BY "Message"."id" ASC LIMIT $3`,
        values: [conversationId, afterId.toString(), limit],
      });
      return result.rows.map(fromPostgres);
    },
    async threadPageAfter(threadId, afterId, limit) {
      const result = await pool.query<PostgresMessageRow>({
        name: "parley-thread-page-after",
        text: `SELECT ${POSTGRES_MESSAGE_COLUMNS} FROM "Message" WHERE "Message"."threadId" = $1 AND "Message"."id" > $2 ORDER BY "Message"."id" ASC LIMIT $3`,
        values: [threadId.toString(), afterId.toString(), limit],
      });
      return result.rows.map(fromPostgres);
    },
    async readState(conversationId, userId) {
      const result = await pool.query<{ lastReadMessageId: string | null; unreadCount: number; mentionCount: number }>({
        name: "parley-read-state",
        text: `SELECT "lastReadMessageId"::text AS "lastReadMessageId", "unreadCount", "mentionCount" FROM "ConversationMember" WHERE "conversationId" = $1 AND "userId" = $2`,
        values: [conversationId, userId],
      });
      const row = result.rows[0];
      return row ? { lastReadMessageId: row.lastReadMessageId === null ? null : BigInt(row.lastReadMessageId), unreadCount: row.unreadCount, mentionCount: row.mentionCount } : null;
    },
    async conversationOf(messageId) {
      const result = await pool.query<{ conversationId: string }>({
        name: "parley-message-conversation",
        text: `SELECT "conversationId" FROM "Message" WHERE "Message"."id" = $1`,
        values: [messageId.toString()],
      });
      return result.rows[0]?.conversationId ?? null;
    },
    async latestId() {
      const result = await pool.query<{ id: string }>(`SELECT "id"::text AS "id" FROM "Event" ORDER BY "Event"."id" DESC LIMIT 1`);
      return BigInt(result.rows[0]?.id ?? "0");
    },
    async markRead(requests) {
      const client = await pool.connect();
      let failed = true;
      try {
        const prevId = await beginInEventOrder(client);
        const wanted = [...furthestReads(requests).values()];
        const column = <K extends keyof ReadRequest>(name: K) => wanted.map((r) => String(r[name]));
        // Each member's state, and what would be left unread after the requested message: one round trip.
        const current = await client.query<{ n: string; lastReadMessageId: string | null; unreadCount: number; mentionCount: number; unread: string; mentions: string }>({
          name: "parley-read-current",
          text:
            `SELECT r."n"::text AS "n", cm."lastReadMessageId"::text AS "lastReadMessageId", cm."unreadCount", cm."mentionCount", ` +
            `(SELECT count(*) FROM "Message" m WHERE m."conversationId" = r."c" AND m."id" > r."mid" AND m."senderId" <> r."u" AND m."deletedAt" IS NULL)::text AS "unread", ` +
            `(SELECT count(*) FROM "Message" m WHERE m."conversationId" = r."c" AND m."id" > r."mid" AND m."senderId" <> r."u" AND m."deletedAt" IS NULL AND m."mentions" LIKE '%"' || r."u" || '"%')::text AS "mentions" ` +
            `FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS r("c", "u", "mid", "n") ` +
            `JOIN "ConversationMember" cm ON cm."conversationId" = r."c" AND cm."userId" = r."u"`,
          values: [column("conversationId"), column("userId"), column("messageId")],
        });
        const rowOf = new Map(current.rows.map((row) => [Number(row.n) - 1, row]));
        const decided = new Map<string, ReadOutcome>();
        const moved: { r: ReadRequest; state: StoredReadState; eventId: bigint }[] = [];
        let nextId = prevId;
        wanted.forEach((r, i) => {
          const row = rowOf.get(i);
          if (!row) return void decided.set(readKey(r), { status: "not_member" });
          const pointer = row.lastReadMessageId === null ? null : BigInt(row.lastReadMessageId);
          if (pointer !== null && pointer >= r.messageId) {
            return void decided.set(readKey(r), { status: "unchanged", state: { lastReadMessageId: pointer, unreadCount: row.unreadCount, mentionCount: row.mentionCount } });
          }
          nextId += 1n;
          moved.push({ r, state: { lastReadMessageId: r.messageId, unreadCount: Number(row.unread), mentionCount: Number(row.mentions) }, eventId: nextId });
        });
        if (moved.length > 0) {
          const createdAt = new Date().toISOString();
          const [, members] = [
            await client.query({
              name: "parley-read-write",
              text:
                `WITH "w" AS (UPDATE "ConversationMember" AS cm SET "lastReadMessageId" = r."mid", "unreadCount" = r."unread", "mentionCount" = r."mentions" ` +
                `FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::int[]) AS r("c", "u", "mid", "unread", "mentions") ` +
                `WHERE cm."conversationId" = r."c" AND cm."userId" = r."u" RETURNING 1) ` +
                `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "userId", "data", "createdAt") ` +
                `SELECT e."id", 'read.updated', e."c", e."mid", e."u", e."data", $8::timestamp(3) FROM unnest($6::bigint[], $1::text[], $3::bigint[], $2::text[], $7::text[]) AS e("id", "c", "mid", "u", "data")`,
              values: [
                moved.map((m) => m.r.conversationId),
                moved.map((m) => m.r.userId),
                moved.map((m) => String(m.r.messageId)),
                moved.map((m) => m.state.unreadCount),
                moved.map((m) => m.state.mentionCount),
                moved.map((m) => String(m.eventId)),
                moved.map((m) => readEventData(m.state)),
                createdAt,
              ],
            }),
            await client.query<{ conversationId: string; userId: string }>({
              name: "parley-read-members",
              text: `SELECT "conversationId", "userId" FROM "ConversationMember" WHERE "conversationId" = ANY($1::text[])`,
              values: [[...new Set(moved.map((m) => m.r.conversationId))]],
            }),
          ];
          const recipientsOf = new Map<string, string[]>();
          for (const row of members.rows) {
            let list = recipientsOf.get(row.conversationId);
            if (!list) recipientsOf.set(row.conversationId, (list = []));
            list.push(row.userId);
          }
          for (const { r, state, eventId } of moved) decided.set(readKey(r), { status: "moved", state, eventId, recipientIds: recipientsOf.get(r.conversationId) ?? [] });
        }
        await client.query("COMMIT");
        failed = false;
        return { results: requests.map((r) => decided.get(readKey(r)) ?? { status: "not_member" }), prevId };
      } finally {
        if (failed) await client.query("ROLLBACK").catch(() => undefined);
        client.release(failed);
      }
    },
    async react(requests, maxEmoji) {
      const client = await pool.connect();
      let failed = true;
      try {
        const prevId = await beginInEventOrder(client);
        // Everything the plan reads, in one round trip: each message with its conversation's members
        // and the Reaction rows of it that the batch's users have.
        const current = await client.query<PostgresMessageRow & { memberIds: string[]; reacted: [userId: string, emoji: string][] }>({
          name: "parley-react-read",
          text:
            `SELECT ${POSTGRES_MESSAGE_COLUMNS}, ` +
            `ARRAY(SELECT cm."userId" FROM "ConversationMember" cm WHERE cm."conversationId" = "Message"."conversationId") AS "memberIds", ` +
            `(SELECT COALESCE(json_agg(json_build_array(r."userId", r."emoji")), '[]'::json) FROM "Reaction" r WHERE r."messageId" = "Message"."id" AND r."userId" = ANY($2::text[])) AS "reacted" ` +
            `FROM "Message" WHERE "Message"."id" = ANY($1::bigint[])`,
          values: [[...new Set(requests.map((r) => String(r.messageId)))], [...new Set(requests.map((r) => r.userId))]],
        });
        const messages = new Map<bigint, StoredMessage>();
        const membersOf = new Map<string, string[]>();
        const reacted = new Set<string>();
        const reactionKey = (k: ReactionKey) => `${k.messageId}\u0000${k.userId}\u0000${k.emoji}`;
        for (const { memberIds, reacted: rows, ...row } of current.rows) {
          const message = fromPostgres(row);
          messages.set(message.id, message);
          membersOf.set(message.conversationId, memberIds);
          for (const [userId, emoji] of rows) reacted.add(reactionKey({ messageId: message.id, userId, emoji }));
        }
        const plan = planReactions(
          requests,
          prevId,
          { message: (id) => messages.get(id), memberIds: (id) => membersOf.get(id) ?? [], reacted: (key) => reacted.has(reactionKey(key)) },
          maxEmoji,
        );
        if (plan.events.length > 0) {
          const createdAt = new Date().toISOString();
          const keys = (list: readonly ReactionKey[]) => [list.map((k) => String(k.messageId)), list.map((k) => k.userId), list.map((k) => k.emoji)];
          // One statement: the rows added and removed (disjoint), the aggregates, and the events.
          await client.query({
            name: "parley-react-write",
            text:
              `WITH "added" AS (INSERT INTO "Reaction" ("messageId", "userId", "emoji", "createdAt") ` +
              `SELECT a."m", a."u", a."e", $13::timestamp(3) FROM unnest($1::bigint[], $2::text[], $3::text[]) AS a("m", "u", "e") RETURNING 1), ` +
              `"removed" AS (DELETE FROM "Reaction" AS r USING unnest($4::bigint[], $5::text[], $6::text[]) AS d("m", "u", "e") ` +
              `WHERE r."messageId" = d."m" AND r."userId" = d."u" AND r."emoji" = d."e" RETURNING 1), ` +
              `"updated" AS (UPDATE "Message" AS m SET "reactions" = u."reactions" FROM unnest($7::bigint[], $8::text[]) AS u("id", "reactions") WHERE m."id" = u."id" RETURNING 1) ` +
              `INSERT INTO "Event" ("id", "kind", "conversationId", "messageId", "userId", "createdAt") ` +
              `SELECT e."id", 'message.updated', e."c", e."m", e."u", $13::timestamp(3) FROM unnest($9::bigint[], $10::text[], $11::bigint[], $12::text[]) AS e("id", "c", "m", "u")`,
            values: [
              ...keys(plan.added),
              ...keys(plan.removed),
              plan.messages.map((m) => String(m.id)),
              plan.messages.map((m) => m.reactions),
              plan.events.map((e) => String(e.id)),
              plan.events.map((e) => e.conversationId),
              plan.events.map((e) => String(e.messageId)),
              plan.events.map((e) => e.userId),
              createdAt,
            ],
          });
        }
        await client.query("COMMIT");
        failed = false;
        return { results: plan.results, prevId };
      } finally {
        if (failed) await client.query("ROLLBACK").catch(() => undefined);
        client.release(failed);
      }
    },
  };
}
