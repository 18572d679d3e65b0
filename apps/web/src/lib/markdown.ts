// Message formatting: a safe subset of Markdown (bold, italic, strike, inline code, code blocks,
// lists, quotes, links) rendered by markdown-it. Why markdown-it: it is CommonMark-compliant, widely
// used and maintained, escapes every character of the source it does not turn into markup, and has
// raw HTML off with `html: false` - so a message can never bring its own tags or attributes. What is
// not in the subset (images, headings, tables, rules) stays as the text that was written: no remote
// image is ever loaded. Links are kept only for http, https and mailto and open in a new tab
// without giving it this page (rel="noopener noreferrer nofollow").
import MarkdownIt from "markdown-it";

const SAFE_LINK = /^(https?:|mailto:)/i;

function createRenderer(): MarkdownIt {
  const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
  md.disable(["image", "heading", "lheading", "table", "hr", "reference", "html_block", "html_inline", "entity"]);
  // Only links written with their scheme (not "example.com"), as before Markdown.
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  // A link to anything else stays the text it was written as.
  md.validateLink = (url) => SAFE_LINK.test(url.trim());
  const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx];
    if (token) {
      token.attrSet("target", "_blank");
      token.attrSet("rel", "noopener noreferrer nofollow");
    }
    return defaultLinkOpen(tokens, idx, options, env, self);
  };
  return md;
}

const renderer = createRenderer();

/** A message's content as HTML for a message bubble: only the tags of the subset, everything else escaped. */
export function renderMarkdown(source: string): string {
  // Without the newline after the last block, which would be part of the bubble's text.
  return renderer.render(source).trimEnd();
}

/**
 * A message's content as plain text for a one-line preview (the conversation list): the words as
 * they read once formatted, without the Markdown marks, on one line.
 */
export function markdownToPlainText(source: string): string {
  const parts: string[] = [];
  for (const block of renderer.parse(source, {})) {
    if (block.type === "inline") {
      for (const token of block.children ?? []) {
        if (token.type === "text" || token.type === "code_inline") parts.push(token.content);
        else if (token.type === "softbreak" || token.type === "hardbreak") parts.push(" ");
      }
    } else if (block.type === "fence" || block.type === "code_block") {
      parts.push(block.content);
    }
    if (block.type.endsWith("_close") || block.type === "fence" || block.type === "code_block") parts.push(" ");
  }
  return parts.join("").replace(/\s+/g, " ").trim();
}
