import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { ConnectionResources } from "../src/live/connection-resources.js";

describe("ConnectionResources", () => {
  it("hands out at most maxSubscriptions slots, then refuses with TOO_MANY_REQUESTS", () => {
    const connection = new ConnectionResources(2);
    connection.claimSubscription();
    connection.claimSubscription();
    expect(connection.subscriptionCount).toBe(2);
    let refusal: unknown;
    try {
      connection.claimSubscription();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(TRPCError);
    expect(refusal).toMatchObject({ code: "TOO_MANY_REQUESTS", message: "At most 2 live subscriptions per connection" });
  });

  it("takes a slot back once however often it is given back", () => {
    const connection = new ConnectionResources(2);
    const release = connection.claimSubscription();
    connection.claimSubscription();
    release();
    release();
    expect(connection.subscriptionCount).toBe(1);
    connection.claimSubscription();
    expect(() => connection.claimSubscription()).toThrow(TRPCError);
  });
});
