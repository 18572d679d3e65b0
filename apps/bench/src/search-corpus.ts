// The search scenario's world, derived from a seed alone: users, their conversations and every
// message's conversation, sender and text. The seeding process writes it; the scenario reads it
// again to ask questions whose answers it knows exist (a rare word of a message in the caller's
// conversations, a phrase from one, a CJK substring) without reading the database.
import { below, mulberry32, zipfSampler } from "./random.js";

/** Bump when the corpus or its rows change: cached seeded files are keyed by it. */
export const SEARCH_SEED_VERSION = 1;

export interface CorpusShape {
  messages: number;
  conversations: number;
  users: number;
  /** Each user is a member of between `min` and `max` conversations. */
  conversationsPerUser: { min: number; max: number };
  seed: number;
}

export const FULL_CORPUS: CorpusShape = { messages: 1_000_000, conversations: 1_000, users: 800, conversationsPerUser: { min: 20, max: 50 }, seed: 14 };

/** The most common words of chat in English, most common first: the top of the vocabulary. */
const ENGLISH = (
  "the to and i you a it is of that in for we on this be with have are not at can will do so just but if me my what all was get " +
  "about know like out up they there when how one no yes now go time think good work new today meeting tomorrow need see make let " +
  "please thanks back week call team project update check send file change review release test build deploy issue fix bug data plan " +
  "morning afternoon later sure done ready people customer report server question answer idea problem price order design share"
).split(" ");

/** Words with Latin diacritics and Cyrillic words, placed among the moderately common ranks. */
const ACCENTED = "café résumé naïve über façade señor crème déjà jalapeño smörgåsbord garçon entrée fiancée piñata élan müller años corazón françois zürich".split(" ");
const CYRILLIC = "привет встреча завтра работа проект сегодня отчёт команда вопрос время письмо задача сервер данные релиз ошибка неделя спасибо хорошо клиент".split(" ");

/** Chinese, Japanese and Korean words: a CJK message is a run of them (Korean with spaces). */
const CJK_WORDS = {
  zh: "会议 项目 明天 今天 报告 我们 讨论 问题 时间 发布 测试 服务器 数据 客户 需要 已经 完成 计划 下午 上午 周末 文件 更新 确认 谢谢".split(" "),
  ja: "会議 明日 資料 確認 お願い します 検索 東京 大阪 予定 担当 進捗 共有 よろしく".split(" "),
  ko: "회의 내일 오늘 프로젝트 확인 감사합니다 자료 일정 서버 고객".split(" "),
} as const;
type CjkLanguage = keyof typeof CJK_WORDS;

const CONSONANTS = "bdfgklmnprstvz";
const VOWELS = "aeiou";
const VOCABULARY_SIZE = 30_000;
/** Words at or past this rank occur in about a hundred messages of a million or fewer. */
export const RARE_RANK = 10_000;
const CJK_SHARE = 0.03;

export interface CorpusMessage {
  conversation: number;
  sender: number;
  content: string;
  /** The Latin and Cyrillic words, in order, as ranks into the vocabulary (empty for a CJK message). */
  ranks: number[];
  cjk: boolean;
}

export class SearchCorpus {
  readonly vocabulary: string[];
  readonly conversationIds: string[];
  readonly userIds: string[];
  readonly usernames: string[];
  /** Per conversation, its members (user indexes); the first is its owner. */
  readonly membersOf: number[][];
  /** Per user, the conversations they are a member of (indexes). */
  readonly conversationsOf: number[][];
  private readonly word: (random: () => number) => number;
  private readonly conversation: (random: () => number) => number;
  private readonly cjkWord: Record<CjkLanguage, (random: () => number) => number>;

