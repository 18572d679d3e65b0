// What the client knows beyond the query cache: messages that arrived live, one's own unsent
// messages, unread counts and the state of the connection. One immutable snapshot, replaced on each
// change, so React reads it with useSyncExternalStore and unchanged parts keep their identity.
import * as outbox from "./outbox";
import { insertMessage, newer } from "./timeline";
import type { Message } from "../types";

export interface ChatState {
  /** Live messages (and confirmed sends) per conversation, sorted by id. */
  live: ReadonlyMap<string, readonly Message[]>;
  /** The newest message known per conversation, for the list's previews and order. */
  latest: ReadonlyMap<string, Message>;
  outbox: outbox.Outbox;
  unread: ReadonlyMap<string, number>;
  activeConversationId: string | null;
  /** The most recent message from someone else, for the screen reader announcement. */
  lastIncoming: Message | null;
  connection: { online: boolean; live: boolean; wasLive: boolean };
}

const EMPTY: readonly Message[] = [];

export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly myId: string,
    online: boolean,
  ) {
    this.state = {
      live: new Map(),
      latest: new Map(),
      outbox: [],
      unread: new Map(),
      activeConversationId: null,
      lastIncoming: null,
      connection: { online, live: false, wasLive: false },
    };
  }

  getState = (): ChatState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  liveMessages(conversationId: string): readonly Message[] {
    return this.state.live.get(conversationId) ?? EMPTY;
  }

  /** A stored message, from the live stream or from one's own send. Returns false if it was known. */
  receive(message: Message, { fromLive }: { fromLive: boolean }): boolean {
    const before = this.state.live.get(message.conversationId) ?? EMPTY;
    const after = insertMessage(before, message);
    const known = after === before;
    let next: ChatState = this.state;
    if (!known) {
      const live = new Map(next.live).set(message.conversationId, after);
      const current = next.latest.get(message.conversationId);
      const latest = newer(current, message) === current ? next.latest : new Map(next.latest).set(message.conversationId, message);
      next = { ...next, live, latest };
      const fromOther = message.senderId !== this.myId;
      if (fromLive && fromOther) {
        next = { ...next, lastIncoming: message };
        if (message.conversationId !== next.activeConversationId) {
          const unread = new Map(next.unread).set(message.conversationId, (next.unread.get(message.conversationId) ?? 0) + 1);
          next = { ...next, unread };
        }
      }
    }
    // One's own message, sent from here or another tab: it confirms a pending entry.
    if (message.senderId === this.myId) {
      const confirmed = outbox.withoutSent(outbox.confirm(next.outbox, message));
      if (confirmed !== next.outbox) next = { ...next, outbox: confirmed };
    }
    this.set(next);
    return !known;
  }

  updateOutbox(change: (current: outbox.Outbox) => outbox.Outbox): void {
    const next = change(this.state.outbox);
    if (next !== this.state.outbox) this.set({ ...this.state, outbox: next });
  }

  setActiveConversation(conversationId: string | null): void {
    if (this.state.activeConversationId === conversationId) return;
    let unread = this.state.unread;
    if (conversationId && unread.has(conversationId)) {
      const copy = new Map(unread);
      copy.delete(conversationId);
      unread = copy;
    }
    this.set({ ...this.state, activeConversationId: conversationId, unread });
  }

  setConnection(change: Partial<ChatState["connection"]>): void {
    const current = this.state.connection;
    const next = { ...current, ...change };
    // Once live, always "was live"; a client showing what it kept from before may say so itself.
    next.wasLive = current.wasLive || next.wasLive || next.live;
    if (next.online === current.online && next.live === current.live && next.wasLive === current.wasLive) return;
    this.set({ ...this.state, connection: next });
  }

  private set(next: ChatState): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of [...this.listeners]) listener();
  }
}
