// What every procedure can reach. Built once per process by createServices() from what it is given
// (database, event bus, configuration, clock), so tests and other instances hand in their own;
// createContext() then adds the caller, once per HTTP request or once per WebSocket connection.
import type { Database } from "@parley/db";
import { defaultHashingLimits, PasswordHasher, type HashingLimits, type PasswordCost } from "./auth/passwords.js";
import { TokenService, type AccessClaims } from "./auth/tokens.js";
import { countingRefusals, MemoryLimiterStore, RedisLimiterStore, type Limiter, type LimiterStore, type WindowLimit } from "./auth/rate-limit.js";
import { RevokedSessions } from "./auth/revoked-sessions.js";
import type { EventBus } from "./live/event-bus.js";
import { LiveHub } from "./live/live-hub.js";
import { MembershipCache } from "./domain/memberships.js";
import { MessageWriter } from "./domain/message-writer.js";
import { ReactionWriter } from "./domain/reaction-writer.js";
import { ReadWriter } from "./domain/read-writer.js";
import { feedLogOf } from "./live/feed-log.js";
import { ConnectionResources } from "./live/connection-resources.js";
import type { DeliverEphemeral } from "./live/ephemeral.js";
import { defaultPresenceTimes, PresenceService, type PresenceTimes } from "./live/presence.js";
import { TypingService } from "./live/typing.js";
import { conversationIdsOf } from "./domain/user-conversations.js";
import { systemClock, type Clock } from "./clock.js";
import { silentLogger, type Logger } from "./logger.js";
import { startRetention } from "./live/retention.js";
import { defaultFilesConfig, FileService, type FilesConfig } from "./files/file-service.js";
import { noFileStore, type FileStore } from "./files/file-store.js";
import { startFileSweep } from "./files/sweep.js";
import { noMetrics, type Metrics, type RateLimitKind } from "./metrics.js";
import { timedDatabase } from "./timed-database.js";
import { AuditLog } from "./admin/audit.js";
import { defaultAdminConfig, prepareDeployment, type AdminConfig } from "./admin/settings.js";

export interface ApiConfig {
  jwtSecret: string | Buffer;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  passwordCost: PasswordCost;
  /** How much argon2 work runs at once, and how much may wait. */
  hashing: HashingLimits;
  limits: {
    /**
     * Failed logins of one account from one client address before that address is locked out of
     * that account. Other addresses (the owner's own) are not affected.
     */
    loginFailuresPerAccountAndAddress: WindowLimit;
    /**
     * Failed logins of one account from anywhere, against guessing spread over many addresses.
     * It does not lock out addresses the account recently logged in from.
     */
    loginFailuresPerAccount: WindowLimit;
    /** Failed logins per client address, whatever the account. */
    loginFailuresPerAddress: WindowLimit;
    /** How long an address the account logged in from counts as the owner's. */
    knownLoginAddressSeconds: number;
    /** Signup attempts per client address. */
    signupsPerAddress: WindowLimit;
    /** Signup attempts across the deployment. */
    signupsOverall: WindowLimit;
    /** Messages per user. */
    messagesPerUser: WindowLimit;
    /** Edits, deletes, reactions and notification settings per user (each one that changes something). */
    messageChangesPerUser: WindowLimit;
    /** Conversations a user creates (a direct conversation that already existed does not count). */
    conversationsPerUser: WindowLimit;
    /** Members a user puts into the conversations they create, the creator not counted. */
    conversationMembersPerUser: WindowLimit;
    /** Changes of status a user makes with presence.set (repeating the current one is free). */
    presenceChangesPerUser: WindowLimit;
    /** message.search calls per user. */
    searchesPerUser: WindowLimit;
    /** Files a user uploads (POST /files). */
    uploadsPerUser: WindowLimit;
  };
  /** Uploads: size, concurrency, pictures, and when unattached ones are swept. */
  files: FilesConfig;
  /** Live subscriptions one connection may hold at once (the web app opens one; v2 adds one more). */
  subscriptionsPerConnection: number;
  /** Days of events sync.events can resume from (the contract promises at least 7). */
  eventRetentionDays: number;
  /** Grace period, heartbeat and expiry of presence across instances (live/presence.ts). */
  presence: PresenceTimes;
  /** The first admin, the signup mode at start-up, and the audit log's retention (admin/settings.ts). */
  admin: AdminConfig;
}

