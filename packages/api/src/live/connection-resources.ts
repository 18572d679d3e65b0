import { TRPCError } from "@trpc/server";

/** What one connection holds (one per createContext: per WebSocket, or per HTTP request). */
export class ConnectionResources {
  private subscriptions = 0;

  constructor(readonly maxSubscriptions: number) {}

  get subscriptionCount(): number {
    return this.subscriptions;
  }

  /** Takes a subscription slot, or refuses with TOO_MANY_REQUESTS; returns the function that gives it back (once). */
  claimSubscription(): () => void {
    if (this.subscriptions >= this.maxSubscriptions) {
      throw new TRPCError({ code: "TOO_MANY_REQUESTS", message: `At most ${this.maxSubscriptions} live subscriptions per connection` });
    }
    this.subscriptions += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.subscriptions -= 1;
    };
  }
}
