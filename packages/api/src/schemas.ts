// The wire shapes, as zod schemas (docs/api.md shows them as JSON Schema): procedure inputs are
// parsed with them and outputs are checked against them, so a field not listed here cannot reach a client.
import { z } from "zod";
import {
  CONVERSATION_PAGE_MAX,
  isBlankText,
  MAX_DISPLAY_TEXT_LENGTH,
  MAX_MESSAGE_LENGTH,
  PASSWORD_LENGTH,
  PRESENCE_QUERY_MAX,
  USERNAME_LENGTH,
  USERNAME_PATTERN,
} from "./limits.js";

export { CONVERSATION_PAGE_MAX, isBlankText, PRESENCE_QUERY_MAX };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const STORABLE = "must be valid text (no NUL characters or unpaired surrogates)";
/** Text every database can store: no unpaired UTF-16 surrogates, no NUL (PostgreSQL refuses it). */
const isStorable = (s: string) => !s.includes("\u0000") && !LONE_SURROGATE.test(s);

/** A message id: a positive decimal integer, the order of storage. Also the live-stream event id. */
export const messageIdSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, "must be a message id")
  // Within a signed 64-bit integer; equal-length decimal strings compare like the numbers.
  .refine((s) => s.length < 19 || s <= "9223372036854775807", "must be a message id");

export const usernameSchema = z
  .string()
  .min(USERNAME_LENGTH.min, `username must be ${USERNAME_LENGTH.min} to ${USERNAME_LENGTH.max} characters`)
  .max(USERNAME_LENGTH.max, `username must be ${USERNAME_LENGTH.min} to ${USERNAME_LENGTH.max} characters`)
  .regex(USERNAME_PATTERN, "username may contain only letters, digits, _ . and -")
  .transform((s) => s.toLowerCase());

export const passwordSchema = z
  .string()
  .min(PASSWORD_LENGTH.min, `password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`)
  .max(PASSWORD_LENGTH.max, `password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters`)
  .refine(isStorable, STORABLE);

export const idSchema = z.string().min(1).max(64).refine(isStorable, STORABLE);

// Human-written text. NFC first, so that the same visible text is the same stored text (and the
// same length). Format characters (Unicode Cf: bidi overrides and isolates, zero-width spaces and
// joiners, word joiner, BOM, soft hyphen...) and control characters change how a name is displayed
// without being seen, so names and titles refuse them; message content needs some of them (the
// zero-width joiner of emoji sequences), so there they only count as white space.
const FORMAT_OR_CONTROL = /[\p{Cf}\p{Cc}\p{Zl}\p{Zp}]/u;
const NO_FORMAT_CHARACTERS = "must not contain invisible formatting or control characters (such as bidi overrides or zero-width spaces)";

export const hasFormatOrControlCharacters = (s: string) => FORMAT_OR_CONTROL.test(s);

/**
 * A name a person reads to decide who or what something is (a full name, a conversation title):
 * NFC, trimmed, at most `max` characters, no format or control characters, and either empty or
 * with something visible in it.
 */
export function displayTextSchema(what: string, max: number) {
  return z
    .string()
    .refine(isStorable, `${what} ${STORABLE}`)
    .transform((s) => s.normalize("NFC").trim())
    .pipe(
      z
        .string()
        .max(max, `${what} must be at most ${max} characters`)
        .refine((s) => !hasFormatOrControlCharacters(s), `${what} ${NO_FORMAT_CHARACTERS}`)
        .refine((s) => s === "" || !isBlankText(s), `${what} must not be only invisible characters`),
    );
}

export const fullNameSchema = displayTextSchema("full name", MAX_DISPLAY_TEXT_LENGTH);
export const titleSchema = displayTextSchema("title", MAX_DISPLAY_TEXT_LENGTH);

