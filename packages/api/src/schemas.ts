// The wire shapes of contract.md, as zod schemas: procedure inputs are parsed with them and outputs
// are checked against them, so a field that is not listed here cannot reach a client.
import { z } from "zod";

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
  .min(3, "username must be 3 to 32 characters")
  .max(32, "username must be 3 to 32 characters")
  .regex(/^[a-zA-Z0-9_.-]+$/, "username may contain only letters, digits, _ . and -")
  .transform((s) => s.toLowerCase());

export const passwordSchema = z
  .string()
  .min(8, "password must be 8 to 128 characters")
  .max(128, "password must be 8 to 128 characters")
  .refine(isStorable, STORABLE);

export const idSchema = z.string().min(1).max(64).refine(isStorable, STORABLE);

export const userSchema = z.object({
  id: z.string(),
  username: z.string(),
  fullName: z.string(),
});

export const tokensSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
});

export const conversationSchema = z.object({
  id: z.string(),
  title: z.string().nullable(),
  isDirect: z.boolean(),
  members: z.array(userSchema),
  createdAt: z.string(),
});

export const messageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  senderId: z.string(),
  content: z.string(),
  clientMessageId: z.string(),
  createdAt: z.string(),
});

export const messagePageSchema = z.object({
  items: z.array(messageSchema),
  nextCursor: z.string().nullable(),
});

export const signupInput = z.object({
  username: usernameSchema,
  password: passwordSchema,
  fullName: z.string().trim().max(100, "full name must be at most 100 characters").refine(isStorable, STORABLE).default(""),
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
  title: z
    .string()
    .trim()
    .max(100, "title must be at most 100 characters")
    .refine(isStorable, STORABLE)
    .optional()
    .transform((t) => (t === undefined || t === "" ? undefined : t)),
  memberIds: z.array(idSchema).max(1000, "at most 1000 members"),
});

export const listMessagesInput = z.object({
  conversationId: idSchema,
  cursor: messageIdSchema.nullish(),
  limit: z.number().int().min(1).max(100).default(50),
});

export const sendMessageInput = z.object({
  conversationId: idSchema,
  content: z
    .string()
    .min(1, "message must be 1 to 4000 characters")
    .max(4000, "message must be 1 to 4000 characters")
    .refine((s) => s.trim().length > 0, "message must not be only white space")
    .refine(isStorable, STORABLE),
  clientMessageId: z
    .string()
    .min(1, "clientMessageId must be 1 to 64 characters")
    .max(64, "clientMessageId must be 1 to 64 characters")
    .refine(isStorable, STORABLE),
});

export const liveInput = z.object({ lastEventId: messageIdSchema.nullish() }).optional();

export type UserDto = z.infer<typeof userSchema>;
export type ConversationDto = z.infer<typeof conversationSchema>;
export type MessageDto = z.infer<typeof messageSchema>;
export type TokensDto = z.infer<typeof tokensSchema>;
