// The server's log: pino, one JSON object per line on stdout (`pnpm dev` pipes it through
// pino-pretty). Level names, an ISO `time` and `msg` as before; errors under `err` with their stack.
import { pino } from "pino";
import type { LogLevel } from "./config.js";

export type Logger = pino.Logger;

/** Keys whose values never reach a log line. */
export const SECRET_KEYS = ["authorization", "cookie", '"set-cookie"', "token", "accessToken", "refreshToken", "connectionParams", "password", "jwtSecret", "secret"];

/**
 * Where a secret key is looked for: at the top of a line and in the objects a line may carry (an
 * error's own properties, a request and its headers, a procedure's input or its context's auth, a
 * configuration, a WebSocket's connection info). Named paths, not wildcards: pino's `*.token`
 * costs about 20 us a line and each deeper level far more, on every request's line.
 */
const SECRET_PARENTS = ["", "err", "cause", "req", "req.headers", "headers", "input", "auth", "config", "config.api", "info", "connectionParams", "data"];

export const REDACT_PATHS = SECRET_PARENTS.flatMap((parent) =>
  SECRET_KEYS.map((key) => (key.startsWith('"') ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key)),
);

/** Writes to stdout, or to `write` (tests capture the lines). */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
    serializers: { err: pino.stdSerializers.err },
  };
  return write ? pino(options, { write }) : pino(options);
}

/**
 * Lets through the first line of each kind per interval and counts the rest, so a client that
 * repeats a refused request cannot flood the log. The kinds are ours (fixed reasons), never the
 * client's words, so the map stays small.
 */
export function repeatFilter(intervalMs: number, now: () => number = Date.now): (kind: string) => { log: boolean; suppressed: number } {
  const windows = new Map<string, { until: number; suppressed: number }>();
  return (kind) => {
    const time = now();
    const window = windows.get(kind);
    if (window && time < window.until) {
      window.suppressed += 1;
      return { log: false, suppressed: 0 };
    }
    windows.set(kind, { until: time + intervalMs, suppressed: 0 });
    return { log: true, suppressed: window?.suppressed ?? 0 };
  };
}