/** Message text: NFC, 1 to 4000 characters, and something visible in it. */
export const messageContentSchema = z
  .string()
  .refine(isStorable, STORABLE)
  .transform((s) => s.normalize("NFC"))
  .pipe(
    z
      .string()
      .min(1, `message must be 1 to ${MAX_MESSAGE_LENGTH} characters`)
      .max(MAX_MESSAGE_LENGTH, `message must be 1 to ${MAX_MESSAGE_LENGTH} characters`)
      .refine((s) => !isBlankText(s), "message must not be only white space"),
  );

export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  fullName: z.string(),
  /** Present (true) only for an account an admin deactivated: show its messages as a deactivated user's. */
  deactivated: z.literal(true).optional(),
});

/** auth.role: whether the caller administers the deployment (auth.me keeps v1's User). */
export const roleSchema = z.object({ isAdmin: z.boolean() });

export const tokensSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
});

export const reactionSchema = z.object({ emoji: z.string(), count: z.number().int().min(1), userIds: z.array(z.string()) });

/** A file attached to a message (or uploaded and not attached yet): what a client shows before it downloads. */
export const attachmentSchema = z.object({
  id: z.string(),
  /** The uploader's name for it, made safe to show (no folders, control or bidi characters). */
  name: z.string(),
  /** Bytes as served (a picture after re-encoding). */
  size: z.number().int().min(0),
  /** Sniffed from the content, never from the name; application/octet-stream when unknown. */
  contentType: z.string(),
  /** For pictures Parley re-encoded (png, jpeg, webp, gif, avif): upright pixels. */
  width: z.number().int().optional(),
  height: z.number().int().optional(),
});

/** Most files one message carries. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Most attachments one file.urls call names. */
export const FILE_URLS_MAX = 100;

export const fileUrlsInput = z.object({
  attachmentIds: z.array(idSchema).min(1, "attachmentIds must name at least one file").max(FILE_URLS_MAX, `attachmentIds may name at most ${FILE_URLS_MAX} files`),
});

/** Where to download an attachment (paths on the server's origin, signed: no Authorization header needed, so an <img> can use them). */
export const fileUrlSchema = z.object({
  id: z.string(),
  url: z.string(),
  /** Pictures only: a WebP of at most 400 × 400. */
  thumbnailUrl: z.string().optional(),
  /** The URLs stop working then (15 to 25 minutes ahead; the same URLs for ten minutes, so browsers cache them). */
  expiresAt: z.string(),
});

export const messageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  senderId: z.string(),
  content: z.string(),
  clientMessageId: z.string(),
  createdAt: z.string(),
  /** The ids of the members it mentions with `@username`, in the order first written. */
  mentions: z.array(z.string()),
  /** When the sender last edited it (null: never). */
  editedAt: z.string().nullable(),
  /** When it was deleted (null: not deleted). A deleted message is a tombstone: content "", no mentions, no reactions. */
  deletedAt: z.string().nullable(),
  /** For a reply: its thread's root message id. null for a message of the conversation's main list. */
  threadId: z.string().nullable(),
  /** On a root: the number of replies in its thread (0 otherwise). */
  replyCount: z.number().int().min(0),
  /** On a root: when the newest reply was sent (null: none). */
  lastReplyAt: z.string().nullable(),
  /** Reactions by emoji, in the order each emoji was first used; userIds in the order they reacted. */
  reactions: z.array(reactionSchema),
  /** Files attached to it, in the order the sender named them (empty when deleted); file.urls gives their download URLs. */
  attachments: z.array(attachmentSchema),
});

/** Most members of a conversation a conversation.list item carries; conversation.get has them all. */
export const MEMBERS_IN_LIST = 20;
/** Most members a conversation can be created with, besides its creator. */
export const MAX_MEMBER_IDS = 1000;
export const USER_PAGE_MAX = 200;
export const USER_SEARCH_MAX = 50;
export const USER_SEARCH_DEFAULT = 20;

