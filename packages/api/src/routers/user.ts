import { z } from "zod";
import { presenceOf } from "../domain/presence.js";
import { listUsers, searchUsers } from "../domain/users.js";
import { listUsersInput, searchUsersInput, USER_PAGE_MAX, userPresenceInput, userPresenceSchema, userSchema } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";

export const userRouter = router({
  list: protectedProcedure
    .meta({ description: "Returns one page of registered users, ordered by username.", errors: {} })
    .input(listUsersInput)
    .output(z.array(userSchema))
    .query(({ ctx, input }) => listUsers(ctx.services, { cursor: input?.cursor, limit: input?.limit ?? USER_PAGE_MAX })),
  search: protectedProcedure
    .meta({ description: "Returns users whose username or full name starts with the query, ignoring case: the user whose username is the query first, then by username.", errors: {} })
    .input(searchUsersInput)
    .output(z.array(userSchema))
    .query(({ ctx, input }) => searchUsers(ctx.services.db, input)),
  presence: protectedProcedure
    .meta({ description: "Returns whether each named user is online, away or offline now, once per user (an id that names nobody is offline).", errors: {} })
    .input(userPresenceInput)
    .output(z.array(userPresenceSchema))
    .query(({ ctx, input }) => presenceOf(ctx.services, input.userIds)),
});
