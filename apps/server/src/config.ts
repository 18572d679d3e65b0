// The server's configuration: read from the environment once, validated, then passed down.
// This is the only module of the server that reads process.env.
import { randomBytes } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
const SIGNUP_MODES = ["open", "invite", "closed"] as const;
type SignupMode = (typeof SIGNUP_MODES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ServerConfig {
  port: number;
  host: string;
  /** Where the SQLite file and the generated JWT secret live by default. */
  dataDir: string;
  databaseUrl: string;
  /** Redis for fanning live events out across instances; null runs with the in-process bus. */
  redisUrl: string | null;
  /** The Redis pub/sub channel: instances of one deployment share it; deployments sharing a Redis must not. */
  redisChannel: string;
  /** HS256 key, at least 32 bytes. */
  jwtSecret: string;
  /** The built web app, served at `/`; null serves a plain placeholder page. */
  webDistDir: string | null;
  /** Browser origins allowed to call the API from another origin (CORS) and to open WebSockets. */
  corsOrigins: string[];
  /** Development: pages served from localhost may open WebSockets too (Vite's dev server). */
  allowLocalhostOrigins: boolean;
  /** PEM files: given both, the server speaks HTTPS and wss:// only. */
  tls: { certFile: string; keyFile: string } | null;
  logLevel: LogLevel;
  /** Which X-Forwarded-For entry is the client's address (behind reverse proxies); null ignores the header. */
  trustProxy: TrustProxy;
  /** How long shutdown waits for in-flight calls before closing anyway. */
  shutdownTimeoutMs: number;
  /** message.send calls per user per window; over it, TOO_MANY_REQUESTS. */
  messageRateLimit: { max: number; windowSeconds: number };
  /** Edits, deletes, reactions and notification levels one user may make per window. */
  messageChangeRateLimit: { max: number; windowSeconds: number };
  /** WebSocket frames a connection may send: a sustained rate and a burst. */
  wsFrameRate: { framesPerSecond: number; frameBurst: number };
  // Caps on live connections (see ws-guard.ts WsLimits and SECURITY.md).
  /** Per instance. maxConnections defaults to what the descriptor limit leaves after a reserve. */
  wsConnections: { maxConnections: number; maxConnectionsPerUser: number; maxConnectionsPerAddress: number; authTimeoutMs: number };
  /** Live subscriptions one connection may hold. */
  subscriptionsPerConnection: number;
  /** auth.signup attempts per client address, and across the deployment. */
  signupRateLimit: { perAddress: { max: number; windowSeconds: number }; overall: { max: number; windowSeconds: number } };
  /** ADMIN_USERNAME, SIGNUP_MODE (null: keep what admins chose) and AUDIT_RETENTION_DAYS. */
  admin: { adminUsername: string | null; signupMode: SignupMode | null; auditRetentionDays: number };
  /** Uploads: where they are kept (instances of one deployment share the folder), how large, how many, and when unattached ones go. */
  files: { dir: string; maxUploadBytes: number; uploadRateLimit: { max: number; windowSeconds: number }; unattachedTtlSeconds: number; sweepIntervalSeconds: number };
  /**
   * GET /metrics (Prometheus): off records nothing and answers 404. On, it answers loopback
   * callers that came through no proxy, and anyone presenting `token` as a bearer token.
   */
  metrics: { enabled: boolean; token: string | null };
}

/**
 * `hops`: that many proxies in front; the client is the entry the outermost one appended (counted
 * from the right). `proxies`: the proxies' addresses; the client is the right-most entry that is
 * not one of them. Either way, entries the client wrote itself (on the left) are never taken.
 */
export type TrustProxy = { hops: number } | { proxies: BlockList } | null;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const defaultWebDist = join(repoRoot, "apps/web/dist");

/**
 * "120/10s": at most `max` in any `windowSeconds`. Parsed into numbers here, once; the issue's
 * message follows the variable's name in the error loadConfig throws.
 */
function windowLimit(example: string, what: string, bounds: { max: number; windowSeconds: number }) {
  return z.string().transform((text, ctx) => {
    const match = /^([1-9]\d*)\/([1-9]\d*)s$/.exec(text);
    const max = Number(match?.[1]);
    const windowSeconds = Number(match?.[2]);
    if (!match || max > bounds.max || windowSeconds > bounds.windowSeconds) {
      ctx.addIssue({ code: "custom", message: `must look like "${example}" (${what}), at most ${bounds.max}/${bounds.windowSeconds}s` });
      return z.NEVER;
    }
    return { max, windowSeconds };
  });
}

/** "20/s,60": a sustained rate of frames per second, and a burst. */
const frameRate = z.string().transform((text, ctx) => {
  const match = /^([1-9]\d*)\/s,([1-9]\d*)$/.exec(text);
  const framesPerSecond = Number(match?.[1]);
  const frameBurst = Number(match?.[2]);
  if (!match || framesPerSecond > 999_999 || frameBurst > 9_999_999) {
    ctx.addIssue({ code: "custom", message: 'must look like "20/s,60" (frames per second, burst), at most 999999/s,9999999' });
    return z.NEVER;
  }
  return { framesPerSecond, frameBurst };
});

const DATABASE_URL_FORMS =
  "must be file:<path> (SQLite, e.g. file:./data/parley.db) or postgresql://user:password@host:5432/database (PostgreSQL; postgres:// also works)";

/**
 * DATABASE_URL, parsed as a URL so that a malformed one is refused at start-up, not at the first
 * query. The text is kept as given: a relative `file:` path is resolved against the working
 * directory later, which URL parsing would turn into an absolute one.
 */
const databaseUrlSchema = z.string().refine((text) => {
  const url = URL.parse(text);
  // startsWith: URL parsing forgives leading blanks and upper case, the code that reads the provider does not.
  if (!url || !text.startsWith(url.protocol)) return false;
  if (url.protocol === "file:") return text.slice("file:".length).split("?")[0] !== "";
  // The hierarchical form only: "postgresql:db" parses as a URL too, but names no server.
  return (url.protocol === "postgresql:" || url.protocol === "postgres:") && text.startsWith(`${url.protocol}//`);
}, DATABASE_URL_FORMS);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: databaseUrlSchema.optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional()
    .or(z.literal("")),
  REDIS_CHANNEL: z.string().min(1).max(200).default("parley:events"),
  JWT_SECRET: z.string().optional(),
  WEB_DIST_DIR: z.string().optional(),
  CORS_ORIGINS: z.string().optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  TRUST_PROXY: z.string().default("false"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MESSAGE_RATE_LIMIT: windowLimit("120/10s", "messages per seconds", { max: 9_999_999, windowSeconds: 99_999 }).prefault("120/10s"),
  MESSAGE_CHANGE_RATE_LIMIT: windowLimit("120/10s", "edits, deletes and reactions per seconds", { max: 9_999_999, windowSeconds: 99_999 }).prefault("120/10s"),
  WS_FRAME_RATE_LIMIT: frameRate.prefault("20/s,60"),
  // Caps on live connections and subscriptions, per instance.
  WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000_000).optional(),
  WS_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000_000).default(100),
  WS_AUTH_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(1_000).default(10),
  // Rate limits of auth.signup (see signupRateLimit).
  SIGNUP_RATE_LIMIT: windowLimit("10/3600s", "signups per address per seconds", { max: 9_999_999, windowSeconds: 9_999_999 }).prefault("10/3600s"),
  SIGNUP_RATE_LIMIT_TOTAL: windowLimit("60/60s", "signups per seconds, all addresses together", { max: 9_999_999, windowSeconds: 9_999_999 }).prefault(
    "60/60s",
  ),
  FILES_DIR: z.string().min(1).optional(),
  // The Attachment.size column is a 32-bit integer; a gigabyte is far beyond a chat's files anyway.
  MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).max(1024 * 1024 * 1024).default(25 * 1024 * 1024),
  UPLOAD_RATE_LIMIT: windowLimit("100/600s", "uploads per user per seconds", { max: 9_999_999, windowSeconds: 9_999_999 }).prefault("100/600s"),
  UNATTACHED_UPLOAD_TTL_SECONDS: z.coerce.number().int().min(60).max(365 * 24 * 60 * 60).default(24 * 60 * 60),
  FILE_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(10).max(7 * 24 * 60 * 60).default(60 * 60),
  METRICS: z.enum(["on", "off", "true", "false"], { message: "must be on or off" }).default("on"),
  METRICS_TOKEN: z.string().optional(),
  // The first admin (also made admin again at every start), the signup mode applied at start, and the audit log's retention.
  ADMIN_USERNAME: z
    .string()
    .default("")
    .refine((name) => name === "" || /^[a-zA-Z0-9_.-]{3,32}$/.test(name), "must be a username: 3 to 32 characters of a-z A-Z 0-9 _ . -")
    .transform((name) => name.toLowerCase()),
  SIGNUP_MODE: z
    .string()
    .default("")
    .refine((mode): mode is "" | SignupMode => mode === "" || (SIGNUP_MODES as readonly string[]).includes(mode), 'must be "open", "invite" or "closed"'),
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  NODE_ENV: z.string().optional(),
});

