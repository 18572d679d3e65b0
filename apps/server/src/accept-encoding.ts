// Which compressed form of a static file a client takes, from its Accept-Encoding header
// (RFC 9110, 12.5.3): codings with a q-value above zero, "*" for any not named, best first.

/** The encodings the server has files for, in its order of preference when the client has none. */
export const STATIC_ENCODINGS = ["br", "gzip"] as const;
export type StaticEncoding = (typeof STATIC_ENCODINGS)[number];

/** The encodings of STATIC_ENCODINGS the client accepts, its favourite first (ties: ours). */
export function acceptedEncodings(header: string | undefined): StaticEncoding[] {
  if (!header) return [];
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith("q="));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    // "x-gzip" is gzip (RFC 9110, 8.4.1.3).
    weights.set(name === "x-gzip" ? "gzip" : name, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (encoding: StaticEncoding) => weights.get(encoding) ?? weights.get("*") ?? 0;
  return STATIC_ENCODINGS.filter((encoding) => weightOf(encoding) > 0).sort((a, b) => weightOf(b) - weightOf(a));
}
