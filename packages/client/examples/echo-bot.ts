// A Parley bot in Node, written with @parley/client: it logs in, follows the live feed and answers
// every message that starts with "!echo " in the same conversation, through the outbox (so an
// answer written while the server restarts is sent once, when it is back).
//
//   pnpm --filter @parley/client exec tsx examples/echo-bot.ts http://127.0.0.1:3000 <username> <password>
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { createParleyClient, signInWithPassword, type ParleyClient } from "@parley/client";

const PREFIX = "!echo ";

export interface EchoBot {
  client: ParleyClient;
  stop(): Promise<void>;
}

export async function startEchoBot(baseUrl: string, username: string, password: string): Promise<EchoBot> {
  const { session, userId } = await signInWithPassword({ baseUrl, username, password });
  const client = createParleyClient({
    baseUrl,
    session,
    userId,
    // Node 20 has no WebSocket of its own.
    WebSocket,
    onMessage(message) {
      if (message.senderId !== userId && message.content.startsWith(PREFIX)) {
        client.sender.send(message.conversationId, message.content.slice(PREFIX.length));
      }
    },
  });
  client.start();
  return {
    client,
    async stop() {
      await client.dispose();
      session.stop();
    },
  };
}

// Run as a program (not imported by a test): until Ctrl-C.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [baseUrl, username, password] = process.argv.slice(2);
  if (!baseUrl || !username || !password) {
    console.error("usage: echo-bot.ts <server address> <username> <password>");
    process.exit(2);
  }
  const bot = await startEchoBot(baseUrl, username, password);
  console.warn(`echo bot ${username} is listening on ${baseUrl}`);
  process.once("SIGINT", () => void bot.stop());
}
