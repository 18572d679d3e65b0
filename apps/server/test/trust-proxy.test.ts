// TRUST_PROXY: which X-Forwarded-For entry is the client. The client writes the left of the header;
// each trusted proxy appends the address it saw on the right.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/index.js";
import { clientAddressOf } from "../src/request-info.js";

const SECRET = "s".repeat(32);

function trustProxy(value: string) {
  return loadConfig({ JWT_SECRET: SECRET, TRUST_PROXY: value }, "/tmp").config.trustProxy;
}

function request(peer: string, forwarded?: string): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded } } as unknown as IncomingMessage;
}

describe("TRUST_PROXY", () => {
  it("is off by default: X-Forwarded-For is ignored", () => {
    expect(clientAddressOf(request("192.0.2.1", "198.51.100.7"), trustProxy("false"))).toBe("192.0.2.1");
    expect(loadConfig({ JWT_SECRET: SECRET }, "/tmp").config.trustProxy).toBeNull();
  });

  it("true means one proxy: the right-most entry, which that proxy appended", () => {
    expect(clientAddressOf(request("10.0.0.2", "6.6.6.6, 198.51.100.7"), trustProxy("true"))).toBe("198.51.100.7");
    expect(clientAddressOf(request("10.0.0.2", "6.6.6.6, 198.51.100.7"), trustProxy("1"))).toBe("198.51.100.7");
  });

  it("a hop count of 2 takes the second entry from the right", () => {
    expect(clientAddressOf(request("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.0.0.9"), trustProxy("2"))).toBe("198.51.100.7");
  });

  it("a proxy list skips trusted proxies from the right and stops at the first other address", () => {
    const list = trustProxy("10.0.0.0/8, 192.168.1.5");
    expect(clientAddressOf(request("10.0.0.2", "6.6.6.6, 198.51.100.7, 192.168.1.5, 10.1.2.3"), list)).toBe("198.51.100.7");
  });

  it("a proxy list ignores X-Forwarded-For from a peer that is not a listed proxy", () => {
    expect(clientAddressOf(request("203.0.113.5", "198.51.100.7"), trustProxy("10.0.0.0/8"))).toBe("203.0.113.5");
  });

  it("a proxy list matches IPv4 peers the socket reports as IPv4-mapped IPv6", () => {
    expect(clientAddressOf(request("::ffff:127.0.0.1", "198.51.100.7"), trustProxy("127.0.0.1"))).toBe("198.51.100.7");
  });

  it("an entry that is not an address falls back to the socket's address", () => {
    expect(clientAddressOf(request("10.0.0.2", "6.6.6.6, not-an-address"), trustProxy("1"))).toBe("10.0.0.2");
  });

  it.each([["yes"], ["21"], ["10.0.0.0/33"], ["10.0.0.0/8,proxy.example"], ["::1/129"], ["-1"]])("refuses %j with a message naming the accepted forms", (value) => {
    expect(() => trustProxy(value)).toThrow(ConfigError);
    expect(() => trustProxy(value)).toThrow(/TRUST_PROXY must be false, true/);
  });
});

describe("signup rate limit settings", () => {
  it("default to 10 per address per hour and 60 per minute overall, and can be set", () => {
    expect(loadConfig({ JWT_SECRET: SECRET }, "/tmp").config.signupRateLimit).toEqual({
      perAddress: { max: 10, windowSeconds: 3600 },
      overall: { max: 60, windowSeconds: 60 },
    });
    const set = loadConfig({ JWT_SECRET: SECRET, SIGNUP_RATE_LIMIT: "3/60s", SIGNUP_RATE_LIMIT_TOTAL: "100/10s" }, "/tmp").config;
    expect(set.signupRateLimit).toEqual({ perAddress: { max: 3, windowSeconds: 60 }, overall: { max: 100, windowSeconds: 10 } });
  });

  it.each([
    ["SIGNUP_RATE_LIMIT", "10"],
    ["SIGNUP_RATE_LIMIT_TOTAL", "0/60s"],
    ["SIGNUP_RATE_LIMIT", "10/10000000s"],
  ])("refuses an invalid %s, naming it", (name, value) => {
    const load = () => loadConfig({ JWT_SECRET: SECRET, [name]: value }, "/tmp");
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(name);
  });
});
