// @parley/client: what every Parley client shares, with no UI framework. Typed from AppRouter
// (types only: no server code is bundled). Runs in browsers and in Node 20+ (pass `ws`'s WebSocket).
export { createParleyClient, type ParleyClient, type ParleyClientOptions } from "./parley-client";

export { createApiClient, type ApiClient, type ApiClientOptions, type WebSocketClass } from "./transport/api-client";
export { authLink, tokenOf, type TokenSource } from "./transport/auth-link";
export { createPublicClient, type PublicClient } from "./transport/public-client";
export { TRPC_PATH, trpcHttpUrl, trpcWebSocketUrl } from "./transport/urls";

export { createSession, signInWithPassword, type CreateSessionOptions, type PasswordSignIn } from "./session/create-session";
export { browserTabs, inProcessLock, singleProcess, type LockRunner, type SessionChannel, type SessionCoordination, type SessionMessage } from "./session/coordination";
export { Session, type RefreshOutcome, type SessionDeps, type SessionState } from "./session/session";
export {
  browserSessionStore,
  localStorageStore,
  memorySessionStore,
  openIndexedDbStore,
  parseStoredSession,
  type SessionStore,
  type StoredSession,
} from "./session/store";

export { LiveStream, type EventHandlers, type FeedDelivery, type FeedObserver, type FeedSource, type LiveStreamDeps } from "./live/live-stream";
export { syncFeed } from "./live/sync-feed";

export { ChatStore, READ_PACE_MS, type ChatState, type ChatStoreDeps } from "./chat/chat-store";
export { applyReadEvent, fromList, type Conversations, type KnownConversation } from "./chat/read-state";
export { TYPING_SHOWN_MS, typingIn, type Typing } from "./chat/typing";
export { TYPING_REPORT_MS, TypingReporter, type TypingReporterDeps } from "./chat/typing-reporter";
export { ACTIVITY_SHARE_MS, AWAY_AFTER_MS, AwayReporter, type AwayReporterDeps, type PresenceStatement } from "./presence/away-reporter";
export { MemoryPresenceTabs, browserPresenceTabs, type PresenceTabs } from "./presence/presence-tabs";
export { applyReceipt, readBy, type Receipts } from "./chat/receipts";
export { Sender, type SendInput, type SenderDeps, type SendOptions } from "./chat/sender";
export { formatBytes } from "./files/format-bytes";
export { DEFAULT_MAX_UPLOAD_BYTES, UploadError, describeUploadFailure, uploadFile, type UploadErrorKind, type UploadOptions, type UploadRequest } from "./files/upload";
export { MAX_FILES_PER_MESSAGE, UploadQueue, type PendingUpload, type PendingUploadStatus, type UploadQueueDeps } from "./files/upload-queue";
export { FileUrlCache, REFRESH_BEFORE_MS, RETRY_FAILED_MS, type FileUrlCacheDeps } from "./files/file-url-cache";
export { isWaiting, type Outbox, type OutboxEntry, type OutboxStatus, type StoredEntry } from "./chat/outbox";
export { memoryOutboxStorage, type OutboxStorage } from "./chat/outbox-storage";
export { browserOutboxStorage, type BrowserOutboxOptions } from "./chat/browser-outbox-storage";
export { buildTimeline, clientKey, compareIds, insertMessage, latestVersion, newer, type TimelineItem, type TimelineSources, type TimelineStatus } from "./chat/timeline";

export { backoffDelay, type BackoffOptions } from "./backoff";
export * from "./errors";
export { formatCount } from "./format-count";
export { decodeJwtClaims, type JwtClaims } from "./jwt";
export { MAX_REFRESH_LEAD_MS, REFRESH_LEAD_SHARE, isRefreshDue, refreshAt, refreshDelay, tokenTiming, type TokenTiming } from "./refresh-schedule";
export * from "./validation";
export type { Attachment, Conversation, FeedEvent, FileUrl, Member, Message, PresenceStatus, Tokens, User, UserPresence } from "./types";
