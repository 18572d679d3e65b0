// What every procedure can reach. Built once per process by createServices() from what it is given
// (database, event bus, configuration, clock), so tests and other instances hand in their own;
// createContext() then adds the caller, once per HTTP request or once per WebSocket connection.
import type { Database } from "@parley/db";
import { defaultHashingLimits, PasswordHasher, type HashingLimits, type PasswordCost } from "./auth/passwords.js";
import { TokenService, type AccessClaims } from "./auth/tokens.js";
import { WindowCounter, type WindowLimit } from "./auth/rate-limit.js";
import { RevokedSessions } from "./auth/revoked-sessions.js";
import type { EventBus } from "./live/event-bus.js";
import { LiveHub } from "./live/live-hub.js";
import { MembershipCache } from "./domain/memberships.js";
import { MessageWriter } from "./domain/message-writer.js";
import { messageLogOf } from "./domain/messages.js";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ApiConfig {
  jwtSecret: string | Buffer;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  passwordCost: PasswordCost;
  /** How much argon2 work runs at once, and how much may wait. */
  hashing: HashingLimits;
  limits: {
    /** Failed logins per account before TOO_MANY_REQUESTS. */
    loginFailuresPerAccount: WindowLimit;
    /** Failed logins per client address. */
    loginFailuresPerAddress: WindowLimit;
    /** Messages per user. */
    messagesPerUser: WindowLimit;
    // -- conversation creation (issue 10, finding 4) --
    /** Conversations a user creates (a direct conversation that already existed does not count). */
    conversationsPerUser: WindowLimit;
    /** Members a user puts into the conversations they create, the creator not counted. */
    conversationMembersPerUser: WindowLimit;
    // -- end conversation creation --
  };
}

export const defaultApiConfig: Omit<ApiConfig, "jwtSecret"> = {
  accessTtlSeconds: 30 * 60,
  refreshTtlSeconds: 7 * 24 * 60 * 60,
  passwordCost: { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
  hashing: defaultHashingLimits,
  limits: {
    loginFailuresPerAccount: { max: 10, windowSeconds: 15 * 60 },
    loginFailuresPerAddress: { max: 100, windowSeconds: 15 * 60 },
    // A fast typist sends a few a second; pasting many lines sends a burst.
    messagesPerUser: { max: 120, windowSeconds: 10 },
    // -- conversation creation (issue 10, finding 4) --
    // A person starts a few conversations a day; a burst of 30 covers setting up a team. The member
    // budget allows two groups of the largest size (MAX_MEMBER_IDS) an hour.
    conversationsPerUser: { max: 30, windowSeconds: 10 * 60 },
    conversationMembersPerUser: { max: 2_000, windowSeconds: 60 * 60 },
    // -- end conversation creation --
  },
};

export interface ApiDeps {
  db: Database;
  bus: EventBus;
  config: ApiConfig;
  clock?: Clock;
  /** Told about failures that no caller sees (a publish that failed after a message was stored). */
  onBackgroundError?: (error: unknown, what: string) => void;
}

export interface Services {
  db: Database;
  bus: EventBus;
  config: ApiConfig;
  clock: Clock;
  tokens: TokenService;
  passwords: PasswordHasher;
  hub: LiveHub;
  memberships: MembershipCache;
  revokedSessions: RevokedSessions;
  writer: MessageWriter;
  loginFailuresByAccount: WindowCounter;
  loginFailuresByAddress: WindowCounter;
  messagesByUser: WindowCounter;
  // -- conversation creation (issue 10, finding 4) --
  conversationsByUser: WindowCounter;
  conversationMembersByUser: WindowCounter;
  // -- end conversation creation --
  close(): void;
}

export async function createServices({ db, bus, config, clock = systemClock, onBackgroundError = () => undefined }: ApiDeps): Promise<Services> {
  const revokedSessions = new RevokedSessions(bus, clock);
  await revokedSessions.loadRecent(db.prisma, config.accessTtlSeconds);
  const memberships = new MembershipCache(db.prisma);
  const hub = new LiveHub(bus, messageLogOf({ db, memberships }), (error) => onBackgroundError(error, "live catch-up"));
  await hub.start();
  return {
    db,
    bus,
    config,
    clock,
    tokens: new TokenService({ ...config, secret: config.jwtSecret }, clock),
    passwords: new PasswordHasher(config.passwordCost, config.hashing),
    hub,
    memberships,
    revokedSessions,
    writer: new MessageWriter(db, bus, (error) => {
      onBackgroundError(error, "publish");
      // This instance's own subscribers need not wait for the bus to come back.
      void hub.catchUp();
    }),
    loginFailuresByAccount: new WindowCounter(config.limits.loginFailuresPerAccount, clock),
    loginFailuresByAddress: new WindowCounter(config.limits.loginFailuresPerAddress, clock),
    messagesByUser: new WindowCounter(config.limits.messagesPerUser, clock),
    // -- conversation creation (issue 10, finding 4) --
    conversationsByUser: new WindowCounter(config.limits.conversationsPerUser, clock),
    conversationMembersByUser: new WindowCounter(config.limits.conversationMembersPerUser, clock),
    // -- end conversation creation --
    close() {
      hub.close();
      revokedSessions.close();
    },
  };
}

export interface Context {
  services: Services;
  /** The verified access token of the caller, or null when none (or a bad one) was given. */
  auth: AccessClaims | null;
  /** The caller's network address, for per-address limits. */
  clientAddress: string;
}

/** Builds a context from a bearer token; the transport adapters call this, tests may too. */
export function createContext(services: Services, accessToken: string | null | undefined, clientAddress = "unknown"): Context {
  const auth = accessToken ? services.tokens.verifyAccess(accessToken) : null;
  return { services, auth, clientAddress };
}
