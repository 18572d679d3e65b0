// The load generator: C WebSocket clients in rooms, a share of them sending at a fixed total rate
// (open loop: each send has an intended time, and latency is measured from it, so a slow server
// cannot slow the generator down and hide its own delay), every receiver timing each delivery.
import { randomUUID } from "node:crypto";
import { PerformanceObserver } from "node:perf_hooks";
import { LeanWebSocket } from "./lean-ws.js";
import { messageContent, readDelivery, type Delivery, type Protocol } from "./protocols.js";
import { cpuInterruptSeconds, machineBusyCpuSeconds, servicesCpuSeconds, soleCpu, type ProcessSample } from "./processes.js";
import { Samples, distributionOf, type Distribution } from "./stats.js";

export interface RoomPlan {
  /** The conversation id (Parley) or room name (baseline). */
  key: string;
  /** Indexes into LoadPlan.clients. */
  members: number[];
}

export interface ClientPlan {
  room: number;
  /** Where this client connects (http://host:port of one server instance). */
  endpoint: string;
  token: string | null;
}

export interface LoadPlan {
  protocol: Protocol;
  clients: ClientPlan[];
  rooms: RoomPlan[];
  /** Indexes of the clients that send. */
  senders: number[];
  /** Sees every message delivery (after it is counted) and every other event of the feed. */
  observer?: FeedObserver;
}

/** `frame` is a view into the generator's read buffer: copy what should outlive the call. */
export interface FeedObserver {
  onDelivery?(client: number, frame: Buffer, now: number): void;
  onEvent?(client: number, frame: Buffer, now: number): void;
}

export interface StepOptions {
  /** Sends per second, all senders together. */
  rate: number;
  warmupMs: number;
  measureMs: number;
  /** How long to wait after the last send for outstanding replies and deliveries. */
  drainMs: number;
  /** The servers' CPU time and RSS, summed over their processes. */
  probe: () => ProcessSample;
  /**
   * The CPU the servers are pinned to, if any: its interrupt time is measured too (serverInterrupts),
   * since the TCP work of what the servers write runs there outside their processes' CPU time.
   */
  serverCore?: number | null;
  /** Something to run during the measured window (a login burst), `atMs` after it starts. */
  during?: { atMs: number; run: () => Promise<void> };
  /**
   * Load of another kind (typing, reads, connections) run from the step's first send until `end`
   * (the measured window's end), awaited before the drain.
   */
  alongside?: (window: { begin: number; start: number; end: number }) => Promise<void>;
}

export interface StepResult {
  rate: number;
  measureMs: number;
  /** The measured window, in the generator's performance.now() time. */
  window: { start: number; end: number };
  /** Sends whose intended time fell in the measured window, per second. */
  sendsPerSecond: number;
  /** Deliveries received during the measured window, per second. */
  deliveredPerSecond: number;
  /** End-to-end: intended send time to receipt, for messages intended in the measured window. */
  latency: Distribution;
  /** Send to the server's reply to the sender. */
  ackLatency: Distribution;
  sent: number;
  acked: number;
  errors: Record<string, number>;
  expected: number;
  received: number;
  lost: number;
  duplicates: number;
  /** Deliveries of an earlier step's messages (already counted as lost there). */
  late: number;
  disconnects: number;
  drained: boolean;
  /** Server CPU over the measured window, in cores (1 = one core busy). */
  serverCpu: number;
  serverRssBytes: number;
  serverPeakRssBytes: number;
  /** The generator's own CPU, in cores: near 1 means the generator, not the server, is the limit. */
  generatorCpu: number;
  /**
   * Interrupt time on the generator's core, in cores, when it is pinned to one (else 0): the TCP
   * work its reads and writes set off (acknowledgements, handing its sends to the server's
   * sockets) runs there, outside generatorCpu, and takes the same core.
   */
  generatorInterrupts: number;
  /**
   * Interrupt time on the servers' core, in cores, when StepOptions.serverCore names it (else 0):
   * the loopback TCP work of what the servers write (and of the acknowledgements they send) runs
   * there as soft interrupts, in no process's CPU time - a cost of serving that serverCpu leaves out.
   */
  serverInterrupts: number;
  /** How late the generator sent, p99 (ms): above a few ms it could not keep its schedule. */
  sendLagP99: number;
  /** The generator's own garbage collection pauses in the window, in total (ms). */
  generatorGcMs: number;
  /** PostgreSQL and Redis processes (unpinned, on either core), in cores. */
  servicesCpu: number;
  /**
   * CPU used by everything other than the servers, PostgreSQL, Redis and the generator, in cores:
   * on a shared machine, other work can stall either side and shows up here.
   */
  otherCpu: number;
  /** Latency before and during `during`, when given. */
  phases?: { before: Distribution; during: Distribution; duringMs: number };
}