/** Where a deployment keeps what a backup holds (see backup/). */
export interface StoragePaths {
  dataDir: string;
  /** As the server uses it: a `file:` URL with an absolute path, or a PostgreSQL URL. */
  databaseUrl: string;
  filesDir: string;
  /** The generated secret's file; used only when JWT_SECRET is not set. */
  jwtSecretFile: string;
  /** JWT_SECRET is set: the secret lives with the operator, not in DATA_DIR. */
  jwtSecretFromEnv: boolean;
}

const storageSchema = envSchema.pick({ DATA_DIR: true, DATABASE_URL: true, FILES_DIR: true, JWT_SECRET: true });

function storageOf(e: z.infer<typeof storageSchema>, cwd: string): StoragePaths {
  const dataDir = resolve(cwd, e.DATA_DIR ?? "data");
  const databaseUrl = e.DATABASE_URL ?? `file:${join(dataDir, "parley.db")}`;
  return {
    dataDir,
    databaseUrl: databaseUrl.startsWith("file:") ? `file:${resolve(cwd, databaseUrl.slice(5))}` : databaseUrl,
    filesDir: e.FILES_DIR ? resolve(cwd, e.FILES_DIR) : join(dataDir, "files"),
    jwtSecretFile: join(dataDir, "jwt-secret"),
    jwtSecretFromEnv: e.JWT_SECRET !== undefined && e.JWT_SECRET !== "",
  };
}

