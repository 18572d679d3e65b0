// The generator's own WebSocket client against a real `ws` server on 127.0.0.1. The server side
// writes some frames by hand on its raw socket (after a real handshake) to control where the
// client's reads begin and end: several frames in one write, a frame split byte by byte.
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { LeanWebSocket, clientFrame } from "../src/lean-ws.js";

interface Connection {
  ws: WebSocket;
  /** The TCP socket under `ws`, for frames written by hand. */
  raw: Socket;
}

let http: Server;
let wss: WebSocketServer;
let url: string;
const waiting: ((connection: Connection) => void)[] = [];

beforeAll(async () => {
  http = createServer((_req, res) => res.writeHead(404).end());
  wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (req, socket, head) => {
    if (req.url === "/refuse") {
      // Its open() waits for no server side.
      waiting.shift();
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      (socket as Socket).setNoDelay(true);
      waiting.shift()?.({ ws, raw: socket as Socket });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await new Promise<void>((resolve) => http.close(() => resolve()));
});

/** What a client saw, with promises for the events the tests wait on. */
interface Opened {
  client: LeanWebSocket;
  server: Connection;
  messages: string[];
  /** Resolves when `count` messages have arrived. */
  received(count: number): Promise<string[]>;
  closed: Promise<void>;
}

async function open(path = "/"): Promise<Opened> {
  const messages: string[] = [];
  const watchers: { count: number; resolve: (messages: string[]) => void }[] = [];
  let closedResolve: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (closedResolve = resolve));
  const server = new Promise<Connection>((resolve) => waiting.push(resolve));
  let openedResolve: () => void = () => undefined;
  let openedReject: (error: Error) => void = () => undefined;
  const opened = new Promise<void>((resolve, reject) => {
    openedResolve = resolve;
    openedReject = reject;
  });
  const client = new LeanWebSocket(`${url}${path}`, {
    onOpen: () => openedResolve(),
    onMessage: (buffer, start, end) => {
      messages.push(buffer.toString("utf8", start, end));
      for (const watcher of watchers.filter((w) => messages.length >= w.count)) watcher.resolve(messages);
    },
    onClose: () => closedResolve(),
    onError: (error) => openedReject(error),
  });
  await opened;
  return {
    client,
    server: await server,
    messages,
    received: (count) => (messages.length >= count ? Promise.resolve(messages) : new Promise((resolve) => watchers.push({ count, resolve }))),
    closed,
  };
}

/** An unmasked server frame, as a server writes it. */
function serverFrame(opcode: number, payload: Buffer, final = true): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65_536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = (final ? 0x80 : 0) | opcode;
  if (length < 126) header[1] = length;
  else if (length < 65_536) {
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 127;
    header.writeUInt32BE(0, 2);
    header.writeUInt32BE(length, 6);
  }
  return Buffer.concat([header, payload]);
}

const text = (value: string) => serverFrame(0x1, Buffer.from(value));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the generator's WebSocket client", () => {
  it("opens, and its masked frames (short, 16-bit and 64-bit lengths) reach a ws server intact", async () => {
    const { client, server } = await open();
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      server.ws.on("message", (data: Buffer) => {
        got.push(data.toString());
        if (got.length === 3) resolve();
      }),
    );
    const long = "x".repeat(70_000);
    const medium = "é".repeat(200);
    client.send("hello");
    client.send(medium);
    client.send(long);
    await all;
    expect(got).toEqual(["hello", medium, long]);
    client.terminate();
  });

  it("masks every frame with a fresh key", () => {
    const payload = Buffer.from("the same payload");
    const a = clientFrame(0x1, payload);
    const b = clientFrame(0x1, payload);
    expect(a[0]).toBe(0x81);
    expect((a[1] ?? 0) & 0x80).toBe(0x80);
    expect((a[1] ?? 0) & 0x7f).toBe(payload.length);
    const key = a.subarray(2, 6);
    expect(Buffer.from(a.subarray(6).map((byte, i) => byte ^ (key[i % 4] ?? 0)))).toEqual(payload);
    expect(a.subarray(2, 6).equals(b.subarray(2, 6))).toBe(false);
  });

  it("reads the messages a ws server sends, one by one", async () => {
    const { client, server, received } = await open();
    for (let i = 0; i < 50; i += 1) server.ws.send(`message ${i}`);
    expect(await received(50)).toEqual(Array.from({ length: 50 }, (_, i) => `message ${i}`));
    client.terminate();
  });

  it("reads several frames that arrive in one chunk", async () => {
    const { client, server, received } = await open();
    const long = "y".repeat(300);
    server.raw.write(Buffer.concat([text("one"), text("two"), text(long), text(""), text("five")]));
    expect(await received(5)).toEqual(["one", "two", long, "", "five"]);
    client.terminate();
  });

  it("reads frames split across chunks, inside the header and inside the payload", async () => {
    const { client, server, received } = await open();
    const medium = "m".repeat(1_000);
    const huge = "h".repeat(70_000);
    const bytes = Buffer.concat([text("first"), text(medium), text(huge), text("last")]);
    // Byte by byte through the headers (each write its own read), larger pieces through the rest.
    const cuts = [1, 2, 5, 6, 7, 8, 9, 11, 500, 1_011, 1_012, 1_013, 1_015, 1_018, 1_020, 1_021, 30_000, 60_000, bytes.length - 5, bytes.length - 1];
    let from = 0;
    for (const cut of cuts) {
      server.raw.write(bytes.subarray(from, cut));
      from = cut;
      await sleep(5);
    }
    server.raw.write(bytes.subarray(from));
    expect(await received(4)).toEqual(["first", medium, huge, "last"]);
    client.terminate();
  });

  it("puts a fragmented message together", async () => {
    const { client, server, received } = await open();
    server.raw.write(Buffer.concat([serverFrame(0x1, Buffer.from("par"), false), serverFrame(0x0, Buffer.from("ts "), false)]));
    await sleep(5);
    // A ping between the fragments, as RFC 6455 allows.
    server.raw.write(Buffer.concat([serverFrame(0x9, Buffer.from("p")), serverFrame(0x0, Buffer.from("joined")), text("after")]));
    expect(await received(2)).toEqual(["parts joined", "after"]);
    client.terminate();
  });

  it("answers a ping with a pong carrying its payload", async () => {
    const { client, server } = await open();
    const pong = new Promise<Buffer>((resolve) => server.ws.once("pong", resolve));
    server.ws.ping(Buffer.from("are you there"));
    expect((await pong).toString()).toBe("are you there");
    client.terminate();
  });

  it("answers the server's close with the same code, then the connection ends", async () => {
    const { server, closed } = await open();
    const serverClosed = new Promise<number>((resolve) => server.ws.once("close", resolve));
    server.ws.close(4001, "bye");
    expect(await serverClosed).toBe(4001);
    await closed;
  });

  it("closes with a close handshake when asked", async () => {
    const { client, server, closed } = await open();
    const serverClosed = new Promise<number>((resolve) => server.ws.once("close", resolve));
    client.close();
    expect(await serverClosed).toBe(1000);
    await closed;
    expect(client.isClosed).toBe(true);
  });

  it("fails on a refused handshake", async () => {
    await expect(open("/refuse")).rejects.toThrow(/403/);
  });
});
