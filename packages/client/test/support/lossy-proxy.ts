// A test-only HTTP proxy in front of a real server that can lose an answer: the call reaches the
// server and is handled, and then the client's connection breaks instead of the response arriving -
// what a client sees when the network drops or the server restarts mid-call. WebSocket upgrades
// pass through untouched.
import { createServer, request, type IncomingMessage } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface LossyProxy {
  readonly baseUrl: string;
  /**
   * The next HTTP call of `procedure` (e.g. "message.send") is answered by the server, then
   * `beforeDropping` runs, then the client's connection is destroyed. Resolves once it was dropped.
   */
  loseNextAnswer(procedure: string, beforeDropping?: () => Promise<void>): Promise<void>;
  /** HTTP calls of `procedure` that reached the proxy so far. */
  calls(procedure: string): number;
  close(): Promise<void>;
}

interface Loss {
  procedure: string;
  beforeDropping(): Promise<void>;
  dropped(): void;
}

function proceduresOf(req: IncomingMessage): string[] {
  if (!req.url?.startsWith("/trpc/")) return [];
  return decodeURIComponent(new URL(req.url, "http://local").pathname.slice("/trpc/".length)).split(",");
}

export async function startLossyProxy(targetPort: number): Promise<LossyProxy> {
  let loss: Loss | null = null;
  const calls = new Map<string, number>();
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };

  const server = createServer((req, res) => {
    for (const procedure of proceduresOf(req)) calls.set(procedure, (calls.get(procedure) ?? 0) + 1);
    const lost = loss && proceduresOf(req).includes(loss.procedure) ? loss : null;
    if (lost) loss = null;
    const upstream = request({ host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (!lost) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      answer.resume();
      answer.once("end", () => {
        void lost.beforeDropping().finally(() => {
          req.socket.destroy();
          lost.dropped();
        });
      });
    });
    // The server is down: the client's request fails as it would without the proxy.
    upstream.once("error", () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.on("connection", track);
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = connect(targetPort, "127.0.0.1");
    track(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once("error", end).once("close", end);
    upstream.once("error", end).once("close", end);
    upstream.once("connect", () => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    loseNextAnswer(procedure, beforeDropping = async () => undefined) {
      return new Promise((dropped) => {
        loss = { procedure, beforeDropping, dropped };
      });
    },
    calls: (procedure) => calls.get(procedure) ?? 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
