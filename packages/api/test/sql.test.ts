// The SQL helpers for list-shaped queries: parameter markers as each provider numbers them, and
// id lists split so that no statement exceeds a database's parameter limit.
import { describe, expect, it } from "vitest";
import { chunked, placeholders } from "../src/domain/sql.js";

describe("placeholders", () => {
  it("numbers PostgreSQL's markers from the first one asked for", () => {
    expect(placeholders("postgresql", 3, 4)).toBe("$4, $5, $6");
  });

  it("gives SQLite one ? per parameter", () => {
    expect(placeholders("sqlite", 3, 4)).toBe("?, ?, ?");
  });

  it("gives nothing for no parameters", () => {
    expect(placeholders("postgresql", 0, 1)).toBe("");
  });
});

describe("chunked", () => {
  it("splits a list into chunks of at most `size`, in order, the last one shorter", () => {
    expect(chunked([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("makes no empty chunk when the list divides evenly, nor for an empty list", () => {
    expect(chunked([1, 2, 3, 4], 2)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(chunked([], 2)).toEqual([]);
  });
});
