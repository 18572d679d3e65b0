import { describe, expect, it } from "vitest";
import { trpcHttpUrl, trpcWebSocketUrl } from "../src/transport/urls";

describe("addresses", () => {
  it("derives the WebSocket URL from the server's address", () => {
    expect(trpcWebSocketUrl("https://chat.example.com")).toBe("wss://chat.example.com/trpc");
    expect(trpcWebSocketUrl("http://127.0.0.1:5173")).toBe("ws://127.0.0.1:5173/trpc");
  });

  it("puts the API at /trpc on the server's origin, whatever path the address names", () => {
    expect(trpcHttpUrl("http://127.0.0.1:3000")).toBe("http://127.0.0.1:3000/trpc");
    expect(trpcHttpUrl("https://chat.example.com/some/page?x=1")).toBe("https://chat.example.com/trpc");
  });
});
