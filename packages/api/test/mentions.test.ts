// mentionedNames: which `@name`s a message's text names, before membership decides who is mentioned.
import { describe, expect, it } from "vitest";
import { mentionedNames } from "../src/domain/mentions.js";
import { USERNAME_LENGTH } from "../src/limits.js";

describe("mentionedNames", () => {
  it("gives each name once, in lower case, in the order first written", () => {
    expect(mentionedNames("@Carol and @bob, then @CAROL again")).toEqual(["carol", "bob"]);
  });

  it("does not read an address or the middle of a word as a mention", () => {
    expect(mentionedNames("mail me@example.com or x_@bob")).toEqual([]);
  });

  it("also tries a name without the sentence punctuation after it", () => {
    expect(mentionedNames("thanks @bob.")).toEqual(["bob.", "bob"]);
    expect(mentionedNames("ask @bob-.")).toEqual(["bob-.", "bob"]);
    // Punctuation inside a name is part of it.
    expect(mentionedNames("cc @ann.lee")).toEqual(["ann.lee"]);
    expect(mentionedNames("cc @ann.lee.")).toEqual(["ann.lee.", "ann.lee"]);
  });

  it("keeps only names of a username's length", () => {
    const shortest = "a".repeat(USERNAME_LENGTH.min);
    const longest = "b".repeat(USERNAME_LENGTH.max);
    expect(mentionedNames(`@${shortest} @${shortest.slice(1)} @${longest} @${longest}c`)).toEqual([shortest, longest]);
    // Too short once its punctuation is taken off.
    expect(mentionedNames(`@${shortest.slice(1)}.`)).toEqual([`${shortest.slice(1)}.`]);
  });
});