export const defaultApiConfig: Omit<ApiConfig, "jwtSecret"> = {
  accessTtlSeconds: 30 * 60,
  refreshTtlSeconds: 7 * 24 * 60 * 60,
  passwordCost: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
  hashing: defaultHashingLimits,
  limits: {
    loginFailuresPerAccountAndAddress: { max: 10, windowSeconds: 15 * 60 },
    // OWASP ASVS: no more than 100 failed attempts per hour on one account.
    loginFailuresPerAccount: { max: 100, windowSeconds: 60 * 60 },
    loginFailuresPerAddress: { max: 100, windowSeconds: 15 * 60 },
    knownLoginAddressSeconds: 30 * 24 * 60 * 60,
    // A team signing up together behind one office NAT fits; a script making accounts does not.
    signupsPerAddress: { max: 10, windowSeconds: 60 * 60 },
    // About one argon2 hash a second at most, whatever the number of addresses.
    signupsOverall: { max: 60, windowSeconds: 60 },
    // A fast typist sends a few a second; pasting many lines sends a burst.
    messagesPerUser: { max: 120, windowSeconds: 10 },
    // Reacting with a few emoji in a row, fixing a typo twice: a burst; a script toggling one is not.
    messageChangesPerUser: { max: 120, windowSeconds: 10 },
    // A person starts a few conversations a day; a burst of 30 covers setting up a team. The member
    // budget allows two groups of the largest size (MAX_MEMBER_IDS) an hour.
    conversationsPerUser: { max: 30, windowSeconds: 10 * 60 },
    conversationMembersPerUser: { max: 2_000, windowSeconds: 60 * 60 },
    // A client says away when idle or hidden and active when back: a few a minute at most.
    presenceChangesPerUser: { max: 30, windowSeconds: 60 },
    // Searching as the user types is a few calls a second; a script sweeping the index is not.
    searchesPerUser: { max: 60, windowSeconds: 10 },
    // Dropping a folder of holiday photos is a burst of dozens; a script filling the disk is not.
    uploadsPerUser: { max: 100, windowSeconds: 10 * 60 },
  },
  files: defaultFilesConfig,
  subscriptionsPerConnection: 10,
  eventRetentionDays: 8,
  presence: defaultPresenceTimes,
  admin: defaultAdminConfig,
};

export interface ApiDeps {
  db: Database;
  bus: EventBus;
  config: ApiConfig;
  clock?: Clock;
  /** Where failures that no caller sees are logged (a publish that failed after a message was stored). */
  log?: Logger;
  /**
   * Shares the limits with every instance through Redis; without it they are per instance.
   * keyPrefix keeps deployments that share a Redis apart.
   */
  limitsRedis?: { url: string; keyPrefix: string } | null;
  /**
   * Where typing and presence events for this instance's users go. Until the sync.events stream
   * carries them the default drops them (tests hand in a recorder).
   */
  deliverEphemeral?: DeliverEphemeral;
  /** Where uploads are kept (apps/server: a folder under DATA_DIR). Without one, uploads fail and nothing is swept. */
  fileStore?: FileStore;
  /** What to record messages, deliveries, database time and refusals in (apps/server: Prometheus); by default nothing. */
  metrics?: Metrics;
}

