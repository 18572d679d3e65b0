import { z } from "zod";
import { createConversation, getConversation, listConversations } from "../domain/conversations.js";
import { addMembers, leaveConversation, removeMember, renameConversation, setNotify } from "../domain/members.js";
import { markRead } from "../domain/read-state.js";
import {
  addMembersInput,
  CONVERSATION_PAGE_MAX,
  conversationSchema,
  createConversationInput,
  getConversationInput,
  leaveConversationInput,
  listConversationsInput,
  markReadInput,
  okSchema,
  readStateSchema,
  removeMemberInput,
  renameConversationInput,
  setNotifyInput,
} from "../schemas.js";
import { conversationMemberProcedure, protectedProcedure, router } from "../trpc.js";

export const conversationRouter = router({
  list: protectedProcedure
    .meta({
      description: "Returns one page of the caller's conversations, most recently active first.",
      errors: { BAD_REQUEST: "the cursor is not one of the caller's conversations" },
    })
    .input(listConversationsInput)
    .output(z.array(conversationSchema))
    .query(({ ctx, input }) => listConversations(ctx.services, ctx.userId, { cursor: input?.cursor, limit: input?.limit ?? CONVERSATION_PAGE_MAX })),
  get: conversationMemberProcedure
    .meta({ description: "Returns one of the caller's conversations with all its members.", errors: {} })
    .input(getConversationInput)
    .output(conversationSchema)
    .query(({ ctx, input }) => getConversation(ctx.services, ctx.userId, input.conversationId)),
  create: protectedProcedure
    .meta({
      description: "Creates a conversation of the caller with the named users, or returns the existing direct conversation when it names one other user and no title.",
      errors: {
        BAD_REQUEST: "memberIds names no other user, a user that does not exist or is deactivated, or more members than allowed",
        TOO_MANY_REQUESTS: "the caller created too many conversations, or added too many members, recently",
      },
    })
    .input(createConversationInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => createConversation(ctx.services, ctx.userId, input)),
  addMembers: conversationMemberProcedure
    .meta({
      description: "Adds users to a group (any member may; users already in it are ignored), and each new member receives the conversation and every later event.",
      errors: {
        BAD_REQUEST: "the conversation is direct, or userIds names a user that does not exist or is deactivated",
        TOO_MANY_REQUESTS: "the caller added too many members recently",
      },
    })
    .input(addMembersInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => addMembers(ctx.services, ctx.userId, input)),
  removeMember: conversationMemberProcedure
    .meta({
      description: "Removes a member from a group (only owners may), who receives conversation.removed and nothing more of it.",
      errors: {
        BAD_REQUEST: "the conversation is direct, or the caller named themselves (use leave)",
        FORBIDDEN: "the caller is not a member, or not an owner",
        NOT_FOUND: "the conversation does not exist, or the user is not a member of it",
      },
    })
    .input(removeMemberInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => removeMember(ctx.services, ctx.userId, input)),
  leave: conversationMemberProcedure
    .meta({
      description: "Leaves a group: when the last owner leaves, the longest-standing member becomes owner, and when the last member leaves, the group is gone.",
      errors: { BAD_REQUEST: "the conversation is direct" },
    })
    .input(leaveConversationInput)
    .output(okSchema)
    .mutation(({ ctx, input }) => leaveConversation(ctx.services, ctx.userId, input)),
  rename: conversationMemberProcedure
    .meta({
      description: "Renames a group (an empty title clears it); only owners may.",
      errors: { BAD_REQUEST: "the conversation is direct, or the title is not valid", FORBIDDEN: "the caller is not a member, or not an owner" },
    })
    .input(renameConversationInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => renameConversation(ctx.services, ctx.userId, input)),
  markRead: conversationMemberProcedure
    .meta({
      description: "Moves the caller's read pointer forward to a message (an older one changes nothing) and returns the caller's read state.",
      errors: { NOT_FOUND: "the conversation does not exist, or the message is not one of it" },
    })
    .input(markReadInput)
    .output(readStateSchema)
    .mutation(({ ctx, input }) => markRead(ctx.services, ctx.userId, input)),
  setNotify: conversationMemberProcedure
    .meta({
      description: "Sets the caller's notification level in a conversation (all, mentions or none), returned on the conversation as notify.",
      errors: { TOO_MANY_REQUESTS: "the caller changed too many settings recently" },
    })
    .input(setNotifyInput)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => setNotify(ctx.services, ctx.userId, input)),
});
