import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import type { DeliverEphemeral, PresenceChange, PresenceStatement, PresenceStatus } from "./ephemeral.js";
import type { EventBus, ParleyEvent } from "./event-bus.js";

export interface PresenceTimes {
  /** How long a user stays online after their last connection closed: a page reload must not flap offline. */
  graceSeconds: number;
  /** How often an instance sends the snapshot of its users (its heartbeat). */
  heartbeatSeconds: number;
  /** An instance not heard from for this long is taken for dead, and its users with it. */
  expirySeconds: number;
}

/** Offline at most 10 s + one tick after a clean close, and at most 45 s + one tick after an instance dies: both under the contract's 60 s. */
export const defaultPresenceTimes: PresenceTimes = { graceSeconds: 10, heartbeatSeconds: 15, expirySeconds: 45 };

export interface PresenceDeps {
  bus: EventBus;
  clock: Clock;
  deliver: DeliverEphemeral;
  /** The member ids of a conversation (null: it does not exist), read afresh for every change. */
  membersOf(conversationId: string): Promise<ReadonlySet<string> | null>;
  /** The conversations a user belongs to now. */
  conversationIdsOf(userId: string): Promise<string[]>;
  times: PresenceTimes;
  /** Told when publishing or a lookup fails: a lost bus message is repaired by the next heartbeat; a failed lookup leaves that change untold here. */
  onError?: (error: unknown) => void;
}

/** The users whose status one step may change, with their status before it, and what it will publish. */
interface Step {
  before: Map<string, PresenceStatus>;
  outgoing: PresenceChange[];
}

/**
 * Who is online, away or offline, across every instance, without storing anything.
 *
 * Each instance holds its own users: their open authenticated WebSockets, counted (connected /
 * disconnected, called by the WebSocket layer), and kept for the grace period after the last one
 * closes. It tells the others in one bus message when it starts or stops holding a user, and sends
 * the whole list as its heartbeat, which replaces what they knew of it; an instance not heard from
 * within the expiry is dropped with its users, so a crashed instance's users go offline by
 * themselves. What a user last said (away, active) is one statement per user, ordered by `at`, kept
 * by every instance while the user is held anywhere. A user's status: offline when no instance
 * holds them, else away or online as they last said.
 *
 * When a user's status changes, each instance tells its own connected users who share a
 * conversation with them (one lookup of the user's conversations per change and instance; the user
 * is not told about themselves). Time comes from the clock and moves only in tick(), which the
 * server calls every second and tests call by hand.
 */
