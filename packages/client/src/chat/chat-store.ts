// What the client knows beyond the query cache: messages that arrived live, one's own unsent
// messages, the conversations with their members and read state (kept from sync.events), the
// conversations the reader was taken out of, how far the others have read, who is typing, who is
// online, and the state of the connection. One immutable snapshot, replaced on each
// change, so React reads it with useSyncExternalStore and unchanged parts keep their identity.
import * as outbox from "./outbox";
import { applyReadEvent, fromList, isAheadOfPointer, isAfter, type Conversations } from "./read-state";
import { applyReceipt, withMembers, type Receipts } from "./receipts";
import { insertMessage, newer } from "./timeline";
import { expireTyping, nextTypingExpiry, startTyping, stopTyping, typingIn, type Typing } from "./typing";
import type { Conversation, FeedEvent, Message, PresenceStatus, UserPresence } from "../types";
import { realTimer, type SetTimer } from "../timers";

export interface ChatState {
  /** Live messages (and confirmed sends) per conversation, sorted by id. */
  live: ReadonlyMap<string, readonly Message[]>;
  /** The newest message known per conversation, for the list's previews and order. */
  latest: ReadonlyMap<string, Message>;
  /**
   * Messages changed during the session (message.updated: edits, deletions, reactions, reply
   * counts), by id, as last changed: they replace the versions that pages and lists loaded earlier
   * hold (`latestVersion`), so every view of a message follows one entry.
   */
  changed: ReadonlyMap<string, Message>;
  outbox: outbox.Outbox;
  /** The reader's conversations with members, roles, title and their own read state; complete once `conversationsLoaded`. */
  conversations: Conversations;
  conversationsLoaded: boolean;
  /**
   * Conversations the reader was a member of in this session and no longer is (removed, or left
   * here or in another tab), so a screen showing one can say so; added back, it leaves this set.
   */
  removed: ReadonlySet<string>;
  /** How far the other members have read (read receipts), per conversation: from the members' pointers, then the events. */
  receipts: Receipts;
  /** Per conversation, per user shown typing: until when (the store's clock). */
  typing: Typing;
  /** Status of the people the reader shares a conversation with (seeded by user.presence, then followed). */
  presence: ReadonlyMap<string, PresenceStatus>;
  /** The most recent message from someone else, for the screen reader announcement. */
  lastIncoming: Message | null;
  connection: { online: boolean; live: boolean; wasLive: boolean };
}

const EMPTY: readonly Message[] = [];

export interface ChatStoreDeps {
  /** The clock typing expires by; Date.now by default. */
  now?(): number;
  /** Runs `run` after `ms` (setTimeout by default); returns a cancel. */
  setTimer?(run: () => void, ms: number): () => void;
  /** Tells the server the reader read up to a message (conversation.markRead). Without it, markRead does nothing. */
  markRead?(conversationId: string, messageId: string): Promise<unknown>;
  /** The least time between two markRead calls for one conversation (READ_PACE_MS by default). */
  readPaceMs?: number;
}

/**
 * A reader in a busy room asks the server at most this often per conversation: each markRead is a
 * read.updated to every member (read receipts), so a room of 10 where everyone marks every message
 * as it arrives would cost the server ten deliveries per reader per message. What is read meanwhile
 * goes as one call for the furthest message when the time is up; a quiet conversation's markRead
 * goes at once. Other tabs' counts and others' receipts lag by at most this much.
 */
export const READ_PACE_MS = 500;

export class ChatStore {
  private state: ChatState;
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly setTimer: SetTimer;
  /** Stored events that arrived while conversation.list was loading: applied on top of it. */
  private buffered: { event: FeedEvent; id: string | null }[] | null = null;
  private cancelTypingTimer: (() => void) | null = null;
  private readonly readPaceMs: number;
  /**
   * Per conversation, the markRead asked of the server and not answered yet (`asked`; `settled` once
   * it is answered and READ_PACE_MS have passed since it was asked), and the furthest message wanted
   * since, which is asked then.
   */
  private readonly reads = new Map<string, { asked: string; settled: Promise<void>; next: { messageId: string; done: Promise<void> } | null }>();

