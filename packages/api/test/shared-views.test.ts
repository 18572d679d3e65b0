// What every member is told about conversations, through the domain functions: sharedConversations
// (the view events carry) gives exactly the conversations asked for that still exist, and a change
// stored in order is published on the bus to the members, chained to the event before it.
import { describe, expect, it } from "vitest";
import { firstMembersOf, sharedConversations } from "../src/domain/conversation-views.js";
import type { ParleyEvent } from "../src/live/event-bus.js";
import { suiteDatabase } from "./helpers.js";
import { scenes } from "./scenes.js";

const suite = suiteDatabase();
const { world, people, send, group, latestEventId } = scenes(suite);

describe("sharedConversations", () => {
  it("gives the conversations asked for, each once, and leaves out one that is gone and any not asked for", async () => {
    const w = await world();
    const [alice, bob, carol] = await people(3);
    const asked = await group(w, alice, [bob], "asked");
    await group(w, alice, [carol], "not asked");
    const gone = await group(w, bob, [carol], "gone");
    await w.as(bob.id).conversation.leave({ conversationId: gone });
    await w.as(carol.id).conversation.leave({ conversationId: gone });
    const last = await send(w, bob, asked, "latest");
    const shared = await sharedConversations(suite.database.db, [asked, gone, asked]);
    expect([...shared.keys()]).toEqual([asked]);
    expect(shared.get(asked)).toMatchObject({ id: asked, title: "asked", isDirect: false, memberCount: 2, lastMessage: last });
    expect(shared.get(asked)?.members.map((m) => m.id)).toEqual([alice.id, bob.id]);
  });

  it("of no conversations is empty, and so are the first members of none", async () => {
    expect((await sharedConversations(suite.database.db, [])).size).toBe(0);
    expect((await firstMembersOf(suite.database.db, [])).size).toBe(0);
  });
});

describe("a change stored in order", () => {
  it("is published to the members, linked to the event before it", async () => {
    const w = await world();
    const [alice, bob] = await people(2);
    const conversationId = await group(w, alice, [bob]);
    const published: ParleyEvent[] = [];
    const unsubscribe = w.services.bus.subscribe((event) => published.push(event));
    const before = await latestEventId();
    await w.as(alice.id).conversation.rename({ conversationId, title: "renamed" });
    unsubscribe();
    const entries = published.flatMap((event) => (event.type === "entry" ? [event] : []));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ prevId: before.toString(), entry: { kind: "conversation.updated", id: (before + 1n).toString(), conversationId } });
    expect([...(entries[0]?.recipientIds ?? [])].sort()).toEqual([alice.id, bob.id].sort());
  });
});
