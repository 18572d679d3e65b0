export { appRouter, createCaller, type AppRouter } from "./root.js";
export {
  authenticatedUserId,
  createServices,
  createContext,
  defaultApiConfig,
  type ApiConfig,
  type ApiDeps,
  type Context,
  type Services,
} from "./context.js";
export { silentLogger, type Logger } from "./logger.js";
export { systemClock, type Clock } from "./clock.js";
export { InProcessEventBus, type EventBus, type ParleyEvent, type EventListener, type FeedEntryEvent } from "./live/event-bus.js";
export { viewFor, type FeedEntry, type SharedConversation } from "./live/feed.js";
export { RedisEventBus, type RedisBusOptions } from "./live/redis-bus.js";
export { MAX_CALLS_PER_BATCH } from "./limits.js";
export { frameHead, jsonOnce, trackedFrame, untrackedFrame, SENDS_OWN_FRAMES, type FrameSink } from "./live/ws-frames.js";
export { OWASP_MINIMUM, type PasswordCost } from "./auth/passwords.js";
// The wire shapes - zod schemas, their limits and the DTO types - are not re-exported here: import
// them from `@parley/api/schemas`, which imports nothing but zod (so a browser bundle may take values from it).
export { isStoredName, isUnfinishedWrite, LocalFileStore, type FileStore, type StoredFileEntry } from "./files/file-store.js";
export { defaultFilesConfig, type Download, type FilesConfig, type UploadRequest } from "./files/file-service.js";
export { contentDisposition } from "./files/file-names.js";
export { FILE_VARIANTS, FileUrlSigner, type FileVariant } from "./files/signed-urls.js";
export { DomainError, type DomainErrorKind } from "./errors.js";
export {
  metricsSnapshotSchema,
  noMetrics,
  RATE_LIMIT_KINDS,
  WRITERS,
  type Metrics,
  type MetricsSnapshot,
  type RateLimitKind,
  type WriterName,
} from "./metrics.js";
export { DATABASE_OPERATIONS } from "./timed-database.js";