  constructor(
    readonly myId: string,
    online: boolean,
    private readonly deps: ChatStoreDeps = {},
  ) {
    this.now = deps.now ?? Date.now;
    this.setTimer = deps.setTimer ?? realTimer;
    this.readPaceMs = deps.readPaceMs ?? READ_PACE_MS;
    this.state = {
      live: new Map(),
      latest: new Map(),
      changed: new Map(),
      outbox: [],
      conversations: new Map(),
      conversationsLoaded: false,
      removed: new Set(),
      receipts: new Map(),
      typing: new Map(),
      presence: new Map(),
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
      if (fromLive && fromOther) next = { ...next, lastIncoming: message };
    }
    // One's own message, sent from here or another tab: it confirms a pending entry.
    if (message.senderId === this.myId) {
      const confirmed = outbox.withoutSent(outbox.confirm(next.outbox, message));
      if (confirmed !== next.outbox) next = { ...next, outbox: confirmed };
    }
    this.set(next);
    return !known;
  }

  /**
   * A stored message as it is now, from a message.updated event. Events come in order, so the last
   * one applied is the newest state. (The answer to one's own edit or reaction is not applied: it
   * can arrive after a later event of someone else's, and would undo it.)
   */
  messageChanged(message: Message): void {
    let next: ChatState = { ...this.state, changed: new Map(this.state.changed).set(message.id, message) };
    const live = next.live.get(message.conversationId);
    const index = live?.findIndex((m) => m.id === message.id) ?? -1;
    if (live && index !== -1) next = { ...next, live: new Map(next.live).set(message.conversationId, live.with(index, message)) };
    if (next.latest.get(message.conversationId)?.id === message.id) next = { ...next, latest: new Map(next.latest).set(message.conversationId, message) };
    this.set(next);
  }

  /** A conversation as the reader knows it (null: not one of theirs, or not loaded yet). */
  conversation(conversationId: string): Conversation | null {
    return this.state.conversations.get(conversationId) ?? null;
  }

  /** The users shown typing in a conversation now. */
  typingIn(conversationId: string): string[] {
    return typingIn(this.state.typing, conversationId);
  }

  /**
   * A stored event of sync.events (`id`: its event id). Messages show at once; the read state and
   * membership wait while conversation.list loads, then apply on top of it.
   */
  applyEvent(event: FeedEvent, id: string | null): void {
    if (event.type === "message.created") {
      this.receive(event.message, { fromLive: true });
      this.setTyping(stopTyping(this.state.typing, event.message.conversationId, event.message.senderId));
    }
    if (event.type === "message.updated") this.messageChanged(event.message);
    this.applyMembershipNews(event);
    if (this.buffered) {
      this.buffered.push({ event, id });
      return;
    }
    this.setConversations(applyReadEvent(this.state.conversations, event, id, this.myId));
  }

  /**
   * The feed started without a position: what is loaded next replaces the conversations, and events
   * wait for it. Changes held from before may have missed later ones (pages are loaded afresh).
   */
  beginReload(): void {
    this.buffered = [];
    if (this.state.changed.size > 0) this.set({ ...this.state, changed: new Map() });
  }

  /** The whole of conversation.list, loaded after the feed started: the state, with what arrived meanwhile applied. */
  finishReload(list: readonly Conversation[]): void {
    let conversations = fromList(list);
    for (const { event, id } of this.buffered ?? []) conversations = applyReadEvent(conversations, event, id, this.myId);
    this.buffered = null;
    // A reload after a lost position: conversations known before and not in it were left meanwhile.
    let removed = this.state.removed;
    if (this.state.conversationsLoaded) {
      const gone = [...this.state.conversations.keys()].filter((id) => !conversations.has(id));
      if (gone.length > 0) removed = new Set([...removed, ...gone]);
    }
    let receipts = this.state.receipts;
    for (const conversation of list) receipts = withMembers(receipts, conversation, this.myId);
    this.set({ ...this.state, conversations, conversationsLoaded: true, removed, receipts });
  }

  /** A `typing` event: shown until TYPING_SHOWN_MS after it, or until that user's message arrives. */
  typingStarted(conversationId: string, userId: string): void {
    if (userId === this.myId) return;
    this.setTyping(startTyping(this.state.typing, conversationId, userId, this.now()));
  }

  /** Statuses from user.presence or a `presence` event. */
  setPresence(statuses: readonly UserPresence[]): void {
    const changed = statuses.filter((s) => this.state.presence.get(s.userId) !== s.status);
    if (changed.length === 0) return;
    const presence = new Map(this.state.presence);
    for (const { userId, status } of changed) presence.set(userId, status);
    this.set({ ...this.state, presence });
  }

  /** Everyone the reader shares a conversation with (as far as the conversations list their members). */
  contacts(): string[] {
    const ids = new Set<string>();
    for (const c of this.state.conversations.values()) for (const m of c.members) if (m.id !== this.myId) ids.add(m.id);
    return [...ids];
  }

