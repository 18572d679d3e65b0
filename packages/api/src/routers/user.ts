import { z } from "zod";
import { listUsers } from "../domain/accounts.js";
import { userSchema } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";

export const userRouter = router({
  list: protectedProcedure.output(z.array(userSchema)).query(({ ctx }) => listUsers(ctx.services)),
});
