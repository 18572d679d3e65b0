// Scenarios 6 to 9: what v2's live state costs on top of scenario 1's messages. Every client
// subscribes to sync.events; messages flow at half of scenario 1's knee while
//   6 (typing storm): every client calls typing.set in its room every `typingEveryMs`,
//   7 (presence churn): other users of the rooms connect and disconnect `churnPerSecond` times a second,
//   8 (read markers): every receiver marks each message it receives read, as the client package
//     does (one markRead per conversation at a time and at most one per READ_PACE_MS, the furthest next),
//   9 (reactions): every receiver calls message.react on each message it receives; each reaction
//     is a stored change (an ordered transaction and a message.updated to every member), so the
//     messages flow at a room's size less (rate / roomSize), which keeps the writes per second
//     (messages and reactions) about those of the other scenarios,
// and each measures the delivery of those events as well as of the messages.
import WebSocket from "ws";
import { parleyOn, prepareDatabase, type RunContext } from "../context.js";
import { describeStep } from "../knee.js";
import type { FeedObserver, StepResult } from "../load.js";
import { Session } from "../session.js";
import { distributionOf, type Distribution } from "../stats.js";
import { loadPlan, topology } from "../targets.js";

export type LiveStateId = "s6" | "s7" | "s8" | "s9";

export const LIVE_STATE_NAMES: Record<LiveStateId, string> = {
  s6: "typing storm",
  s7: "presence churn",
  s8: "read markers",
  s9: "reactions",
};

/** What scenario 9's receivers react with, by client: a few, so a message gathers several. */
const REACTIONS = ["👍", "🎉", "👀", "❤️"];

export interface LiveStateResult {
  id: LiveStateId;
  name: string;
  /** Message sends per second (half of scenario 1's knee; scenario 9 a room's size less). */
  rate: number;
  /** The messages: latency, loss, server CPU, as in scenario 1. */
  messages: StepResult;
  /** The scenario's own events: from the call (or connect) to each receiver. */
  events: { kind: string; actions: number; expected: number; received: number; latency: Distribution; perSecond: number };
  /** What else was counted (offline events seen, for presence). */
  note: string;
  serverLog: string[];
}

/** Latencies tagged with when their action happened, so the measured window can be cut out. */
class ActionLatencies {
  private readonly samples: [number, number][] = [];
  received = 0;

  push(actionAt: number, latency: number): void {
    this.received += 1;
    this.samples.push([actionAt, latency]);
  }

  between(from: number, to: number): Distribution {
    return distributionOf(this.samples.filter(([at]) => at >= from && at < to).map(([, latency]) => latency));
  }
}

