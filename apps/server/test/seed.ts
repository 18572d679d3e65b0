// Users written straight into the database, for tests that need hundreds of them: signing each up
// would cost an argon2 hash apiece. They cannot log in (their password hash is not a hash).
import { randomUUID } from "node:crypto";
import type { TestServer } from "./harness.js";

export interface SeededUser {
  id: string;
  username: string;
  fullName: string;
}

/** `count` new users named `<prefix><index>`, ordered by username. */
export async function seedUsers(server: TestServer, count: number, prefix = `seed${randomUUID().slice(0, 8)}_`): Promise<SeededUser[]> {
  const rows = Array.from({ length: count }, (_, i) => ({
    username: `${prefix}${String(i).padStart(5, "0")}`,
    fullName: `Seeded ${i}`,
    passwordHash: "not-a-password-hash",
  }));
  const { prisma } = server.services.db;
  for (let i = 0; i < rows.length; i += 200) await prisma.user.createMany({ data: rows.slice(i, i + 200) });
  // By exact names (Prisma's startsWith passes `_` and `%` on to LIKE as wildcards), in chunks
  // (Prisma does not split a long `in` list itself when the query is ordered).
  const seeded: SeededUser[] = [];
  for (let i = 0; i < rows.length; i += 200) {
    const names = rows.slice(i, i + 200).map((row) => row.username);
    seeded.push(...(await prisma.user.findMany({ where: { username: { in: names } }, select: { id: true, username: true, fullName: true } })));
  }
  return seeded.sort((a, b) => (a.username < b.username ? -1 : 1));
}
