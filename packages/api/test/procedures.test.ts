// Procedures called the way the transports call them - createCaller(createContext(services, token))
// in-process, and the fetch adapter for what goes over the wire - against a real SQLite database.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext, createServices, type Services } from "../src/context.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCaller } from "../src/root.js";
import type { TokensDto, UserDto } from "../src/schemas.js";
import {
  callOverHttp,
  errorShapeOf,
  fakeClock,
  openTestDatabase,
  testConfig,
  trpcErrorOf,
  type TestDatabase,
} from "./helpers.js";

const PASSWORD = "a good long password";

interface Account {
  user: UserDto;
  tokens: TokensDto;
}

let database: TestDatabase;
let services: Services;
let alice: Account;
let bob: Account;
let carol: Account;

function callerFor(accessToken?: string) {
  return createCaller(createContext(services, accessToken));
}

function logIn(username: string) {
  return callerFor().auth.login({ username, password: PASSWORD });
}

async function signUpAndLogIn(username: string): Promise<Account> {
  const user = await callerFor().auth.signup({ username, password: PASSWORD, fullName: `${username} example` });
  return { user, tokens: await logIn(username) };
}

/** A result as it would go over the wire, for "never contains" checks. */
function serialized(value: unknown): string {
  return JSON.stringify(value);
}

beforeAll(async () => {
  database = await openTestDatabase();
  services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig() });
  alice = await signUpAndLogIn("alice");
  bob = await signUpAndLogIn("bob");
  carol = await signUpAndLogIn("carol");
});

afterAll(async () => {
  services.close();
  await database.dispose();
});

