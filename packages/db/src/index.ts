export { openDatabase, type Database, type DatabaseOptions, type PrismaClient } from "./client.js";
export { migrate, readMigrations, migrationsDir, type Migration, type MigrateResult } from "./migrate.js";
export { providerOf, sqlitePath, type Provider } from "./provider.js";
export { isUniqueViolation } from "./errors.js";
export { MESSAGE_ORDER_LOCK, type InsertResult, type MessageStore } from "./message-store.js";
export { messageSelect, type NewMessageRow, type StoredMessage } from "./message-columns.js";
export type { Prisma, User, Conversation, ConversationMember, Message, Session, RefreshToken } from "../generated/sqlite/client.js";
