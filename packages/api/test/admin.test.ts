// The admin router and what it changes, on each provider: the first admin, signup modes and invite
// links, promotion and demotion (never leaving no admin), deactivation (sessions, tokens, live
// streams, other instances), the audit log, and non-admins refused with nothing changed. Each test
// gets a database of its own: who signs up first matters here.
import { onTestFinished, describe, expect, it, vi } from "vitest";
import type { Provider } from "@parley/db";
import { createContext, createServices, defaultApiConfig, type ApiConfig, type Services } from "../src/context.js";
import type { AdminConfig } from "../src/admin/settings.js";
import { InProcessEventBus, type EventBus, type ParleyEvent } from "../src/live/event-bus.js";
import { appRouter, createCaller } from "../src/root.js";
import type { TokensDto } from "../src/schemas.js";
import { describeEachProvider, fakeClock, openTestDatabase, testConfig, trpcErrorOf, type FakeClock, type TestDatabase } from "./helpers.js";

const PASSWORD = "a good long password";
const ADDRESS = "192.0.2.7";

interface Account {
  id: string;
  username: string;
  tokens: TokensDto;
  api: ReturnType<typeof createCaller>;
}

interface Deployment {
  database: TestDatabase;
  services: Services;
  clock: FakeClock;
  bus: EventBus;
  /** An instance on the same database and bus (another server of the deployment). */
  another(): Promise<Services>;
  anon(address?: string): ReturnType<typeof createCaller>;
  signUp(username: string, extra?: { inviteToken?: string }): Promise<Account>;
  logIn(username: string): Promise<Account>;
}

function callerWith(services: Services, token?: string, address = ADDRESS) {
  return createCaller(createContext(services, token, address));
}

async function codeAndReason(call: Promise<unknown>): Promise<{ code: string; reason: string | undefined }> {
  const error = await trpcErrorOf(call);
  const cause = error.cause as { reason?: string } | undefined;
  return { code: error.code, reason: cause?.reason };
}

async function rowCounts(d: Deployment) {
  const { prisma } = d.database.db;
  const [users, admins, deactivated, sessions, revoked, invites, inviteUses, audit, settings] = await Promise.all([
    prisma.user.count(),
    prisma.user.count({ where: { isAdmin: true } }),
    prisma.user.count({ where: { deactivatedAt: { not: null } } }),
    prisma.session.count(),
    prisma.session.count({ where: { revokedAt: { not: null } } }),
    prisma.invite.count(),
    prisma.invite.aggregate({ _sum: { uses: true } }),
    prisma.auditEvent.count(),
    prisma.deploymentSettings.findMany(),
  ]);
  return { users, admins, deactivated, sessions, revoked, invites, inviteUses: inviteUses._sum.uses, audit, settings };
}