  constructor(readonly shape: CorpusShape) {
    const random = mulberry32(shape.seed);
    this.vocabulary = buildVocabulary(random);
    const id = (prefix: string, i: number) => `${prefix}${i.toString(36).padStart(5, "0")}${Array.from({ length: 18 }, () => below(random, 36).toString(36)).join("")}`;
    this.conversationIds = Array.from({ length: shape.conversations }, (_, i) => id("cs", i));
    this.userIds = Array.from({ length: shape.users }, (_, i) => id("us", i));
    this.usernames = Array.from({ length: shape.users }, (_, i) => `sb${i}`);
    this.conversationsOf = [];
    this.membersOf = Array.from({ length: shape.conversations }, () => []);
    const { min, max } = shape.conversationsPerUser;
    for (let user = 0; user < shape.users; user += 1) {
      const mine = new Set<number>();
      const count = Math.min(shape.conversations, min + below(random, max - min + 1));
      while (mine.size < count) mine.add(below(random, shape.conversations));
      this.conversationsOf.push([...mine]);
      for (const c of mine) this.membersOf[c]?.push(user);
    }
    // Every conversation has two members at least.
    this.membersOf.forEach((members, c) => {
      while (members.length < 2) {
        const user = below(random, shape.users);
        if (members.includes(user)) continue;
        members.push(user);
        this.conversationsOf[user]?.push(c);
      }
    });
    this.word = zipfSampler(this.vocabulary.length, 1);
    // Some conversations are much busier than others.
    this.conversation = zipfSampler(shape.conversations, 0.6);
    this.cjkWord = { zh: zipfSampler(CJK_WORDS.zh.length, 1), ja: zipfSampler(CJK_WORDS.ja.length, 1), ko: zipfSampler(CJK_WORDS.ko.length, 1) };
  }

  /** Message `i` (0-based; its id is i + 1). */
  message(i: number): CorpusMessage {
    const random = mulberry32(this.shape.seed ^ Math.imul(i + 1, 0x9e3779b1));
    const conversation = this.conversation(random);
    const members = this.membersOf[conversation] ?? [];
    const sender = members[below(random, members.length)] ?? 0;
    if (random() < CJK_SHARE) {
      const language = (["zh", "zh", "ja", "ko"] as const)[below(random, 4)] ?? "zh";
      const words = Array.from({ length: 3 + below(random, 6) }, () => CJK_WORDS[language][this.cjkWord[language](random)] ?? "");
      return { conversation, sender, content: `${words.join(language === "ko" ? " " : "")}${language === "ko" ? "." : "。"}`, ranks: [], cjk: true };
    }
    const ranks = Array.from({ length: 3 + below(random, 18) }, () => this.word(random));
    const words = ranks.map((rank) => this.vocabulary[rank] ?? "");
    if (words.length > 6 && random() < 0.5) words[below(random, words.length - 1)] += ",";
    const first = words[0] ?? "";
    words[0] = random() < 0.5 ? first.charAt(0).toUpperCase() + first.slice(1) : first;
    return { conversation, sender, content: `${words.join(" ")}${random() < 0.3 ? "?" : "."}`, ranks, cjk: false };
  }

  /** A message in one of `user`'s conversations that `accept`s, or null (bounded tries). */
  messageOf(user: number, random: () => number, accept: (m: CorpusMessage) => boolean): CorpusMessage | null {
    const mine = new Set(this.conversationsOf[user] ?? []);
    for (let tries = 0; tries < 20_000; tries += 1) {
      const m = this.message(below(random, this.shape.messages));
      if (mine.has(m.conversation) && accept(m)) return m;
    }
    return null;
  }
}

function buildVocabulary(random: () => number): string[] {
  const taken = new Set(ENGLISH);
  const invented: string[] = [];
  const target = VOCABULARY_SIZE - ENGLISH.length - ACCENTED.length - CYRILLIC.length;
  while (invented.length < target) {
    let word = "";
    for (let s = 2 + below(random, 3); s > 0; s -= 1) word += (CONSONANTS[below(random, CONSONANTS.length)] ?? "") + (VOWELS[below(random, VOWELS.length)] ?? "");
    if (taken.has(word)) continue;
    taken.add(word);
    invented.push(word);
  }
  // Accented and Cyrillic words every 37th rank from 120 on: common enough to be found, not stop words.
  const others = ACCENTED.flatMap((w, i) => [w, CYRILLIC[i] ?? ""]).filter(Boolean);
  const vocabulary = [...ENGLISH];
  for (const word of invented) {
    if (vocabulary.length >= 120 && (vocabulary.length - 120) % 37 === 0 && others.length > 0) vocabulary.push(others.shift() ?? "");
    vocabulary.push(word);
  }
  return vocabulary;
}

