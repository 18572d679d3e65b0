// The formatting subset, and a hostile corpus that must come out as inert text: no tag, attribute or
// link the message's author wrote ever reaches the page.
import { describe, expect, it } from "vitest";
import { markdownToPlainText, renderMarkdown } from "../src/lib/markdown";

/** Every tag in rendered HTML, with its attributes. */
function tagsOf(html: string): { name: string; attributes: Record<string, string> }[] {
  return [...html.matchAll(/<([a-z0-9]+)((?:\s+[a-z-]+(?:="[^"]*")?)*)\s*\/?>/gi)].map(([, name = "", rest = ""]) => ({
    name: name.toLowerCase(),
    attributes: Object.fromEntries([...rest.matchAll(/([a-z-]+)(?:="([^"]*)")?/gi)].map(([, key = "", value = ""]) => [key.toLowerCase(), value])),
  }));
}

const ALLOWED_TAGS = new Set(["p", "strong", "em", "s", "code", "pre", "ul", "ol", "li", "blockquote", "a", "br", "span"]);

const HOSTILE = [
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  '<a href="javascript:alert(1)">click</a>',
  "[click](javascript:alert(1))",
  "[click](JaVaScRiPt:alert(1))",
  "[click]( javascript:alert(1))",
  "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "[click](vbscript:msgbox(1))",
  "<javascript:alert(1)>",
  "![x](https://evil.example/track.png)",
  "![x](javascript:alert(1))",
  '<div onclick="alert(1)">block</div>',
  "<iframe src=\"https://evil.example\"></iframe>",
  "<svg><script>alert(1)</script></svg>",
  '<p style="background:url(https://evil.example/x)">styled</p>',
  "**bold <b onmouseover=alert(1)>x</b>**",
  '[x](https://ok.example" onmouseover="alert(1))',
  "[x](https://ok.example/\"><script>alert(1)</script>)",
  "&lt;script&gt;alert(1)&lt;/script&gt;",
  "```html\n<script>alert(1)</script>\n```",
  "> <img src=x onerror=alert(1)>",
  "- <a href=javascript:alert(1)>x</a>",
  "[ref]\n\n[ref]: javascript:alert(1)",
  '@<img src=x onerror=alert(1)> @"onmouseover=alert(1)',
  "@bob<script>alert(1)</script>",
];

describe("renderMarkdown", () => {
  it("formats the subset: bold, italic, strike, inline code, code blocks, lists, quotes, links", () => {
    expect(renderMarkdown("**b** *i* ~~s~~ `c`")).toBe("<p><strong>b</strong> <em>i</em> <s>s</s> <code>c</code></p>");
    expect(renderMarkdown("```\nconst a = 1;\n```")).toContain("<pre><code>const a = 1;\n</code></pre>");
    expect(renderMarkdown("- one\n- two")).toContain("<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
    expect(renderMarkdown("1. one\n2. two")).toContain("<ol>");
    expect(renderMarkdown("> quoted")).toContain("<blockquote>");
    expect(renderMarkdown("[docs](https://example.com/a)")).toBe(
      '<p><a href="https://example.com/a" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>',
    );
  });

  it("links bare web addresses written with their scheme, and mailto links, but not bare domain names", () => {
    expect(tagsOf(renderMarkdown("see https://example.com/x."))).toContainEqual({
      name: "a",
      attributes: { href: "https://example.com/x", target: "_blank", rel: "noopener noreferrer nofollow" },
    });
    expect(renderMarkdown("[me](mailto:kim@example.com)")).toContain('href="mailto:kim@example.com"');
    expect(renderMarkdown("example.com")).not.toContain("<a");
  });

  it("keeps line breaks of a chat message, and leaves headings, rules and tables as written", () => {
    expect(renderMarkdown("one\ntwo")).toBe("<p>one<br>\ntwo</p>");
    expect(renderMarkdown("# not a heading")).toBe("<p># not a heading</p>");
    expect(renderMarkdown("---")).not.toContain("<hr");
    expect(renderMarkdown("| a |\n|---|\n| b |")).not.toContain("<table");
  });

  it.each(HOSTILE)("renders hostile input as inert text: %s", (source) => {
    const html = renderMarkdown(source);
    for (const tag of tagsOf(html)) {
      expect(ALLOWED_TAGS).toContain(tag.name);
      for (const [name, value] of Object.entries(tag.attributes)) {
        expect(name).not.toMatch(/^on/);
        expect(["href", "target", "rel", "class"]).toContain(name);
        if (name === "href") expect(value).toMatch(/^(https?:|mailto:)/i);
        if (name === "class") expect(value).toMatch(/^(language-[\w-]+|mention( mention--me)?)$/);
      }
    }
    expect(html).not.toMatch(/<(script|img|iframe|svg|div|style)/i);
  });

  it("shows the text of raw HTML, escaped, rather than dropping it", () => {
    expect(renderMarkdown("<script>alert(1)</script>")).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
  });

  it("leaves an image as the text that was written, loading nothing", () => {
    const html = renderMarkdown("![x](https://evil.example/track.png)");
    expect(html).not.toContain("<img");
    expect(html).toContain("evil.example/track.png");
  });
});

describe("mentions", () => {
  it("marks @username, and highlights the reader's own when asked", () => {
    expect(renderMarkdown("hi @Kim and @bob.")).toBe('<p>hi <span class="mention">@Kim</span> and <span class="mention">@bob</span>.</p>');
    expect(renderMarkdown("hi @Kim and @bob", { highlight: "kim" })).toBe(
      '<p>hi <span class="mention mention--me">@Kim</span> and <span class="mention">@bob</span></p>',
    );
  });

  it("leaves addresses, code and link text alone", () => {
    expect(renderMarkdown("mail me@example.com", { highlight: "example.com" })).toBe("<p>mail me@example.com</p>");
    expect(renderMarkdown("`@kim`", { highlight: "kim" })).toBe("<p><code>@kim</code></p>");
    expect(renderMarkdown("[@kim](https://example.com)", { highlight: "kim" })).not.toContain("mention");
  });

  it("keeps mentions in the plain-text preview", () => {
    expect(markdownToPlainText("**@kim** look")).toBe("@kim look");
  });
});

describe("markdownToPlainText", () => {
  it("gives the words without the marks, on one line", () => {
    expect(markdownToPlainText("**Hello** _there_,\nsee [the docs](https://example.com) and `npm i`")).toBe("Hello there, see the docs and npm i");
    expect(markdownToPlainText("- one\n- two\n\n> quote")).toBe("one two quote");
    expect(markdownToPlainText("```\ncode\n```")).toBe("code");
  });

  it("keeps raw HTML as its text", () => {
    expect(markdownToPlainText("<b>hi</b>")).toBe("<b>hi</b>");
  });
});