export const ROLES = ["owner", "member"] as const;
export const memberSchema = userSchema.extend({
  role: z.enum(ROLES),
  /** The newest message this member has read (null: none yet): read receipts, as read.updated events carry them. */
  lastReadMessageId: z.string().nullable(),
});

/** The caller's own read state in a conversation. */
export const readStateSchema = z.object({
  /** The newest message the caller has read (null: none yet). */
  lastReadMessageId: z.string().nullable(),
  /** Messages after it, not the caller's own, not deleted. */
  unreadCount: z.number().int().min(0),
  /** Those of them that mention the caller. */
  mentionCount: z.number().int().min(0),
});

export const NOTIFY_LEVELS = ["all", "mentions", "none"] as const;
export const notifyLevelSchema = z.enum(NOTIFY_LEVELS);

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  isDirect: z.boolean(),
  /** All members, except in conversation.list and events: there at most MEMBERS_IN_LIST, by join order. */
  members: z.array(memberSchema),
  createdAt: z.string(),
  memberCount: z.number().int(),
  lastMessage: messageSchema.nullable(),
  ...readStateSchema.shape,
  /** The caller's notification level in it (conversation.setNotify). */
  notify: notifyLevelSchema,
});

export const messagePageSchema = z.object({
  items: z.array(messageSchema),
  /** The cursor of the page older than this one; null when there is none. */
  nextCursor: z.string().nullable(),
  /**
   * Pages read with `around` or `after`: the `after` of the page newer than this one, null when this
   * page reached the newest message. Absent on pages read from the newest back (with or without `cursor`).
   */
  newerCursor: z.string().nullable().optional(),
});

/** Most characters of a message.search query, filters included. */
export const SEARCH_QUERY_MAX = 500;

/** A part of a search result's snippet to show highlighted: UTF-16 offsets into `snippet`, end excluded. */
export const highlightSchema = z.object({ start: z.number().int().min(0), end: z.number().int().min(0) });

export const searchResultSchema = messageSchema.extend({
  /**
   * Plain text: a part of the content around the first match (the whole content when short), with
   * "…" where it was cut. Never markup: render it as text.
   */
  snippet: z.string(),
  /** The matched words in `snippet`, in order, not overlapping. */
  highlights: z.array(highlightSchema),
});

export const searchPageSchema = z.object({
  items: z.array(searchResultSchema),
  nextCursor: z.string().nullable(),
});

/** An invite link's secret: the part after /invite/. */
export const inviteTokenSchema = z
  .string()
  .min(1, "inviteToken must be 1 to 200 characters")
  .max(200, "inviteToken must be 1 to 200 characters")
  .refine(isStorable, STORABLE);

export const signupInput = z.object({
  username: usernameSchema,
  password: passwordSchema,
  fullName: fullNameSchema.default(""),
  /** An invite link's token: needed when the signup mode is "invite"; checked and used whenever given. */
  inviteToken: inviteTokenSchema.optional(),
});

/** "open": anyone may sign up; "invite": only with an invite link; "closed": nobody. */
export const SIGNUP_MODES = ["open", "invite", "closed"] as const;
export const signupModeSchema = z.enum(SIGNUP_MODES);

/** Strict: a public procedure that needs no field still refuses input it does not know. */
export const signupInfoInput = z.strictObject({ inviteToken: inviteTokenSchema.optional() }).optional();

/** What an invite link is worth now: "valid", or why not. */
export const INVITE_STATES = ["valid", "unknown", "expired", "revoked", "used_up"] as const;
export const inviteStateSchema = z.enum(INVITE_STATES);

export const signupInfoSchema = z.object({
  mode: signupModeSchema,
  /** No admin has been chosen yet: the first account to sign up becomes the admin, whatever the mode (unless the server names its admin with ADMIN_USERNAME). */
  firstAccount: z.boolean(),
  /** The given inviteToken's state; null when none was given. */
  invite: inviteStateSchema.nullable(),
});

