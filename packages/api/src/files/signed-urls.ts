// Short-lived download URLs. A browser cannot send an Authorization header for <img src>, so
// file.urls hands a member URLs that carry their own proof: an HMAC of the attachment, the variant
// and the expiry. The key is derived from the JWT secret for this use alone (a URL's signature can
// never be a token's, and the secret itself never signs a URL). Expiries are rounded up to a
// window, so the same file asked for twice within one gets the same URL and the browser's cache holds.
import { createHmac, timingSafeEqual } from "node:crypto";

export const FILE_VARIANTS = ["original", "thumbnail"] as const;
export type FileVariant = (typeof FILE_VARIANTS)[number];

/** A URL is good for at least this long... */
const MIN_VALID_SECONDS = 15 * 60;
/** ...and every URL signed within one window of this length (aligned) expires at the same moment, so at most MIN + WINDOW. */
const WINDOW_SECONDS = 10 * 60;

export interface SignedUrl {
  url: string;
  expiresAt: Date;
}

export class FileUrlSigner {
  private readonly key: Buffer;

  constructor(jwtSecret: string | Buffer) {
    this.key = createHmac("sha256", jwtSecret).update("parley:file-url-signing:v1").digest();
  }

  /** The path (relative to the server's origin) of a variant of an attachment, valid from `now`. */
  sign(attachmentId: string, variant: FileVariant, now: Date): SignedUrl {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const exp = Math.floor(nowSeconds / WINDOW_SECONDS) * WINDOW_SECONDS + WINDOW_SECONDS + MIN_VALID_SECONDS;
    const path = `/files/${encodeURIComponent(attachmentId)}/${variant}?exp=${exp}&sig=${this.signature(attachmentId, variant, exp)}`;
    return { url: path, expiresAt: new Date(exp * 1000) };
  }

  /** "ok" with the seconds left, "expired" or "forged" (wrong signature, or not one of ours). */
  verify(attachmentId: string, variant: FileVariant, exp: string | null, sig: string | null, now: Date): { status: "ok"; secondsLeft: number } | { status: "expired" | "forged" } {
    if (exp === null || sig === null || !/^\d{1,12}$/.test(exp)) return { status: "forged" };
    const expected = Buffer.from(this.signature(attachmentId, variant, Number(exp)));
    const given = Buffer.from(sig);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { status: "forged" };
    const secondsLeft = Number(exp) - Math.floor(now.getTime() / 1000);
    return secondsLeft > 0 ? { status: "ok", secondsLeft } : { status: "expired" };
  }

  private signature(attachmentId: string, variant: FileVariant, exp: number): string {
    return createHmac("sha256", this.key).update(`${attachmentId}\n${variant}\n${exp}`).digest("base64url");
  }
}
