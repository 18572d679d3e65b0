// A test-only HTTP proxy in front of the real server that can refuse chosen API calls, so the
// browser meets real failed requests: the app's own fetches get a real 503 from a real socket.
// WebSocket upgrades pass through untouched.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface RefusingProxy {
  readonly url: string;
  /** Answers 503 to every HTTP API request that names this procedure (e.g. "conversation.list"); null: none. */
  refuse(procedure: string | null): void;
  /** How many requests were refused so far. */
  refusedCount(): number;
  close(): Promise<void>;
}

export async function startRefusingProxy(targetPort: number): Promise<RefusingProxy> {
  let refusing: string | null = null;
  let refused = 0;
  const sockets = new Set<Socket>();

  const refusesThis = (req: IncomingMessage) => {
    if (!refusing || !req.url?.startsWith("/trpc/")) return false;
    const procedures = decodeURIComponent(new URL(req.url, "http://local").pathname.slice("/trpc/".length)).split(",");
    return procedures.includes(refusing);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (refusesThis(req)) {
      refused += 1;
      req.resume();
      res.writeHead(503, { "Content-Type": "text/plain", Connection: "close" });
      res.end("refused by the test proxy");
      return;
    }
    const upstream = request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  // A WebSocket: replay the upgrade request to the server and join the two sockets.
  server.on("upgrade", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = connect(targetPort, "127.0.0.1", () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    refuse: (procedure) => {
      refusing = procedure;
    },
    refusedCount: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