interface LiveClient {
  index: number;
  plan: ClientPlan;
  socket: LeanWebSocket | null;
  ready: boolean;
  /**
   * Which of this step's messages to its room it has received, by their number within the room
   * (a client is in one room): a byte per message instead of a Set keeps the generator's garbage
   * collector quiet at tens of thousands of deliveries a second.
   */
  seen: Uint8Array;
  onReady: (() => void) | null;
  /** Waiting for its connection to close (close()). */
  closed: (() => void)[];
}

interface PendingSend {
  /** Number of the message within its room in this step. */
  seq: number;
  room: number;
  intendedMs: number;
}

/** Latencies tagged with their intended send times, so a window can be cut out afterwards. */
class TimedSamples {
  private readonly times: Samples;
  private readonly values: Samples;

  constructor(capacity: number) {
    this.times = new Samples(capacity);
    this.values = new Samples(capacity);
  }

  push(time: number, value: number): void {
    this.times.push(time);
    this.values.push(value);
  }

  between(from: number, to: number): Distribution {
    const times = this.times.view();
    const values = this.values.view();
    const picked: number[] = [];
    for (let i = 0; i < times.length; i += 1) {
      const time = times[i] ?? 0;
      if (time >= from && time < to) picked.push(values[i] ?? 0);
    }
    return distributionOf(picked);
  }
}

class StepState {
  readonly pending = new Map<number, PendingSend>();
  readonly ackedByRoom: number[][];
  readonly latencies: TimedSamples;
  readonly ackLatencies = new Samples();
  readonly sendLag = new Samples();
  readonly errors: Record<string, number> = {};
  sent = 0;
  sentInWindow = 0;
  acked = 0;
  expected = 0;
  received = 0;
  deliveredInWindow = 0;
  duplicates = 0;
  late = 0;
  disconnects = 0;

  constructor(
    readonly id: number,
    rooms: number,
    readonly windowStart: number,
    readonly windowEnd: number,
    expectedDeliveries = 0,
  ) {
    this.ackedByRoom = Array.from({ length: rooms }, () => []);
    this.latencies = new TimedSamples(expectedDeliveries);
  }

