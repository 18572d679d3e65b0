// user.list and user.search: bounded answers however many people sign up (issue 10, finding 4's
// sibling: user.list answered every registered user at once).
import { randomUUID } from "node:crypto";
import { USER_PAGE_MAX, USER_SEARCH_DEFAULT, USER_SEARCH_MAX } from "@parley/api/schemas";
import { expect, it } from "vitest";
import { describeEachProvider, errorCodeOf, httpClient, signUpAndLogIn, suiteServer } from "./harness.js";
import { seedUsers } from "./seed.js";

describeEachProvider("users", (provider) => {
  const server = suiteServer(provider);

  it(`user.list answers at most ${USER_PAGE_MAX} users, and pages through all of them by username`, async () => {
    const reader = await signUpAndLogIn(server());
    await seedUsers(server(), USER_PAGE_MAX + 50);
    const everyone = await server().services.db.prisma.user.findMany({ select: { username: true }, orderBy: { username: "asc" } });
    const first = await reader.api.user.list.query();
    expect(first).toHaveLength(USER_PAGE_MAX);
    const seen = first.map((u) => u.username);
    let cursor = seen.at(-1) ?? null;
    for (let i = 0; i < 10 && cursor !== null; i += 1) {
      const page = await reader.api.user.list.query({ cursor, limit: 100 });
      seen.push(...page.map((u) => u.username));
      cursor = page.length === 100 ? (page.at(-1)?.username ?? null) : null;
    }
    expect(seen).toEqual(everyone.map((u) => u.username));
  });

  it("user.search finds users whose username or full name starts with the query, ignoring case, by username", async () => {
    const reader = await signUpAndLogIn(server());
    const tag = `q${randomUUID().slice(0, 6)}`;
    const byName = await seedUsers(server(), 3, `${tag}_`);
    const other = await seedUsers(server(), 1, `zz${tag}`);
    await server().services.db.prisma.user.updateMany({ where: { id: other[0]?.id }, data: { fullName: `${tag.toUpperCase()} Person` } });
    const found = await reader.api.user.search.query({ query: tag.toUpperCase() });
    expect(found.map((u) => u.username)).toEqual([...byName.map((u) => u.username), other[0]?.username]);
    // Not a substring match: the query must start the name.
    expect(await reader.api.user.search.query({ query: tag.slice(1) })).toEqual([]);
  });

  it("user.search puts the user whose username is the query first, then the rest by username", async () => {
    const reader = await signUpAndLogIn(server());
    const tag = `e${randomUUID().slice(0, 6)}`;
    const { prisma } = server().services.db;
    const create = (username: string, fullName: string) => prisma.user.create({ data: { username, fullName, passwordHash: "-" }, select: { username: true } });
    // Full names starting with the query, on usernames that sort before it: more than the limit.
    for (let i = 0; i < 6; i += 1) await create(`a${tag}${i}`, `${tag} Namesake ${i}`);
    await create(`${tag}_longer`, "Someone");
    await create(tag, "Exact Match");
    const found = await reader.api.user.search.query({ query: tag.toUpperCase(), limit: 4 });
    expect(found.map((u) => u.username)).toEqual([tag, `a${tag}0`, `a${tag}1`, `a${tag}2`]);
    const all = await reader.api.user.search.query({ query: tag });
    expect(all.map((u) => u.username)).toEqual([tag, ...[0, 1, 2, 3, 4, 5].map((i) => `a${tag}${i}`), `${tag}_longer`]);
  });

  it("user.search finds a full name whatever the case of its letters, accented ones too", async () => {
    const reader = await signUpAndLogIn(server());
    const tag = `f${randomUUID().slice(0, 6)}`;
    const [user] = await seedUsers(server(), 1, tag);
    await server().services.db.prisma.user.update({ where: { id: user?.id }, data: { fullName: `Émile Ölund${tag}` } });
    for (const query of [`émile ölund${tag}`, `ÉMILE ÖLUND${tag.toUpperCase()}`, `Émile Ölund${tag}`]) {
      expect((await reader.api.user.search.query({ query })).map((u) => u.id), query).toEqual([user?.id]);
    }
    expect(await reader.api.user.search.query({ query: `Émile Ölund${tag}x` })).toEqual([]);
  });

  it("user.search treats % and _ in the query as themselves, not as wildcards", async () => {
    const reader = await signUpAndLogIn(server());
    const tag = `w${randomUUID().slice(0, 6)}`;
    await seedUsers(server(), 2, `${tag}x`);
    const underscored = await seedUsers(server(), 1, `${tag}_`);
    expect((await reader.api.user.search.query({ query: `${tag}_` })).map((u) => u.id)).toEqual(underscored.map((u) => u.id));
    expect(await reader.api.user.search.query({ query: `${tag}%` })).toEqual([]);
  });

  it(`user.search answers at most ${USER_SEARCH_DEFAULT} users by default and at most ${USER_SEARCH_MAX} when asked`, async () => {
    const reader = await signUpAndLogIn(server());
    const tag = `m${randomUUID().slice(0, 6)}`;
    await seedUsers(server(), USER_SEARCH_MAX + 5, tag);
    expect(await reader.api.user.search.query({ query: tag })).toHaveLength(USER_SEARCH_DEFAULT);
    expect(await reader.api.user.search.query({ query: tag, limit: USER_SEARCH_MAX })).toHaveLength(USER_SEARCH_MAX);
    expect(await errorCodeOf(reader.api.user.search.query({ query: tag, limit: USER_SEARCH_MAX + 1 }))).toBe("BAD_REQUEST");
  });

  it("user.search needs a token and a query of 1 to 32 characters", async () => {
    const reader = await signUpAndLogIn(server());
    expect(await errorCodeOf(httpClient(server()).user.search.query({ query: "a" }))).toBe("UNAUTHORIZED");
    expect(await errorCodeOf(reader.api.user.search.query({ query: "  " }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(reader.api.user.search.query({ query: "a".repeat(33) }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(reader.api.user.search.query({ query: "a", limit: 0 }))).toBe("BAD_REQUEST");
    expect(await errorCodeOf(reader.api.user.search.query({ query: "a\u0000" }))).toBe("BAD_REQUEST");
  });
});
