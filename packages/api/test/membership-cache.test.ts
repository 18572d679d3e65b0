// MembershipCache's bound: past its size the conversation remembered longest ago is forgotten (and
// read from the database again when asked), the others stay. Real SQLite.
import { afterAll, beforeAll, expect, it } from "vitest";
import { MembershipCache } from "../src/domain/memberships.js";
import { openTestDatabase, type TestDatabase } from "./helpers.js";

/** The number of conversations the cache holds (MAX_CACHED_CONVERSATIONS). */
const CAPACITY = 50_000;

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(() => database.dispose());

it("holds its capacity of conversations, then forgets the one remembered longest ago", async () => {
  const cache = new MembershipCache(database.db.prisma);
  // None of these exist in the database: a remembered one answers from memory, a forgotten one null.
  for (let i = 0; i < CAPACITY; i++) cache.remember(`c${i}`, [`member-of-${i}`]);
  expect(await cache.get("c0")).toEqual(new Set(["member-of-0"]));
  expect(await cache.get(`c${CAPACITY - 1}`)).toEqual(new Set([`member-of-${CAPACITY - 1}`]));
  cache.remember("newest", ["someone"]);
  expect(await cache.get("c0")).toBeNull();
  expect(await cache.get("c1")).toEqual(new Set(["member-of-1"]));
  expect(await cache.get("newest")).toEqual(new Set(["someone"]));
});
