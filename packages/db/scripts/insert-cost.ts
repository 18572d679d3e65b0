// CPU per message of the SQLite message store's group-committed insert, at several batch sizes:
//   tsx scripts/insert-cost.ts [--batches 1,2,4,8] [--messages 8000]
// On a new temporary database: 300 users in 30 conversations of 10 (scenario 1's rooms), each
// batch one db.messages.insert of messages to different rooms, 128-character contents. Prints the
// process's CPU time (user + system, the checkpointer and the search indexer included) per message,
// after a warm-up of 1,200 messages. For choosing between ways of writing a message; the whole
// server is measured by `pnpm bench`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { migrate, openDatabase } from "../src/index.js";

const { values } = parseArgs({ options: { batches: { type: "string", default: "1,2,4,8" }, messages: { type: "string", default: "8000" } } });
const batchSizes = (values.batches ?? "").split(",").map(Number).filter((n) => n >= 1 && n <= 1000);
const perSize = Math.min(100_000, Math.max(100, Number(values.messages)));

for (const batch of batchSizes) {
  const dir = mkdtempSync(join(tmpdir(), "parley-insert-cost-"));
  try {
    const url = `file:${join(dir, "cost.db")}`;
    await migrate(url);
    const db = await openDatabase(url);
    try {
      const rooms: { id: string; members: string[] }[] = [];
      for (let r = 0; r < 30; r += 1) {
        const members: string[] = [];
        for (let m = 0; m < 10; m += 1) members.push((await db.prisma.user.create({ data: { username: `u${r}-${m}`, passwordHash: "x" } })).id);
        const conversation = await db.prisma.conversation.create({
          data: { title: `room ${r}`, members: { create: members.map((userId, m) => ({ userId, role: m === 0 ? "owner" : "member" })) } },
        });
        rooms.push({ id: conversation.id, members });
      }
      let sent = 0;
      const content = "a message of the usual length, with a few words to index".padEnd(128, ".");
      const send = async (count: number) => {
        for (let done = 0; done < count; done += batch) {
          const messages = Array.from({ length: batch }, () => {
            sent += 1;
            const room = rooms[sent % rooms.length] as { id: string; members: string[] };
            return { conversationId: room.id, senderId: room.members[sent % 10] as string, content, clientMessageId: `m-${sent}` };
          });
          await db.messages.insert(messages);
        }
      };
      await send(1_200);
      const before = process.cpuUsage();
      await send(perSize);
      const used = process.cpuUsage(before);
      console.log(`batches of ${batch}: ${((used.user + used.system) / perSize).toFixed(1)} us CPU per message (${perSize} messages)`);
    } finally {
      await db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