export const loginInput = z.object({
  // Any string may be tried; a name that cannot exist simply fails like a wrong password.
  username: z
    .string()
    .max(32, "username must be 3 to 32 characters")
    .refine(isStorable, STORABLE)
    .transform((s) => s.toLowerCase()),
  password: z.string().max(128, "password must be 8 to 128 characters").refine(isStorable, STORABLE),
});

export const refreshTokenInput = z.object({ refreshToken: z.string().min(1).max(4096).refine(isStorable, STORABLE) });

export const createConversationInput = z.object({
  title: titleSchema.optional().transform((t) => (t === undefined || t === "" ? undefined : t)),
  memberIds: z.array(idSchema).max(MAX_MEMBER_IDS, `memberIds may name at most ${MAX_MEMBER_IDS} users`),
});

export const listConversationsInput = z
  .object({
    /** The id of the last conversation of the previous page. */
    cursor: idSchema.nullish(),
    limit: z.number().int().min(1).max(CONVERSATION_PAGE_MAX).default(CONVERSATION_PAGE_MAX),
  })
  .optional();

export const getConversationInput = z.object({ conversationId: idSchema });

export const listUsersInput = z
  .object({
    /** The username of the last user of the previous page. */
    cursor: z.string().max(64).refine(isStorable, STORABLE).nullish(),
    limit: z.number().int().min(1).max(USER_PAGE_MAX).default(USER_PAGE_MAX),
  })
  .optional();

export const searchUsersInput = z.object({
  query: z
    .string()
    .refine(isStorable, STORABLE)
    .transform((s) => s.normalize("NFC").trim())
    .pipe(z.string().min(1, "query must be 1 to 32 characters").max(32, "query must be 1 to 32 characters")),
  limit: z.number().int().min(1).max(USER_SEARCH_MAX).default(USER_SEARCH_DEFAULT),
});

export const listMessagesInput = z.object({
  conversationId: idSchema,
  cursor: messageIdSchema.nullish(),
  limit: z.number().int().min(1).max(100).default(50),
  /** A thread's root message: pages its replies instead of the main list. */
  threadId: messageIdSchema.nullish(),
  /** A message of the list: the page holds it with the messages before and after it (half the limit each way), and cursors both ways. */
  around: messageIdSchema.nullish(),
  /** Pages towards the newest: the messages after this id, oldest first (with newerCursor to go on). */
  after: messageIdSchema.nullish(),
}).refine((input) => [input.cursor, input.around, input.after].filter((v) => v !== null && v !== undefined).length <= 1, {
  message: "give at most one of cursor, around and after",
});

export const searchMessagesInput = z.object({
  /** Words (every one must match, the last as the beginning of a word), "a phrase", and the filters from:username, in:conversationId, has:file. */
  query: z
    .string()
    .refine(isStorable, STORABLE)
    .transform((s) => s.normalize("NFC").trim())
    .pipe(z.string().min(1, `query must be 1 to ${SEARCH_QUERY_MAX} characters`).max(SEARCH_QUERY_MAX, `query must be 1 to ${SEARCH_QUERY_MAX} characters`)),
  /** Only this conversation (as in:conversationId). */
  conversationId: idSchema.nullish(),
  /** The id of the last (oldest) result of the previous page. */
  cursor: messageIdSchema.nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});

/** Uploads to attach to a new message: unique, at most MAX_ATTACHMENTS_PER_MESSAGE. */
export const attachmentIdsSchema = z
  .array(idSchema)
  .max(MAX_ATTACHMENTS_PER_MESSAGE, `attachmentIds may name at most ${MAX_ATTACHMENTS_PER_MESSAGE} files`)
  .refine((ids) => new Set(ids).size === ids.length, "attachmentIds must not repeat an id");

