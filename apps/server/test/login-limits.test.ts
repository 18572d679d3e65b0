// Who a login or signup limit counts against: the address a trusted proxy saw (not one the client
// wrote), the pair of account and address for lockouts (so strangers cannot lock the owner out),
// and signups per address and overall, in their own hashing lane (so they cannot starve logins).
import { afterEach, expect, it } from "vitest";
import WebSocket from "ws";
import { createTRPCClient, createWSClient, httpLink, wsLink } from "@trpc/client";
import { defaultApiConfig, type AppRouter } from "@parley/api";
import {
  describeEachProvider,
  errorCodeOf,
  errorOf,
  sleep,
  startTestServer,
  testLimits,
  uniqueName,
  type Client,
  type TestServer,
  type TestServerOptions,
} from "./harness.js";

const PASSWORD = "correct horse battery";

/** An HTTP client behind one proxy: the proxy appends `seenByProxy`; the client wrote `written`. */
function viaProxy(server: { url: string }, seenByProxy: string, written?: string): Client {
  const forwarded = written ? `${written}, ${seenByProxy}` : seenByProxy;
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers: () => ({ "X-Forwarded-For": forwarded }) })] });
}

/** The same over a WebSocket: the upgrade request carries the header. */
function wsViaProxy(server: { port: number }, seenByProxy: string, written?: string): { client: Client; close(): void } {
  const forwarded = written ? `${written}, ${seenByProxy}` : seenByProxy;
  class ForwardedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { "X-Forwarded-For": forwarded } });
    }
  }
  const ws = createWSClient({ url: `ws://127.0.0.1:${server.port}/trpc`, WebSocket: ForwardedWebSocket as unknown as typeof globalThis.WebSocket });
  return { client: createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] }), close: () => void ws.close() };
}