/** The storage part of the configuration, read and validated without touching the disk (loadConfig creates the secret). */
export function loadStoragePaths(env: NodeJS.ProcessEnv = process.env, cwd = env.INIT_CWD ?? process.cwd()): StoragePaths {
  const parsed = storageSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return storageOf(parsed.data, cwd);
}

export interface LoadedConfig {
  config: ServerConfig;
  /** Things worth telling the operator at start-up. */
  warnings: string[];
}

/**
 * Reads and validates the environment; throws ConfigError with a message fit for the operator.
 * `overrides` (tests, embedders) take precedence over the environment; a given jwtSecret is used
 * as is, with no secret file generated and no warning about one.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = env.INIT_CWD ?? process.cwd(), overrides: Partial<ServerConfig> = {}): LoadedConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const warnings: string[] = [];
  const storage = storageOf(e, cwd);
  let jwtSecret = overrides.jwtSecret ?? e.JWT_SECRET;
  if (jwtSecret === undefined || jwtSecret === "") {
    jwtSecret = readOrCreateSecret(storage.jwtSecretFile);
    warnings.push(`JWT_SECRET is not set: using the generated secret in ${storage.jwtSecretFile}. Set JWT_SECRET when running more than one instance.`);
  } else if (Buffer.byteLength(jwtSecret) < 32) {
    throw new ConfigError("JWT_SECRET must be at least 32 bytes long (e.g. `openssl rand -base64 48`)");
  }
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  }
  const tls = e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: resolve(cwd, e.TLS_CERT_FILE), keyFile: resolve(cwd, e.TLS_KEY_FILE) } : null;
  for (const file of tls ? [tls.certFile, tls.keyFile] : []) {
    if (!existsSync(file)) throw new ConfigError(`TLS file not found: ${file}`);
  }
  const metricsToken = e.METRICS_TOKEN ? e.METRICS_TOKEN : null;
  if (metricsToken !== null && (metricsToken.length < 32 || !/^[\x21-\x7e]+$/.test(metricsToken))) {
    throw new ConfigError("METRICS_TOKEN must be at least 32 printable characters without spaces (e.g. `openssl rand -hex 32`)");
  }
  const webDistDir = e.WEB_DIST_DIR !== undefined ? (e.WEB_DIST_DIR === "" ? null : resolve(cwd, e.WEB_DIST_DIR)) : defaultWebDist;
  return {
    config: {
      port: e.PORT,
      host: e.HOST,
      dataDir: storage.dataDir,
      databaseUrl: storage.databaseUrl,
      redisUrl: e.REDIS_URL ? e.REDIS_URL : null,
      redisChannel: e.REDIS_CHANNEL,
      jwtSecret,
      webDistDir,
      corsOrigins: (e.CORS_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
      allowLocalhostOrigins: e.NODE_ENV !== "production",
      tls,
      logLevel: e.LOG_LEVEL,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      messageRateLimit: e.MESSAGE_RATE_LIMIT,
      messageChangeRateLimit: e.MESSAGE_CHANGE_RATE_LIMIT,
      wsFrameRate: e.WS_FRAME_RATE_LIMIT,
      wsConnections: {
        maxConnections: e.WS_MAX_CONNECTIONS ?? defaultMaxConnections(),
        maxConnectionsPerUser: e.WS_MAX_CONNECTIONS_PER_USER,
        maxConnectionsPerAddress: e.WS_MAX_CONNECTIONS_PER_ADDRESS,
        authTimeoutMs: e.WS_AUTH_TIMEOUT_MS,
      },
      subscriptionsPerConnection: e.WS_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      signupRateLimit: { perAddress: e.SIGNUP_RATE_LIMIT, overall: e.SIGNUP_RATE_LIMIT_TOTAL },
      admin: { adminUsername: e.ADMIN_USERNAME || null, signupMode: e.SIGNUP_MODE || null, auditRetentionDays: e.AUDIT_RETENTION_DAYS },
      files: {
        dir: storage.filesDir,
        maxUploadBytes: e.MAX_UPLOAD_BYTES,
        uploadRateLimit: e.UPLOAD_RATE_LIMIT,
        unattachedTtlSeconds: e.UNATTACHED_UPLOAD_TTL_SECONDS,
        sweepIntervalSeconds: e.FILE_SWEEP_INTERVAL_SECONDS,
      },
      metrics: { enabled: e.METRICS === "on" || e.METRICS === "true", token: metricsToken },
      ...overrides,
    },
    warnings,
  };
}

const TRUST_PROXY_HELP =
  'TRUST_PROXY must be false, true (one proxy in front), the number of proxies in front (1-20), or a comma-separated list of the proxies\' addresses or CIDR ranges (e.g. "10.0.0.0/8,192.168.1.5")';

/** "false"/"0": ignore X-Forwarded-For. "true" means one proxy, as "1" always did. */
function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === "false" || text === "0" || text === "") return null;
  if (text === "true") return { hops: 1 };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 20) throw new ConfigError(`Invalid configuration: ${TRUST_PROXY_HELP}`);
    return { hops };
  }
  const proxies = new BlockList();
  for (const entry of text.split(",").map((item) => item.trim())) {
    const [address = "", prefix, extra] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
    if (family === 0 || extra !== undefined || bits < 0 || bits > (family === 6 ? 128 : 32)) {
      throw new ConfigError(`Invalid configuration: TRUST_PROXY entry "${entry}" is not an address or CIDR range. ${TRUST_PROXY_HELP}`);
    }
    proxies.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
  }
  return { proxies };
}

/**
 * WebSocket connections that fit in the process's open-file limit (RLIMIT_NOFILE, read from
 * /proc/self/limits on Linux) after a reserve for HTTP requests, the database and /healthz: a
 * quarter of the limit, at least 64 and at most 1,024 descriptors. Elsewhere a fixed 1,000.
 */
export function defaultMaxConnections(limitsFile = "/proc/self/limits"): number {
  let limit: number | null = null;
  try {
    const line = readFileSync(limitsFile, "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    if (soft !== undefined && /^\d+$/.test(soft)) limit = Number(soft);
  } catch {
    // Not Linux: the fixed default below.
  }
  if (limit === null) return 1_000;
  const reserve = Math.min(1_024, Math.max(64, Math.floor(limit / 4)));
  return Math.max(16, limit - reserve);
}

function readOrCreateSecret(path: string): string {
  if (existsSync(path)) {
    const secret = readFileSync(path, "utf8").trim();
    if (Buffer.byteLength(secret) >= 32) return secret;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
