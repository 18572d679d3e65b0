// Small TCP proxies for fault tests, all on 127.0.0.1: one that can cut a link (Redis, PostgreSQL)
// and a "load balancer" that sends each new connection to the first instance that accepts it. Shared
// with apps/server's tests as @parley/api/testing/tcp-proxy.
import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface Proxy {
  port: number;
  /** Drops every open connection and refuses new ones until restore(). */
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

function pipeBoth(client: Socket, upstream: Socket, open: Set<Socket>): void {
  open.add(client);
  open.add(upstream);
  const end = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on("error", end).on("close", end);
  upstream.on("error", end).on("close", end);
  client.pipe(upstream);
  upstream.pipe(client);
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

/** Forwards 127.0.0.1:<port> to 127.0.0.1:<targetPort>. */
export async function tcpProxy(targetPort: number): Promise<Proxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => pipeBoth(client, connect(targetPort, "127.0.0.1"), open));
  const port = await listen(server);
  return {
    port,
    async cut() {
      await Promise.all([closeServer(server), ...[...open].map(async (socket) => socket.destroy())]);
    },
    async restore() {
      await listen(server, port);
    },
    async close() {
      for (const socket of open) socket.destroy();
      await closeServer(server);
    },
  };
}

/** Sends each new connection to the first of `targetPorts()` that accepts it. */
export async function balancer(targetPorts: () => number[]): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    client.pause();
    const tryTarget = (ports: number[]) => {
      const [first, ...rest] = ports;
      if (first === undefined) {
        client.destroy();
        return;
      }
      const upstream = connect(first, "127.0.0.1");
      upstream.once("error", () => tryTarget(rest));
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        pipeBoth(client, upstream, open);
        client.resume();
      });
    };
    tryTarget(targetPorts());
  });
  const port = await listen(server);
  return {
    port,
    async close() {
      for (const socket of open) socket.destroy();
      await closeServer(server);
    },
  };
}
