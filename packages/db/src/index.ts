export { openDatabase, type Database, type DatabaseOptions, type PrismaClient } from "./client.js";
export { migrate, readMigrations, migrationsDir, type Migration, type MigrateResult } from "./migrate.js";
export { providerOf, sqlitePath, type Provider } from "./provider.js";
export { isUniqueViolation } from "./errors.js";
export {
  attachmentEntry,
  attachmentProblem,
  EVENT_ORDER_LOCK,
  type AttachmentProblem,
  type StoredAttachment,
  type StoredUpload,
  type InsertOutcome,
  type InsertResult,
  type MarkReadResult,
  type MessageStore,
  type NewMessage,
  type ReactOutcome,
  type ReactRequest,
  type ReactResult,
  type ReadOutcome,
  type ReadRequest,
  type StoredReaction,
  type StoredReadState,
} from "./message-store.js";
export { isCjkWord, searchWords, searchWordsAt, type MessageSearch, type SearchRequest } from "./message-search.js";
export { restoredLogStart, RESTORE_ID_STEP, type EventKind, type EventLog, type LogFloor, type LoggedEvent, type MembershipSpan, type NewEvent, type OrderedTransaction } from "./event-log.js";
export { messageSelect, type NewMessageRow, type StoredMessage } from "./message-columns.js";
export type { Prisma, User, Conversation, ConversationMember, Message, Session, RefreshToken, Event, Attachment } from "../generated/sqlite/client.js";