export interface Services {
  /** The database, its stores timed when metrics are recorded. */
  db: Database;
  bus: EventBus;
  config: ApiConfig;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  tokens: TokenService;
  passwords: PasswordHasher;
  hub: LiveHub;
  memberships: MembershipCache;
  revokedSessions: RevokedSessions;
  writer: MessageWriter;
  /** conversation.markRead's pointer moves, group-committed like messages. */
  reads: ReadWriter;
  /** message.react's reactions, group-committed like messages. */
  reactions: ReactionWriter;
  /** Where a failed publish goes: logged, and this instance's hub reads the log at once. */
  onPublishError(error: unknown): void;
  typing: TypingService;
  /** The server calls connected/disconnected per authenticated WebSocket, and tick() every second. */
  presence: PresenceService;
  loginFailuresByAccountAndAddress: Limiter;
  loginFailuresByAccount: Limiter;
  loginFailuresByAddress: Limiter;
  /** Addresses each account logged in from (key: address|account); counted 1 while remembered. */
  knownLoginAddresses: Limiter;
  signupsByAddress: Limiter;
  signupsOverall: Limiter;
  messagesByUser: Limiter;
  messageChangesByUser: Limiter;
  conversationsByUser: Limiter;
  conversationMembersByUser: Limiter;
  presenceChangesByUser: Limiter;
  searchesByUser: Limiter;
  /** Uploads, download URLs, removal of a deleted message's files and the sweep. */
  files: FileService;
  /** Admin actions and security events (admin/audit.ts). */
  audit: AuditLog;
  close(): void;
}

export async function createServices({
  db: database,
  bus,
  config,
  clock = systemClock,
  log = silentLogger,
  limitsRedis,
  deliverEphemeral: deliverTo,
  fileStore,
  metrics = noMetrics,
}: ApiDeps): Promise<Services> {
  const db = metrics === noMetrics ? database : timedDatabase(database, metrics);
  const limiterStore = await createLimiterStore(limitsRedis, clock, log);
  // Each limit is its store's limiter under its kind's name, with its refusals counted.
  const limiter = (kind: RateLimitKind, limit: WindowLimit) => countingRefusals(limiterStore.limiter(kind, limit), () => metrics.rateLimited(kind));
  const { limits } = config;
  const audit = new AuditLog(db.prisma, clock, { retentionDays: config.admin.auditRetentionDays, countedRowsPerHour: config.admin.auditCountedRowsPerHour }, log);
  // First: ADMIN_USERNAME may reactivate its account, which the revoked sessions then do not hold.
  await prepareDeployment({ prisma: db.prisma, audit, clock }, config.admin);
  const revokedSessions = new RevokedSessions(bus, clock, (error) => log.warn({ err: error }, "revoked sessions not reloaded"));
  await revokedSessions.loadRecent(db.prisma, config.accessTtlSeconds);
  const auditRetention = audit.startRetention();
  const memberships = new MembershipCache(db.prisma);
  const hub = new LiveHub(
    bus,
    feedLogOf(db),
    (error) => log.warn({ err: error }, "live catch-up failed"),
    (entry) => {
      if (entry.kind === "conversation.updated") memberships.forget(entry.conversationId);
    },
  );
  await hub.start();
  const onPublishError = (error: unknown) => {
    log.warn({ err: error }, "publish failed");
    // This instance's own subscribers need not wait for the bus to come back.
    void hub.catchUp();
  };
  const retention = startRetention(db, config.eventRetentionDays, clock, log);
  // To this instance's sync.events streams, unless a test listens instead.
  const deliverEphemeral: DeliverEphemeral = deliverTo ?? ((userIds, event) => hub.deliverEphemeral(userIds, event));
  const typing = new TypingService({ bus, clock, deliver: deliverEphemeral, onError: (error) => log.warn({ err: error }, "typing publish failed") });
  const presence = new PresenceService({
    bus,
    clock,
    deliver: deliverEphemeral,
    membersOf: (conversationId) => memberships.get(conversationId),
    conversationIdsOf: (userId) => conversationIdsOf(db.prisma, userId),
    times: config.presence,
    onError: (error) => log.warn({ err: error }, "presence update failed"),
  });
  const files = new FileService({
    db,
    store: fileStore ?? noFileStore,
    memberships,
    clock,
    log,
    uploadsByUser: limiter("uploads-user", limits.uploadsPerUser),
    config: config.files,
    jwtSecret: config.jwtSecret,
  });
  const fileSweep = fileStore ? startFileSweep(files, config.files.sweepIntervalSeconds, log) : null;
  return {
    db,
    bus,
    config,
    clock,
    log,
    metrics,
    files,
    audit,
    tokens: new TokenService({ ...config, secret: config.jwtSecret }, clock),
    passwords: new PasswordHasher(config.passwordCost, config.hashing),
    hub,
    memberships,
    revokedSessions,
    writer: new MessageWriter(db, bus, onPublishError, metrics),
    reads: new ReadWriter(db, bus, onPublishError, metrics),
    reactions: new ReactionWriter(db, bus, onPublishError, metrics),
    onPublishError,
    typing,
    presence,
    // Failed logins are recorded, not taken: logIn counts its refusals itself.
    loginFailuresByAccountAndAddress: limiterStore.limiter("login-failures-account-address", limits.loginFailuresPerAccountAndAddress),
    loginFailuresByAccount: limiterStore.limiter("login-failures-account", limits.loginFailuresPerAccount),
    loginFailuresByAddress: limiterStore.limiter("login-failures-address", limits.loginFailuresPerAddress),
    // Long-lived: in memory, forget the oldest pairs beyond this many rather than grow for a month.
    knownLoginAddresses: limiterStore.limiter("login-known-address", { max: 1, windowSeconds: limits.knownLoginAddressSeconds }, { maxKeys: 100_000 }),
    signupsByAddress: limiter("signups-address", limits.signupsPerAddress),
    signupsOverall: limiter("signups-overall", limits.signupsOverall),
    messagesByUser: limiter("messages-user", limits.messagesPerUser),
    messageChangesByUser: limiter("message-changes-user", limits.messageChangesPerUser),
    conversationsByUser: limiter("conversations-user", limits.conversationsPerUser),
    conversationMembersByUser: limiter("conversation-members-user", limits.conversationMembersPerUser),
    presenceChangesByUser: limiter("presence-changes-user", limits.presenceChangesPerUser),
    searchesByUser: limiter("searches-user", limits.searchesPerUser),
    close() {
      retention.stop();
      auditRetention.stop();
      fileSweep?.stop();
      hub.close();
      typing.close();
      presence.close();
      revokedSessions.close();
      limiterStore.close();
    },
  };
}

