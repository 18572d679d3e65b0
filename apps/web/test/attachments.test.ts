import { describe, expect, it } from "vitest";
import { describeAttachments, isPicture, plainTextWithFiles, previewSize } from "../src/lib/attachments";
import type { Attachment } from "@parley/client";

const picture = (name: string, width = 640, height = 480): Attachment => ({ id: name, name, size: 1000, contentType: "image/webp", width, height });
const file = (name: string): Attachment => ({ id: name, name, size: 1000, contentType: "application/pdf" });

describe("picture previews", () => {
  it("fit in 320 × 240 with their proportions, and are never enlarged", () => {
    expect(previewSize(640, 480)).toEqual({ width: 320, height: 240 });
    expect(previewSize(300, 600)).toEqual({ width: 120, height: 240 });
    expect(previewSize(100, 50)).toEqual({ width: 100, height: 50 });
    expect(previewSize(10_000, 10)).toEqual({ width: 320, height: 1 });
  });

  it("are for pictures Parley measured; other files are cards", () => {
    expect(isPicture(picture("a.png"))).toBe(true);
    expect(isPicture(file("a.pdf"))).toBe(false);
    expect(isPicture({ id: "x", name: "x.svg", size: 5, contentType: "image/svg+xml" })).toBe(false);
  });
});

describe("a message of files alone, in text", () => {
  it("names one file, or counts them", () => {
    expect(plainTextWithFiles("", [file("plan.pdf")])).toBe("📎 plan.pdf");
    expect(plainTextWithFiles("", [picture("a.png"), picture("b.png")])).toBe("📎 2 pictures");
    expect(describeAttachments([picture("a.png"), file("b.pdf"), file("c.pdf")])).toBe("3 files");
    expect(plainTextWithFiles("Look", [file("plan.pdf")])).toBe("Look");
  });
});
