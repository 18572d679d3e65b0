// Message formatting: a safe subset of Markdown (bold, italic, strike, inline code, code blocks,
// lists, quotes, links) rendered by markdown-it. Why markdown-it: it is CommonMark-compliant, widely
// used and maintained, escapes every character of the source it does not turn into markup, and has
// raw HTML off with `html: false` - so a message can never bring its own tags or attributes. What is
// not in the subset (images, headings, tables, rules) stays as the text that was written: no remote
// image is ever loaded. Links are kept only for http, https and mailto and open in a new tab
// without giving it this page (rel="noopener noreferrer nofollow").
import MarkdownIt from "markdown-it";

// The types as the parser instance uses them (the typings' module entry points disagree otherwise).
type StateCore = Parameters<Parameters<MarkdownIt["core"]["ruler"]["push"]>[1]>[0];
type Token = StateCore["tokens"][number];

const SAFE_LINK = /^(https?:|mailto:)/i;
/** `@username` as the server reads it (packages/api mentions.ts): an @ that does not continue a word or an address. */
const MENTION = /(?<![\p{L}\p{N}_.@-])@([A-Za-z0-9_.-]+)/gu;

export interface RenderOptions {
  /** The reader's username when the message mentions them: those mentions are highlighted. */
  highlight?: string | null;
}

/** Splits the text of each paragraph (not of links or code) into text and `mention` tokens. */
function mentionRule(state: StateCore): void {
  for (const block of state.tokens) {
    if (block.type !== "inline" || !block.children) continue;
    const children: Token[] = [];
    let inLink = 0;
    for (const token of block.children) {
      if (token.type === "link_open") inLink += 1;
      if (token.type === "link_close") inLink -= 1;
      if (token.type !== "text" || inLink > 0 || !token.content.includes("@")) {
        children.push(token);
        continue;
      }
      let last = 0;
      for (const match of token.content.matchAll(MENTION)) {
        // Sentence punctuation after a name is not part of it ("@bob.").
        const name = (match[1] ?? "").replace(/[.-]+$/, "");
        if (!name) continue;
        const text = new state.Token("text", "", 0);
        text.content = token.content.slice(last, match.index);
        const mention = new state.Token("mention", "", 0);
        mention.content = name;
        children.push(text, mention);
        last = match.index + 1 + name.length;
      }
      const rest = new state.Token("text", "", 0);
      rest.content = token.content.slice(last);
      children.push(rest);
    }
    block.children = children;
  }
}

function createRenderer(): MarkdownIt {
  const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
  md.disable(["image", "heading", "lheading", "table", "hr", "reference", "html_block", "html_inline", "entity"]);
  // Only links written with their scheme (not "example.com"), as before Markdown.
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false });
  // A link to anything else stays the text it was written as.
  md.validateLink = (url) => SAFE_LINK.test(url.trim());
  md.core.ruler.push("mentions", mentionRule);
  md.renderer.rules.mention = (tokens, idx, _options, env: RenderOptions) => {
    const name = tokens[idx]?.content ?? "";
    const mine = Boolean(env.highlight) && name.toLowerCase() === env.highlight?.toLowerCase();
    return `<span class="${mine ? "mention mention--me" : "mention"}">@${md.utils.escapeHtml(name)}</span>`;
  };
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
export function renderMarkdown(source: string, options: RenderOptions = {}): string {
  // Without the newline after the last block, which would be part of the bubble's text.
  return renderer.render(source, { ...options }).trimEnd();
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
        else if (token.type === "mention") parts.push(`@${token.content}`);
        else if (token.type === "softbreak" || token.type === "hardbreak") parts.push(" ");
      }
    } else if (block.type === "fence" || block.type === "code_block") {
      parts.push(block.content);
    }
    if (block.type.endsWith("_close") || block.type === "fence" || block.type === "code_block") parts.push(" ");
  }
  return parts.join("").replace(/\s+/g, " ").trim();
}
