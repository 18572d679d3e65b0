// Bugs the fuzzer found that are reported but not fixed yet. A finding is put down to one of
// them only when the evidence carries its signature - every internal error the server logged for
// that input, or, for a shutdown that never finishes, what is still open - so anything else still
// fails the run. Each has an `it.fails` test in fuzz.test.ts; when a bug is fixed, that test starts
// failing: delete the entry here and turn the test into a plain `it`.
import type { Provider } from "../harness.js";
import type { Finding } from "./transport.js";

export interface KnownBug {
  id: string;
  summary: string;
  providers: readonly Provider[];
  /** What the server logs when it happens (for a shutdown that hangs: the resources left open). */
  signature: RegExp;
}

// Fixed since, with regression tests in fuzz.test.ts: lone-surrogate-500, nul-postgresql-500,
// malformed-path-500, ws-protocol-error-logged-as-internal, password-not-exact (d683421), and
// upgrade-refusal-leaks-socket (refused upgrades are destroyed once answered).
export const KNOWN_BUGS: readonly KnownBug[] = [];

const SHUTDOWN_BUG = "upgrade-refusal-leaks-socket";

/** The known bug that explains a close() that did not finish, given what was still open then. */
export function shutdownHangCause(activeResources: string): string | undefined {
  return KNOWN_BUGS.find((b) => b.id === SHUTDOWN_BUG)?.signature.test(activeResources) ? SHUTDOWN_BUG : undefined;
}

/** Marks the 5xx findings of one input as a known bug when the server's own errors say so. */
export function classify(provider: Provider, findings: Finding[], loggedErrors: string[]): Finding[] {
  if (loggedErrors.length === 0) return findings;
  const bug = KNOWN_BUGS.find((b) => b.providers.includes(provider) && b.id !== SHUTDOWN_BUG && loggedErrors.every((error) => b.signature.test(error)));
  if (!bug) return findings;
  return findings.map((f) => (f.kind === "5xx" ? { ...f, knownBug: bug.id } : f));
}
