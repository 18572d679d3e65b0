// What the API logs through. The server hands in its own logger (pino); this package does not
// depend on one. Fields first, message second; an error goes under `err`.
export interface Logger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
  /** A logger whose lines all carry `bindings` (a request or connection id). */
  child(bindings: Record<string, unknown>): Logger;
}

/** For callers (tests, scripts) that give no logger. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