describe("error codes", () => {
  it("signing up with a taken username is CONFLICT", async () => {
    const error = await trpcErrorOf(callerFor().auth.signup({ username: "alice", password: PASSWORD }));
    expect(error.code).toBe("CONFLICT");
  });

  it("signing up with a taken username in another case is CONFLICT", async () => {
    const error = await trpcErrorOf(callerFor().auth.signup({ username: "ALICE", password: PASSWORD }));
    expect(error.code).toBe("CONFLICT");
  });

  it("logging in with a wrong password is UNAUTHORIZED", async () => {
    const error = await trpcErrorOf(callerFor().auth.login({ username: "alice", password: `${PASSWORD}!` }));
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("logging in as an unknown user is UNAUTHORIZED with the same message as a wrong password", async () => {
    const wrongPassword = await trpcErrorOf(callerFor().auth.login({ username: "alice", password: `${PASSWORD}!` }));
    const unknownUser = await trpcErrorOf(callerFor().auth.login({ username: "nobody", password: PASSWORD }));
    expect(unknownUser.code).toBe("UNAUTHORIZED");
    expect(unknownUser.message).toBe(wrongPassword.message);
  });

  it("invalid input is BAD_REQUEST", async () => {
    const error = await trpcErrorOf(callerFor().auth.signup({ username: "a", password: PASSWORD }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it("memberIds naming a user that does not exist is BAD_REQUEST", async () => {
    const error = await trpcErrorOf(callerFor(alice.tokens.accessToken).conversation.create({ memberIds: ["no-such-user"] }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it("memberIds naming no one but the caller is BAD_REQUEST", async () => {
    const error = await trpcErrorOf(callerFor(alice.tokens.accessToken).conversation.create({ memberIds: [alice.user.id] }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it("an unknown conversation is NOT_FOUND", async () => {
    const error = await trpcErrorOf(callerFor(alice.tokens.accessToken).message.list({ conversationId: "no-such-conversation" }));
    expect(error.code).toBe("NOT_FOUND");
  });

  it("reading a conversation the caller is not a member of is FORBIDDEN", async () => {
    const direct = await callerFor(alice.tokens.accessToken).conversation.create({ memberIds: [bob.user.id] });
    const error = await trpcErrorOf(callerFor(carol.tokens.accessToken).message.list({ conversationId: direct.id }));
    expect(error.code).toBe("FORBIDDEN");
  });

  it("sending to a conversation the caller is not a member of is FORBIDDEN", async () => {
    const direct = await callerFor(alice.tokens.accessToken).conversation.create({ memberIds: [bob.user.id] });
    const error = await trpcErrorOf(
      callerFor(carol.tokens.accessToken).message.send({ conversationId: direct.id, content: "hi", clientMessageId: "intruder-1" }),
    );
    expect(error.code).toBe("FORBIDDEN");
  });

  it("a protected procedure without a token is UNAUTHORIZED", async () => {
    const error = await trpcErrorOf(callerFor().auth.me());
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("a protected procedure with a malformed token is UNAUTHORIZED", async () => {
    const error = await trpcErrorOf(callerFor("not.a.token").auth.me());
    expect(error.code).toBe("UNAUTHORIZED");
  });
});

describe("sessions", () => {
  it("after auth.logout, that session's access token is UNAUTHORIZED, even on a context made before", async () => {
    const session = await logIn("alice");
    const caller = callerFor(session.accessToken);
    await caller.auth.me();
    await callerFor().auth.logout({ refreshToken: session.refreshToken });
    const error = await trpcErrorOf(caller.auth.me());
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("auth.logout leaves the user's other sessions working", async () => {
    const loggedOut = await logIn("bob");
    const other = await logIn("bob");
    await callerFor().auth.logout({ refreshToken: loggedOut.refreshToken });
    await expect(callerFor(other.accessToken).auth.me()).resolves.toMatchObject({ id: bob.user.id });
  });

  it("auth.refresh rotates: the refresh token it was given stops working", async () => {
    const session = await logIn("carol");
    await callerFor().auth.refresh({ refreshToken: session.refreshToken });
    const error = await trpcErrorOf(callerFor().auth.refresh({ refreshToken: session.refreshToken }));
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("reusing a spent refresh token revokes the refresh tokens issued from the same login", async () => {
    const session = await logIn("carol");
    const rotated = await callerFor().auth.refresh({ refreshToken: session.refreshToken });
    await trpcErrorOf(callerFor().auth.refresh({ refreshToken: session.refreshToken }));
    const error = await trpcErrorOf(callerFor().auth.refresh({ refreshToken: rotated.refreshToken }));
    expect(error.code).toBe("UNAUTHORIZED");
  });

  it("an access token that expires after its context was made is UNAUTHORIZED", async () => {
    const clock = fakeClock(new Date());
    const clocked = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig(), clock });
    try {
      const caller = createCaller(createContext(clocked, clocked.tokens.issueAccess(alice.user.id, "session-of-a-socket")));
      await caller.auth.me();
      clock.advanceSeconds(30 * 60);
      const error = await trpcErrorOf(caller.auth.me());
      expect(error.code).toBe("UNAUTHORIZED");
    } finally {
      clocked.close();
    }
  });
});

describe("password hashes never leave the server", () => {
  // The control for the checks below: what they search for is really in the database.
  it("the stored password hash is an argon2 string", async () => {
    const row = await database.db.prisma.user.findUniqueOrThrow({ where: { id: alice.user.id }, select: { passwordHash: true } });
    expect(row.passwordHash).toContain("$argon2");
  });

  it("auth.signup returns exactly id, username and fullName", async () => {
    const user = await callerFor().auth.signup({ username: "dave", password: PASSWORD });
    expect(Object.keys(user).sort()).toEqual(["fullName", "id", "username"]);
  });

  it("not in auth.signup", async () => {
    expect(serialized(await callerFor().auth.signup({ username: "erin", password: PASSWORD }))).not.toContain("$argon2");
  });

  it("not in auth.me", async () => {
    expect(serialized(await callerFor(alice.tokens.accessToken).auth.me())).not.toContain("$argon2");
  });

  it("not in user.list", async () => {
    const users = await callerFor(alice.tokens.accessToken).user.list();
    expect(users.length).toBeGreaterThanOrEqual(3);
    expect(serialized(users)).not.toContain("$argon2");
  });

  it("not in the members of conversation.create", async () => {
    const group = await callerFor(alice.tokens.accessToken).conversation.create({
      title: "group",
      memberIds: [bob.user.id, carol.user.id],
    });
    expect(group.members).toHaveLength(3);
    expect(serialized(group)).not.toContain("$argon2");
  });

  it("not in the members of conversation.list", async () => {
    await callerFor(alice.tokens.accessToken).conversation.create({ memberIds: [bob.user.id] });
    expect(serialized(await callerFor(alice.tokens.accessToken).conversation.list())).not.toContain("$argon2");
  });
});

describe("error responses over HTTP", () => {
  it("a domain error keeps its code, HTTP status and message", async () => {
    const result = await callOverHttp(services, {
      path: "auth.signup",
      kind: "mutation",
      input: { username: "alice", password: PASSWORD },
    });
    expect(result.status).toBe(409);
    expect(errorShapeOf(result)).toMatchObject({ message: "That username is taken", data: { code: "CONFLICT" } });
  });

  it("a validation error lists the path and message of each failed field", async () => {
    const result = await callOverHttp(services, { path: "auth.signup", kind: "mutation", input: { username: "a", password: "short" } });
    expect(result.status).toBe(400);
    expect(errorShapeOf(result).data.issues).toEqual([
      { path: "username", message: expect.any(String) },
      { path: "password", message: expect.any(String) },
    ]);
  });

  it("a validation error has no stack trace", async () => {
    const result = await callOverHttp(services, { path: "auth.signup", kind: "mutation", input: { username: "a", password: "short" } });
    expect(result.text).not.toContain("stack");
  });

  it("a validation error does not echo the rejected password", async () => {
    const result = await callOverHttp(services, { path: "auth.signup", kind: "mutation", input: { username: "frank", password: "Zq7!x" } });
    expect(result.status).toBe(400);
    expect(result.text).not.toContain("Zq7!x");
  });

  it("an unparsable cursor is a validation error naming the cursor", async () => {
    const direct = await callerFor(alice.tokens.accessToken).conversation.create({ memberIds: [bob.user.id] });
    const result = await callOverHttp(services, {
      path: "message.list",
      kind: "query",
      input: { conversationId: direct.id, cursor: "abc" },
      token: alice.tokens.accessToken,
    });
    expect(result.status).toBe(400);
    expect(errorShapeOf(result).data.issues).toEqual([{ path: "cursor", message: "must be a message id" }]);
  });

  it("too many failed logins is TOO_MANY_REQUESTS with the seconds to wait", async () => {
    const limits = { ...testConfig().limits, loginFailuresPerAccountAndAddress: { max: 1, windowSeconds: 60 } };
    const strict = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig({ limits }) });
    try {
      const wrong = { path: "auth.login", kind: "mutation", input: { username: "alice", password: "wrong password" } } as const;
      await callOverHttp(strict, wrong);
      const result = await callOverHttp(strict, wrong);
      expect(result.status).toBe(429);
      expect(errorShapeOf(result).data).toMatchObject({ code: "TOO_MANY_REQUESTS", retryAfterSeconds: 60 });
    } finally {
      strict.close();
    }
  });

  describe("an internal error", () => {
    let broken: TestDatabase;
    let brokenServices: Services;
    let token: string;

    beforeAll(async () => {
      broken = await openTestDatabase();
      brokenServices = await createServices({ db: broken.db, bus: new InProcessEventBus(), config: testConfig() });
      token = brokenServices.tokens.issueAccess("some-user", "some-session");
      // Every read of users now fails inside Prisma, with a message naming the table and the call.
      await broken.db.prisma.$executeRawUnsafe('DROP TABLE "User"');
    });

    afterAll(async () => {
      brokenServices.close();
      await broken.dispose();
    });

    // The control: in-process, the underlying error does carry the details the response must hide.
    it("carries Prisma's details in-process", async () => {
      const error = await trpcErrorOf(createCaller(createContext(brokenServices, token)).user.list());
      expect(error.code).toBe("INTERNAL_SERVER_ERROR");
      expect(error.message).toMatch(/prisma/i);
    });

    it('is reported over HTTP as "Internal server error" with status 500', async () => {
      const result = await callOverHttp(brokenServices, { path: "user.list", kind: "query", token });
      expect(result.status).toBe(500);
      expect(errorShapeOf(result).message).toBe("Internal server error");
    });

    it.each(["stack", "prisma", "Prisma", "SELECT", "User", "/work/", "node_modules"])(
      "response does not contain %j",
      async (secret) => {
        const result = await callOverHttp(brokenServices, { path: "user.list", kind: "query", token });
        expect(result.text).not.toContain(secret);
      },
    );
  });
});