  /**
   * The reader has read up to `messageId`. Asks the server only when that moves the pointer (as far
   * as this tab knows, counting what it asked already): every tab may call it as it shows messages.
   * One call per conversation at a time, and at most one per READ_PACE_MS: what is read while one
   * waits for its answer (or for the pace) is asked as one call (the furthest) then, so a reader in
   * a busy room costs the server one markRead per pace, not one per message. The promise settles when the call covering
   * `messageId` is answered. The counts change when the server's `read.updated` arrives, in order
   * with the messages.
   */
  markRead(conversationId: string, messageId: string): Promise<void> {
    if (!this.deps.markRead || !isAheadOfPointer(this.state.conversations, conversationId, messageId)) return Promise.resolve();
    const flight = this.reads.get(conversationId);
    if (!flight) return this.askRead(conversationId, messageId);
    if (!isAfter(messageId, flight.asked)) return Promise.resolve();
    if (flight.next) {
      if (isAfter(messageId, flight.next.messageId)) flight.next.messageId = messageId;
      return flight.next.done;
    }
    const next = { messageId, done: Promise.resolve() };
    next.done = flight.settled.then(() => {
      if (this.reads.get(conversationId) === flight) this.reads.delete(conversationId);
      // Read further meanwhile (another tab, or the answer's read.updated): nothing left to ask.
      if (!isAheadOfPointer(this.state.conversations, conversationId, next.messageId)) return;
      return this.askRead(conversationId, next.messageId);
    });
    flight.next = next;
    return next.done;
  }

  private askRead(conversationId: string, messageId: string): Promise<void> {
    const call = (this.deps.markRead?.(conversationId, messageId) ?? Promise.resolve()).then(() => undefined);
    const paced = this.readPaceMs > 0 ? new Promise<void>((resolve) => this.setTimer(resolve, this.readPaceMs)) : Promise.resolve();
    const settled = Promise.all([call.catch(() => undefined), paced]).then(() => undefined);
    const flight = { asked: messageId, settled, next: null as { messageId: string; done: Promise<void> } | null };
    this.reads.set(conversationId, flight);
    // Answered, the pace passed, and nothing wanted after it: the next markRead asks at once. (With
    // something wanted, the follow-up takes the conversation's place instead.)
    void flight.settled.then(() => {
      if (this.reads.get(conversationId) === flight && !flight.next) this.reads.delete(conversationId);
    });
    return call;
  }

  /** Stops the typing timer. */
  dispose(): void {
    this.cancelTypingTimer?.();
    this.cancelTypingTimer = null;
  }

  /** Receipts, and the conversations the reader was taken out of or brought back into. */
  private applyMembershipNews(event: FeedEvent): void {
    const receipts = applyReceipt(this.state.receipts, event, this.myId);
    let removed = this.state.removed;
    let changed = this.state.changed;
    if (event.type === "conversation.removed" && !removed.has(event.conversationId)) removed = new Set(removed).add(event.conversationId);
    // Its changes stop reaching the reader: held ones must not override what a page loads after being added back.
    if (event.type === "conversation.removed" && [...changed.values()].some((m) => m.conversationId === event.conversationId)) {
      changed = new Map([...changed].filter(([, m]) => m.conversationId !== event.conversationId));
    }
    if (event.type === "conversation.updated" && removed.has(event.conversation.id)) {
      const next = new Set(removed);
      next.delete(event.conversation.id);
      removed = next;
    }
    if (receipts !== this.state.receipts || removed !== this.state.removed || changed !== this.state.changed) this.set({ ...this.state, receipts, removed, changed });
  }

  private setConversations(conversations: Conversations): void {
    if (conversations !== this.state.conversations) this.set({ ...this.state, conversations });
  }

  /** Replaces who is typing, and wakes up when the first of them expires. */
  private setTyping(typing: Typing): void {
    const current = expireTyping(typing, this.now());
    if (current !== this.state.typing) this.set({ ...this.state, typing: current });
    this.cancelTypingTimer?.();
    this.cancelTypingTimer = null;
    const next = nextTypingExpiry(current);
    if (next !== null) this.cancelTypingTimer = this.setTimer(() => this.setTyping(this.state.typing), Math.max(0, next - this.now()));
  }

  updateOutbox(change: (current: outbox.Outbox) => outbox.Outbox): void {
    const next = change(this.state.outbox);
    if (next !== this.state.outbox) this.set({ ...this.state, outbox: next });
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