/** Until the sync.events stream exists, nothing on an instance listens for typing and presence. */

const SHARED_LIMITS_FAILED = "shared rate limits failed (answering from this instance's memory)";

async function createLimiterStore(
  redis: ApiDeps["limitsRedis"],
  clock: Clock,
  log: Logger,
): Promise<LimiterStore> {
  if (!redis) return new MemoryLimiterStore(clock);
  let lastError = "";
  const store = new RedisLimiterStore({
    ...redis,
    onError: (error) => {
      // One report per distinct failure, not one per reconnect attempt.
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError) log.warn({ err: error }, SHARED_LIMITS_FAILED);
      lastError = message;
    },
    onReady: () => {
      lastError = "";
    },
  });
  await store.ready(5_000).catch((error: unknown) => log.warn({ err: error }, SHARED_LIMITS_FAILED));
  return store;
}

export interface Context {
  services: Services;
  /** The verified access token of the caller, or null when none (or a bad one) was given. */
  auth: AccessClaims | null;
  /** The caller's network address, for per-address limits. */
  clientAddress: string;
  /** What this connection holds: one per WebSocket connection, or per HTTP request. */
  connection: ConnectionResources;
  /** The services' logger bound to this request's or connection's id. */
  log: Logger;
}

/** Builds a context from a bearer token; the transport adapters call this, tests may too. */
export function createContext(services: Services, accessToken: string | null | undefined, clientAddress = "unknown", log: Logger = services.log): Context {
  const auth = accessToken ? services.tokens.verifyAccess(accessToken) : null;
  return { services, auth, clientAddress, connection: new ConnectionResources(services.config.subscriptionsPerConnection), log };
}

/** Whether verified claims are still good: unexpired, their session not revoked, their user not deactivated. */
export function isCurrentAccess(services: Services, auth: AccessClaims): boolean {
  const { revokedSessions } = services;
  return auth.expiresAt * 1000 > services.clock.now().getTime() && !revokedSessions.has(auth.sessionId) && !revokedSessions.isDeactivated(auth.userId);
}

/** The user a bearer token speaks for, by the rules of protectedProcedure; null for none. For HTTP routes outside tRPC (uploads). */
export function authenticatedUserId(services: Services, accessToken: string | null | undefined): string | null {
  const auth = accessToken ? services.tokens.verifyAccess(accessToken) : null;
  return auth && isCurrentAccess(services, auth) ? auth.userId : null;
}
