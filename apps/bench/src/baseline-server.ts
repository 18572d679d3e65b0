// The physical limit Parley is compared with: a bare `ws` server that only forwards messages to
// rooms. No authentication, no storage, no validation beyond what routing needs. Run as its own
// process (`node --import tsx src/baseline-server.ts`, PORT and HOST from the environment); it
// prints the same "listening" line as Parley so the bench starts both the same way.
//
// Protocol, JSON text frames:
//   client -> {"id":1,"join":"<room>"}                    server -> {"id":1,"ok":true}
//   client -> {"id":N,"room":"<room>","content":"..."}    server -> {"id":N,"ok":true} to the sender
//                                                        and {"type":"message","id":"<seq>","room":"<room>","content":"..."}
//                                                        to every member of the room, the sender included
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";

interface ClientFrame {
  id?: unknown;
  join?: unknown;
  room?: unknown;
  content?: unknown;
}

export interface BaselineServer {
  url: string;
  close(): Promise<void>;
}

export async function startBaselineServer(port: number, host: string): Promise<BaselineServer> {
  const rooms = new Map<string, Set<WebSocket>>();
  let nextMessageId = 1;
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({ server: http, maxPayload: 64 * 1024 });

  wss.on("connection", (socket) => {
    let joined: Set<WebSocket> | null = null;
    socket.on("message", (data) => {
      let frame: ClientFrame;
      try {
        frame = JSON.parse(data.toString()) as ClientFrame;
      } catch {
        socket.close(1003, "not JSON");
        return;
      }
      const id = typeof frame.id === "number" ? frame.id : null;
      if (typeof frame.join === "string") {
        joined?.delete(socket);
        joined = rooms.get(frame.join) ?? new Set();
        rooms.set(frame.join, joined);
        joined.add(socket);
        socket.send(JSON.stringify({ id, ok: true }));
        return;
      }
      if (typeof frame.room !== "string" || typeof frame.content !== "string") {
        socket.send(JSON.stringify({ id, error: "BAD_REQUEST" }));
        return;
      }
      const members = rooms.get(frame.room);
      if (!members?.has(socket)) {
        socket.send(JSON.stringify({ id, error: "FORBIDDEN" }));
        return;
      }
      // Serialized once per fan-out, as any server that cares would.
      const message = JSON.stringify({ type: "message", id: String(nextMessageId++), room: frame.room, content: frame.content });
      for (const member of members) member.send(message);
      socket.send(JSON.stringify({ id, ok: true }));
    });
    socket.on("close", () => {
      joined?.delete(socket);
    });
  });

  await new Promise<void>((resolve) => http.listen(port, host, resolve));
  const address = http.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolvePath(process.argv[1]);
if (isEntryPoint) {
  const server = await startBaselineServer(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1");
  console.log(JSON.stringify({ msg: "listening", url: server.url }));
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
