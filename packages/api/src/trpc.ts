// The only place initTRPC is called. Edit this file to change what every procedure shares:
// the error shape, and the base procedures that routers build on.
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from "@trpc/server";
import { ZodError, z } from "zod";
import { isCurrentAccess, type Context } from "./context.js";
import { isActiveAdmin } from "./admin/users.js";
import { BAD_TOKEN, DomainError, type DomainErrorKind } from "./errors.js";
import { idSchema, messageIdSchema } from "./schemas.js";

const codeOfKind: Record<DomainErrorKind, TRPC_ERROR_CODE_KEY> = {
  invalid: "BAD_REQUEST",
  conflict: "CONFLICT",
  unauthenticated: "UNAUTHORIZED",
  not_found: "NOT_FOUND",
  forbidden: "FORBIDDEN",
  rate_limited: "TOO_MANY_REQUESTS",
  too_large: "PAYLOAD_TOO_LARGE",
};

/** "field: problem" for each failed rule - never the rejected value itself. */
function describeIssues(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

/**
 * What every procedure says about itself; docs/api.md is generated from it (scripts/api-reference.ts).
 * `errors`: the codes its own work raises, with when - those its input and base procedure imply
 * (BAD_REQUEST, UNAUTHORIZED, NOT_FOUND, FORBIDDEN) are derived and need not be listed.
 */
export type ApiMeta = {
  /** One sentence: what the procedure does for the caller. */
  description: string;
  errors: Partial<Record<TRPC_ERROR_CODE_KEY, string>>;
  /** A subscription's event data (tRPC keeps no output schema for subscriptions). */
  events?: z.ZodType;
};

const t = initTRPC.context<Context>().meta<ApiMeta>().create({
  // Never send stack traces, whatever NODE_ENV says.
  isDev: false,
  // Subscriptions travel over the WebSocket only (docs/api.md, Transport); the HTTP handler refuses them
  // before tRPC would open an event stream, and this keeps tRPC from streaming one if it did not.
  sse: { enabled: false },
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const issues = cause instanceof ZodError ? describeIssues(cause) : undefined;
    let message = shape.message;
    if (error.code === "INTERNAL_SERVER_ERROR") message = "Internal server error";
    else if (issues) message = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
    return {
      code: shape.code,
      message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        ...(issues ? { issues } : {}),
        ...(cause instanceof DomainError && cause.retryAfterSeconds ? { retryAfterSeconds: cause.retryAfterSeconds } : {}),
        ...(cause instanceof DomainError && cause.reason ? { reason: cause.reason } : {}),
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns a DomainError thrown by domain code into its tRPC error code (docs/api.md lists them per procedure). */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof DomainError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: codeOfKind[cause.kind], message: cause.message, cause });
  }
  return result;
});

/** Anyone may call it. */
export const publicProcedure = t.procedure.use(domainErrors);

/** Needs a valid, unexpired access token of a live session; adds `userId` to the context. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  const { auth, services } = ctx;
  if (!auth || !isCurrentAccess(services, auth)) {
    throw new TRPCError({ code: "UNAUTHORIZED", message: BAD_TOKEN });
  }
  return next({ ctx: { auth, userId: auth.userId } });
});

/**
 * For the admin router: the caller must be an active admin now (read from the database on each
 * call, so a demotion counts at once on every instance); anyone else gets FORBIDDEN before the
 * input is even read.
 */
export const adminProcedure = protectedProcedure.use(async ({ ctx, next }) => {
  if (!(await isActiveAdmin(ctx.services, ctx.userId))) throw new TRPCError({ code: "FORBIDDEN", message: "Only admins may do this" });
  return next();
});

/**
 * For procedures about one conversation (`conversationId` in the input): NOT_FOUND when it does not
 * exist, FORBIDDEN when the caller is not a member. Adds its `memberIds` to the context.
 */
export const conversationMemberProcedure = protectedProcedure
  .input(z.object({ conversationId: idSchema }))
  .use(async ({ ctx, input, next }) => {
    const { memberships } = ctx.services;
    let memberIds = await memberships.get(input.conversationId);
    // Perhaps added a moment ago through another instance: ask the database before refusing.
    if (memberIds && !memberIds.has(ctx.userId)) memberIds = await memberships.refresh(input.conversationId);
    if (!memberIds) throw new TRPCError({ code: "NOT_FOUND", message: "No such conversation" });
    if (!memberIds.has(ctx.userId)) throw new TRPCError({ code: "FORBIDDEN", message: "You are not a member of this conversation" });
    return next({ ctx: { memberIds } });
  });

/**
 * For procedures about one message (`messageId` in the input), with the conversation rules above:
 * NOT_FOUND when the message does not exist, FORBIDDEN when the caller is not a member of its
 * conversation. (Telling the two apart gives little away: ids come from one sequence across all
 * conversations, so which ones exist is no secret.) Adds the message's `conversation` (id and
 * member ids) to the context.
 */
export const messageMemberProcedure = protectedProcedure
  .input(z.object({ messageId: messageIdSchema }))
  .use(async ({ ctx, input, next }) => {
    const { db, memberships } = ctx.services;
    // Through the message store's prepared statement, not Prisma: every reaction passes here.
    const conversationId = await db.messages.conversationOf(BigInt(input.messageId));
    if (conversationId === null) throw new TRPCError({ code: "NOT_FOUND", message: "No such message" });
    let memberIds = await memberships.get(conversationId);
    if (memberIds && !memberIds.has(ctx.userId)) memberIds = await memberships.refresh(conversationId);
    // Gone since the message was read: its conversation was deleted, and the message with it.
    if (!memberIds) throw new TRPCError({ code: "NOT_FOUND", message: "No such message" });
    if (!memberIds.has(ctx.userId)) throw new TRPCError({ code: "FORBIDDEN", message: "You are not a member of this message's conversation" });
    return next({ ctx: { conversation: { id: conversationId, memberIds } } });
  });
