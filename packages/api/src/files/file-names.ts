// The name a person gave a file is shown to others and offered when they download it - never used
// as a path (storage keys are generated ids). So it is made harmless as text: no folders, no
// control, format or bidi characters (a name that reads "photo‮gpj.exe" must not look like a JPEG),
// no leading dots, a bounded length that keeps the extension.

/** Most characters of a stored name. */
export const MAX_FILE_NAME_LENGTH = 120;
const MAX_EXTENSION_LENGTH = 16;

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;
/** Characters that mean something to a file system or a shell somewhere; replaced, not kept. */
const RESERVED = /[<>:"/\\|?*]/g;

export function sanitizeFileName(given: string, fallback = "file"): string {
  // Only the last part of a path (either separator), NFC so that the same visible name is the same text.
  const base = given.normalize("NFC").split(/[/\\]/).pop() ?? "";
  let name = base
    .replace(INVISIBLE, "")
    .replace(RESERVED, "_")
    .replace(/\s+/g, " ")
    .trim()
    // "..", ".hidden": a name never starts or ends with dots (Windows drops trailing ones).
    .replace(/^[.\s]+|[.\s]+$/g, "");
  if (name === "") return fallback;
  if ([...name].length > MAX_FILE_NAME_LENGTH) name = shorten(name);
  return name;
}

/** Cuts the stem, keeping a short extension: "a very long … name.pdf". */
function shorten(name: string): string {
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 && name.length - dot - 1 <= MAX_EXTENSION_LENGTH ? name.slice(dot) : "";
  const stem = [...name.slice(0, name.length - extension.length)];
  return `${stem.slice(0, MAX_FILE_NAME_LENGTH - [...extension].length - 1).join("").trimEnd()}…${extension}`;
}

/**
 * A Content-Disposition value (RFC 6266): an ASCII `filename` for old clients (non-ASCII and quotes
 * replaced) and the exact name as `filename*` (RFC 8187, UTF-8, percent-encoded).
 */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
