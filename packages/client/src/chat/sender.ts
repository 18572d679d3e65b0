// Sends messages from the outbox: one at a time per conversation, in the order written, retrying
// transient failures (and TOO_MANY_REQUESTS, no sooner than the server asked) with backoff, and at
// once when the connection comes back - for as long as it takes. With a storage, unsent messages
// outlive the page or the process, and those a closed tab or an earlier run left are sent too.
import { backoffDelay } from "../backoff";
import { describeSendError, retryDelayMs } from "../errors";
import * as outbox from "./outbox";
import type { Attachment, Message } from "../types";
import { MAX_MESSAGE_LENGTH } from "../validation";
import type { ChatStore } from "./chat-store";
import { mirrorOutbox, type OutboxStorage } from "./outbox-storage";

export interface SendInput {
  conversationId: string;
  content: string;
  clientMessageId: string;
  threadId?: string;
  attachmentIds?: string[];
}

export interface SendOptions {
  /** As a reply in the thread of this root message. */
  threadId?: string;
  /** Files uploaded for it (POST /files), in the order to show. */
  attachments?: readonly Attachment[];
}

export interface SenderDeps {
  store: ChatStore;
  send(input: SendInput): Promise<Message>;
  newClientMessageId(): string;
  now(): number;
  /** Keeps unsent messages across reloads and restarts; nothing is kept without one. */
  storage?: OutboxStorage;
}

export class Sender {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private stopMirroring: (() => void) | null = null;

  constructor(private readonly deps: SenderDeps) {}

  /** Starts keeping the outbox in the storage, and sends what earlier pages or runs left there. */
  async start(): Promise<void> {
    const { store, storage } = this.deps;
    if (!storage || this.stopMirroring || this.stopped) return;
    this.stopMirroring = mirrorOutbox({ current: () => store.getState().outbox, subscribe: store.subscribe }, storage);
    await this.adoptLeftovers();
  }

  /** Shows the message at once as pending and sends it, as a reply in `threadId`'s thread and with `attachments` when given. */
  send(conversationId: string, content: string, options: SendOptions = {}): void {
    const { store } = this.deps;
    const { threadId, attachments = [] } = options;
    store.updateOutbox((o) =>
      outbox.enqueue(o, {
        clientMessageId: this.deps.newClientMessageId(),
        conversationId,
        ...(threadId ? { threadId } : {}),
        senderId: store.myId,
        content,
        ...(attachments.length > 0 ? { attachments } : {}),
        createdAt: new Date(this.deps.now()).toISOString(),
      }),
    );
    this.pump();
  }

  retry(clientMessageId: string): void {
    this.deps.store.updateOutbox((o) => outbox.retry(o, clientMessageId));
    this.pump();
  }

  discard(clientMessageId: string): void {
    this.deps.store.updateOutbox((o) => outbox.discard(o, clientMessageId));
  }

  /** The connection is back: what waits for a retry goes now, and what a tab closed since left. */
  wake(): void {
    this.deps.store.updateOutbox(outbox.wake);
    this.pump();
    if (this.stopMirroring) void this.adoptLeftovers();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.stopMirroring?.();
    this.stopMirroring = null;
  }

  private async adoptLeftovers(): Promise<void> {
    const { store, storage } = this.deps;
    const claimed = await storage?.claim().catch(() => []);
    // Only this user's: a storage is per user, but a stored entry is data from outside.
    const own = claimed?.filter((entry) => entry.senderId === store.myId) ?? [];
    if (this.stopped || own.length === 0) return;
    store.updateOutbox((o) => outbox.restore(o, own));
    this.pump();
  }

  private pump(): void {
    if (this.stopped) return;
    for (const entry of outbox.dueForSending(this.deps.store.getState().outbox, this.deps.now())) void this.attempt(entry);
    this.scheduleNextRetry();
  }

  private async attempt(entry: outbox.OutboxEntry): Promise<void> {
    const { store } = this.deps;
    store.updateOutbox((o) => outbox.startAttempt(o, entry.clientMessageId));
    try {
      const message = await this.deps.send({
        conversationId: entry.conversationId,
        content: entry.content,
        clientMessageId: entry.clientMessageId,
        ...(entry.threadId ? { threadId: entry.threadId } : {}),
        ...(entry.attachments && entry.attachments.length > 0 ? { attachmentIds: entry.attachments.map((a) => a.id) } : {}),
      });
      store.receive(message, { fromLive: false });
    } catch (error) {
      const failure = describeSendError(error, MAX_MESSAGE_LENGTH);
      store.updateOutbox((o) => {
        if (!failure.transient) return outbox.reject(o, entry.clientMessageId, failure.message);
        const attempts = o.find((e) => e.clientMessageId === entry.clientMessageId)?.attempts ?? 0;
        return outbox.failTransiently(o, entry.clientMessageId, {
          now: this.deps.now(),
          delayMs: retryDelayMs(error, backoffDelay(attempts, { baseMs: 1000 })),
        });
      });
    }
    this.pump();
  }

  private scheduleNextRetry(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const at = outbox.nextRetryAt(this.deps.store.getState().outbox);
    if (at !== null) this.timer = setTimeout(() => this.pump(), Math.max(0, at - this.deps.now()));
  }
}
