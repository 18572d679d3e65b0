import { FILE_URLS_MAX, fileUrlSchema, fileUrlsInput } from "../schemas.js";
import { protectedProcedure, router } from "../trpc.js";
import { z } from "zod";

export const fileRouter = router({
  urls: protectedProcedure
    .meta({
      description: `Returns short-lived signed download URLs (and a thumbnail's, for pictures) for each of up to ${FILE_URLS_MAX} attachments the caller may see - those of conversations the caller is a member of now, and their own uploads not attached yet - leaving out the others.`,
      errors: {},
    })
    .input(fileUrlsInput)
    .output(z.array(fileUrlSchema))
    .query(({ ctx, input }) => ctx.services.files.urls(ctx.userId, input.attachmentIds)),
});
