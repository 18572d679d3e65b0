import { afterAll, beforeAll, expect, it } from "vitest";
import { collectLive, signUpAndLogIn, startTestServer, waitForSubscribers, wsClient, clientMessageId, type TestServer } from "./harness.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer("sqlite");
});
afterAll(async () => {
  await server.close();
  await server.database.drop();
});

it("smoke", async () => {
  const alice = await signUpAndLogIn(server);
  const bob = await signUpAndLogIn(server);
  const live = wsClient(server, bob.accessToken);
  const got = collectLive(live);
  await waitForSubscribers(server, 1);
  const convo = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
  const sent = await alice.api.message.send.mutate({ conversationId: convo.id, content: "hi", clientMessageId: clientMessageId() });
  const [m] = await got.waitFor(1);
  expect(m).toEqual(sent);
  await live.close();
});