describeEachProvider("admin", (provider: Provider) => {
  async function deployment(admin: Partial<AdminConfig> = {}, database?: TestDatabase): Promise<Deployment> {
    const db = database ?? (await openTestDatabase(provider));
    if (!database) onTestFinished(() => db.dispose());
    const clock = fakeClock(new Date());
    const bus = new InProcessEventBus();
    const config: ApiConfig = testConfig({ admin: { ...defaultApiConfig.admin, ...admin } });
    const open = async () => {
      const services = await createServices({ db: db.db, bus, config, clock });
      onTestFinished(() => services.close());
      return services;
    };
    const services = await open();
    const d: Deployment = {
      database: db,
      services,
      clock,
      bus,
      another: open,
      anon: (address = ADDRESS) => callerWith(services, undefined, address),
      async signUp(username, extra = {}) {
        await d.anon().auth.signup({ username, password: PASSWORD, ...extra });
        return d.logIn(username);
      },
      async logIn(username) {
        const tokens = await d.anon().auth.login({ username, password: PASSWORD });
        const me = await callerWith(services, tokens.accessToken).auth.me();
        return { id: me.id, username, tokens, api: callerWith(services, tokens.accessToken) };
      },
    };
    return d;
  }

  describe("the first admin", () => {
    it("is the first account to sign up; the next ones are not admins", async () => {
      const d = await deployment();
      expect(await d.anon().auth.signupInfo()).toEqual({ mode: "open", firstAccount: true, invite: null });
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      expect(await ann.api.auth.role()).toEqual({ isAdmin: true });
      expect(await bob.api.auth.role()).toEqual({ isAdmin: false });
      // auth.me keeps v1's shape.
      expect(await ann.api.auth.me()).toEqual({ id: ann.id, username: "ann", fullName: "" });
      expect(await d.anon().auth.signupInfo()).toEqual({ mode: "open", firstAccount: false, invite: null });
      const log = await ann.api.admin.auditLog({ kind: "user.promoted" });
      expect(log.items).toMatchObject([{ kind: "user.promoted", actor: null, target: { id: ann.id, username: "ann" }, data: { by: "first account" } }]);
    });

    it("of a deployment in closed mode may still sign up, and nobody after", async () => {
      const d = await deployment({ signupMode: "closed" });
      const ann = await d.signUp("ann");
      expect(await ann.api.auth.role()).toEqual({ isAdmin: true });
      expect(await codeAndReason(d.anon().auth.signup({ username: "bob", password: PASSWORD }))).toEqual({ code: "FORBIDDEN", reason: "signup_not_allowed" });
    });

    it("of two signing up at once is exactly one of them", async () => {
      const d = await deployment();
      await Promise.all([d.anon().auth.signup({ username: "ann", password: PASSWORD }), d.anon().auth.signup({ username: "bob", password: PASSWORD })]);
      expect((await rowCounts(d)).admins).toBe(1);
    });

    it("named by ADMIN_USERNAME: that account is the admin, whatever the mode, and the first account is not", async () => {
      const d = await deployment({ adminUsername: "boss", signupMode: "invite" });
      expect(await d.anon().auth.signupInfo()).toMatchObject({ mode: "invite", firstAccount: false });
      expect(await codeAndReason(d.anon().auth.signup({ username: "early", password: PASSWORD }))).toEqual({ code: "FORBIDDEN", reason: "signup_not_allowed" });
      const boss = await d.signUp("boss");
      expect(await boss.api.auth.role()).toEqual({ isAdmin: true });
      expect((await rowCounts(d)).users).toBe(1);
    });

    it("named by ADMIN_USERNAME is made an admin again, and active, at the next start", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      await ann.api.admin.setAdmin({ userId: bob.id, admin: true });
      await bob.api.admin.deactivate({ userId: ann.id });
      await bob.api.admin.setAdmin({ userId: ann.id, admin: false });
      const restarted = await deployment({ adminUsername: "ann" }, d.database);
      const again = await restarted.logIn("ann");
      expect(await again.api.auth.role()).toEqual({ isAdmin: true });
      const kinds = (await again.api.admin.auditLog({ userId: ann.id })).items.map((e) => `${e.kind} ${JSON.stringify(e.data)}`);
      expect(kinds.slice(0, 2)).toEqual(['user.reactivated {"by":"ADMIN_USERNAME"}', 'user.promoted {"by":"ADMIN_USERNAME"}']);
    });

    it("of a deployment that had accounts before admins existed is its oldest account, chosen at start", async () => {
      const d = await deployment();
      await d.database.db.prisma.deploymentSettings.update({ where: { id: 1 }, data: { adminChosen: false } });
      const { prisma } = d.database.db;
      await prisma.user.create({ data: { username: "old", passwordHash: "x", createdAt: new Date("2020-01-01T00:00:00Z") } });
      await prisma.user.create({ data: { username: "newer", passwordHash: "x", createdAt: new Date("2021-01-01T00:00:00Z") } });
      await deployment({}, d.database);
      const admins = await prisma.user.findMany({ where: { isAdmin: true }, select: { username: true } });
      expect(admins).toEqual([{ username: "old" }]);
    });
  });

  describe("signup modes", () => {
    it("invite: a signup without an invite is refused before any work, and stores nothing", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      await ann.api.admin.setSignupMode({ mode: "invite" });
      const before = await rowCounts(d);
      const refused = await trpcErrorOf(d.anon().auth.signup({ username: "bob", password: PASSWORD }));
      expect(refused.code).toBe("FORBIDDEN");
      expect(refused.message).toMatch(/invite link/);
      expect(await rowCounts(d)).toEqual(before);
      expect(await d.anon().auth.signupInfo()).toEqual({ mode: "invite", firstAccount: false, invite: null });
    });

    it("invite: a link allows its number of signups, then says it is used up", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      await ann.api.admin.setSignupMode({ mode: "invite" });
      const { invite, token } = await ann.api.admin.createInvite({ maxUses: 2, expiresInHours: 24 });
      expect(invite).toMatchObject({ maxUses: 2, uses: 0, state: "valid", createdBy: { id: ann.id, username: "ann" } });
      expect(await d.anon().auth.signupInfo({ inviteToken: token })).toMatchObject({ invite: "valid" });
      const bob = await d.signUp("bob", { inviteToken: token });
      await d.signUp("cat", { inviteToken: token });
      expect(await codeAndReason(d.anon().auth.signup({ username: "dan", password: PASSWORD, inviteToken: token }))).toEqual({ code: "FORBIDDEN", reason: "invite_invalid" });
      expect(await d.anon().auth.signupInfo({ inviteToken: token })).toMatchObject({ invite: "used_up" });
      expect((await ann.api.admin.invites()).items).toMatchObject([{ id: invite.id, uses: 2, state: "used_up" }]);
      const used = await ann.api.admin.auditLog({ kind: "invite.used" });
      expect(used.items.map((e) => e.actor?.id).sort()).toEqual([bob.id, (await d.logIn("cat")).id].sort());
      expect(used.items.every((e) => e.data.inviteId === invite.id)).toBe(true);
    });

    it("invite: the last use of a link goes to one of two signups at once", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      await ann.api.admin.setSignupMode({ mode: "invite" });
      const { token } = await ann.api.admin.createInvite({ maxUses: 1, expiresInHours: 1 });
      const results = await Promise.allSettled([
        d.anon().auth.signup({ username: "bob", password: PASSWORD, inviteToken: token }),
        d.anon().auth.signup({ username: "cat", password: PASSWORD, inviteToken: token }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(await rowCounts(d)).toMatchObject({ users: 2, inviteUses: 1 });
    });

    it("invite: an expired or revoked link is refused and says why; a made-up one is unknown", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      await ann.api.admin.setSignupMode({ mode: "invite" });
      const expiring = await ann.api.admin.createInvite({ maxUses: 5, expiresInHours: 1 });
      const revoking = await ann.api.admin.createInvite({ maxUses: 5, expiresInHours: 48 });
      expect(await ann.api.admin.revokeInvite({ inviteId: revoking.invite.id })).toMatchObject({ state: "revoked" });
      d.clock.advanceSeconds(3601);
      for (const [token, state] of [[expiring.token, "expired"], [revoking.token, "revoked"], ["made-up-token", "unknown"]] as const) {
        expect(await d.anon().auth.signupInfo({ inviteToken: token })).toMatchObject({ invite: state });
        const error = await trpcErrorOf(d.anon().auth.signup({ username: "bob", password: PASSWORD, inviteToken: token }));
        expect(error.code).toBe("FORBIDDEN");
        expect(error.message).toMatch(state === "unknown" ? /not valid/ : new RegExp(state));
      }
      expect((await rowCounts(d)).users).toBe(1);
    });

    it("closed: nobody signs up, not even with a valid invite; open again: anyone", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const { token } = await ann.api.admin.createInvite({ maxUses: 1, expiresInHours: 1 });
      expect(await ann.api.admin.setSignupMode({ mode: "closed" })).toEqual({ signupMode: "closed" });
      expect(await codeAndReason(d.anon().auth.signup({ username: "bob", password: PASSWORD, inviteToken: token }))).toEqual({ code: "FORBIDDEN", reason: "signup_not_allowed" });
      expect(await ann.api.admin.settings()).toEqual({ signupMode: "closed" });
      await ann.api.admin.setSignupMode({ mode: "open" });
      await expect(d.signUp("bob")).resolves.toHaveProperty("id");
      const changes = await ann.api.admin.auditLog({ kind: "signup_mode.changed" });
      expect(changes.items.map((e) => e.data)).toEqual([{ from: "closed", to: "open" }, { from: "open", to: "closed" }]);
    });

    it("is kept across restarts, unless SIGNUP_MODE says otherwise at start", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      await ann.api.admin.setSignupMode({ mode: "invite" });
      const kept = await deployment({}, d.database);
      expect((await kept.anon().auth.signupInfo()).mode).toBe("invite");
      const overridden = await deployment({ signupMode: "closed" }, d.database);
      expect((await overridden.anon().auth.signupInfo()).mode).toBe("closed");
    });
  });

  describe("roles", () => {
    it("an admin promotes a user, who then may use the admin procedures, and demotes them again", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      expect(await ann.api.admin.setAdmin({ userId: bob.id, admin: true })).toMatchObject({ id: bob.id, isAdmin: true });
      await expect(bob.api.admin.users()).resolves.toHaveProperty("items");
      await ann.api.admin.setAdmin({ userId: bob.id, admin: false });
      expect((await trpcErrorOf(bob.api.admin.users())).code).toBe("FORBIDDEN");
      const log = await ann.api.admin.auditLog({ userId: bob.id });
      expect(log.items.map((e) => [e.kind, e.actor?.username])).toEqual([
        ["user.demoted", "ann"],
        ["user.promoted", "ann"],
        ["login.succeeded", "bob"],
        ["user.signed_up", "bob"],
      ]);
    });

    it("the last active admin cannot be demoted, not even by themselves", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const error = await trpcErrorOf(ann.api.admin.setAdmin({ userId: ann.id, admin: false }));
      expect(error.code).toBe("BAD_REQUEST");
      expect(error.message).toMatch(/at least one active admin/);
      expect(await ann.api.auth.role()).toEqual({ isAdmin: true });
    });

    it("two admins demoting each other at once leave one admin", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      await ann.api.admin.setAdmin({ userId: bob.id, admin: true });
      await Promise.allSettled([ann.api.admin.setAdmin({ userId: bob.id, admin: false }), bob.api.admin.setAdmin({ userId: ann.id, admin: false })]);
      expect((await rowCounts(d)).admins).toBe(1);
    });

    it("two admins deactivating each other at once leave one active admin", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      await ann.api.admin.setAdmin({ userId: bob.id, admin: true });
      await Promise.allSettled([ann.api.admin.deactivate({ userId: bob.id }), bob.api.admin.deactivate({ userId: ann.id })]);
      expect(await d.database.db.prisma.user.count({ where: { isAdmin: true, deactivatedAt: null } })).toBe(1);
    });
  });

  describe("deactivation", () => {
    it("ends the user's sessions at once: access tokens, refresh and login are refused, saying why", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const bobElsewhere = await d.logIn("bob");
      expect(await ann.api.admin.deactivate({ userId: bob.id })).toMatchObject({ id: bob.id, deactivated: true });
      expect((await trpcErrorOf(bob.api.auth.me())).code).toBe("UNAUTHORIZED");
      expect((await trpcErrorOf(callerWith(d.services, bobElsewhere.tokens.accessToken).conversation.list())).code).toBe("UNAUTHORIZED");
      expect(await codeAndReason(d.anon().auth.refresh({ refreshToken: bob.tokens.refreshToken }))).toEqual({ code: "UNAUTHORIZED", reason: "account_deactivated" });
      const login = await trpcErrorOf(d.anon().auth.login({ username: "bob", password: PASSWORD }));
      expect(login.message).toMatch(/deactivated/);
      // A wrong password says nothing about the account.
      const wrong = await trpcErrorOf(d.anon().auth.login({ username: "bob", password: "not the password" }));
      expect(wrong.message).toBe("Wrong username or password");
      expect(await d.database.db.prisma.session.count({ where: { userId: bob.id, revokedAt: null } })).toBe(0);
    });

    it("keeps their messages, shown as a deactivated user's; reactivated, they log in again but old sessions stay ended", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const conversation = await ann.api.conversation.create({ memberIds: [bob.id] });
      const sent = await bob.api.message.send({ conversationId: conversation.id, content: "still here", clientMessageId: "c1" });
      await ann.api.admin.deactivate({ userId: bob.id });
      const page = await ann.api.message.list({ conversationId: conversation.id });
      expect(page.items.map((m) => [m.id, m.senderId, m.content])).toEqual([[sent.id, bob.id, "still here"]]);
      expect((await ann.api.conversation.get({ conversationId: conversation.id })).members.find((m) => m.id === bob.id)).toMatchObject({ deactivated: true });
      expect((await ann.api.user.list()).find((u) => u.id === bob.id)).toEqual({ id: bob.id, username: "bob", fullName: "", deactivated: true });
      expect((await ann.api.user.list()).find((u) => u.id === ann.id)).toEqual({ id: ann.id, username: "ann", fullName: "" });
      expect(await ann.api.user.search({ query: "bob" })).toEqual([{ id: bob.id, username: "bob", fullName: "", deactivated: true }]);
      expect(await ann.api.admin.reactivate({ userId: bob.id })).toMatchObject({ deactivated: false, deactivatedAt: null });
      const back = await d.logIn("bob");
      await expect(back.api.auth.me()).resolves.toMatchObject({ id: bob.id });
      expect((await trpcErrorOf(bob.api.auth.me())).code).toBe("UNAUTHORIZED");
      expect((await trpcErrorOf(d.anon().auth.refresh({ refreshToken: bob.tokens.refreshToken }))).code).toBe("UNAUTHORIZED");
    });

    it("keeps the user out of new conversations and groups, and still opens the direct conversation that exists", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const carol = await d.signUp("carol");
      const direct = await ann.api.conversation.create({ memberIds: [bob.id] });
      const group = await ann.api.conversation.create({ title: "team", memberIds: [carol.id] });
      await ann.api.admin.deactivate({ userId: bob.id });
      const before = await d.services.db.prisma.conversationMember.count();
      const refusal = async (call: Promise<unknown>) => {
        const error = await trpcErrorOf(call);
        return [error.code, error.message];
      };
      expect(await refusal(carol.api.conversation.create({ memberIds: [bob.id] }))).toEqual(["BAD_REQUEST", "memberIds names a deactivated user"]);
      expect(await refusal(carol.api.conversation.create({ title: "with bob", memberIds: [ann.id, bob.id] }))).toEqual(["BAD_REQUEST", "memberIds names a deactivated user"]);
      expect(await refusal(ann.api.conversation.addMembers({ conversationId: group.id, userIds: [bob.id] }))).toEqual(["BAD_REQUEST", "userIds names a deactivated user"]);
      expect(await d.services.db.prisma.conversationMember.count()).toBe(before);
      expect((await ann.api.conversation.create({ memberIds: [bob.id] })).id).toBe(direct.id);
      await ann.api.admin.reactivate({ userId: bob.id });
      expect((await ann.api.conversation.addMembers({ conversationId: group.id, userIds: [bob.id] })).members.map((m) => m.id)).toContain(bob.id);
    });

    it("ends the user's live stream", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const controller = new AbortController();
      onTestFinished(() => controller.abort());
      const stream = (await createCaller(createContext(d.services, bob.tokens.accessToken), { signal: controller.signal }).sync.events())[Symbol.asyncIterator]();
      const next = stream.next();
      await vi.waitFor(() => expect(d.services.hub.subscriptionCount).toBe(1), { timeout: 2_000 });
      await ann.api.admin.deactivate({ userId: bob.id });
      expect((await trpcErrorOf(next)).code).toBe("UNAUTHORIZED");
    });

    it("is heard by every instance on the bus, and by one started later", async () => {
      const d = await deployment();
      const events: ParleyEvent[] = [];
      d.bus.subscribe((event) => events.push(event));
      const there = await d.another();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      await callerWith(there, bob.tokens.accessToken).auth.me();
      await ann.api.admin.deactivate({ userId: bob.id });
      expect((await trpcErrorOf(callerWith(there, bob.tokens.accessToken).auth.me())).code).toBe("UNAUTHORIZED");
      expect(events.filter((e) => e.type === "user-deactivated")).toEqual([
        { type: "user-deactivated", userId: bob.id, sessionIds: [d.services.tokens.verifyRefresh(bob.tokens.refreshToken)?.sessionId], expiresAt: expect.any(Number) },
      ]);
      const later = await d.another();
      expect((await trpcErrorOf(callerWith(later, bob.tokens.accessToken).auth.me())).code).toBe("UNAUTHORIZED");
    });

    it("reaches an instance that missed the bus message once its link is back (resync), and so does a reactivation", async () => {
      const d = await deployment();
      // An instance on a bus of its own: it hears nothing of what the first one announces.
      const lonelyBus = new InProcessEventBus();
      const there = await createServices({ db: d.database.db, bus: lonelyBus, config: testConfig(), clock: d.clock });
      onTestFinished(() => there.close());
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const controller = new AbortController();
      onTestFinished(() => controller.abort());
      const next = (await createCaller(createContext(there, bob.tokens.accessToken), { signal: controller.signal }).sync.events())[Symbol.asyncIterator]().next();
      // Watched from now on: the stream ends (rejects) before the test looks.
      const ended = trpcErrorOf(next);
      await vi.waitFor(() => expect(there.hub.subscriptionCount).toBe(1), { timeout: 2_000 });
      await ann.api.admin.deactivate({ userId: bob.id });
      await expect(callerWith(there, bob.tokens.accessToken).auth.me()).resolves.toHaveProperty("id", bob.id);
      await lonelyBus.publish({ type: "resync" });
      await vi.waitFor(async () => expect((await trpcErrorOf(callerWith(there, bob.tokens.accessToken).auth.me())).code).toBe("UNAUTHORIZED"), { timeout: 2_000 });
      expect((await ended).code).toBe("UNAUTHORIZED");

      await ann.api.admin.reactivate({ userId: bob.id });
      const back = await d.logIn("bob");
      expect((await trpcErrorOf(callerWith(there, back.tokens.accessToken).auth.me())).code).toBe("UNAUTHORIZED");
      await lonelyBus.publish({ type: "resync" });
      await vi.waitFor(() => expect(callerWith(there, back.tokens.accessToken).auth.me()).resolves.toHaveProperty("id", bob.id), { timeout: 2_000 });
      // The sessions the deactivation ended stay ended there too.
      expect((await trpcErrorOf(callerWith(there, bob.tokens.accessToken).auth.me())).code).toBe("UNAUTHORIZED");
    });

    it("of oneself is refused and changes nothing; of nobody is NOT_FOUND", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const before = await rowCounts(d);
      const self = await trpcErrorOf(ann.api.admin.deactivate({ userId: ann.id }));
      expect([self.code, self.message]).toEqual(["BAD_REQUEST", "You cannot deactivate yourself"]);
      expect(await rowCounts(d)).toEqual(before);
      expect((await trpcErrorOf(ann.api.admin.deactivate({ userId: "no-such-user" }))).code).toBe("NOT_FOUND");
    });
  });

  describe("non-admins", () => {
    it("are FORBIDDEN every admin procedure, even with invalid input, and change nothing", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      const { invite } = await ann.api.admin.createInvite({ maxUses: 1, expiresInHours: 1 });
      const before = await rowCounts(d);
      const calls: Record<string, () => Promise<unknown>> = {
        users: () => bob.api.admin.users({ query: "a" }),
        setAdmin: () => bob.api.admin.setAdmin({ userId: bob.id, admin: true }),
        deactivate: () => bob.api.admin.deactivate({ userId: ann.id }),
        reactivate: () => bob.api.admin.reactivate({ userId: ann.id }),
        createInvite: () => bob.api.admin.createInvite({ maxUses: 1, expiresInHours: 1 }),
        invites: () => bob.api.admin.invites(),
        revokeInvite: () => bob.api.admin.revokeInvite({ inviteId: invite.id }),
        settings: () => bob.api.admin.settings(),
        setSignupMode: () => bob.api.admin.setSignupMode({ mode: "closed" }),
        auditLog: () => bob.api.admin.auditLog(),
        health: () => bob.api.admin.health(),
      };
      // Every procedure of the router is tried: one added later without a line here fails this test.
      expect(Object.keys(calls).sort()).toEqual(Object.keys(appRouter._def.record.admin).sort());
      for (const [name, call] of Object.entries(calls)) {
        const error = await trpcErrorOf(call());
        expect([name, error.code]).toEqual([name, "FORBIDDEN"]);
      }
      const invalid = await trpcErrorOf(bob.api.admin.setSignupMode({ mode: "nonsense" as "open" }));
      expect(invalid.code).toBe("FORBIDDEN");
      expect(await rowCounts(d)).toEqual(before);
      // A deactivated admin is no admin: their token is refused before the role is even read.
      const dan = await d.signUp("dan");
      await ann.api.admin.setAdmin({ userId: dan.id, admin: true });
      await ann.api.admin.deactivate({ userId: dan.id });
      expect((await trpcErrorOf(dan.api.admin.users())).code).toBe("UNAUTHORIZED");
    });
  });

  describe("the audit log", () => {
    it("counts repeated failed logins of one name from one address in one row an hour", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      for (let i = 0; i < 3; i++) await trpcErrorOf(d.anon("198.51.100.9").auth.login({ username: "ann", password: "wrong password" }));
      await trpcErrorOf(d.anon("198.51.100.9").auth.login({ username: "nobody", password: "wrong password" }));
      const failed = await ann.api.admin.auditLog({ kind: "login.failed" });
      expect(failed.items.map((e) => ({ target: e.target?.username ?? null, username: e.username, address: e.address, count: e.count }))).toEqual([
        { target: null, username: "nobody", address: "198.51.100.9", count: 1 },
        { target: "ann", username: "ann", address: "198.51.100.9", count: 3 },
      ]);
      d.clock.advanceSeconds(3600);
      await trpcErrorOf(d.anon("198.51.100.9").auth.login({ username: "ann", password: "wrong password" }));
      const later = await d.logIn("ann");
      expect((await later.api.admin.auditLog({ kind: "login.failed" })).items[0]).toMatchObject({ username: "ann", count: 1 });
    });

    it("counts failed logins past the hourly number of rows in one overflow row", async () => {
      const d = await deployment({ auditCountedRowsPerHour: 2 });
      const ann = await d.signUp("ann");
      for (let i = 0; i < 5; i++) await trpcErrorOf(d.anon(`198.51.100.${i}`).auth.login({ username: `guess${i}`, password: "wrong password" }));
      const failed = await ann.api.admin.auditLog({ kind: "login.failed" });
      expect(failed.items.map((e) => [e.username, e.count, e.data])).toEqual([
        [null, 3, { overflow: true }],
        ["guess1", 1, {}],
        ["guess0", 1, {}],
      ]);
    });

    it("records refresh-token reuse", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      const bob = await d.signUp("bob");
      await d.anon().auth.refresh({ refreshToken: bob.tokens.refreshToken });
      await trpcErrorOf(d.anon().auth.refresh({ refreshToken: bob.tokens.refreshToken }));
      const reused = await ann.api.admin.auditLog({ kind: "refresh.reused" });
      expect(reused.items).toMatchObject([{ target: { id: bob.id }, count: 1 }]);
    });

    it("pages newest first, and keeps entries for the configured days", async () => {
      const d = await deployment({ auditRetentionDays: 10 });
      const ann = await d.signUp("ann");
      for (const mode of ["invite", "closed", "open"] as const) await ann.api.admin.setSignupMode({ mode });
      const first = await ann.api.admin.auditLog({ kind: "signup_mode.changed", limit: 2 });
      expect(first.items.map((e) => e.data.to)).toEqual(["open", "closed"]);
      const second = await ann.api.admin.auditLog({ kind: "signup_mode.changed", limit: 2, cursor: first.nextCursor });
      expect(second.items.map((e) => e.data.to)).toEqual(["invite"]);
      expect(second.nextCursor).toBeNull();
      const total = await d.database.db.prisma.auditEvent.count();
      d.clock.advanceSeconds(9 * 86_400);
      await d.services.audit.record({ kind: "signup_mode.changed", data: { from: "open", to: "invite" } });
      d.clock.advanceSeconds(2 * 86_400);
      expect(await d.services.audit.prune()).toBe(total);
      const remaining = await d.database.db.prisma.auditEvent.findMany({ select: { kind: true, createdAt: true } });
      expect(remaining).toEqual([{ kind: "signup_mode.changed", createdAt: new Date(d.clock.now().getTime() - 2 * 86_400_000) }]);
    });
  });

  describe("admin.users", () => {
    it("pages by username, and searches usernames and full names", async () => {
      const d = await deployment();
      const ann = await d.signUp("ann");
      for (const name of ["bob", "bea", "cat"]) await d.anon().auth.signup({ username: name, password: PASSWORD, fullName: name === "cat" ? "Bella Cat" : "" });
      const first = await ann.api.admin.users({ limit: 2 });
      expect(first.items.map((u) => u.username)).toEqual(["ann", "bea"]);
      const second = await ann.api.admin.users({ limit: 2, cursor: first.nextCursor });
      expect(second.items.map((u) => u.username)).toEqual(["bob", "cat"]);
      expect(second.nextCursor).toBeNull();
      expect((await ann.api.admin.users({ query: "be" })).items.map((u) => u.username)).toEqual(["bea", "cat"]);
      expect(first.items[0]).toMatchObject({ username: "ann", isAdmin: true, deactivated: false, deactivatedAt: null });
    });
  });
});