export class PresenceService {
  /** Names this instance on the bus; new for every start. */
  readonly instanceId = randomUUID();
  /** Open authenticated WebSockets per user on this instance. */
  private readonly connections = new Map<string, number>();
  /** Users of this instance whose last connection closed, with when: oldest first. */
  private readonly leaving = new Map<string, number>();
  /** The instances holding each user, this one included. */
  private readonly holders = new Map<string, Set<string>>();
  /** The other instances heard from: the users they hold, and when they expire unless heard from again. */
  private readonly instances = new Map<string, { users: Set<string>; expiresAt: number }>();
  /** The last statement of each user held anywhere. */
  private readonly statements = new Map<string, PresenceStatement>();
  /** Users whose change is being announced here; a change meanwhile replaces `latest`. */
  private readonly announcing = new Map<string, { latest: PresenceStatus }>();
  private lastHeartbeat = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: PresenceDeps) {
    this.unsubscribe = deps.bus.subscribe((event) => this.receive(event));
  }

  /** An authenticated WebSocket of the user opened on this instance. */
  connected(userId: string): void {
    if (this.closed) return;
    this.connections.set(userId, (this.connections.get(userId) ?? 0) + 1);
    this.leaving.delete(userId);
    // Back within the grace period (a reload): nothing changed for anyone.
    if (this.holders.get(userId)?.has(this.instanceId)) return;
    this.step((step) => {
      this.hold(step, this.instanceId, userId);
      step.outgoing.push({ kind: "user", userId, present: true });
    });
  }

  /** One of the user's WebSockets here closed. The last one starts the grace period. */
  disconnected(userId: string): void {
    const count = this.connections.get(userId);
    if (count === undefined) return;
    if (count > 1) {
      this.connections.set(userId, count - 1);
      return;
    }
    this.connections.delete(userId);
    this.leaving.set(userId, this.now());
  }

  statusOf(userId: string): PresenceStatus {
    if (!this.holders.has(userId)) return "offline";
    return this.statements.get(userId)?.away ? "away" : "online";
  }

  /** Whether saying `status` would change anything: false for a user no instance holds, or who says it already. */
  wouldChange(userId: string, status: "active" | "away"): boolean {
    return this.holders.has(userId) && (this.statements.get(userId)?.away ?? false) !== (status === "away");
  }

  /** The user said they are active or away; every instance follows. */
  say(userId: string, status: "active" | "away"): void {
    if (this.closed || !this.wouldChange(userId, status)) return;
    const statement = { userId, away: status === "away", at: Math.max(this.now(), (this.statements.get(userId)?.at ?? 0) + 1) };
    this.step((step) => {
      this.state(step, statement);
      step.outgoing.push({ kind: "said", ...statement });
    });
  }

  /**
   * Moves presence on to the clock's time: users past their grace period go, instances not heard
   * from within the expiry are dropped, and the heartbeat goes out when it is due. Call it every second.
   */
  tick(): void {
    if (this.closed) return;
    const now = this.now();
    const grace = this.deps.times.graceSeconds * 1000;
    this.step((step) => {
      for (const [userId, leftAt] of this.leaving) {
        if (leftAt + grace > now) break;
        this.leaving.delete(userId);
        this.release(step, this.instanceId, userId);
        step.outgoing.push({ kind: "user", userId, present: false });
      }
      for (const [instanceId, instance] of this.instances) {
        if (instance.expiresAt > now) continue;
        this.instances.delete(instanceId);
        for (const userId of instance.users) this.release(step, instanceId, userId);
      }
      if (now - this.lastHeartbeat >= this.deps.times.heartbeatSeconds * 1000) step.outgoing.push(this.snapshot());
    });
  }

  /** Tells the other instances this one is going (its users expire after the grace period there), and stops. */
  close(): void {
    if (this.closed) return;
    this.publish({ kind: "stopped" });
    this.closed = true;
    this.unsubscribe();
  }

  /** Changes being told to this instance's users now. Only tests read it: to wait until every change was told. */
  get pendingAnnouncements(): number {
    return this.announcing.size;
  }

  private receive(event: ParleyEvent): void {
    if (this.closed) return;
    // The bus may have lost what we sent while it was down: send the whole picture again now.
    if (event.type === "resync") this.step((step) => step.outgoing.push(this.snapshot()));
    if (event.type === "user-deactivated") this.forget(event.userId);
    if (event.type !== "presence") return;
    const { instanceId } = event;
    if (instanceId === this.instanceId) return;
    this.step((step) => {
      let instance = this.instances.get(instanceId);
      if (!instance) {
        if (event.kind === "stopped") return;
        instance = { users: new Set(), expiresAt: 0 };
        this.instances.set(instanceId, instance);
        // A newcomer learns who is here from our snapshot at once rather than at our next heartbeat.
        step.outgoing.push(this.snapshot());
      }
      instance.expiresAt = this.now() + this.deps.times.expirySeconds * 1000;
      switch (event.kind) {
        case "user":
          if (event.present) this.hold(step, instanceId, event.userId);
          else this.release(step, instanceId, event.userId);
          return;
        case "said":
          this.state(step, event);
          return;
        case "snapshot": {
          const listed = new Set(event.users);
          for (const userId of [...instance.users]) if (!listed.has(userId)) this.release(step, instanceId, userId);
          for (const userId of listed) this.hold(step, instanceId, userId);
          for (const statement of event.statements) this.state(step, statement);
          return;
        }
        case "stopped":
          instance.expiresAt = this.now() + this.deps.times.graceSeconds * 1000;
          return;
      }
    });
  }

  /**
   * The user was deactivated: their sockets are being closed and they cannot log in, so no grace
   * period - each instance lets go of the user's connections it holds, and the user is offline for
   * everyone at once. A close of one of those sockets afterwards finds nothing to count down.
   */
  private forget(userId: string): void {
    if (!this.connections.has(userId) && !this.leaving.has(userId)) return;
    this.connections.delete(userId);
    this.leaving.delete(userId);
    this.step((step) => {
      this.release(step, this.instanceId, userId);
      step.outgoing.push({ kind: "user", userId, present: false });
    });
  }

  /**
   * Runs one change of state, then announces the users whose status it changed and publishes what
   * it produced - last, because an in-process bus delivers to the other instances (and they answer)
   * inside publish().
   */
  private step(change: (step: Step) => void): void {
    const step: Step = { before: new Map(), outgoing: [] };
    change(step);
    for (const [userId, before] of step.before) {
      const after = this.statusOf(userId);
      // A statement outlives no one: the user comes back online, not away.
      if (after === "offline") this.statements.delete(userId);
      if (after !== before) this.changed(userId, before, after);
    }
    for (const outgoing of step.outgoing) this.publish(outgoing);
  }

  private touch(step: Step, userId: string): void {
    if (!step.before.has(userId)) step.before.set(userId, this.statusOf(userId));
  }

  private hold(step: Step, instanceId: string, userId: string): void {
    this.touch(step, userId);
    let holders = this.holders.get(userId);
    if (!holders) {
      holders = new Set();
      this.holders.set(userId, holders);
    }
    holders.add(instanceId);
    this.instances.get(instanceId)?.users.add(userId);
  }

  private release(step: Step, instanceId: string, userId: string): void {
    this.touch(step, userId);
    const holders = this.holders.get(userId);
    holders?.delete(instanceId);
    if (holders?.size === 0) this.holders.delete(userId);
    this.instances.get(instanceId)?.users.delete(userId);
  }

  /** Takes a statement unless a later one is known (of two with the same `at`, the one the bus carried last wins). */
  private state(step: Step, { userId, away, at }: PresenceStatement): void {
    const known = this.statements.get(userId);
    if (known && known.at > at) return;
    this.touch(step, userId);
    this.statements.set(userId, { userId, away, at });
  }

  private snapshot(): PresenceChange {
    this.lastHeartbeat = this.now();
    const users = [...this.connections.keys(), ...this.leaving.keys()];
    const statements = users.flatMap((userId) => this.statements.get(userId) ?? []);
    return { kind: "snapshot", users, statements };
  }

  private changed(userId: string, before: PresenceStatus, after: PresenceStatus): void {
    const inFlight = this.announcing.get(userId);
    if (inFlight) {
      inFlight.latest = after;
      return;
    }
    // Nobody connected here who could be told: no lookup at all.
    if (this.connections.size <= (this.connections.has(userId) ? 1 : 0)) return;
    const entry = { latest: after };
    this.announcing.set(userId, entry);
    void this.announce(userId, before, entry);
  }

  /**
   * Tells this instance's connected users who share a conversation with `userId` its new status.
   * One at a time per user, so they hear the changes in order; changes made during a lookup are
   * folded into the next one, and a change undone meanwhile is not announced at all.
   */
  private async announce(userId: string, announced: PresenceStatus, entry: { latest: PresenceStatus }): Promise<void> {
    try {
      while (entry.latest !== announced && !this.closed) {
        const status = entry.latest;
        const recipients = await this.connectedContactsOf(userId);
        if (recipients.size > 0) this.deps.deliver(recipients, { type: "presence", userId, status });
        announced = status;
      }
    } catch (error) {
      this.deps.onError?.(error);
    } finally {
      this.announcing.delete(userId);
    }
  }

  private async connectedContactsOf(userId: string): Promise<Set<string>> {
    const recipients = new Set<string>();
    for (const conversationId of await this.deps.conversationIdsOf(userId)) {
      for (const memberId of (await this.deps.membersOf(conversationId)) ?? []) {
        if (memberId !== userId && this.connections.has(memberId)) recipients.add(memberId);
      }
    }
    return recipients;
  }

  private publish(change: PresenceChange): void {
    this.deps.bus.publish({ type: "presence", instanceId: this.instanceId, ...change }).catch((error: unknown) => this.deps.onError?.(error));
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }
}
