import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.js";

const dir = () => mkdtempSync(join(tmpdir(), "parley-config-"));

describe("configuration", () => {
  it("defaults to port 3000 and a SQLite file under ./data", () => {
    const cwd = dir();
    const { config } = loadConfig({ JWT_SECRET: "s".repeat(32) }, cwd);
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBe(`file:${join(cwd, "data", "parley.db")}`);
  });

  it("reads the message, message-change and WebSocket frame rate limits, with the documented defaults", () => {
    const defaults = loadConfig({ JWT_SECRET: "s".repeat(32) }, dir()).config;
    expect(defaults.messageRateLimit).toEqual({ max: 120, windowSeconds: 10 });
    expect(defaults.messageChangeRateLimit).toEqual({ max: 120, windowSeconds: 10 });
    expect(defaults.wsFrameRate).toEqual({ framesPerSecond: 20, frameBurst: 60 });
    const set = loadConfig(
      { JWT_SECRET: "s".repeat(32), MESSAGE_RATE_LIMIT: "5000/60s", MESSAGE_CHANGE_RATE_LIMIT: "30/5s", WS_FRAME_RATE_LIMIT: "400/s,1000" },
      dir(),
    ).config;
    expect(set.messageRateLimit).toEqual({ max: 5000, windowSeconds: 60 });
    expect(set.messageChangeRateLimit).toEqual({ max: 30, windowSeconds: 5 });
    expect(set.wsFrameRate).toEqual({ framesPerSecond: 400, frameBurst: 1000 });
  });

  it("keeps files under DATA_DIR/files with the documented upload limits, or where FILES_DIR says", () => {
    const cwd = dir();
    expect(loadConfig({ JWT_SECRET: "s".repeat(32), DATA_DIR: "state" }, cwd).config.files).toEqual({
      dir: join(cwd, "state", "files"),
      maxUploadBytes: 25 * 1024 * 1024,
      uploadRateLimit: { max: 100, windowSeconds: 600 },
      unattachedTtlSeconds: 86_400,
      sweepIntervalSeconds: 3_600,
    });
    const set = loadConfig(
      { JWT_SECRET: "s".repeat(32), FILES_DIR: "/srv/shared/parley-files", MAX_UPLOAD_BYTES: "1048576", UPLOAD_RATE_LIMIT: "10/60s", UNATTACHED_UPLOAD_TTL_SECONDS: "3600", FILE_SWEEP_INTERVAL_SECONDS: "600" },
      cwd,
    ).config.files;
    expect(set).toEqual({ dir: "/srv/shared/parley-files", maxUploadBytes: 1_048_576, uploadRateLimit: { max: 10, windowSeconds: 60 }, unattachedTtlSeconds: 3600, sweepIntervalSeconds: 600 });
    expect(() => loadConfig({ JWT_SECRET: "s".repeat(32), MAX_UPLOAD_BYTES: "2GB" }, cwd)).toThrow(/MAX_UPLOAD_BYTES/);
    expect(() => loadConfig({ JWT_SECRET: "s".repeat(32), MAX_UPLOAD_BYTES: String(2 ** 31) }, cwd)).toThrow(/MAX_UPLOAD_BYTES/);
  });

  it("reads the first admin, the signup mode at start and the audit log's retention, with the documented defaults", () => {
    expect(loadConfig({ JWT_SECRET: "s".repeat(32) }, dir()).config.admin).toEqual({ adminUsername: null, signupMode: null, auditRetentionDays: 90 });
    const set = loadConfig({ JWT_SECRET: "s".repeat(32), ADMIN_USERNAME: "Ann.Admin", SIGNUP_MODE: "invite", AUDIT_RETENTION_DAYS: "30" }, dir()).config;
    // Usernames are stored in lower case, so the name is compared that way.
    expect(set.admin).toEqual({ adminUsername: "ann.admin", signupMode: "invite", auditRetentionDays: 30 });
    expect(loadConfig({ JWT_SECRET: "s".repeat(32), ADMIN_USERNAME: "", SIGNUP_MODE: "" }, dir()).config.admin).toMatchObject({ adminUsername: null, signupMode: null });
    expect(() => loadConfig({ JWT_SECRET: "s".repeat(32), SIGNUP_MODE: "invite-only" }, dir())).toThrow(/SIGNUP_MODE: must be "open", "invite" or "closed"/);
    expect(() => loadConfig({ JWT_SECRET: "s".repeat(32), ADMIN_USERNAME: "no spaces" }, dir())).toThrow(/ADMIN_USERNAME: must be a username/);
    expect(() => loadConfig({ JWT_SECRET: "s".repeat(32), AUDIT_RETENTION_DAYS: "0" }, dir())).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  it("refuses a JWT_SECRET shorter than 32 bytes with a clear message", () => {
    expect(() => loadConfig({ JWT_SECRET: "too-short" }, dir())).toThrow(ConfigError);
    expect(() => loadConfig({ JWT_SECRET: "too-short" }, dir())).toThrow(/at least 32 bytes/);
  });

  it("without JWT_SECRET generates one in the data directory, warns, and reuses it next time", () => {
    const cwd = dir();
    const first = loadConfig({}, cwd);
    const file = join(cwd, "data", "jwt-secret");
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
    expect(first.warnings.join(" ")).toMatch(/JWT_SECRET is not set/);
    expect(Buffer.byteLength(first.config.jwtSecret)).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}, cwd).config.jwtSecret).toBe(first.config.jwtSecret);
    expect(readFileSync(file, "utf8").trim()).toBe(first.config.jwtSecret);
  });

  it.each([
    ["PORT", { PORT: "not-a-port" }],
    ["PORT", { PORT: "70000" }],
    ["LOG_LEVEL", { LOG_LEVEL: "loud" }],
    ["DATABASE_URL", { DATABASE_URL: "mysql://localhost/db" }],
    ["DATABASE_URL", { DATABASE_URL: "sqlite:./data/parley.db" }],
    ["DATABASE_URL", { DATABASE_URL: "file:" }],
    ["DATABASE_URL", { DATABASE_URL: "./data/parley.db" }],
    ["DATABASE_URL", { DATABASE_URL: "postgresql:parley" }],
    ["DATABASE_URL", { DATABASE_URL: "postgresql//db/parley" }],
    ["DATABASE_URL", { DATABASE_URL: " postgresql://db/parley" }],
    ["DATABASE_URL", { DATABASE_URL: "postgresql://u@db:99999/parley" }],
    ["DATABASE_URL", { DATABASE_URL: "" }],
    ["MESSAGE_RATE_LIMIT", { MESSAGE_RATE_LIMIT: "120" }],
    ["MESSAGE_RATE_LIMIT", { MESSAGE_RATE_LIMIT: "0/10s" }],
    ["MESSAGE_RATE_LIMIT", { MESSAGE_RATE_LIMIT: "120/10m" }],
    ["MESSAGE_RATE_LIMIT", { MESSAGE_RATE_LIMIT: "10000000/10s" }],
    ["MESSAGE_CHANGE_RATE_LIMIT", { MESSAGE_CHANGE_RATE_LIMIT: "120" }],
    ["MESSAGE_CHANGE_RATE_LIMIT", { MESSAGE_CHANGE_RATE_LIMIT: "0/10s" }],
    ["WS_FRAME_RATE_LIMIT", { WS_FRAME_RATE_LIMIT: "20/s" }],
    ["WS_FRAME_RATE_LIMIT", { WS_FRAME_RATE_LIMIT: "-1/s,60" }],
    ["WS_FRAME_RATE_LIMIT", { WS_FRAME_RATE_LIMIT: "20/s,10000000" }],
  ])("refuses an invalid %s, naming it", (name, env) => {
    const load = () => loadConfig({ JWT_SECRET: "s".repeat(32), ...env }, dir());
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });

  it("reads a PostgreSQL DATABASE_URL, CORS origins and the port", () => {
    const { config } = loadConfig(
      { JWT_SECRET: "s".repeat(32), DATABASE_URL: "postgresql://u@db/parley", CORS_ORIGINS: "https://a.test, https://b.test", PORT: "8080" },
      dir(),
    );
    expect(config).toMatchObject({ databaseUrl: "postgresql://u@db/parley", corsOrigins: ["https://a.test", "https://b.test"], port: 8080 });
  });

  it.each([
    ["a relative SQLite file", "file:./db/parley.db", "sqlite"],
    ["an absolute SQLite file", "file:/var/lib/parley/parley.db", "sqlite"],
    ["a postgresql:// URL", "postgresql://parley:s%40cret@db.internal:5432/parley?sslmode=require", "postgresql"],
    ["a postgres:// URL", "postgres://parley@db.internal/parley", "postgresql"],
  ])("accepts %s as DATABASE_URL", (_, url, provider) => {
    const cwd = dir();
    const { config } = loadConfig({ JWT_SECRET: "s".repeat(32), DATABASE_URL: url }, cwd);
    if (provider === "sqlite") expect(config.databaseUrl).toBe(`file:${resolve(cwd, url.slice("file:".length))}`);
    else expect(config.databaseUrl).toBe(url);
  });

  it("says which forms of DATABASE_URL it takes, without repeating the refused value", () => {
    const load = () => loadConfig({ JWT_SECRET: "s".repeat(32), DATABASE_URL: "mysql://root:hunter2@db/parley" }, dir());
    expect(load).toThrow(/DATABASE_URL: must be file:<path> \(SQLite.*postgresql:\/\//);
    expect(load).not.toThrow(/hunter2/);
  });
});
