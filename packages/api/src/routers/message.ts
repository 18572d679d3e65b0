import { listMessages, messagesForUserAfter, sendMessage } from "../domain/messages.js";
import { eventsForUser } from "../live/feed-log.js";
import { feedStream, REPLAY_PAGE, resumePosition } from "../live/feed-stream.js";
import { deleteMessage, editMessage, reactToMessage } from "../domain/message-changes.js";
import { searchMessages } from "../domain/message-search.js";
import {
  deleteMessageInput,
  editMessageInput,
  listMessagesInput,
  liveInput,
  messagePageSchema,
  messageSchema,
  reactMessageInput,
  searchMessagesInput,
  searchPageSchema,
  sendMessageInput,
} from "../schemas.js";
import { conversationMemberProcedure, messageMemberProcedure, protectedProcedure, router } from "../trpc.js";

export const messageRouter = router({
  list: conversationMemberProcedure
    .meta({
      description:
        "Returns a conversation's messages that are not replies (or, with threadId, the replies of that thread) a page at a time from the newest back (each page oldest first), with the cursor of the older page; " +
        "with around, the page around that message (half the limit older, the rest newer) with cursors both ways, and with after, the page newer than that id with newerCursor, to page towards the newest from there.",
      errors: {
        BAD_REQUEST: "threadId names a reply, not a root, or more than one of cursor, around and after is given",
        NOT_FOUND: "the conversation does not exist, threadId is not a message of it, or around names no message of the list (the main list, or the thread)",
      },
    })
    .input(listMessagesInput)
    .output(messagePageSchema)
    .query(({ ctx, input }) => listMessages(ctx.services, input)),
  search: protectedProcedure
    .meta({
      description:
        "Finds the messages (replies included, never deleted ones) of the conversations the caller is a member of now that have every word of the query - the last as the beginning of a word, " +
        "case and accents ignored, Chinese, Japanese and Korean text as a substring - where the query may also hold \"a phrase\" (words adjacent, in order), from:username, " +
        "in:conversationId (as conversationId) and has:file (only messages with files; alone, with no words, it lists the messages with files, of from: and in: when given), newest first and paged like message.list (nextCursor continues below the oldest result); " +
        "each result is the message with `snippet`, plain text around the first match (… where cut), and `highlights`, the matched parts as UTF-16 offsets { start, end } (end excluded) " +
        "into it, so a client renders the snippet as text and wraps those slices in highlighting made from text nodes, never parsing it as HTML, and no message can inject markup.",
      errors: {
        BAD_REQUEST: "the query has no words besides filters, too many words, an unknown has: value, an empty or repeated filter, or in: differs from conversationId",
        NOT_FOUND: "conversationId (or in:) names no conversation",
        FORBIDDEN: "the caller is not a member of the conversation conversationId (or in:) names",
        TOO_MANY_REQUESTS: "the caller searched too many times recently",
      },
    })
    .input(searchMessagesInput)
    .output(searchPageSchema)
    .query(({ ctx, input }) => searchMessages(ctx.services, ctx.userId, input)),
  send: conversationMemberProcedure
    .meta({
      description:
        "Sends a message to a conversation (with threadId, a reply in that thread) with the uploads attachmentIds names attached, or returns the one already sent with the same clientMessageId, so a retry never duplicates.",
      errors: {
        BAD_REQUEST: "threadId names a message of another conversation, a reply, or a deleted message; or an attachment id names an upload by someone else, to another conversation, or already attached",
        NOT_FOUND: "the conversation does not exist, threadId names no message, or an attachment id names no upload",
        TOO_MANY_REQUESTS: "the caller sent too many messages recently",
      },
    })
    .input(sendMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => sendMessage(ctx.services, ctx.userId, input)),
  edit: messageMemberProcedure
    .meta({
      description: "Replaces the content of the caller's own message (the same rules as send) and sets editedAt; the same content changes nothing.",
      errors: {
        BAD_REQUEST: "the content is not valid, or the message is deleted",
        FORBIDDEN: "the caller is not a member, or not the sender",
        TOO_MANY_REQUESTS: "the caller changed too many messages recently",
      },
    })
    .input(editMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => editMessage(ctx.services, ctx.userId, input)),
  delete: messageMemberProcedure
    .meta({
      description:
        "Deletes a message (the sender, or an owner of the group): its content, mentions, reactions and attached files are removed from storage and a tombstone keeps its place; deleting again returns the tombstone.",
      errors: { FORBIDDEN: "the caller is not a member, or neither the sender nor an owner", TOO_MANY_REQUESTS: "the caller changed too many messages recently" },
    })
    .input(deleteMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => deleteMessage(ctx.services, ctx.userId, input)),
  react: messageMemberProcedure
    .meta({
      description: "Adds (on: true) or removes (on: false) the caller's reaction with one emoji; doing what is already done changes nothing.",
      errors: {
        BAD_REQUEST: "the emoji is not valid, the message is deleted, or it already has the most different emoji allowed",
        TOO_MANY_REQUESTS: "the caller changed too many messages recently",
      },
    })
    .input(reactMessageInput)
    .output(messageSchema)
    .mutation(({ ctx, input }) => reactToMessage(ctx.services, ctx.userId, input)),
  /**
   * The messages-only view of the event feed (v1): every new message of the caller's conversations
   * while they are a member, as tracked events whose id is the message id (a message's id is the id
   * of the event that created it), first replaying those after `lastEventId`.
   * It ends with UNAUTHORIZED when the caller's session is revoked or the token expires.
   */
  live: protectedProcedure
    .meta({
      description: "Streams every new message of the caller's conversations as events whose id is the message id, first replaying those after lastEventId.",
      errors: {
        PRECONDITION_FAILED:
          "lastEventId is not one of the server's message ids (another database, or from before a restore): reload messages and subscribe without it",
        TOO_MANY_REQUESTS: "the connection already has as many live subscriptions as allowed",
        UNAUTHORIZED: "sent as the stream's end when the caller's session ends or the token expires",
      },
      events: messageSchema,
    })
    .input(liveInput)
    // Returns the stream rather than delegating to it (yield*): one async generator per delivery, not two.
    .subscription(async ({ ctx, input, signal }) => {
      const lastEventId = input?.lastEventId ? BigInt(input.lastEventId) : null;
      // Older than the log keeps: v1 clients still get every message of their conversations (by membership now).
      const fromLog = lastEventId === null || (await resumePosition(ctx.services, lastEventId)) === "log";
      return feedStream(ctx, signal, {
        lastEventId,
        replay: (afterId) => (fromLog ? eventsForUser(ctx.services.db, ctx.userId, afterId, REPLAY_PAGE) : messagesForUserAfter(ctx.services, ctx.userId, afterId)),
        view: (entry) => (entry.kind === "message.created" ? entry.message : null),
      });
    }),
});