export const sendMessageInput = z
  .object({
    conversationId: idSchema,
    /** As messageContentSchema (1 to 4000 characters, not blank); with attachmentIds it may be blank (a picture alone), stored as "". */
    content: z.string().meta({
      description: `1 to ${MAX_MESSAGE_LENGTH} characters after NFC normalisation, not only white space; with attachmentIds it may be empty or blank (stored as "")`,
    }),
    clientMessageId: z
      .string()
      .min(1, "clientMessageId must be 1 to 64 characters")
      .max(64, "clientMessageId must be 1 to 64 characters")
      .refine(isStorable, STORABLE),
    /** Makes it a reply in the thread of this root message (of the same conversation, not itself a reply). */
    threadId: messageIdSchema.nullish(),
    /** Uploads (POST /files) by the sender to this conversation, not attached yet, to attach in this order. */
    attachmentIds: attachmentIdsSchema.optional(),
  })
  .transform((input, ctx) => {
    // Files need no words: blank content beside them is stored as "" (never as invisible characters).
    if ((input.attachmentIds?.length ?? 0) > 0 && isBlankText(input.content)) return { ...input, content: "" };
    const content = messageContentSchema.safeParse(input.content);
    if (!content.success) {
      for (const issue of content.error.issues) ctx.addIssue({ code: "custom", path: ["content"], message: issue.message });
      return z.NEVER;
    }
    return { ...input, content: content.data };
  });

/**
 * The content of an edit: as messageContentSchema, except that it may be empty or blank, which only
 * a message with files accepts (the domain checks it, knowing the message; stored as "").
 */
export const editContentSchema = z
  .string()
  .refine(isStorable, STORABLE)
  .transform((s) => s.normalize("NFC"))
  .pipe(z.string().max(MAX_MESSAGE_LENGTH, `message must be 1 to ${MAX_MESSAGE_LENGTH} characters`))
  .meta({ description: `as message.send's content: 1 to ${MAX_MESSAGE_LENGTH} characters, not only white space; a message with files may be edited to empty or blank (stored as "")` });

export const editMessageInput = z.object({ messageId: messageIdSchema, content: editContentSchema });
export const deleteMessageInput = z.object({ messageId: messageIdSchema });

/** Most different emoji one message can have. */
export const MAX_REACTIONS_PER_MESSAGE = 20;
export const EMOJI_MAX_LENGTH = 32;
export const emojiSchema = z
  .string()
  .refine(isStorable, STORABLE)
  .transform((s) => s.normalize("NFC"))
  .pipe(
    z
      .string()
      .min(1, `emoji must be 1 to ${EMOJI_MAX_LENGTH} characters`)
      .max(EMOJI_MAX_LENGTH, `emoji must be 1 to ${EMOJI_MAX_LENGTH} characters`)
      .refine((s) => !/[\s\p{Cc}]/u.test(s) && !isBlankText(s), "emoji must not contain white space"),
  );
export const reactMessageInput = z.object({ messageId: messageIdSchema, emoji: emojiSchema, on: z.boolean() });

export const setNotifyInput = z.object({ conversationId: idSchema, level: notifyLevelSchema });

export const liveInput = z.object({ lastEventId: messageIdSchema.nullish() }).optional();

/** An event id: like a message id (a message's id is the id of the event that created it). */
export const eventIdSchema = messageIdSchema;
export const syncInput = z.object({ lastEventId: eventIdSchema.nullish() }).optional();

export const addMembersInput = z.object({
  conversationId: idSchema,
  userIds: z.array(idSchema).min(1, "userIds must name at least one user").max(MAX_MEMBER_IDS, `userIds may name at most ${MAX_MEMBER_IDS} users`),
});
export const removeMemberInput = z.object({ conversationId: idSchema, userId: idSchema });
export const leaveConversationInput = z.object({ conversationId: idSchema });
export const renameConversationInput = z.object({ conversationId: idSchema, title: titleSchema });
export const markReadInput = z.object({ conversationId: idSchema, messageId: messageIdSchema });
export const okSchema = z.object({ ok: z.literal(true) });

