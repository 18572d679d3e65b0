import { adminRouter } from "./routers/admin.js";
import { authRouter } from "./routers/auth.js";
import { conversationRouter } from "./routers/conversation.js";
import { fileRouter } from "./routers/file.js";
import { messageRouter } from "./routers/message.js";
import { syncRouter } from "./routers/sync.js";
import { presenceRouter } from "./routers/presence.js";
import { typingRouter } from "./routers/typing.js";
import { userRouter } from "./routers/user.js";
import { createCallerFactory, router } from "./trpc.js";

export const appRouter = router({
  auth: authRouter,
  user: userRouter,
  conversation: conversationRouter,
  message: messageRouter,
  file: fileRouter,
  sync: syncRouter,
  typing: typingRouter,
  presence: presenceRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;

/** Calls procedures directly, without HTTP: `createCaller(createContext(services, token))`. */
export const createCaller = createCallerFactory(appRouter);
