// The files a person is about to send, per composer (a conversation, or a thread of it): each
// uploads at once, a few at a time across all composers (the server takes at most 3 per user at
// once), with its progress, and can be cancelled or removed. Uploads outlive the composer that
// started them, so switching conversations and back finds them as they are.
import type { Attachment } from "../types";
import { UploadError } from "./upload";

export type PendingUploadStatus = "queued" | "uploading" | "done" | "failed";

export interface PendingUpload {
  /** Local id, for React keys and cancel/remove. */
  key: string;
  /** Which composer it belongs to. */
  composer: string;
  conversationId: string;
  name: string;
  size: number;
  /** An image's type, for a local preview while it uploads. */
  type: string;
  status: PendingUploadStatus;
  /** Bytes sent. */
  sent: number;
  attachment: Attachment | null;
  error: string | null;
}

export interface UploadQueueDeps {
  /** Uploads one file (uploadFile with the session's tokens), resolving to the stored attachment. */
  upload(input: { conversationId: string; file: Blob; name: string; signal: AbortSignal; onProgress(sent: number): void }): Promise<Attachment>;
  /** Uploads running at once; 2 by default (leaving the server's third for another tab). */
  concurrency?: number;
  /** Wait before trying a rate-limited upload again. */
  wait?(ms: number): Promise<void>;
}

/** Files one message carries (the server's MAX_ATTACHMENTS_PER_MESSAGE). */
export const MAX_FILES_PER_MESSAGE = 10;
/** Tries of one upload the server refused for being too many at once. */
const RATE_LIMIT_TRIES = 5;

export class UploadQueue {
  private entries: readonly PendingUpload[] = [];
  private readonly files = new Map<string, Blob>();
  private readonly running = new Map<string, AbortController>();
  private readonly listeners = new Set<() => void>();
  private next = 1;

  constructor(private readonly deps: UploadQueueDeps) {}

  getAll(): readonly PendingUpload[] {
    return this.entries;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Adds files to a composer's uploads and starts them, up to MAX_FILES_PER_MESSAGE; returns how many did not fit. */
  add(composer: string, conversationId: string, files: readonly File[]): number {
    const room = Math.max(0, MAX_FILES_PER_MESSAGE - this.entries.filter((e) => e.composer === composer).length);
    const added = files.slice(0, room).map((file): PendingUpload => {
      const key = `upload-${this.next++}`;
      this.files.set(key, file);
      return { key, composer, conversationId, name: file.name || "pasted file", size: file.size, type: file.type, status: "queued", sent: 0, attachment: null, error: null };
    });
    this.set([...this.entries, ...added]);
    this.pump();
    return files.length - added.length;
  }

  /** Cancels an upload under way, or takes a finished or failed one off the composer. */
  remove(key: string): void {
    this.running.get(key)?.abort();
    this.running.delete(key);
    this.files.delete(key);
    this.set(this.entries.filter((e) => e.key !== key));
    this.pump();
  }

  /** The composer's message went out with these: they leave the composer. */
  clear(composer: string): void {
    for (const entry of this.entries) if (entry.composer === composer) this.remove(entry.key);
  }

  dispose(): void {
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
    this.files.clear();
    this.set([]);
  }

  private set(entries: readonly PendingUpload[]): void {
    this.entries = entries;
    for (const listener of this.listeners) listener();
  }

  private update(key: string, change: Partial<PendingUpload>): void {
    if (!this.entries.some((e) => e.key === key)) return;
    this.set(this.entries.map((e) => (e.key === key ? { ...e, ...change } : e)));
  }

  private pump(): void {
    const limit = this.deps.concurrency ?? 2;
    for (const entry of this.entries) {
      if (this.running.size >= limit) return;
      if (entry.status === "queued" && !this.running.has(entry.key)) void this.run(entry);
    }
  }

  private async run(entry: PendingUpload): Promise<void> {
    const file = this.files.get(entry.key);
    if (!file) return;
    const controller = new AbortController();
    this.running.set(entry.key, controller);
    this.update(entry.key, { status: "uploading", sent: 0 });
    const wait = this.deps.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    for (let tries = 1; ; tries += 1) {
      try {
        const attachment = await this.deps.upload({
          conversationId: entry.conversationId,
          file,
          name: entry.name,
          signal: controller.signal,
          onProgress: (sent) => this.update(entry.key, { sent }),
        });
        if (controller.signal.aborted) return;
        this.update(entry.key, { status: "done", sent: entry.size, attachment });
        break;
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof UploadError && error.kind === "rate_limited" && tries < RATE_LIMIT_TRIES) {
          this.update(entry.key, { sent: 0 });
          await wait((error.retryAfterSeconds ?? 1) * 1000);
          if (controller.signal.aborted) return;
          continue;
        }
        this.update(entry.key, { status: "failed", error: error instanceof Error ? error.message : `${entry.name} was not uploaded.` });
        break;
      }
    }
    this.running.delete(entry.key);
    this.files.delete(entry.key);
    this.pump();
  }
}