/** The kinds of query the scenario times, in the order its table shows them. */
export const QUERY_CLASSES = ["common word", "rare word", "two words", "prefix", "from:", "in:", "phrase", "CJK substring", "no match", "page 2"] as const;
export type QueryClass = (typeof QUERY_CLASSES)[number];

export interface SearchQuery {
  query: string;
  conversationId?: string;
  /** Time the second page (the first one's nextCursor) rather than the first. */
  secondPage?: boolean;
}

/**
 * A query of `kind` as `user` would type it. The last word of a query is matched as the beginning
 * of a word, as the API does for what a user is typing.
 */
export function queryFor(corpus: SearchCorpus, user: number, kind: QueryClass, random: () => number): SearchQuery {
  const { vocabulary } = corpus;
  const ranked = (from: number, to: number) => vocabulary[from + below(random, to - from)] ?? "";
  const mine = corpus.conversationsOf[user] ?? [];
  const latin = (m: CorpusMessage) => !m.cjk;
  switch (kind) {
    case "common word":
      return { query: ranked(0, 10) };
    case "page 2":
      return { query: ranked(0, 10), secondPage: true };
    case "rare word": {
      // Half are in a message the user can see; half are anywhere (mostly in others' conversations).
      if (random() < 0.5) return { query: ranked(RARE_RANK, vocabulary.length) };
      const m = corpus.messageOf(user, random, (c) => c.ranks.some((r) => r >= RARE_RANK));
      return { query: vocabulary[Math.max(...(m?.ranks ?? [RARE_RANK]))] ?? "" };
    }
    case "two words": {
      const m = corpus.messageOf(user, random, (c) => c.ranks.filter((r) => r < 200).length >= 2);
      const words = (m?.ranks ?? [0, 1]).filter((r) => r < 200).map((r) => vocabulary[r] ?? "");
      return { query: `${words[0]} ${words[1]}` };
    }
    case "prefix":
      return { query: [...ranked(20, 2_000)].slice(0, 3).join("") };
    case "from:": {
      const conversation = mine[below(random, mine.length)] ?? 0;
      const members = corpus.membersOf[conversation] ?? [];
      return { query: `${ranked(0, 50)} from:${corpus.usernames[members[below(random, members.length)] ?? 0]}` };
    }
    case "in:": {
      const conversationId = corpus.conversationIds[mine[below(random, mine.length)] ?? 0] ?? "";
      const word = ranked(0, 200);
      return random() < 0.5 ? { query: `${word} in:${conversationId}` } : { query: word, conversationId };
    }
    case "phrase": {
      const m = corpus.messageOf(user, random, latin);
      const words = m?.content.split(" ") ?? ["the", "the"];
      const at = below(random, Math.max(1, words.length - 1));
      return { query: `"${words[at]} ${words[at + 1] ?? ""}"` };
    }
    case "CJK substring": {
      const m = corpus.messageOf(user, random, (c) => c.cjk && !c.content.includes(" "));
      const characters = [...(m?.content ?? "会议项目")].filter((ch) => ch !== "。");
      const length = Math.min(characters.length, 3 + below(random, 3));
      const at = below(random, characters.length - length + 1);
      return { query: characters.slice(at, at + length).join("") };
    }
    case "no match":
      // No word of the vocabulary begins with "q" and a consonant.
      return { query: `q${Array.from({ length: 5 }, () => CONSONANTS[below(random, CONSONANTS.length)]).join("")}` };
  }
}
