// Signed download URLs (file.urls) for attachments on screen. They last 15 to 25 minutes (the same
// URLs for ten, so browsers cache the files): kept here until close to their end, and asked for
// again before then, so a tab left open still shows its pictures. Ids asked for together (one
// render of a timeline) go in one call, at most FILE_URLS_MAX at a time.
import type { FileUrl } from "../types";

/** Ask again this long before the URLs stop working. */
export const REFRESH_BEFORE_MS = 3 * 60_000;
/** After a failed call, or for an id the server left out (not visible to the reader, deleted), wait this long before asking again. */
export const RETRY_FAILED_MS = 15_000;
/** The most ids one file.urls call names (the server's FILE_URLS_MAX). */
const BATCH = 100;

export interface FileUrlCacheDeps {
  fetch(attachmentIds: string[]): Promise<FileUrl[]>;
  now(): number;
}

export class FileUrlCache {
  private readonly known = new Map<string, FileUrl>();
  private readonly asking = new Set<string>();
  /** Ids not to ask for again before then (local ms): their last call failed or left them out. */
  private readonly notBefore = new Map<string, number>();
  private wanted = new Set<string>();
  private flushing = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: FileUrlCacheDeps) {}

  /** The URLs of an attachment while they still work, even when about to be renewed. */
  get(id: string): FileUrl | undefined {
    const urls = this.known.get(id);
    return urls && Date.parse(urls.expiresAt) > this.deps.now() ? urls : undefined;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** When any of these ids is due to be asked for again (renewal, or a retry after a failure; local ms), or null when none is. */
  renewAt(ids: readonly string[]): number | null {
    let at: number | null = null;
    for (const id of ids) {
      const urls = this.known.get(id);
      const due = urls ? Date.parse(urls.expiresAt) - REFRESH_BEFORE_MS : this.notBefore.get(id);
      if (due === undefined) continue;
      if (at === null || due < at) at = due;
    }
    return at;
  }

  /** Asks for the URLs of these ids that are unknown or due for renewal (once, however many ask). */
  request(ids: readonly string[]): void {
    const now = this.deps.now();
    for (const id of ids) {
      const urls = this.known.get(id);
      if (this.asking.has(id) || (this.notBefore.get(id) ?? 0) > now || (urls && Date.parse(urls.expiresAt) - REFRESH_BEFORE_MS > now)) continue;
      this.wanted.add(id);
    }
    if (this.wanted.size === 0 || this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => void this.flush());
  }

  /** The URL was refused (expired early, a clock off): forget it, so the next request asks again. */
  forget(id: string): void {
    if (this.known.delete(id)) this.notify();
  }

  private async flush(): Promise<void> {
    this.flushing = false;
    const ids = [...this.wanted];
    this.wanted = new Set();
    for (let start = 0; start < ids.length; start += BATCH) {
      const batch = ids.slice(start, start + BATCH);
      for (const id of batch) this.asking.add(id);
      try {
        const urls = await this.deps.fetch(batch);
        for (const entry of urls) this.known.set(entry.id, entry);
        const answered = new Set(urls.map((entry) => entry.id));
        for (const id of batch) if (answered.has(id)) this.notBefore.delete(id);
        else this.notBefore.set(id, this.deps.now() + RETRY_FAILED_MS);
      } catch {
        // Shown without a picture (or with the URLs still held) until asked again, a little later:
        // a view re-rendering on each answer must not ask in a loop while offline.
        for (const id of batch) this.notBefore.set(id, this.deps.now() + RETRY_FAILED_MS);
      } finally {
        for (const id of batch) this.asking.delete(id);
      }
      this.notify();
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