/** The value of `"field":"..."` in a frame, or null: the events are small, a string search is enough. */
function field(text: string, name: string): string | null {
  const key = `"${name}":"`;
  const start = text.indexOf(key);
  if (start < 0) return null;
  const end = text.indexOf('"', start + key.length);
  return end < 0 ? null : text.slice(start + key.length, end);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLiveState(context: RunContext, id: LiveStateId, liveRate: number): Promise<LiveStateResult> {
  const { params, log } = context;
  const { knee, live, step: timing } = params;
  const rate = id === "s9" ? Math.max(1, Math.round(liveRate / knee.roomSize)) : liveRate;
  const layout = topology(knee.clients, knee.roomSize, knee.senders);
  const clients = knee.clients;
  // Scenario 7's churning users: each connects once per step, into a "lobby" shared with one room
  // (so a connect is told to that room's 10 clients and messages cost what they cost in scenario 1).
  const churners = id === "s7" ? Math.ceil((live.churnPerSecond * (timing.warmupMs + timing.measureMs)) / 1000) : 0;
  const lobbies = layout.rooms.map((members, r) => [...members, ...Array.from({ length: churners }, (_, k) => clients + k).filter((k) => k % layout.rooms.length === r)]);
  const conversations = churners > 0 ? [...layout.rooms, ...lobbies] : layout.rooms;
  const database = await prepareDatabase(context, "sqlite", `${id}-sqlite`, clients + churners, conversations);
  const userIds = database.users.map((u) => u.id);

  const latencies = new ActionLatencies();
  let actions = 0;
  let expected = 0;
  let offlineSeen = 0;
  let observer: FeedObserver = {};
  let alongside: (session: Session, window: { begin: number; start: number; end: number }) => Promise<void> = async () => {};
  const inWindow = (at: number, window: { start: number; end: number }) => at >= window.start && at < window.end;
  let measured: { start: number; end: number } = { start: 0, end: 0 };

  if (id === "s6") {
    // Each client's last typing.set, by its user id: every call passes the 2 s throttle, so each
    // reaches the other members of the room once.
    const typedAt = new Map<string, number>();
    observer = {
      onEvent: (_client, frame, now) => {
        const text = frame.toString("latin1");
        if (!text.includes('"type":"typing"')) return;
        const at = typedAt.get(field(text, "userId") ?? "");
        if (at !== undefined) latencies.push(at, now - at);
      },
    };
    alongside = async (session, window) => {
      const every = live.typingEveryMs;
      const next = Array.from({ length: clients }, (_, i) => window.begin + (i * every) / clients);
      while (performance.now() < window.end) {
        const now = performance.now();
        for (let i = 0; i < clients; i += 1) {
          if ((next[i] ?? Infinity) > now) continue;
          const room = layout.rooms.findIndex((members) => members.includes(i));
          if (session.call(i, "typing.set", { conversationId: database.conversationIds[room] })) {
            typedAt.set(userIds[i] ?? "", now);
            if (inWindow(now, window)) {
              actions += 1;
              expected += (layout.rooms[room]?.length ?? 1) - 1;
            }
          }
          next[i] = (next[i] ?? now) + every;
        }
        await sleep(5);
      }
    };
  } else if (id === "s7") {
    const connectedAt = new Map<string, number>();
    observer = {
      onEvent: (_client, frame, now) => {
        const text = frame.toString("latin1");
        if (!text.includes('"type":"presence"')) return;
        const userId = field(text, "userId") ?? "";
        if (field(text, "status") === "offline") offlineSeen += 1;
        else if (field(text, "status") === "online") {
          const at = connectedAt.get(userId);
          if (at !== undefined) latencies.push(at, now - at);
        }
      },
    };
    alongside = async (session, window) => {
      const endpoint = session.deployment.endpoints[0] ?? "";
      const url = `${endpoint.replace(/^http/, "ws")}/trpc?connectionParams=1`;
      const interval = 1000 / live.churnPerSecond;
      const closed: Promise<void>[] = [];
      for (let k = 0; k < churners; k += 1) {
        const intended = window.begin + k * interval;
        if (intended >= window.end) break;
        await sleep(intended - performance.now());
        const user = database.users[clients + k];
        if (!user) break;
        connectedAt.set(user.id, intended);
        if (inWindow(intended, window)) {
          actions += 1;
          expected += layout.rooms[k % layout.rooms.length]?.length ?? 0;
        }
        const socket = new WebSocket(url, { perMessageDeflate: false });
        socket.on("open", () => socket.send(JSON.stringify({ method: "connectionParams", data: { token: user.accessToken } })));
        socket.on("error", () => undefined);
        closed.push(
          new Promise<void>((resolve) => {
            socket.once("close", () => resolve());
            setTimeout(() => socket.close(), live.churnHoldMs);
            setTimeout(() => {
              socket.terminate();
              resolve();
            }, live.churnHoldMs + 5_000).unref();
          }),
        );
      }
      await Promise.all(closed);
    };
  } else if (id === "s9") {
    // Each receiver reacts to every message it receives (not its own) at once. A reaction is timed
    // at each member from the react call to the first message.updated of that message that shows
    // the reactor among those who reacted.
    const reactedAt = new Map<string, number>();
    const shown = new Map<number, Set<string>>();
    const reactors: Session[] = [];
    observer = {
      onDelivery: (client, frame, now) => {
        const session = reactors[0];
        const userId = userIds[client] ?? "";
        const text = frame.toString("latin1");
        if (!session || field(text, "senderId") === userId) return;
        const messageId = field(text, "id");
        if (!messageId) return;
        if (session.call(client, "message.react", { messageId, emoji: REACTIONS[client % REACTIONS.length], on: true })) {
          reactedAt.set(`${userId}|${messageId}`, now);
          if (inWindow(now, measured)) {
            actions += 1;
            expected += knee.roomSize;
          }
        }
      },
      onEvent: (client, frame, now) => {
        const text = frame.toString("latin1");
        if (!text.includes('"type":"message.updated"')) return;
        const at = text.indexOf('"message":{');
        const messageId = at < 0 ? null : field(text.slice(at), "id");
        if (!messageId) return;
        let seen = shown.get(client);
        if (!seen) shown.set(client, (seen = new Set()));
        for (const list of text.matchAll(/"userIds":\[([^\]]*)\]/g)) {
          for (const quoted of (list[1] ?? "").split(",")) {
            const reactor = quoted.slice(1, -1);
            const key = `${reactor}|${messageId}`;
            if (!reactor || seen.has(key)) continue;
            seen.add(key);
            const reacted = reactedAt.get(key);
            if (reacted !== undefined) latencies.push(reacted, now - reacted);
          }
        }
      },
    };
    alongside = async (session) => {
      reactors.push(session);
    };
  } else {
    // Each receiver marks every message it receives (not its own) read, as @parley/client's
    // ChatStore does: at once when no markRead of that conversation is waiting for its answer or
    // for its pace (READ_PACE_MS since it was asked), otherwise the furthest message wanted is sent
    // when both have come. A read.updated is timed from its markRead call: the server's part. (Until
    // the pace, it was timed from when the reader first wanted the oldest message its call covers,
    // which now adds the pace's deliberate wait of up to READ_PACE_MS.)
    // @parley/client's READ_PACE_MS (packages/client/src/chat/chat-store.ts), which its browser
    // modules keep this Node package from importing.
    const READ_PACE_MS = 500;
    const markedAt = new Map<string, number>();
    const readers: Session[] = [];
    /**
     * Per reader and conversation: whether a call is unanswered or its pace (READ_PACE_MS since it
     * was asked) has not passed, and what is wanted after it.
     */
    const flights = new Map<string, { asking: boolean; wanted: string | null }>();
    const ask = (session: Session, client: number, userId: string, conversationId: string, messageId: string) => {
      const key = `${userId}|${conversationId}`;
      const flight = flights.get(key) ?? { asking: false, wanted: null };
      flights.set(key, flight);
      let waiting = 2;
      const settled = () => {
        waiting -= 1;
        if (waiting > 0) return;
        flight.asking = false;
        const next = flight.wanted;
        if (next === null) return;
        flight.wanted = null;
        ask(session, client, userId, conversationId, next);
      };
      const sent = session.call(client, "conversation.markRead", { conversationId, messageId }, settled);
      if (!sent) return;
      setTimeout(settled, READ_PACE_MS);
      flight.asking = true;
      markedAt.set(`${userId}|${messageId}`, performance.now());
      const now = performance.now();
      if (inWindow(now, measured)) {
        actions += 1;
        expected += knee.roomSize;
      }
    };
    observer = {
      onDelivery: (client, frame) => {
        const session = readers[0];
        const userId = userIds[client] ?? "";
        const text = frame.toString("latin1");
        if (!session || field(text, "senderId") === userId) return;
        // The message's id, which is also its event id.
        const messageId = field(text, "id");
        const conversationId = field(text, "conversationId");
        if (!messageId || !conversationId) return;
        const flight = flights.get(`${userId}|${conversationId}`);
        if (flight?.asking) {
          flight.wanted = messageId;
          return;
        }
        ask(session, client, userId, conversationId, messageId);
      },
      onEvent: (_client, frame, now) => {
        const text = frame.toString("latin1");
        if (!text.includes('"type":"read.updated"')) return;
        const at = markedAt.get(`${field(text, "userId") ?? ""}|${field(text, "lastReadMessageId") ?? ""}`);
        if (at !== undefined) latencies.push(at, now - at);
      },
    };
    alongside = async (session) => {
      readers.push(session);
    };
  }

  try {
    const target = parleyOn(context, database, 1, "sync.events");
    const session = await Session.open({
      target,
      plan: async (deployment) => ({
        ...loadPlan(target, deployment, layout, { users: (await database.freshUsers(deployment.endpoints[0] ?? "")).slice(0, clients), conversationIds: database.conversationIds }),
        observer,
      }),
      warmUp: { rate: params.knee.ladder[0] ?? 10, ms: timing.warmupMs * 2 },
    });
    let messages: StepResult;
    let serverLog: string[];
    try {
      await session.waitForQuiet();
      messages = await session.step({
        rate,
        ...timing,
        alongside: (window) => {
          measured = window;
          return alongside(session, window);
        },
      });
      serverLog = session.serverErrors();
    } finally {
      await session.close();
    }
    const events = {
      kind: id === "s6" ? "typing" : id === "s7" ? "presence online" : id === "s8" ? "read.updated" : "message.updated (reaction)",
      actions,
      expected,
      received: latencies.received,
      latency: latencies.between(measured.start, measured.end),
      perSecond: (expected / timing.measureMs) * 1000,
    };
    const result: LiveStateResult = {
      id,
      name: LIVE_STATE_NAMES[id],
      rate,
      messages,
      events,
      note:
        id === "s7"
          ? `${offlineSeen} offline events seen (they follow a close by the 10 s grace period)`
          : id === "s9"
            ? `${rate} messages/s, so about ${rate * (knee.roomSize - 1)} reactions/s`
            : "",
      serverLog,
    };
    log(describeStep(`${id} ${result.name}: messages`, messages));
    log(
      `${id} ${result.name}: ${events.actions} ${id === "s7" ? "connects" : "calls"} in the window, ${events.kind} deliveries p50 ${events.latency.p50.toFixed(1)} ` +
        `p99 ${events.latency.p99.toFixed(1)} max ${events.latency.max.toFixed(0)} ms (${events.latency.count} timed of ${events.expected} expected in the window); ${result.note}`,
    );
    return result;
  } finally {
    await database.drop();
  }
}