describeEachProvider("login and signup limits", (provider) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  /** A server behind one trusted proxy (TRUST_PROXY=1): the test plays the proxy. */
  async function server(options: TestServerOptions): Promise<TestServer> {
    const started = await startTestServer(provider, { trustProxy: { hops: 1 }, ...options });
    cleanups.push(async () => {
      await started.close();
      await started.database.drop();
    });
    return started;
  }

  async function signUp(api: Client, username = uniqueName("owner")): Promise<string> {
    await api.auth.signup.mutate({ username, password: PASSWORD, fullName: "" });
    return username;
  }

  it("behind one trusted proxy, rotating the X-Forwarded-For the client writes does not escape the per-address login limit (HTTP)", async () => {
    const s = await server({ api: testLimits({ loginFailuresPerAddress: { max: 3, windowSeconds: 60 } }) });
    const victim = await signUp(viaProxy(s, "198.51.100.1"));
    for (let i = 0; i < 3; i += 1) {
      const attacker = viaProxy(s, "203.0.113.9", `10.0.0.${i}`);
      expect(await errorCodeOf(attacker.auth.login.mutate({ username: uniqueName("spray"), password: "wrong password" }))).toBe("UNAUTHORIZED");
    }
    const limited = await errorOf(viaProxy(s, "203.0.113.9", "10.0.0.99").auth.login.mutate({ username: victim, password: PASSWORD }));
    expect(limited.data?.code).toBe("TOO_MANY_REQUESTS");
    expect((limited.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
  });

  it("behind one trusted proxy, rotating the X-Forwarded-For the client writes does not escape the per-address login limit (WebSocket)", async () => {
    const s = await server({ api: testLimits({ loginFailuresPerAddress: { max: 3, windowSeconds: 60 } }) });
    const victim = await signUp(viaProxy(s, "198.51.100.1"));
    for (let i = 0; i < 4; i += 1) {
      const attacker = wsViaProxy(s, "203.0.113.9", `10.0.0.${i}`);
      cleanups.push(async () => attacker.close());
      const call = attacker.client.auth.login.mutate({ username: i < 3 ? uniqueName("spray") : victim, password: i < 3 ? "wrong password" : PASSWORD });
      expect(await errorCodeOf(call)).toBe(i < 3 ? "UNAUTHORIZED" : "TOO_MANY_REQUESTS");
    }
  });

  it("failed logins for an account from other addresses do not stop the owner logging in from their own; the attacker's address stays locked", async () => {
    const s = await server({ api: testLimits({ loginFailuresPerAddress: { max: 1000, windowSeconds: 60 } }) });
    const owner = viaProxy(s, "198.51.100.1");
    const alice = await signUp(owner);
    await owner.auth.login.mutate({ username: alice, password: PASSWORD });
    const attacker = viaProxy(s, "203.0.113.9");
    for (let i = 0; i < 12; i += 1) await errorCodeOf(attacker.auth.login.mutate({ username: alice, password: `wrong password ${i}` }));
    expect(await errorCodeOf(attacker.auth.login.mutate({ username: alice, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    expect(await owner.auth.login.mutate({ username: alice, password: PASSWORD })).toHaveProperty("accessToken");
    expect(await errorCodeOf(attacker.auth.login.mutate({ username: alice, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
  });

  it("guessing spread over many addresses meets the account-wide limit, which spares addresses the owner logged in from", async () => {
    const s = await server({ api: testLimits({ loginFailuresPerAccount: { max: 5, windowSeconds: 60 } }) });
    const owner = viaProxy(s, "198.51.100.1");
    const alice = await signUp(owner);
    await owner.auth.login.mutate({ username: alice, password: PASSWORD });
    for (let i = 0; i < 5; i += 1) {
      expect(await errorCodeOf(viaProxy(s, `203.0.113.${i}`).auth.login.mutate({ username: alice, password: "wrong password" }))).toBe("UNAUTHORIZED");
    }
    expect(await errorCodeOf(viaProxy(s, "203.0.113.50").auth.login.mutate({ username: alice, password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
    expect(await owner.auth.login.mutate({ username: alice, password: PASSWORD })).toHaveProperty("accessToken");
  });

  it("signups are limited per client address, with the seconds to wait, and store nothing when refused", async () => {
    const s = await server({ api: testLimits({ signupsPerAddress: { max: 2, windowSeconds: 60 } }) });
    const flooder = viaProxy(s, "203.0.113.9", "10.0.0.1");
    await signUp(flooder);
    await signUp(viaProxy(s, "203.0.113.9", "10.0.0.2"));
    const refusedName = uniqueName("third");
    const refused = await errorOf(viaProxy(s, "203.0.113.9", "10.0.0.3").auth.signup.mutate({ username: refusedName, password: PASSWORD }));
    expect(refused.data?.code).toBe("TOO_MANY_REQUESTS");
    expect((refused.data as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
    expect(await s.services.db.prisma.user.count({ where: { username: refusedName } })).toBe(0);
    await signUp(viaProxy(s, "198.51.100.1"));
  });

  it("signups are limited across all addresses together", async () => {
    const s = await server({ api: testLimits({ signupsOverall: { max: 3, windowSeconds: 60 } }) });
    for (let i = 0; i < 3; i += 1) await signUp(viaProxy(s, `203.0.113.${i}`));
    expect(await errorCodeOf(viaProxy(s, "203.0.113.99").auth.signup.mutate({ username: uniqueName(), password: PASSWORD }))).toBe("TOO_MANY_REQUESTS");
  });

  it.each([
    ["the default signup limits", {}],
    ["no signup limits at all (the hashing lanes alone)", { signupsPerAddress: { max: 100_000, windowSeconds: 60 }, signupsOverall: { max: 100_000, windowSeconds: 60 } }],
  ])("a flood of 250 concurrent signups from 50 addresses does not make an existing user's 10 logins fail, with %s", async (_, signupLimits) => {
    const s = await server({
      api: testLimits({ signupsPerAddress: defaultApiConfig.limits.signupsPerAddress, signupsOverall: defaultApiConfig.limits.signupsOverall, ...signupLimits }),
    });
    const owner = viaProxy(s, "198.51.100.1");
    const alice = await signUp(owner);
    const flood = Array.from({ length: 250 }, (_, i) =>
      viaProxy(s, `203.0.113.${i % 50}`)
        .auth.signup.mutate({ username: uniqueName("flood"), password: PASSWORD })
        .then(() => "created", (error: unknown) => String((error as { data?: { code?: string } }).data?.code)),
    );
    // Bounded: the logins start once the flood is queued for hashing (or has already been turned away).
    const deadline = Date.now() + 5_000;
    while (s.services.passwords.load < 10 && Date.now() < deadline) await sleep(5);
    const logins = await Promise.allSettled(Array.from({ length: 10 }, () => owner.auth.login.mutate({ username: alice, password: PASSWORD })));
    const outcomes = await Promise.all(flood);
    expect(logins.map((login) => login.status)).toEqual(Array(10).fill("fulfilled"));
    expect(outcomes.filter((o) => o !== "created" && o !== "TOO_MANY_REQUESTS")).toEqual([]);
  });

  it("signing up a taken name costs the same argon2 work as a new one, then answers CONFLICT", async () => {
    const s = await server({});
    const taken = await signUp(viaProxy(s, "198.51.100.1"));
    let hashes = 0;
    const hash = s.services.passwords.hash.bind(s.services.passwords);
    s.services.passwords.hash = (password, lane) => {
      hashes += 1;
      return hash(password, lane);
    };
    expect(await errorCodeOf(viaProxy(s, "198.51.100.2").auth.signup.mutate({ username: taken, password: PASSWORD }))).toBe("CONFLICT");
    expect(hashes).toBe(1);
    await signUp(viaProxy(s, "198.51.100.2"));
    expect(hashes).toBe(2);
  });

  it.each([
    ["the same", (name: string) => name],
    ["upper case", (name: string) => name.toUpperCase()],
    ["with a leading @", (name: string) => `@${name}`],
    ["with @ and surrounding spaces", (name: string) => `  @${name.toUpperCase()}  `],
  ])("a full name that reads as another user's username (%s) is BAD_REQUEST and stores nothing", async (_, lookalike) => {
    const s = await server({});
    const bob = await signUp(viaProxy(s, "198.51.100.1"), uniqueName("bob"));
    const name = uniqueName("mallory");
    const refused = await errorOf(viaProxy(s, "198.51.100.2").auth.signup.mutate({ username: name, password: PASSWORD, fullName: lookalike(bob) }));
    expect(refused.data?.code).toBe("BAD_REQUEST");
    expect(refused.message).toMatch(/another user's username/);
    expect(await s.services.db.prisma.user.count({ where: { username: name } })).toBe(0);
  });

  it("a full name may be the signer's own username, or any name that is nobody's username", async () => {
    const s = await server({});
    const own = uniqueName("carol");
    expect((await viaProxy(s, "198.51.100.1").auth.signup.mutate({ username: own, password: PASSWORD, fullName: `@${own}` })).fullName).toBe(`@${own}`);
    expect((await viaProxy(s, "198.51.100.1").auth.signup.mutate({ username: uniqueName("dan"), password: PASSWORD, fullName: "Dan Smith" })).fullName).toBe("Dan Smith");
  });
});
