// Issue 10, finding 9 (text): names and titles refuse characters that deceive, every text is
// stored in NFC, and a message of only invisible characters is white space.
import { expect, it } from "vitest";
import { describeEachProvider, errorOf, httpClient, signUpAndLogIn, suiteServer, uniqueName } from "./harness.js";

const RLO = "\u202E";
const ZWSP = "\u200B";

describeEachProvider("text rules over the wire", (provider) => {
  const server = suiteServer(provider);
  const countUsers = () => server().services.db.prisma.user.count();
  const countConversations = () => server().services.db.prisma.conversation.count();

  it.each([
    ["a right-to-left override", `admin${RLO}nimda`],
    ["a zero-width space", `ali${ZWSP}ce`],
    ["a left-to-right isolate", "\u2066bob"],
    ["a newline", "Alice\nAdmin"],
  ])("signup with %s in the full name is BAD_REQUEST saying why, and creates nobody", async (_why, fullName) => {
    const before = await countUsers();
    const error = await errorOf(httpClient(server()).auth.signup.mutate({ username: uniqueName(), password: "correct horse battery", fullName }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("fullName: full name must not contain invisible formatting or control characters (such as bidi overrides or zero-width spaces)");
    expect(await countUsers()).toBe(before);
  });

  it("a full name is stored in NFC", async () => {
    const user = await httpClient(server()).auth.signup.mutate({ username: uniqueName(), password: "correct horse battery", fullName: "Jose\u0301" });
    expect(user.fullName).toBe("Jos\u00E9");
  });

  it("a title with a bidi override is BAD_REQUEST and creates nothing", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const before = await countConversations();
    const error = await errorOf(alice.api.conversation.create.mutate({ title: `invoice${RLO}fdp.exe`, memberIds: [bob.id] }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toMatch(/^title: title must not contain invisible formatting or control characters/);
    expect(await countConversations()).toBe(before);
  });

  it("a title is stored in NFC", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const group = await alice.api.conversation.create.mutate({ title: "Cafe\u0301", memberIds: [bob.id] });
    expect(group.title).toBe("Caf\u00E9");
  });

  it.each([
    ["zero-width spaces", ZWSP.repeat(5)],
    ["a byte order mark", "\uFEFF"],
    ["bidi controls and spaces", `${RLO} \u2069`],
  ])("a message of only %s is BAD_REQUEST as white space, and nothing is stored", async (_why, content) => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const error = await errorOf(alice.api.message.send.mutate({ conversationId: id, content, clientMessageId: "blank" }));
    expect(error.data?.code).toBe("BAD_REQUEST");
    expect(error.message).toBe("content: message must not be only white space");
    expect(await server().services.db.prisma.message.count({ where: { conversationId: id } })).toBe(0);
  });

  it("a message keeps the zero-width joiners of an emoji sequence and is stored in NFC", async () => {
    const [alice, bob] = await Promise.all([signUpAndLogIn(server()), signUpAndLogIn(server())]);
    const { id } = await alice.api.conversation.create.mutate({ memberIds: [bob.id] });
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    const sent = await alice.api.message.send.mutate({ conversationId: id, content: `cafe\u0301 ${family}`, clientMessageId: "emoji" });
    expect(sent.content).toBe(`caf\u00E9 ${family}`);
    const page = await bob.api.message.list.query({ conversationId: id });
    expect(page.items.map((m) => m.content)).toEqual([`caf\u00E9 ${family}`]);
  });
});