  countError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LoadGenerator {
  private readonly clients: LiveClient[];
  private readonly runTag = randomUUID().slice(0, 8);
  private nextRequestId = 2;
  private stepCount = 0;
  private step: StepState;
  private readonly delivery: Delivery = { step: 0, seq: 0, intendedMs: 0 };
  /** Request ids of call()s not answered yet, with what to run when the answer comes. */
  private readonly otherCalls = new Map<number, (() => void) | undefined>();

  constructor(private readonly plan: LoadPlan) {
    this.clients = plan.clients.map((client, index) => ({ index, plan: client, socket: null, ready: false, seen: new Uint8Array(0), onReady: null, closed: [] }));
    this.step = new StepState(0, plan.rooms.length, 0, 0);
  }

  get connectedCount(): number {
    return this.clients.filter((c) => c.ready).length;
  }

  /** Opens every client and waits until each is subscribed (or joined), `concurrency` at a time. */
  async connect({ concurrency = 100, timeoutMs = 120_000 } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < this.clients.length && Date.now() < deadline) {
        const client = this.clients[next++];
        if (client) await this.open(client, deadline).catch((error: unknown) => failures.push(String(error)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, this.clients.length) }, worker));
    const missing = this.clients.length - this.connectedCount;
    if (missing > 0) throw new Error(`${missing} of ${this.clients.length} ${this.plan.protocol.name} clients did not connect: ${failures.slice(0, 3).join("; ")}`);
  }

  private open(client: LiveClient, deadline: number): Promise<void> {
    const { protocol } = this.plan;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error("timed out subscribing"));
      }, Math.max(1, deadline - Date.now()));
      client.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const socket = new LeanWebSocket(protocol.socketUrl(client.plan.endpoint), {
        onOpen: () => {
          const room = this.plan.rooms[client.plan.room];
          for (const frame of protocol.greeting({ token: client.plan.token, room: room?.key ?? "" })) socket.send(frame);
        },
        onMessage: (buffer, start, end, receivedAt) => this.onFrame(client, buffer, start, end, receivedAt),
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
        onClose: () => {
          if (client.ready) this.step.disconnects += 1;
          client.ready = false;
          clearTimeout(timer);
          reject(new Error("closed before it was ready"));
          for (const done of client.closed.splice(0)) done();
        },
      });
      client.socket = socket;
    });
  }

  /** One frame, `buffer[start, end)` (a range of the shared read buffer: nothing here keeps it). */
  private onFrame(client: LiveClient, buffer: Buffer, start: number, end: number, receivedAt: number): void {
    const step = this.step;
    const kind = this.plan.protocol.classify(buffer, start, end);
    switch (kind.kind) {
      case "delivery": {
        // When the read that brought it returned: frames that arrived together share the time.
        const now = receivedAt;
        const delivery = this.delivery;
        if (!readDelivery(buffer, delivery, start, end)) {
          step.countError("MALFORMED_DELIVERY");
        } else if (delivery.step !== step.id) {
          step.late += 1;
        } else if (delivery.seq >= client.seen.length) {
          step.countError("UNKNOWN_MESSAGE");
        } else if (client.seen[delivery.seq] === 1) {
          step.duplicates += 1;
        } else {
          client.seen[delivery.seq] = 1;
          step.received += 1;
          step.latencies.push(delivery.intendedMs, now - delivery.intendedMs);
          if (now >= step.windowStart && now < step.windowEnd) step.deliveredInWindow += 1;
          this.plan.observer?.onDelivery?.(client.index, buffer.subarray(start, end), now);
        }
        return;
      }
      case "event":
        this.plan.observer?.onEvent?.(client.index, buffer.subarray(start, end), receivedAt);
        return;
      case "ack": {
        const send = step.pending.get(kind.requestId);
        if (!send) {
          this.answered(kind.requestId);
          return;
        }
        step.pending.delete(kind.requestId);
        step.acked += 1;
        step.ackedByRoom[send.room]?.push(send.seq);
        step.expected += this.plan.rooms[send.room]?.members.length ?? 0;
        if (send.intendedMs >= step.windowStart && send.intendedMs < step.windowEnd) step.ackLatencies.push(receivedAt - send.intendedMs);
        return;
      }
      case "error": {
        if (kind.requestId !== null && step.pending.delete(kind.requestId)) step.countError(kind.code);
        else if (kind.requestId !== null && this.answered(kind.requestId)) step.countError(`call: ${kind.code}`);
        else step.countError(`connection: ${kind.code}`);
        return;
      }
      case "ready":
        client.ready = true;
        client.onReady?.();
        client.onReady = null;
        return;
      case "ping":
        client.socket?.send("PONG");
        return;
      case "ignored":
        return;
    }
  }

  /**
   * Calls a mutation other than message.send on client `index`'s socket (a reply is only checked
   * for errors, counted in the step's errors as "call: CODE"; `onAnswer` runs when it arrives, either
   * way); false if that client is not connected.
   */
  call(index: number, path: string, input: unknown, onAnswer?: () => void): boolean {
    const socket = this.clients[index]?.socket;
    if (!socket || !this.clients[index]?.ready) return false;
    const id = this.nextRequestId++;
    this.otherCalls.set(id, onAnswer);
    socket.send(JSON.stringify({ id, method: "mutation", params: { path, input } }));
    return true;
  }

  /** Forgets an answered call() and runs its onAnswer; false if it was not one. */
  private answered(requestId: number): boolean {
    if (!this.otherCalls.has(requestId)) return false;
    const onAnswer = this.otherCalls.get(requestId);
    this.otherCalls.delete(requestId);
    onAnswer?.();
    return true;
  }

  /** Calls made with call() and not answered yet. */
  get callsOutstanding(): number {
    return this.otherCalls.size;
  }

  /** One step at a fixed send rate: warm up, measure, drain, then account for every message. */
  async runStep(options: StepOptions): Promise<StepResult> {
    const { rate, warmupMs, measureMs, drainMs } = options;
    const { senders, clients, rooms, protocol } = this.plan;
    if (senders.length === 0) throw new Error("no senders");
    const begin = performance.now() + 20;
    const windowStart = begin + warmupMs;
    const windowEnd = windowStart + measureMs;
    const interval = 1000 / rate;
    const total = Math.floor(((warmupMs + measureMs) / 1000) * rate);
    // Send i goes from senders[i % senders.length]: count what each room will be sent.
    const perRoom = new Array<number>(rooms.length).fill(0);
    for (let i = 0; i < total; i += 1) {
      const room = clients[senders[i % senders.length] ?? 0]?.room ?? 0;
      perRoom[room] = (perRoom[room] ?? 0) + 1;
    }
    const expectedDeliveries = rooms.reduce((sum, room, r) => sum + room.members.length * (perRoom[r] ?? 0), 0);
    const step = new StepState(++this.stepCount, rooms.length, windowStart, windowEnd, expectedDeliveries);
    this.step = step;
    for (const client of this.clients) client.seen = new Uint8Array(perRoom[client.plan.room] ?? 0);
    const nextInRoom = new Array<number>(rooms.length).fill(0);

    let serverAtStart: ProcessSample | null = null;
    let serverAtEnd: ProcessSample | null = null;
    let generatorAtStart = process.cpuUsage();
    let generatorCpuMicros = 0;
    const core = soleCpu();
    let interruptsAtStart = 0;
    let interruptSeconds = 0;
    const serverCore = options.serverCore ?? null;
    let serverInterruptsAtStart = 0;
    let serverInterruptSeconds = 0;
    let machineAtStart = 0;
    let machineBusySeconds = 0;
    let servicesAtStart = 0;
    let servicesSeconds = 0;
    let gcMs = 0;
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.startTime >= windowStart && entry.startTime < windowEnd) gcMs += entry.duration;
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    let peakRss = 0;
    const rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, options.probe().rssBytes);
    }, 250);
    const windowStarted = sleep(windowStart - performance.now()).then(() => {
      serverAtStart = options.probe();
      generatorAtStart = process.cpuUsage();
      if (core !== null) interruptsAtStart = cpuInterruptSeconds(core);
      if (serverCore !== null) serverInterruptsAtStart = cpuInterruptSeconds(serverCore);
      machineAtStart = machineBusyCpuSeconds();
      servicesAtStart = servicesCpuSeconds();
    });
    const windowEnded = sleep(windowEnd - performance.now()).then(() => {
      serverAtEnd = options.probe();
      const used = process.cpuUsage(generatorAtStart);
      generatorCpuMicros = used.user + used.system;
      if (core !== null) interruptSeconds = cpuInterruptSeconds(core) - interruptsAtStart;
      if (serverCore !== null) serverInterruptSeconds = cpuInterruptSeconds(serverCore) - serverInterruptsAtStart;
      machineBusySeconds = machineBusyCpuSeconds() - machineAtStart;
      servicesSeconds = servicesCpuSeconds() - servicesAtStart;
    });
    const alongsideDone = options.alongside ? options.alongside({ begin, start: windowStart, end: windowEnd }) : Promise.resolve();
    let phase: { start: number; end: number } | null = null;
    const during = options.during;
    const duringDone = during
      ? sleep(windowStart + during.atMs - performance.now()).then(async () => {
          const start = performance.now();
          await during.run();
          phase = { start, end: performance.now() };
        })
      : Promise.resolve();

    await new Promise<void>((resolve) => {
      let i = 0;
      const tick = () => {
        const now = performance.now();
        while (i < total) {
          const intended = begin + i * interval;
          if (intended > now) break;
          const senderIndex = senders[i % senders.length] ?? 0;
          const sender = clients[senderIndex];
          const client = this.clients[senderIndex];
          i += 1;
          if (!sender || !client?.socket || !client.ready) {
            step.countError("SENDER_DISCONNECTED");
            continue;
          }
          const seq = nextInRoom[sender.room] ?? 0;
          nextInRoom[sender.room] = seq + 1;
          const requestId = this.nextRequestId++;
          const room = rooms[sender.room];
          step.pending.set(requestId, { seq, room: sender.room, intendedMs: intended });
          client.socket.send(protocol.sendFrame(requestId, room?.key ?? "", messageContent(step.id, seq, intended), `${this.runTag}-${requestId}`));
          step.sent += 1;
          if (intended >= windowStart && intended < windowEnd) {
            step.sentInWindow += 1;
            step.sendLag.push(performance.now() - intended);
          }
        }
        if (i >= total) resolve();
        else setTimeout(tick, Math.max(0, begin + i * interval - performance.now()));
      };
      setTimeout(tick, Math.max(0, begin - performance.now()));
    });
    await windowStarted;
    await windowEnded;
    await alongsideDone;

    const drainDeadline = performance.now() + drainMs;
    while (performance.now() < drainDeadline && (step.pending.size > 0 || step.received < step.expected || this.otherCalls.size > 0)) await sleep(20);
    const drained = step.pending.size === 0 && step.received >= step.expected && this.otherCalls.size === 0;
    if (this.otherCalls.size > 0) step.errors.NO_REPLY_TO_CALL = this.otherCalls.size;
    this.otherCalls.clear();
    await duringDone;
    // A short grace period in which a duplicate would still be caught.
    await sleep(100);
    clearInterval(rssTimer);
    gcObserver.disconnect();
    if (step.pending.size > 0) step.errors.NO_REPLY = step.pending.size;
    step.pending.clear();

    let lost = 0;
    for (let r = 0; r < rooms.length; r += 1) {
      const acked = step.ackedByRoom[r] ?? [];
      for (const member of rooms[r]?.members ?? []) {
        const seen = this.clients[member]?.seen;
        for (const seq of acked) if (seen?.[seq] !== 1) lost += 1;
      }
    }

    const start = serverAtStart ?? options.probe();
    const end = serverAtEnd ?? options.probe();
    const seconds = measureMs / 1000;
    const finishedPhase = phase as { start: number; end: number } | null;
    return {
      rate,
      measureMs,
      window: { start: windowStart, end: windowEnd },
      sendsPerSecond: step.sentInWindow / seconds,
      deliveredPerSecond: step.deliveredInWindow / seconds,
      latency: step.latencies.between(windowStart, windowEnd),
      ackLatency: step.ackLatencies.distribution(),
      sent: step.sent,
      acked: step.acked,
      errors: step.errors,
      expected: step.expected,
      received: step.received,
      lost,
      duplicates: step.duplicates,
      late: step.late,
      disconnects: step.disconnects,
      drained,
      serverCpu: (end.cpuSeconds - start.cpuSeconds) / seconds,
      serverRssBytes: end.rssBytes,
      serverPeakRssBytes: Math.max(peakRss, end.rssBytes),
      generatorCpu: generatorCpuMicros / 1e6 / seconds,
      generatorInterrupts: interruptSeconds / seconds,
      serverInterrupts: serverInterruptSeconds / seconds,
      sendLagP99: step.sendLag.distribution().p99,
      generatorGcMs: gcMs,
      servicesCpu: servicesSeconds / seconds,
      otherCpu: Math.max(0, (machineBusySeconds - (end.cpuSeconds - start.cpuSeconds) - generatorCpuMicros / 1e6 - servicesSeconds) / seconds),
      ...(finishedPhase
        ? {
            phases: {
              before: step.latencies.between(windowStart, finishedPhase.start),
              during: step.latencies.between(finishedPhase.start, finishedPhase.end),
              duringMs: finishedPhase.end - finishedPhase.start,
            },
          }
        : {}),
    };
  }

  async close(): Promise<void> {
    const closed = this.clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          const socket = client.socket;
          client.ready = false;
          if (!socket || socket.isClosed) return resolve();
          client.closed.push(resolve);
          socket.close();
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 2_000).unref();
        }),
    );
    this.step = new StepState(0, this.plan.rooms.length, 0, 0);
    await Promise.all(closed);
  }
}
