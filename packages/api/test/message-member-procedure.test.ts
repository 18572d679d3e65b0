// messageMemberProcedure, the base of procedures whose input names a message (v2's edit, delete
// and react), through a router that exists only here, called in-process with createCaller.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z, ZodError } from "zod";
import { createContext, createServices, type Services } from "../src/context.js";
import { InProcessEventBus } from "../src/live/event-bus.js";
import { createCallerFactory, messageMemberProcedure, router } from "../src/trpc.js";
import { openTestDatabase, testConfig, trpcErrorOf, type TestDatabase } from "./helpers.js";

/** What a procedure built on messageMemberProcedure finds in its context, and the rest of its input. */
const testRouter = router({
  inspect: messageMemberProcedure.input(z.object({ note: z.string().max(10) })).mutation(({ ctx, input }) => {
    handled += 1;
    return {
      messageId: input.messageId,
      conversationId: ctx.conversation.id,
      memberIds: [...ctx.conversation.memberIds].sort(),
      note: input.note,
    };
  }),
});
const createTestCaller = createCallerFactory(testRouter);

let handled = 0;
let database: TestDatabase;
let services: Services;
let aliceId: string;
let bobId: string;
let malloryId: string;
let conversationId: string;
let messageId: bigint;

function callerFor(userId?: string) {
  return createTestCaller(createContext(services, userId ? services.tokens.issueAccess(userId, `session-of-${userId}`) : undefined));
}

beforeAll(async () => {
  database = await openTestDatabase();
  services = await createServices({ db: database.db, bus: new InProcessEventBus(), config: testConfig() });
  const { prisma } = database.db;
  const user = (username: string) => prisma.user.create({ data: { username, passwordHash: "not used here" }, select: { id: true } });
  [aliceId, bobId, malloryId] = (await Promise.all([user("alice"), user("bob"), user("mallory")])).map((u) => u.id) as [string, string, string];
  const conversation = await prisma.conversation.create({
    data: { members: { create: [{ userId: aliceId }, { userId: bobId }] } },
    select: { id: true },
  });
  conversationId = conversation.id;
  const { results } = await database.db.messages.insert([{ conversationId, senderId: aliceId, content: "hello bob", clientMessageId: "c1" }]);
  messageId = results[0]?.status === "created" ? results[0].message.id : 0n;
});

afterAll(async () => {
  services.close();
  await database.dispose();
});

describe("messageMemberProcedure", () => {
  it("lets a member of the message's conversation through, with that conversation in the context", async () => {
    const result = await callerFor(bobId).inspect({ messageId: messageId.toString(), note: "hi" });
    expect(result).toEqual({
      messageId: messageId.toString(),
      conversationId,
      memberIds: [aliceId, bobId].sort(),
      note: "hi",
    });
  });

  it("refuses a caller who is not a member of the message's conversation with FORBIDDEN, before the procedure runs", async () => {
    const before = handled;
    const error = await trpcErrorOf(callerFor(malloryId).inspect({ messageId: messageId.toString(), note: "hi" }));
    expect(error.code).toBe("FORBIDDEN");
    expect(handled).toBe(before);
  });

  it("refuses an id no message has with NOT_FOUND", async () => {
    const error = await trpcErrorOf(callerFor(bobId).inspect({ messageId: (messageId + 1000n).toString(), note: "hi" }));
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toBe("No such message");
  });

  it.each([
    ["not a number", "abc"],
    ["zero", "0"],
    ["negative", "-1"],
    ["beyond a 64-bit integer", "9223372036854775808"],
    ["a number, not a string", 1],
    ["missing", undefined],
  ])("refuses a messageId that is %s with a validation error, before looking anything up", async (_, bad) => {
    const before = handled;
    const input = { messageId: bad, note: "hi" } as unknown as { messageId: string; note: string };
    const error = await trpcErrorOf(callerFor(bobId).inspect(input));
    expect(error.code).toBe("BAD_REQUEST");
    expect(error.cause).toBeInstanceOf(ZodError);
    expect((error.cause as ZodError).issues.map((issue) => issue.path.join("."))).toEqual(["messageId"]);
    expect(handled).toBe(before);
  });

  it("still checks the procedure's own input", async () => {
    const error = await trpcErrorOf(callerFor(bobId).inspect({ messageId: messageId.toString(), note: "far too long a note" }));
    expect(error.code).toBe("BAD_REQUEST");
  });

  it("refuses a caller without an access token with UNAUTHORIZED", async () => {
    const error = await trpcErrorOf(callerFor().inspect({ messageId: messageId.toString(), note: "hi" }));
    expect(error.code).toBe("UNAUTHORIZED");
  });
});