// The events of sync.events. Stored ones come as tracked events (their id resumes the stream).
export const messageCreatedEventSchema = z.object({ type: z.literal("message.created"), message: messageSchema });
export const messageUpdatedEventSchema = z.object({ type: z.literal("message.updated"), message: messageSchema });
export const conversationUpdatedEventSchema = z.object({ type: z.literal("conversation.updated"), conversation: conversationSchema });
export const conversationRemovedEventSchema = z.object({ type: z.literal("conversation.removed"), conversationId: z.string() });
export const readUpdatedEventSchema = z.object({
  type: z.literal("read.updated"),
  conversationId: z.string(),
  userId: z.string(),
  lastReadMessageId: z.string().nullable(),
  /** Only in the reader's own events. */
  unreadCount: z.number().int().min(0).optional(),
  mentionCount: z.number().int().min(0).optional(),
});
export const storedEventSchema = z.discriminatedUnion("type", [
  messageCreatedEventSchema,
  messageUpdatedEventSchema,
  conversationUpdatedEventSchema,
  conversationRemovedEventSchema,
  readUpdatedEventSchema,
]);

export const typingInput = z.object({ conversationId: idSchema });

export const setPresenceInput = z.object({ status: z.enum(["active", "away"]) });

export const userPresenceInput = z.object({
  userIds: z.array(idSchema).max(PRESENCE_QUERY_MAX, `userIds may name at most ${PRESENCE_QUERY_MAX} users`),
});

export const presenceStatusSchema = z.enum(["online", "away", "offline"]);

export const userPresenceSchema = z.object({ userId: z.string(), status: presenceStatusSchema });

// The ephemeral events of the live stream (never stored, never replayed, no event id); the server's
// types of them (live/ephemeral.ts) are inferred from these.
/** A member of the conversation is typing: show it for at most 6 seconds unless another one comes. */
export const typingEventSchema = z.object({ type: z.literal("typing"), conversationId: z.string(), userId: z.string() });
/** A user who shares a conversation with the receiver changed status. */
export const presenceEventSchema = z.object({ type: z.literal("presence"), userId: z.string(), status: presenceStatusSchema });

export type UserDto = z.infer<typeof userSchema>;
export type RoleDto = z.infer<typeof roleSchema>;
export type SignupMode = z.infer<typeof signupModeSchema>;
export type InviteState = z.infer<typeof inviteStateSchema>;
export type SignupInfoDto = z.infer<typeof signupInfoSchema>;
export type ConversationDto = z.infer<typeof conversationSchema>;
export type MessageDto = z.infer<typeof messageSchema>;
export type SearchResultDto = z.infer<typeof searchResultSchema>;
export type ReactionDto = z.infer<typeof reactionSchema>;
export type AttachmentDto = z.infer<typeof attachmentSchema>;
export type FileUrlDto = z.infer<typeof fileUrlSchema>;
export type NotifyLevel = z.infer<typeof notifyLevelSchema>;
export type MemberDto = z.infer<typeof memberSchema>;
export type Role = MemberDto["role"];
export type ReadStateDto = z.infer<typeof readStateSchema>;
/** A stored event as one member receives it. */
export type StoredEventDto = z.infer<typeof storedEventSchema>;
export type TokensDto = z.infer<typeof tokensSchema>;
export type UserPresenceDto = z.infer<typeof userPresenceSchema>;
export type ListConversationsInput = z.input<typeof listConversationsInput>;
export type ListUsersInput = z.input<typeof listUsersInput>;
export type SearchUsersInput = z.input<typeof searchUsersInput>;

/** Everything sync.events sends: the stored events (tracked) and the ephemeral ones (untracked). */
export const feedEventSchema = z.discriminatedUnion("type", [...storedEventSchema.options, typingEventSchema, presenceEventSchema]);
export type FeedEvent = z.infer<typeof feedEventSchema>;
