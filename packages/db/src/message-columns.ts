// The one list of a message's columns that the code outside the Prisma schema keeps. Every other
// message type is derived from the Prisma model: add a field to `Message` in models.prisma,
// regenerate, and the compiler stops here until the column is listed, then at each decoder below
// whose row no longer matches the model.
import type { Message } from "../generated/sqlite/client.js";

/** A message as Parley reads it: every column of the model, with Prisma's types. */
export type StoredMessage = Message;

type TextColumn = { [K in keyof StoredMessage]: StoredMessage[K] extends string ? K : never }[keyof StoredMessage];

/**
 * The columns a sender provides, in the order the store's INSERT binds them; the database assigns
 * the rest. Text columns only: the PostgreSQL insert passes each as a text[].
 */
export const NEW_MESSAGE_COLUMNS = ["conversationId", "senderId", "content", "clientMessageId"] as const satisfies readonly TextColumn[];

export type NewMessageRow = Pick<StoredMessage, (typeof NEW_MESSAGE_COLUMNS)[number]>;
/** A new message's values as the SQLite INSERT binds them, in NEW_MESSAGE_COLUMNS order. */
export type NewMessageValues = TextValues<typeof NEW_MESSAGE_COLUMNS>;
type TextValues<Columns extends readonly unknown[]> = { -readonly [I in keyof Columns]: string };

/** How a driver must be asked for a value of type T so that nothing is lost on the way. */
type ColumnKind<T> = [NonNullable<T>] extends [bigint] ? "bigint" : [NonNullable<T>] extends [Date] ? "timestamp" : "plain";

/**
 * Every column of the model by kind. The kind is determined by the column's type (the compiler
 * accepts only the right one); the read expressions of both providers are derived from it.
 */
const MESSAGE_COLUMNS: { readonly [K in keyof StoredMessage]: ColumnKind<StoredMessage[K]> } = {
  id: "bigint",
  conversationId: "plain",
  senderId: "plain",
  content: "plain",
  clientMessageId: "plain",
  mentions: "plain",
  createdAt: "timestamp",
  editedAt: "timestamp",
  deletedAt: "timestamp",
  threadId: "bigint",
  replyCount: "plain",
  lastReplyAt: "timestamp",
  reactions: "plain",
  attachments: "plain",
};

const columnNames = Object.keys(MESSAGE_COLUMNS) as (keyof StoredMessage)[];

/** Prisma's select of every column: what `db.messages` returns, for queries that go through Prisma. */
export const messageSelect = Object.fromEntries(columnNames.map((name) => [name, true])) as { readonly [K in keyof StoredMessage]: true };

/** SQLite's column list: better-sqlite3 (safe integers) returns bigints, and timestamps as Prisma's ISO text. */
export const SQLITE_MESSAGE_COLUMNS = columnNames.map((name) => `"${name}"`).join(", ");

/**
 * PostgreSQL's column list. Ids travel as text (exact; pg would read a bigint as a string anyway) -
 * so ORDER BY must name the table's column, not this alias. Timestamps travel as ISO text (UTC):
 * the columns are timestamp(3) without a time zone, as Prisma writes them, which pg would read in
 * the process's local time zone.
 */
export const POSTGRES_MESSAGE_COLUMNS = columnNames
  .map((name) => {
    const kind = MESSAGE_COLUMNS[name];
    if (kind === "bigint") return `"${name}"::text AS "${name}"`;
    if (kind === "timestamp") return `to_char("${name}", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "${name}"`;
    return `"${name}"`;
  })
  .join(", ");

type SqliteValue<T> = T extends bigint ? bigint | number : T extends Date ? string : T extends boolean ? number : T;
type PostgresValue<T> = T extends bigint ? string : T extends Date ? string : T;
type Nullable<T, V> = null extends T ? V | null : V;
type SqliteColumn<T> = Nullable<T, SqliteValue<NonNullable<T>>>;
type PostgresColumn<T> = Nullable<T, PostgresValue<NonNullable<T>>>;

/** A message as better-sqlite3 returns it. */
export type SqliteMessageRow = { [K in keyof StoredMessage]: SqliteColumn<StoredMessage[K]> };
/** A message as pg returns it through POSTGRES_MESSAGE_COLUMNS. */
export type PostgresMessageRow = { [K in keyof StoredMessage]: PostgresColumn<StoredMessage[K]> };

// The decoder converts what the drivers cannot (both return timestamps as text and bigints as a
// number, bigint or text, so one conversion serves both); a new column whose row type differs from
// the model's (a timestamp, a bigint, a boolean) makes it fail to compile until it is converted.
const dateOrNull = (value: string | null) => (value === null ? null : new Date(value));

function fromDriverRow(row: SqliteMessageRow | PostgresMessageRow): StoredMessage {
  return {
    ...row,
    id: BigInt(row.id),
    createdAt: new Date(row.createdAt),
    editedAt: dateOrNull(row.editedAt),
    deletedAt: dateOrNull(row.deletedAt),
    threadId: row.threadId === null ? null : BigInt(row.threadId),
    replyCount: Number(row.replyCount),
    lastReplyAt: dateOrNull(row.lastReplyAt),
  };
}

/** A message from a better-sqlite3 row. */
export const fromSqlite: (row: SqliteMessageRow) => StoredMessage = fromDriverRow;
/** A message from a pg row read through POSTGRES_MESSAGE_COLUMNS. */
export const fromPostgres: (row: PostgresMessageRow) => StoredMessage = fromDriverRow;
